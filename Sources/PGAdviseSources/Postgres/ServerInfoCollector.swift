import Foundation
import PGAdviseCore

/// Reads who and what the server is: version, performance settings, extensions, the role's
/// privileges, and the database-wide statistics (`pg_stat_database`, a `pg_stat_activity` snapshot).
/// Every method is a fixed number of statements, whatever the size of the database.
public struct ServerInfoCollector {
    /// The settings a DBA looks at first when a server is slow.
    public static let performanceSettings = [
        "shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "random_page_cost",
        "seq_page_cost", "effective_io_concurrency", "max_connections", "max_worker_processes",
        "max_parallel_workers", "max_parallel_workers_per_gather", "default_statistics_target",
        "checkpoint_timeout", "max_wal_size", "wal_buffers", "autovacuum", "autovacuum_vacuum_scale_factor",
        "autovacuum_analyze_scale_factor", "track_io_timing", "jit", "shared_preload_libraries",
        "pg_stat_statements.max", "pg_stat_statements.track", "plan_cache_mode",
    ]

    public let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func collect() throws -> ServerInfo {
        let identity = try connection.query(pgadviseStatementMarker + """
            SELECT version() AS version, current_setting('server_version_num') AS version_num,
                   current_database() AS database, current_user AS username,
                   coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
                   pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
                   pg_is_in_recovery() AS in_recovery,
                   current_setting('shared_preload_libraries') AS preload
            """).records.first
        guard let identity else { throw PGAdviseError(.database, "the server returned no row for version()") }
        let settings = try connection.query(pgadviseStatementMarker + """
            SELECT name, setting, unit, source, current_setting(name) AS display
            FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name
            """, [postgresArrayLiteral(Self.performanceSettings)]).records.map {
            ServerSetting(name: $0["name"] ?? "", setting: $0["setting"] ?? "", unit: $0["unit"],
                          display: $0["display"] ?? "", source: $0["source"] ?? "")
        }
        let extensions = try readExtensions(connection)
        let preload = (identity["preload"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            .filter { !$0.isEmpty }
        let superuser = identity.bool("superuser") ?? false
        return ServerInfo(
            version: identity["version"] ?? "", versionNumber: Int(identity["version_num"] ?? "") ?? connection.serverVersionNumber,
            database: identity["database"] ?? "", user: identity["username"] ?? "", isSuperuser: superuser,
            canReadAllStats: superuser || (identity.bool("read_all_stats") ?? false),
            inRecovery: identity.bool("in_recovery") ?? false, settings: settings,
            extensions: extensions.installed, availableExtensions: extensions.available, preloadedLibraries: preload)
    }

    /// The cluster's system identifier and whether this server is a standby; nil when the role may
    /// not call pg_control_system() (a monitoring role often may not).
    /// Nil when the role may not read it; a lost connection is thrown, since what would be built
    /// on the answer (a snapshot keyed by its server) must not be stored under a guess.
    public func systemIdentity() throws -> (identifier: String, standby: Bool)? {
        let row: Record?
        do {
            row = try connection.query(pgadviseStatementMarker + """
                SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, pg_is_in_recovery() AS standby
                """).records.first
        } catch let error as PGAdviseError where error.kind == .connection {
            throw error
        } catch {
            return nil
        }
        guard let identifier = row?["id"] else { return nil }
        return (identifier, row?.bool("standby") ?? false)
    }

    /// `pg_stat_database` for the current database, with its size and the statistics reset time.
    public func databaseStats() throws -> DatabaseStats? {
        guard let r = try connection.query(pgadviseStatementMarker + """
            SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, temp_files,
                   temp_bytes, deadlocks, pg_database_size(datid) AS size, \(isoTimestamp("stats_reset")) AS stats_reset
            FROM pg_stat_database WHERE datname = current_database()
            """).records.first else { return nil }
        return DatabaseStats(
            commits: r.int("xact_commit") ?? 0, rollbacks: r.int("xact_rollback") ?? 0,
            blocksRead: r.int("blks_read") ?? 0, blocksHit: r.int("blks_hit") ?? 0,
            tuplesReturned: r.int("tup_returned") ?? 0, tuplesFetched: r.int("tup_fetched") ?? 0,
            tempFiles: r.int("temp_files") ?? 0, tempBytes: r.int("temp_bytes") ?? 0, deadlocks: r.int("deadlocks") ?? 0,
            sizeBytes: r.int("size"), statsReset: r["stats_reset"])
    }

    /// Client sessions on the current database right now, pgadvise's own excluded. Without
    /// `pg_read_all_stats` other roles' sessions show no state; they are counted as `unknown`.
    public func activity() throws -> ActivitySnapshot {
        let rows = try connection.query(pgadviseStatementMarker + """
            SELECT coalesce(state, 'unknown') AS state, count(*) AS sessions,
                   count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting,
                   max(extract(epoch FROM clock_timestamp() - query_start) * 1000) FILTER (WHERE state = 'active') AS longest_active,
                   max(extract(epoch FROM clock_timestamp() - xact_start) * 1000) FILTER (WHERE state LIKE 'idle in transaction%') AS longest_idle_tx
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            GROUP BY 1 ORDER BY 1
            """).records
        var snapshot = ActivitySnapshot()
        for r in rows {
            snapshot.sessionsByState[r["state"] ?? "unknown"] = Int(r.int("sessions") ?? 0)
            snapshot.waitingOnLock += Int(r.int("waiting") ?? 0)
            if let ms = r.double("longest_active") { snapshot.longestActiveMs = max(snapshot.longestActiveMs ?? 0, ms) }
            if let ms = r.double("longest_idle_tx") {
                snapshot.longestIdleInTransactionMs = max(snapshot.longestIdleInTransactionMs ?? 0, ms)
            }
        }
        return snapshot
    }
}

/// Installed (in this database) and available (on the server) extensions, in one statement.
func readExtensions(_ connection: PostgresConnection) throws -> (installed: [String: String], available: [String: String]) {
    var installed: [String: String] = [:], available: [String: String] = [:]
    for r in try connection.query(pgadviseStatementMarker + "SELECT name, default_version, installed_version FROM pg_available_extensions").records {
        guard let name = r["name"] else { continue }
        if let version = r["default_version"] { available[name] = version }
        if let version = r["installed_version"] { installed[name] = version }
    }
    return (installed, available)
}

/// A timestamp column as ISO-8601 text (`2026-11-23T12:57:04.123+00:00`), NULL stays NULL.
func isoTimestamp(_ column: String) -> String { "(to_json(\(column)) #>> '{}')" }

/// A text[] literal for a parameter (`{"a","b\"c"}`): the values travel as data, never as SQL.
public func postgresArrayLiteral(_ values: [String]) -> String {
    let items = values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
    return "{" + items.joined(separator: ",") + "}"
}
