import Foundation
import PGAdviseCore
import PGAdviseSQL

/// The workload pg_stat_statements recorded for the current database, plus what it says about itself.
public struct StatementStatsCollection: Sendable {
    /// The top statements (by total time, by calls and by mean time; the union of the three),
    /// grouped by libpg_query fingerprint, heaviest first.
    public var workload: Workload
    public var status: StatementStatsStatus

    public init(workload: Workload, status: StatementStatsStatus) {
        self.workload = workload
        self.status = status
    }
}

/// Reads pg_stat_statements in one statement, whatever the number of entries. Rows are limited to
/// the current database (`dbid`), since the view is server-wide, entries of the same statement
/// under several roles are summed, and pgadvise's own statements are left out. An unusable extension is not an error: the status says why and
/// what to do, and the scan goes on without a workload.
public struct PgStatStatementsCollector {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let preloadStep = "add pg_stat_statements to shared_preload_libraries in postgresql.conf and restart the server"

    private enum Installation {
        case usable(schema: String, version: String)
        /// Not installed, not created or not preloaded, with what to do.
        case unusable(StatementStatsStatus)
    }

    /// Where the extension is, or why it cannot be read.
    private func installation() throws -> Installation {
        let installed = try connection.query(pgadviseStatementMarker + """
            SELECT n.nspname AS schema, e.extversion AS version,
                   EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available,
                   current_setting('shared_preload_libraries') AS preload, current_database() AS database
            FROM (SELECT 1) AS one
            LEFT JOIN pg_extension e ON e.extname = 'pg_stat_statements'
            LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
            """).records.first
        let database = installed?["database"] ?? "this database"
        let preloaded = (installed?["preload"] ?? "").split(separator: ",")
            .contains { $0.trimmingCharacters(in: .whitespaces) == "pg_stat_statements" }
        let preloadStep = Self.preloadStep
        guard let schema = installed?["schema"], let version = installed?["version"] else {
            if installed?.bool("available") != true {
                return .unusable(StatementStatsStatus(
                    availability: .notInstalled,
                    remedy: "install the server's contrib package (postgresql-contrib, or postgresql-NN on Debian), "
                        + "\(preloadStep), then run CREATE EXTENSION pg_stat_statements; in \(database)"))
            }
            let steps = (preloaded ? [] : [preloadStep]) + ["run CREATE EXTENSION pg_stat_statements; in \(database) (as a superuser or the database owner)"]
            return .unusable(StatementStatsStatus(availability: .notCreated, remedy: steps.joined(separator: ", then ")))
        }
        if !preloaded { return .unusable(StatementStatsStatus(availability: .notPreloaded, remedy: preloadStep)) }
        return .usable(schema: schema, version: version)
    }

