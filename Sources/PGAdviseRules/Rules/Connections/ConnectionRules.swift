import Foundation
import PGAdviseCore

/// Where the connection rules start to speak. Each threshold is a general figure, not a tuned one.
public enum ConnectionThresholds {
    /// A transaction idle this long is no request's think time any more: it holds its locks and its
    /// snapshot (so VACUUM cannot remove rows deleted since) until the application comes back.
    /// PostgreSQL's `idle_in_transaction_session_timeout` exists for exactly this; a minute is the
    /// value commonly given for web applications.
    public static let idleInTransactionMs = 60_000.0
    /// max_connections above this multiple of the formula pool (cores × 2) is "far above": every
    /// slot costs shared memory (PGPROC, lock table) and the server cannot run that many at once.
    public static let maxConnectionsPerFormulaPool = 4
    /// Without known cores, max_connections this many times the active peak, over a sampled window.
    public static let maxConnectionsPerActivePeak = 20
    /// Connection churn: at least one new session per second, lasting under five seconds on average,
    /// over at least this many sessions. A new backend costs a fork, authentication and cold caches
    /// (milliseconds), so a pool (HikariCP, PgBouncer) pays off well before this.
    public static let churnSessionsPerSecond = 1.0
    public static let churnMeanSessionMs = 5_000.0
    public static let churnMinimumSessions: Int64 = 20
    /// Many idle connections: at least 20, and four times the most that were ever active at once.
    public static let manyIdle = 20
    public static let idlePerActive = 4
}

private func observation(maxConnections: Int = 100, cores: Int? = nil, samples: Int = 300, activePeak: Int = 0,
                         byState: [String: Int] = [:], oldestIdle: Double? = nil, window: SessionCounters? = nil) -> PoolObservation {
    PoolObservation(durationSeconds: 30, intervalMs: 100, samples: samples, maxConnections: maxConnections,
                    connectionsPeak: byState.values.reduce(0, +), byState: byState, activePeak: activePeak,
                    oldestIdleInTransaction: oldestIdle.map { IdleTransaction(pid: 4242, transactionAgeMs: $0, idleMs: $0, database: "shop", user: "app") },
                    sessionsInWindow: window, cores: cores, coresSource: cores == nil ? "unknown" : "--cores")
}

public struct IdleInTransactionRule: ConnectionRule {
    public static let description = RuleDescription(
        id: "idle-in-transaction", severity: .warning, category: .workload,
        summary: "A session has kept a transaction open while doing nothing for over a minute.",
        rationale: "A transaction idle in the middle holds every lock it took and its snapshot: writers of the same rows "
            + "wait behind it, and VACUUM cannot remove row versions that died after the snapshot was taken, so tables and "
            + "indexes bloat for as long as it stays open. It usually means the application began a transaction and then "
            + "waited on something else (a remote call, user input), or lost an exception path that should have rolled back.",
        solution: "Find the code path (application_name, user and client address show the session) and commit or roll back "
            + "before waiting on anything outside the database. As a safety net set idle_in_transaction_session_timeout "
            + "(for example ALTER ROLE app SET idle_in_transaction_session_timeout = '60s').",
        scope: .connection,
        triggering: [Example(caption: "session 4242 (app on shop) idle in transaction for 5 minutes",
                             connection: observation(byState: ["idle in transaction": 1], oldestIdle: 300_000))],
        nonTriggering: [Example(caption: "session 4242 idle in transaction for 2 seconds (between two statements)",
                                connection: observation(byState: ["idle in transaction": 1], oldestIdle: 2_000))])

    public init() {}

    public func check(_ observation: PoolObservation) -> [Violation] {
        guard let oldest = observation.oldestIdleInTransaction,
              oldest.transactionAgeMs >= ConnectionThresholds.idleInTransactionMs else { return [] }
        let who = oldest.pid > 0 ? "session \(oldest.pid)" + (oldest.user.isEmpty ? "" : " (\(oldest.user)@\(oldest.database)"
            + (oldest.application.isEmpty ? "" : ", \(oldest.application)") + ")") : "a session"
        let count = observation.idleInTransaction
        return [Violation(
            message: "\(who) has kept a transaction open for \(formatDuration(ms: oldest.transactionAgeMs)) while idle"
                + (count > 1 ? " (\(count) sessions idle in transaction)" : ""),
            evidence: "oldest idle transaction \(formatDuration(ms: oldest.transactionAgeMs))",
            fix: "ALTER ROLE \(quoteIdentifierIfNeeded(oldest.user.isEmpty ? "app" : oldest.user)) SET idle_in_transaction_session_timeout = '60s';",
            details: ["transactionAgeMs": String(format: "%.0f", oldest.transactionAgeMs), "sessions": String(count)])]
    }
}

public struct OversizedMaxConnectionsRule: ConnectionRule {
    public static let description = RuleDescription(
        id: "max-connections-oversized", severity: .info, category: .configuration,
        summary: "max_connections is far above what the server's cores can run, while few backends are ever active.",
        rationale: "A server runs at most about one active backend per core (cores × 2 + spindles by the usual formula, "
            + "from the PostgreSQL wiki and HikariCP's \"About Pool Sizing\"). Slots beyond that are not free: each reserves "
            + "shared memory (PGPROC, lock table entries), and when applications do use them, hundreds of active backends "
            + "contend for CPU, locks and cache, so throughput falls and latency climbs instead of rising.",
        solution: "Put a pool in front (PgBouncer, or the application's pool) sized near the measured knee "
            + "(`pgadvise pool --measure` on staging), then lower max_connections to that pool plus headroom for "
            + "administration and replication.",
        scope: .connection,
        triggering: [Example(caption: "max_connections 1000 on 8 cores, at most 6 backends active",
                             connection: observation(maxConnections: 1000, cores: 8, activePeak: 6, byState: ["active": 6, "idle": 40]))],
        nonTriggering: [Example(caption: "max_connections 100 on 16 cores",
                                connection: observation(maxConnections: 100, cores: 16, activePeak: 6, byState: ["active": 6])),
                        Example(caption: "max_connections 1000 from one snapshot, cores unknown",
                                connection: observation(maxConnections: 1000, samples: 1, activePeak: 2, byState: ["active": 2]))])

