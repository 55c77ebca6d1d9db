import Foundation
import PGAdviseCore

/// Connection limits and memory settings the pool advice needs.
public struct ConnectionSettings: Sendable {
    public var maxConnections: Int
    public var superuserReservedConnections: Int
    public var reservedConnections: Int?
    public var workMemBytes: Int64?
    public var hashMemMultiplier: Double?
    public var serverVersion: String
}

/// Reads how the server's connections are used: limits, `pg_stat_activity` samples, and the
/// `pg_stat_statements` and `pg_stat_database` counters whose change over a window tells how busy
/// the server was. Read-only; `pg_monitor` is enough.
public struct ConnectionActivityCollector {
    public let connection: PostgresConnection
    /// Only the sessions, statements and session counters of the database connected to (a shared
    /// server where one application's use matters); the default is the whole server, since cores
    /// and max_connections are the server's.
    public var currentDatabaseOnly: Bool

    public init(connection: PostgresConnection, currentDatabaseOnly: Bool = false) {
        self.connection = connection
        self.currentDatabaseOnly = currentDatabaseOnly
    }

    public func settings() throws -> ConnectionSettings {
        let rows = try connection.query(pgadviseStatementMarker + """
            SELECT name, setting, unit FROM pg_settings
            WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections', 'work_mem',
                           'hash_mem_multiplier', 'server_version')
            """).records
        var values: [String: (String, String?)] = [:]
        for r in rows { if let name = r["name"], let setting = r["setting"] { values[name] = (setting, r["unit"]) } }
        func int(_ name: String) -> Int? { values[name].flatMap { Int($0.0) } }
        let workMem = values["work_mem"].flatMap { value, unit in Int64(value).map { $0 * unitBytes(unit) } }
        return ConnectionSettings(
            maxConnections: int("max_connections") ?? 100, superuserReservedConnections: int("superuser_reserved_connections") ?? 3,
            reservedConnections: int("reserved_connections"), workMemBytes: workMem,
            hashMemMultiplier: values["hash_mem_multiplier"].flatMap { Double($0.0) }, serverVersion: values["server_version"]?.0 ?? "")
    }

    /// One `pg_stat_activity` reading: every client backend but this session.
    public func sample() throws -> [BackendSample] {
        try connection.query(pgadviseStatementMarker + """
            SELECT pid, coalesce(state, 'unknown') AS state, coalesce(datname, '') AS datname, coalesce(usename, '') AS usename,
                   coalesce(application_name, '') AS application_name, coalesce(host(client_addr), 'local') AS client,
                   wait_event_type, wait_event,
                   extract(epoch FROM clock_timestamp() - backend_start) AS age_s,
                   extract(epoch FROM clock_timestamp() - xact_start) * 1000 AS xact_ms,
                   extract(epoch FROM clock_timestamp() - state_change) * 1000 AS state_ms
            FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
            """ + (currentDatabaseOnly ? " AND datname = current_database()" : "")).records.map { r in
            BackendSample(pid: Int(r.int("pid") ?? 0), state: r["state"] ?? "unknown", database: r["datname"] ?? "",
                          user: r["usename"] ?? "", application: r["application_name"] ?? "", client: r["client"] ?? "local",
                          waitEventType: r["wait_event_type"], waitEvent: r["wait_event"], ageSeconds: r.double("age_s") ?? 0,
                          transactionMs: r.double("xact_ms"), stateMs: r.double("state_ms"))
        }
    }

    /// Total execution time (ms) and calls pg_stat_statements recorded, over every database, without
    /// pgadvise's own statements; nil when the view cannot be read.
    public func statementTotals() -> (ms: Double, calls: Int64)? {
        guard let schema = try? connection.query(pgadviseStatementMarker + """
            SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'
            """).rows.first?.first ?? nil else { return nil }
        let sql = pgadviseStatementMarker + "SELECT coalesce(sum(total_exec_time), 0) AS ms, coalesce(sum(calls), 0) AS calls FROM "
            + "\(quoteIdentifier(schema)).pg_stat_statements WHERE query NOT LIKE $1"
            + (currentDatabaseOnly ? " AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" : "")
        guard let r = try? connection.query(sql, [pgadviseStatementMarker + "%"]).records.first else { return nil }
        return (r.double("ms") ?? 0, r.int("calls") ?? 0)
    }