    public func collect(limit: Int = 50) throws -> StatementStatsCollection {
        let empty = Workload(source: .pgStatStatements)
        let schema: String, version: String
        switch try installation() {
        case .unusable(let status): return StatementStatsCollection(workload: empty, status: status)
        case .usable(let installedSchema, let installedVersion): (schema, version) = (installedSchema, installedVersion)
        }
        let columns = StatementColumns(extensionVersion: version)
        let view = "\(quoteIdentifier(schema)).pg_stat_statements"
        let rows: [Record]
        do {
            rows = try connection.query(pgadviseStatementMarker + columns.topStatementsSQL(view: view), [String(max(1, limit))]).records
        } catch let error as PostgresError where error.isPermissionDenied {
            return StatementStatsCollection(workload: empty, status: StatementStatsStatus(
                availability: .permissionDenied,
                remedy: "GRANT pg_read_all_stats TO the role pgadvise connects as, and make sure it may SELECT from \(view) (\(error.message))"))
        } catch let error as PostgresError where error.sqlState == "55000" {
            return StatementStatsCollection(workload: empty, status: StatementStatsStatus(
                availability: .notPreloaded, remedy: Self.preloadStep))
        }
        var status = StatementStatsStatus(availability: .available)
        var queries: [QueryStats] = []
        for r in rows {
            status.statementCount = Int(r.int("statement_count") ?? 0)
            status.totalMs = r.double("total_ms_all") ?? 0
            status.totalCalls = r.int("calls_all") ?? 0
            status.hiddenStatements = Int(r.int("hidden_count") ?? 0)
            guard let text = r["query"], let calls = r.int("calls") else { continue }
            let (fingerprint, parsed) = statementFingerprint(text)
            queries.append(QueryStats(
                fingerprint: fingerprint, normalized: text, parsed: parsed, calls: Int(calls),
                totalMs: r.double("total_ms") ?? 0, minMs: r.double("min_ms"), maxMs: r.double("max_ms"),
                stddevMs: r.double("stddev_ms"), rows: r.int("rows"), sharedBlocksHit: r.int("shared_blks_hit"),
                sharedBlocksRead: r.int("shared_blks_read"), tempBlocksWritten: r.int("temp_blks_written"),
                queryId: r.int("queryid")))
        }
        var windowSeconds: Double?
        if columns.hasInfoView, let info = try? connection.query(pgadviseStatementMarker + """
            SELECT \(isoTimestamp("stats_reset")) AS reset, extract(epoch FROM now() - stats_reset)::float8 AS age
            FROM \(quoteIdentifier(schema)).pg_stat_statements_info
            """).records.first {
            status.statsReset = info["reset"]
            windowSeconds = info.double("age")
        }
        return StatementStatsCollection(
            workload: Workload(source: .pgStatStatements, queries: mergedByFingerprint(queries), windowSeconds: windowSeconds),
            status: status)
    }
}

/// Column names differ across extension versions: 1.8 (PostgreSQL 13) renamed `total_time` to
/// `total_exec_time` (and mean/min/max/stddev alike); 1.9 (14) added `toplevel` and the
/// `pg_stat_statements_info` view. PostgreSQL 17's block-timing renames touch no column read here.
struct StatementColumns {
    var timeSuffix: String
    var hasTopLevel: Bool
    var hasInfoView: Bool

    init(extensionVersion: String) {
        let parts = extensionVersion.split(separator: ".").map { Int($0) ?? 0 }
        let minor = parts.count > 1 ? parts[1] : 0
        let atLeast = { (wanted: Int) in (parts.first ?? 0) > 1 || minor >= wanted }
        timeSuffix = atLeast(8) ? "exec_time" : "time"
        hasTopLevel = atLeast(9)
        hasInfoView = atLeast(9)
    }

    /// The union of the top `$1` by total time, by calls and by mean time, each row carrying the
    /// database-wide totals (a LEFT JOIN keeps one row of totals when nothing was recorded).
    /// Shares are computed over top-level statements only, so a function's inner statements are
    /// not counted twice.
    func topStatementsSQL(view: String) -> String {
        let t = timeSuffix
        let topLevel = hasTopLevel ? "toplevel" : "true"
        return """
            WITH raw AS (
                SELECT queryid, query, calls, total_\(t) AS total_ms, min_\(t) AS min_ms, max_\(t) AS max_ms,
                       mean_\(t) AS mean_ms, stddev_\(t) AS stddev_ms, rows, shared_blks_hit, shared_blks_read,
                       temp_blks_written, \(topLevel) AS top_level
                FROM \(view)
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query NOT LIKE \(quoteLiteral(pgadviseStatementMarker + "%"))
            ), visible AS (
                SELECT * FROM raw WHERE query IS NOT NULL AND query <> '<insufficient privilege>'
            ), grouped AS (
                SELECT queryid, min(query) AS query, sum(calls)::bigint AS calls, sum(total_ms) AS total_ms,
                       min(min_ms) AS min_ms, max(max_ms) AS max_ms,
                       sqrt(greatest(sum(calls * (stddev_ms ^ 2 + mean_ms ^ 2)) / nullif(sum(calls), 0)
                                     - (sum(total_ms) / nullif(sum(calls), 0)) ^ 2, 0)) AS stddev_ms,
                       sum(rows)::bigint AS rows, sum(shared_blks_hit)::bigint AS shared_blks_hit,
                       sum(shared_blks_read)::bigint AS shared_blks_read, sum(temp_blks_written)::bigint AS temp_blks_written
                FROM visible GROUP BY queryid
            ), totals AS (
                SELECT (SELECT count(DISTINCT queryid) FROM raw) AS statement_count,
                       (SELECT coalesce(sum(total_ms) FILTER (WHERE top_level), 0) FROM raw) AS total_ms_all,
                       (SELECT coalesce(sum(calls) FILTER (WHERE top_level), 0) FROM raw) AS calls_all,
                       (SELECT count(*) FROM raw WHERE query IS NULL OR query = '<insufficient privilege>') AS hidden_count
            ), chosen AS (
                (SELECT queryid FROM grouped ORDER BY total_ms DESC LIMIT $1::int)
                UNION (SELECT queryid FROM grouped ORDER BY calls DESC LIMIT $1::int)
                UNION (SELECT queryid FROM grouped ORDER BY total_ms / nullif(calls, 0) DESC NULLS LAST LIMIT $1::int)
            )
            SELECT totals.*, g.*
            FROM totals LEFT JOIN (SELECT * FROM grouped WHERE queryid IN (SELECT queryid FROM chosen)) AS g ON true
            ORDER BY g.total_ms DESC NULLS LAST, g.queryid
            """
    }
}

