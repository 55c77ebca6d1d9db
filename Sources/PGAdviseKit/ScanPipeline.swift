import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseSources

/// One scan: collect, judge, assemble the report, then cost index advice for the same top
/// statements. Essential steps (the catalog) stop the scan with an actionable error when they fail;
/// optional ones are listed as skipped.
public struct ScanPipeline {
    public let connection: PostgresConnection
    public let top: Int
    public let planStatements: Bool
    /// Keep the whole catalog in the report (JSON `catalog`); else it is used and dropped.
    public let includeCatalog: Bool
    /// How many of the heaviest read-only statements to run under EXPLAIN ANALYZE (`--analyze`); 0: none.
    public let analyzeCount: Int
    public internal(set) var skipped: [ScanSkip] = []

    public init(connection: PostgresConnection, top: Int, planStatements: Bool, includeCatalog: Bool = false,
                analyzeCount: Int = 0) {
        self.connection = connection
        self.top = top
        self.planStatements = planStatements
        self.includeCatalog = includeCatalog
        self.analyzeCount = analyzeCount
    }

    public mutating func run() throws -> ScanReport {
        let started = Date()
        let server = try essential("the server's version and settings") { try ServerInfoCollector(connection: connection).collect() }
        if server.isSuperuser {
            // Keeps the scan's own statements (and the nested entries EXPLAIN of a prepared
            // statement records) out of pg_stat_statements; only a superuser may change it.
            _ = try? connection.query(pgadviseStatementMarker + "SELECT set_config('pg_stat_statements.track', 'none', false)")
        }
        let infoCollector = ServerInfoCollector(connection: connection)
        let database = optional("database statistics (pg_stat_database)") { try infoCollector.databaseStats() } ?? nil
        let activity = optional("session snapshot (pg_stat_activity)") { try infoCollector.activity() }
        let collection = try essential("the catalog") { try CatalogCollector(connection: connection, server: server).collectWithNotes() }
        skipped += collection.skipped
        let catalog = collection.catalog
        let statements = try essential("pg_stat_statements") { try PgStatStatementsCollector(connection: connection).collect(limit: top) }
        noteUnreadableStatements(statements.status, user: server.user)
        let totalMs = statements.status.totalMs
        var queries = statements.workload.queries.map {
            ScannedQuery(stats: $0, shareOfTotalTime: totalMs > 0 ? min($0.totalMs / totalMs, 1) : 0)
        }
        if planStatements && !queries.isEmpty { try attachGenericPlans(&queries) }
        let input = ScanRuleInput(catalog: catalog, queries: queries, statementStats: statements.status,
                                  statsReset: database?.statsReset, database: server.database, user: server.user,
                                  preloadedLibraries: server.preloadedLibraries,
                                  autovacuumEnabled: server.setting("autovacuum")?.setting != "off", scanTime: started)
        let analyzed = analyzeCount > 0
            ? try analyzedPlanFindings(statements.workload, catalog: catalog, count: analyzeCount) : []
        let findings = (Self.judge(input, workload: statements.workload)
            + connectionFindings(activity: activity, server: server) + analyzed).sortedByImpact()
        var report = ScanReport(
            schemaVersion: jsonSchemaVersion, target: connection.description,
            startedAt: ISO8601DateFormatter().string(from: started),
            durationMs: Date().timeIntervalSince(started) * 1000, roundTrips: connection.roundTrips, server: server,
            database: database, activity: activity, statementStats: statements.status,
            tableCount: catalog.tables.count, indexCount: catalog.tables.reduce(0) { $0 + $1.indexes.count },
            skipped: skipped, findings: findings, queries: queries, catalog: includeCatalog ? catalog : nil,
            topPerRanking: top)
        // The scan's duration and round trips are the scan's own; the advice is timed by nobody.
        report.recommendations = indexAdvice(for: queries, catalog: catalog)
        return report
    }

    /// Lists what pg_stat_statements could not give: the extension itself, or other roles' statements.
    mutating func noteUnreadableStatements(_ status: StatementStatsStatus, user: String) {
        if status.availability != .available {
            skipped.append(ScanSkip(step: "pg_stat_statements", reason: "\(status.availability.rawValue): \(status.remedy ?? "")"))
        } else if status.hiddenStatements > 0 {
            skipped.append(ScanSkip(
                step: "\(status.hiddenStatements) statement(s) of other roles",
                reason: "their text is hidden from \(user); GRANT pg_read_all_stats TO \(quoteIdentifierIfNeeded(user)) to judge them"))
        }
    }

