import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseSources

/// One scan: collect, judge, assemble the report. Essential steps (the catalog) stop the scan with
/// an actionable error when they fail; optional ones are listed as skipped.
public struct ScanPipeline {
    public let connection: PostgresConnection
    public let top: Int
    public let planStatements: Bool
    public private(set) var skipped: [ScanSkip] = []

    public init(connection: PostgresConnection, top: Int, planStatements: Bool) {
        self.connection = connection
        self.top = top
        self.planStatements = planStatements
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
        if statements.status.availability != .available {
            skipped.append(ScanSkip(step: "pg_stat_statements",
                                    reason: "\(statements.status.availability.rawValue): \(statements.status.remedy ?? "")"))
        } else if statements.status.hiddenStatements > 0 {
            skipped.append(ScanSkip(
                step: "\(statements.status.hiddenStatements) statement(s) of other roles",
                reason: "their text is hidden from \(server.user); GRANT pg_read_all_stats TO \(quoteIdentifierIfNeeded(server.user)) to judge them"))
        }
        let totalMs = statements.status.totalMs
        var queries = statements.workload.queries.map {
            ScannedQuery(stats: $0, shareOfTotalTime: totalMs > 0 ? min($0.totalMs / totalMs, 1) : 0)
        }
        if planStatements && !queries.isEmpty {
            let outcomes = try GenericPlanCollector(connection: connection).plans(for: queries.map(\.stats))
            for i in queries.indices {
                guard let outcome = outcomes[queries[i].stats.fingerprint] else { continue }
                queries[i].plan = outcome.plan
                queries[i].planSkipReason = outcome.skipReason
            }
            let unplanned = queries.filter { $0.plan == nil && !($0.planSkipReason?.hasPrefix("utility statement") ?? false) }
            // Missing privileges get their own line: they are what a DBA can fix with a GRANT.
            let denied = unplanned.filter { $0.planSkipReason?.hasPrefix("the role may not read") ?? false }
            let failed = unplanned.filter { !($0.planSkipReason?.hasPrefix("the role may not read") ?? false) }
            for group in [denied, failed] {
                guard let first = group.first else { continue }
                let others = group.count > 1 ? " (and \(group.count - 1) more; see planSkipReason in --format json)" : ""
                skipped.append(ScanSkip(step: "generic plans of \(group.count) statement(s)",
                                        reason: "\(first.stats.fingerprint): \(first.planSkipReason ?? "no plan")\(others)"))
            }
        }
        let input = ScanRuleInput(catalog: catalog, queries: queries, statementStats: statements.status,
                                  statsReset: database?.statsReset, database: server.database, user: server.user,
                                  preloadedLibraries: server.preloadedLibraries,
                                  autovacuumEnabled: server.setting("autovacuum")?.setting != "off", scanTime: started)
        // Query rules on each top statement (weighted by its calls and time), schema rules on the
        // catalog, then the live scan's own usage and plan rules.
        var findings = RuleEngine.check(workload: statements.workload, catalog: catalog)
            + RuleEngine.check(catalog: catalog) + applyScanRules(input) + connectionFindings(activity: activity, server: server)
        // Every statement finding carries its share of the database's time, whichever rule made it.
        let shares = Dictionary(queries.map { ($0.stats.fingerprint, $0.shareOfTotalTime) }) { first, _ in first }
        for i in findings.indices {
            guard let fingerprint = findings[i].fingerprint, let share = shares[fingerprint] else { continue }
            findings[i].details = (findings[i].details ?? [:]).merging(["shareOfTotalTime": String(format: "%.4f", share)]) { old, _ in old }
        }
        return ScanReport(
            schemaVersion: jsonSchemaVersion, target: connection.description,
            startedAt: ISO8601DateFormatter().string(from: started),
            durationMs: Date().timeIntervalSince(started) * 1000, roundTrips: connection.roundTrips, server: server,
            database: database, activity: activity, statementStats: statements.status,
            tableCount: catalog.tables.count, indexCount: catalog.tables.reduce(0) { $0 + $1.indexes.count },
            skipped: skipped, findings: findings.sortedByImpact(), queries: queries, catalog: catalog,
            topPerRanking: top)
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