/// Several pg_stat_statements entries can be one statement for pgadvise (the same text under two
/// search paths or as different roles): calls, times and blocks add up, the deviation is pooled.
func mergedByFingerprint(_ entries: [QueryStats]) -> [QueryStats] {
    var order: [String] = []
    var merged: [String: QueryStats] = [:]
    for entry in entries {
        guard var existing = merged[entry.fingerprint] else {
            order.append(entry.fingerprint)
            merged[entry.fingerprint] = entry
            continue
        }
        let calls = existing.calls + entry.calls
        let mean = calls > 0 ? (existing.totalMs + entry.totalMs) / Double(calls) : 0
        func secondMoment(_ q: QueryStats) -> Double { Double(q.calls) * (pow(q.stddevMs ?? 0, 2) + pow(q.meanMs, 2)) }
        let variance = calls > 0 ? (secondMoment(existing) + secondMoment(entry)) / Double(calls) - mean * mean : 0
        existing.stddevMs = sqrt(max(variance, 0))
        existing.calls = calls
        existing.totalMs += entry.totalMs
        existing.meanMs = mean
        existing.minMs = [existing.minMs, entry.minMs].compactMap { $0 }.min()
        existing.maxMs = [existing.maxMs, entry.maxMs].compactMap { $0 }.max()
        existing.rows = sum(existing.rows, entry.rows)
        existing.sharedBlocksHit = sum(existing.sharedBlocksHit, entry.sharedBlocksHit)
        existing.sharedBlocksRead = sum(existing.sharedBlocksRead, entry.sharedBlocksRead)
        existing.tempBlocksWritten = sum(existing.tempBlocksWritten, entry.tempBlocksWritten)
        merged[entry.fingerprint] = existing
    }
    return order.compactMap { merged[$0] }.sorted { $0.totalMs != $1.totalMs ? $0.totalMs > $1.totalMs : $0.fingerprint < $1.fingerprint }
}

private func sum(_ a: Int64?, _ b: Int64?) -> Int64? {
    guard a != nil || b != nil else { return nil }
    return (a ?? 0) + (b ?? 0)
}

/// libpg_query's fingerprint, or for text it cannot parse (a statement pg_stat_statements cut at
/// track_activity_query_size) a 64-bit FNV-1a hash of the text prefixed with `u`.
func statementFingerprint(_ text: String) -> (fingerprint: String, parsed: Bool) {
    if case .success(let fingerprint) = PgQuery.fingerprint(text) { return (fingerprint, true) }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in oneLineForHash(text).utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return ("u" + String(hash, radix: 16).leftPadded(to: 15), false)
}

private func oneLineForHash(_ text: String) -> String {
    text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? String(suffix(width)) : String(repeating: "0", count: width - count) + self
    }
}