    /// Each statement's generic plan, or why it has none; the statements that should have one and
    /// do not are listed as skipped, missing privileges on their own line: they are what a DBA can
    /// fix with a GRANT.
    mutating func attachGenericPlans(_ queries: inout [ScannedQuery]) throws {
        let outcomes = try GenericPlanCollector(connection: connection).plans(for: queries.map(\.stats))
        var denied: [(fingerprint: String, reason: String)] = []
        var failed: [(fingerprint: String, reason: String)] = []
        for i in queries.indices {
            let outcome = outcomes[queries[i].stats.fingerprint]
            queries[i].plan = outcome?.plan
            queries[i].planSkipReason = outcome?.skipReason?.message
            guard queries[i].plan == nil, outcome?.skipReason?.isUtilityStatement != true else { continue }
            let unplanned = (queries[i].stats.fingerprint, outcome?.skipReason?.message ?? "no plan")
            if outcome?.skipReason?.isPermissionDenied == true { denied.append(unplanned) } else { failed.append(unplanned) }
        }
        for group in [denied, failed] {
            guard let first = group.first else { continue }
            let others = group.count > 1 ? " (and \(group.count - 1) more; see planSkipReason in --format json)" : ""
            skipped.append(ScanSkip(step: "generic plans of \(group.count) statement(s)",
                                    reason: "\(first.fingerprint): \(first.reason)\(others)"))
        }
    }

    /// Query rules on each top statement (weighted by its calls and time), schema rules on the
    /// catalog, then the live scan's own usage and plan rules; every statement finding carries its
    /// share of the database's time, whichever rule made it.
    static func judge(_ input: ScanRuleInput, workload: Workload) -> [Finding] {
        var findings = RuleEngine.check(workload: workload, catalog: input.catalog)
            + RuleEngine.check(catalog: input.catalog) + applyScanRules(input)
        let shares = Dictionary(input.queries.map { ($0.stats.fingerprint, $0.shareOfTotalTime) }) { first, _ in first }
        for i in findings.indices {
            guard let fingerprint = findings[i].fingerprint, let share = shares[fingerprint] else { continue }
            findings[i].details = (findings[i].details ?? [:]).merging(["shareOfTotalTime": String(format: "%.4f", share)]) { old, _ in old }
        }
        return findings.sortedByImpact()
    }

    /// The same top statements, costed read-only: HypoPG when installed, else a note saying how.
    func indexAdvice(for queries: [ScannedQuery], catalog: Catalog) -> IndexAdvice {
        let workload = Workload(source: .pgStatStatements, queries: queries.map(\.stats))
        do {
            return try IndexAdvisor(connection: connection, catalog: catalog).advise(workload)
        } catch {
            return IndexAdvice(notes: ["No index advice: \(error)"])
        }
    }

    /// A step the scan cannot do without: a server error becomes a one-line message saying what to do.
    func essential<T>(_ step: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw scanFailure(step, error)
        }
    }

    /// A step the report can do without: a server error is listed under "Skipped" with its reason.
    mutating func optional<T>(_ step: String, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as PostgresError {
            skipped.append(ScanSkip(step: step, reason: scanFailure(step, error).message))
        } catch {
            skipped.append(ScanSkip(step: step, reason: "\(error)"))
        }
        return nil
    }

    func scanFailure(_ step: String, _ error: PostgresError) -> PGAdviseError {
        let options = connection.options
        if error.isStatementTimeout {
            return PGAdviseError(.database, "reading \(step) took longer than the statement timeout (\(options.statementTimeoutMs) ms): "
                                 + "raise --statement-timeout or scan when the server is less busy")
        }
        if error.isLockTimeout {
            return PGAdviseError(.database, "reading \(step) waited longer than the lock timeout (\(options.lockTimeoutMs) ms) "
                                 + "for a lock held by another session (ALTER TABLE, VACUUM FULL, REINDEX): retry later or raise --lock-timeout")
        }
        if error.isPermissionDenied {
            return PGAdviseError(.database, "permission denied reading \(step) (\(error.message)): GRANT pg_monitor to the role pgadvise connects as")
        }
        return PGAdviseError(.database, "reading \(step) failed: \(error.message)")
    }
}