    /// `pg_stat_database` session counters summed over every database (14+; nil before), with the
    /// seconds since the oldest reset (or since the server started, when never reset).
    public func sessionCounters() throws -> SessionCounters? {
        guard connection.serverVersionNumber >= 140000 else { return nil }
        let filter = currentDatabaseOnly ? " WHERE datname = current_database()" : ""
        guard let r = try connection.query(pgadviseStatementMarker + """
            SELECT sum(sessions) AS sessions, sum(session_time) AS session_time, sum(active_time) AS active_time,
                   sum(idle_in_transaction_time) AS idle_tx_time, sum(sessions_abandoned) AS abandoned,
                   sum(sessions_fatal) AS fatal, sum(sessions_killed) AS killed,
                   extract(epoch FROM clock_timestamp() - coalesce(min(stats_reset), pg_postmaster_start_time())) AS seconds
            FROM pg_stat_database
            """ + filter).records.first else { return nil }
        return SessionCounters(seconds: r.double("seconds") ?? 0, sessions: r.int("sessions") ?? 0,
                               sessionTimeMs: r.double("session_time") ?? 0, activeTimeMs: r.double("active_time") ?? 0,
                               idleInTransactionTimeMs: r.double("idle_tx_time") ?? 0, sessionsAbandoned: r.int("abandoned") ?? 0,
                               sessionsFatal: r.int("fatal") ?? 0, sessionsKilled: r.int("killed") ?? 0)
    }

    /// Samples `pg_stat_activity` every `intervalMs` for `seconds`, and reads the counters at both
    /// ends. A stop ends the window early; what was sampled is kept.
    public func observe(seconds: Double, intervalMs: Double = 100, stop: StopSignal) throws -> PoolObservation {
        let limits = try settings()
        let statementsBefore = statementTotals()
        let sessionsBefore = try? sessionCounters()
        let started = Date()
        var accumulator = ActivityAccumulator()
        repeat {
            let tick = Date()
            accumulator.add(try sample())
            let next = tick.addingTimeInterval(intervalMs / 1000)
            if next.timeIntervalSince(started) > seconds { break }
            if !stop.sleep(seconds: max(0, next.timeIntervalSinceNow)) { break }
        } while Date().timeIntervalSince(started) < seconds
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        var observation = accumulator.observation(limits: limits, seconds: elapsed, intervalMs: intervalMs)
        if let before = statementsBefore, let after = statementTotals() {
            observation.busyConcurrency = max(0, after.ms - before.ms) / (elapsed * 1000)
            observation.statementsPerSecond = Double(max(0, after.calls - before.calls)) / elapsed
        }
        if let before = sessionsBefore ?? nil, let after = try? sessionCounters() {
            observation.sessionsSinceReset = after
            observation.sessionsInWindow = SessionCounters(
                seconds: elapsed, sessions: after.sessions - before.sessions, sessionTimeMs: after.sessionTimeMs - before.sessionTimeMs,
                activeTimeMs: after.activeTimeMs - before.activeTimeMs,
                idleInTransactionTimeMs: after.idleInTransactionTimeMs - before.idleInTransactionTimeMs,
                sessionsAbandoned: after.sessionsAbandoned - before.sessionsAbandoned,
                sessionsFatal: after.sessionsFatal - before.sessionsFatal, sessionsKilled: after.sessionsKilled - before.sessionsKilled)
        }
        return observation
    }
}

/// One client backend in one `pg_stat_activity` reading.
public struct BackendSample: Sendable, Equatable {
    public var pid: Int
    public var state: String
    public var database: String
    public var user: String
    public var application: String
    public var client: String
    public var waitEventType: String?
    public var waitEvent: String?
    public var ageSeconds: Double
    public var transactionMs: Double?
    public var stateMs: Double?