    public init() {}

    public func check(_ observation: PoolObservation) -> [Violation] {
        let limit: Int
        let reason: String
        if let cores = observation.cores, cores > 0 {
            limit = ConnectionThresholds.maxConnectionsPerFormulaPool * cores * 2
            guard observation.maxConnections > limit, observation.activePeak <= cores * 2 else { return [] }
            reason = "\(cores) cores run about \(cores * 2) backends at once"
        } else {
            // One snapshot cannot tell how few are "ever" active.
            guard observation.samples >= 10 else { return [] }
            limit = max(100, ConnectionThresholds.maxConnectionsPerActivePeak * max(observation.activePeak, 1))
            guard observation.maxConnections > limit else { return [] }
            reason = "cores unknown (pass --cores)"
        }
        return [Violation(
            message: "max_connections is \(observation.maxConnections) but at most \(observation.activePeak) backend(s) were active at once; \(reason)",
            evidence: "max_connections \(observation.maxConnections), active peak \(observation.activePeak)",
            details: ["maxConnections": String(observation.maxConnections), "activePeak": String(observation.activePeak)])]
    }
}

public struct ConnectionChurnRule: ConnectionRule {
    public static let description = RuleDescription(
        id: "connection-churn", severity: .warning, category: .workload,
        summary: "Many short sessions: connections are opened per request instead of taken from a pool.",
        rationale: "Each new session forks a backend, authenticates (TLS and SCRAM cost milliseconds), and starts with cold "
            + "catalog and plan caches. At one or more new sessions per second, each lasting a few seconds, that setup is a "
            + "large share of the work and the connection rate itself can saturate the postmaster. pg_stat_database counts "
            + "sessions and their total time (PostgreSQL 14+).",
        solution: "Keep connections open in a pool: the application's (HikariCP, pgx pool, SQLAlchemy's pool) or PgBouncer in "
            + "transaction mode in front of the server, sized as `pgadvise pool` recommends.",
        scope: .connection,
        triggering: [Example(caption: "900 sessions in 30 s, 120 ms each on average",
                             connection: observation(window: SessionCounters(seconds: 30, sessions: 900, sessionTimeMs: 108_000)))],
        nonTriggering: [Example(caption: "3 sessions in 30 s, pooled connections that live for hours",
                                connection: observation(window: SessionCounters(seconds: 30, sessions: 3, sessionTimeMs: 3 * 3_600_000)))])

    public init() {}

    public func check(_ observation: PoolObservation) -> [Violation] {
        guard let counters = observation.sessionCounters, counters.sessions >= ConnectionThresholds.churnMinimumSessions,
              counters.sessionsPerSecond >= ConnectionThresholds.churnSessionsPerSecond,
              let mean = counters.meanSessionMs, mean < ConnectionThresholds.churnMeanSessionMs else { return [] }
        return [Violation(
            message: String(format: "%.1f new sessions per second lasting %@ on average: connections are not pooled",
                            counters.sessionsPerSecond, formatDuration(ms: mean)),
            evidence: "\(counters.sessions) sessions in \(formatDuration(ms: counters.seconds * 1000))",
            details: ["sessionsPerSecond": String(format: "%.2f", counters.sessionsPerSecond), "meanSessionMs": String(format: "%.0f", mean)])]
    }
}

public struct ManyIdleConnectionsRule: ConnectionRule {
    public static let description = RuleDescription(
        id: "many-idle-connections", severity: .info, category: .configuration,
        summary: "Many connections sit idle: application pools hold far more connections than the work needs.",
        rationale: "An idle backend still costs memory (its catalog and plan caches, often several MB) and a connection "
            + "slot, and every snapshot has to consider it. Idle connections usually come from application pools sized "
            + "per instance and multiplied by the number of instances; HikariCP's pool sizing guide recommends small, fixed "
            + "pools for this reason.",
        solution: "Shrink the application pools (their maximum and minimum idle size) to the recommended pool divided by the "
            + "number of instances, or put PgBouncer in transaction mode in front so many client connections share few "
            + "server connections.",
        scope: .connection,
        triggering: [Example(caption: "120 idle connections, at most 5 active",
                             connection: observation(activePeak: 5, byState: ["idle": 120, "active": 5]))],
        nonTriggering: [Example(caption: "12 idle connections, at most 5 active",
                                connection: observation(activePeak: 5, byState: ["idle": 12, "active": 5]))])

    public init() {}

    public func check(_ observation: PoolObservation) -> [Violation] {
        let idle = observation.idle
        guard idle >= ConnectionThresholds.manyIdle,
              idle >= ConnectionThresholds.idlePerActive * max(observation.activePeak, 1) else { return [] }
        return [Violation(
            message: "\(idle) connections idle while at most \(observation.activePeak) were active at once",
            evidence: "idle \(idle), active peak \(observation.activePeak)",
            details: ["idle": String(idle), "activePeak": String(observation.activePeak)])]
    }
}


/// Applies every connection rule to an observation.
public func applyConnectionRules(_ observation: PoolObservation, rules: [any ConnectionRule] = RuleRegistry.connectionRules) -> [Finding] {
    rules.flatMap { rule in rule.check(observation).map { type(of: rule).description.finding($0) } }.sortedByImpact()
}
