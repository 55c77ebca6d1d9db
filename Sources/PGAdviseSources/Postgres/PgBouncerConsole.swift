import Foundation
import PGAdviseCore

/// PgBouncer's admin console (`dbname=pgbouncer`): SHOW POOLS, SHOW STATS, SHOW CONFIG and SHOW
/// DATABASES over the simple query protocol (the console takes neither SET nor the extended
/// protocol, see `SessionOptions.adminConsole`). Needs a user in `admin_users` or `stats_users`.
public final class PgBouncerConsole {
    /// The console's own pseudo-database, left out of every figure.
    static let adminDatabase = "pgbouncer"

    let connection: PostgresConnection

    public init(conninfo: String, connectTimeoutSeconds: Int = 10) throws {
        connection = try PostgresConnection(conninfo: conninfo, options: .adminConsole(connectTimeoutSeconds: connectTimeoutSeconds))
    }

    /// One reading of the console.
    public struct Reading: Sendable {
        public var taken: Date
        public var pools: [PgBouncerObservation.Pool]
        /// SHOW STATS per database: transactions, queries, and total client wait in µs.
        public var transactions: Int64
        public var queries: Int64
        public var waitMicros: Int64
        /// The console's own averages over its last stats_period (µs), for a one-reading report.
        public var consoleAverageWaitMicros: Double?
        public var config: [String: String]
        public var databasePoolSizes: [String: Int]
        public var version: String?
    }

    /// One reading; with `servingDatabase`, only the pools and statistics of the PgBouncer
    /// databases that lead to that server database (SHOW DATABASES maps each name to its dbname),
    /// so a shared pooler's other applications do not count.
    public func read(servingDatabase: String? = nil) throws -> Reading {
        var sizes: [String: Int] = [:]
        var names: Set<String> = []
        for r in try connection.execute("SHOW DATABASES").records {
            guard let name = r["name"], name != Self.adminDatabase else { continue }
            let target = r["database"].flatMap { $0.isEmpty ? nil : $0 } ?? name
            if let servingDatabase, target != servingDatabase { continue }
            names.insert(name)
            if let size = r.int("pool_size") { sizes[name] = Int(size) }
        }
        func counted(_ database: String?) -> Bool {
            guard let database, database != Self.adminDatabase else { return false }
            return servingDatabase == nil || names.contains(database)
        }
        let pools = try connection.execute("SHOW POOLS").records.compactMap { r -> PgBouncerObservation.Pool? in
            guard let db = r["database"], counted(db) else { return nil }
            let maxwait = Double(r.int("maxwait") ?? 0) * 1000 + Double(r.int("maxwait_us") ?? 0) / 1000
            return PgBouncerObservation.Pool(
                database: db, user: r["user"] ?? "", clientsActive: Int(r.int("cl_active") ?? 0),
                clientsWaiting: Int(r.int("cl_waiting") ?? 0), serversActive: Int(r.int("sv_active") ?? 0),
                serversIdle: Int(r.int("sv_idle") ?? 0), maxWaitMs: maxwait, poolMode: r["pool_mode"] ?? "")
        }
        let stats = try connection.execute("SHOW STATS").records.filter { counted($0["database"]) }
        var config: [String: String] = [:]
        for r in try connection.execute("SHOW CONFIG").records {
            if let key = r["key"] { config[key] = r["value"] ?? "" }
        }
        let version = (try? connection.execute("SHOW VERSION"))?.rows.first?.first ?? nil
        let waits = stats.compactMap { $0.double("avg_wait_time") }
        return Reading(
            taken: Date(), pools: pools, transactions: stats.reduce(0) { $0 + ($1.int("total_xact_count") ?? 0) },
            queries: stats.reduce(0) { $0 + ($1.int("total_query_count") ?? 0) },
            waitMicros: stats.reduce(0) { $0 + ($1.int("total_wait_time") ?? 0) },
            consoleAverageWaitMicros: waits.isEmpty ? nil : waits.max(), config: config, databasePoolSizes: sizes, version: version)
    }

    /// The figures of a window between two readings (rates from the SHOW STATS deltas), with the
    /// pools as the later reading shows them and the most clients seen waiting in either.
    public static func observation(first: Reading, last: Reading) -> PgBouncerObservation {
        let seconds = last.taken.timeIntervalSince(first.taken)
        let transactions = last.transactions - first.transactions
        let waited = Double(last.waitMicros - first.waitMicros)
        let waiting = max(first.pools.reduce(0) { $0 + $1.clientsWaiting }, last.pools.reduce(0) { $0 + $1.clientsWaiting })
        let maxWait = (first.pools + last.pools).map(\.maxWaitMs).max() ?? 0
        let average: Double?
        if transactions > 0 { average = waited / Double(transactions) / 1000 } else { average = last.consoleAverageWaitMicros.map { $0 / 1000 } }
        return PgBouncerObservation(
            version: last.version, pools: last.pools, clientsWaiting: waiting, maxWaitMs: maxWait, averageWaitMs: average,
            transactionsPerSecond: seconds > 0 ? Double(transactions) / seconds : nil,
            queriesPerSecond: seconds > 0 ? Double(last.queries - first.queries) / seconds : nil,
            defaultPoolSize: last.config["default_pool_size"].flatMap { Int($0) },
            maxClientConn: last.config["max_client_conn"].flatMap { Int($0) },
            reservePoolSize: last.config["reserve_pool_size"].flatMap { Int($0) }, poolMode: last.config["pool_mode"],
            databasePoolSizes: last.databasePoolSizes)
    }
}