    public init(pid: Int, state: String, database: String = "", user: String = "", application: String = "",
                client: String = "local", waitEventType: String? = nil, waitEvent: String? = nil, ageSeconds: Double = 0,
                transactionMs: Double? = nil, stateMs: Double? = nil) {
        self.pid = pid; self.state = state; self.database = database; self.user = user; self.application = application
        self.client = client; self.waitEventType = waitEventType; self.waitEvent = waitEvent; self.ageSeconds = ageSeconds
        self.transactionMs = transactionMs; self.stateMs = stateMs
    }

    var isIdleInTransaction: Bool { state.hasPrefix("idle in transaction") }
}

/// Folds samples into the observation: per-key peaks, the active-count distribution, wait mix.
public struct ActivityAccumulator {
    private var samples = 0
    private var activeCounts: [Int] = []
    private var connectionsPeak = 0
    private var byState: [String: Int] = [:]
    private var byDatabase: [String: Int] = [:]
    private var byUser: [String: Int] = [:]
    private var byApplication: [String: Int] = [:]
    private var byClient: [String: Int] = [:]
    private var waitClasses: [String: Int] = [:]
    private var waitEvents: [String: Int] = [:]
    private var oldestIdle: IdleTransaction?
    private var lastAges: [Double] = []

    public init() {}

    public mutating func add(_ backends: [BackendSample]) {
        samples += 1
        connectionsPeak = max(connectionsPeak, backends.count)
        func peak(_ table: inout [String: Int], _ key: (BackendSample) -> String) {
            for (k, n) in Dictionary(grouping: backends, by: key).mapValues(\.count) { table[k] = max(table[k] ?? 0, n) }
        }
        peak(&byState, \.state); peak(&byDatabase, \.database); peak(&byUser, \.user)
        peak(&byApplication, \.application); peak(&byClient, \.client)
        let active = backends.filter { $0.state == "active" }
        activeCounts.append(active.count)
        for b in active {
            // No wait event while active means running on a CPU (or in a wait PostgreSQL does not instrument).
            let kind = b.waitEventType ?? "CPU"
            waitClasses[kind, default: 0] += 1
            waitEvents[b.waitEventType.map { "\($0):\(b.waitEvent ?? "")" } ?? "CPU", default: 0] += 1
        }
        for b in backends where b.isIdleInTransaction {
            guard let age = b.transactionMs, age > (oldestIdle?.transactionAgeMs ?? -1) else { continue }
            oldestIdle = IdleTransaction(pid: b.pid, transactionAgeMs: age, idleMs: b.stateMs ?? 0, database: b.database,
                                         user: b.user, application: b.application)
        }
        lastAges = backends.map(\.ageSeconds)
    }

    public func observation(limits: ConnectionSettings, seconds: Double, intervalMs: Double) -> PoolObservation {
        let sorted = activeCounts.sorted()
        let p95 = sorted.isEmpty ? 0 : Double(sorted[max(0, Int((0.95 * Double(sorted.count)).rounded(.up)) - 1)])
        let mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count)
        let top = Dictionary(uniqueKeysWithValues: waitEvents.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map { ($0.key, $0.value) })
        return PoolObservation(
            durationSeconds: seconds, intervalMs: intervalMs, samples: samples, maxConnections: limits.maxConnections,
            superuserReservedConnections: limits.superuserReservedConnections, reservedConnections: limits.reservedConnections,
            connectionsPeak: connectionsPeak, byState: byState, byDatabase: byDatabase, byUser: byUser,
            byApplication: byApplication, byClientAddress: byClient, activePeak: sorted.last ?? 0, activeP95: p95,
            activeMean: mean, waitEvents: waitClasses, topWaitEvents: top, oldestIdleInTransaction: oldestIdle,
            connectionAges: AgeBucket.distribution(ofAgesInSeconds: lastAges), workMemBytes: limits.workMemBytes,
            hashMemMultiplier: limits.hashMemMultiplier)
    }
}

/// Bytes per unit of a `pg_settings.unit` (`kB`, `8kB`, `MB`).
func unitBytes(_ unit: String?) -> Int64 {
    switch unit {
    case "B": return 1
    case "kB": return 1024
    case "8kB": return 8192
    case "MB": return 1024 * 1024
    case "GB": return 1024 * 1024 * 1024
    default: return 1
    }
}
