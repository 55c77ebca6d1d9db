/// What `pgadvise pool` observed, measured and recommends. The JSON output of `pool` is this value,
/// so field names are a published contract (add, never rename).

/// Database-wide session counters of `pg_stat_database` (PostgreSQL 14+), summed over every database,
/// over an interval of `seconds`: either the observation window (a delta) or since the counters
/// were reset (one snapshot, as `scan` reads them).
public struct SessionCounters: Codable, Sendable, Equatable {
    public var seconds: Double
    public var sessions: Int64
    public var sessionTimeMs: Double
    public var activeTimeMs: Double
    public var idleInTransactionTimeMs: Double
    public var sessionsAbandoned: Int64
    public var sessionsFatal: Int64
    public var sessionsKilled: Int64

    public init(seconds: Double, sessions: Int64, sessionTimeMs: Double = 0, activeTimeMs: Double = 0,
                idleInTransactionTimeMs: Double = 0, sessionsAbandoned: Int64 = 0, sessionsFatal: Int64 = 0,
                sessionsKilled: Int64 = 0) {
        self.seconds = seconds; self.sessions = sessions; self.sessionTimeMs = sessionTimeMs
        self.activeTimeMs = activeTimeMs; self.idleInTransactionTimeMs = idleInTransactionTimeMs
        self.sessionsAbandoned = sessionsAbandoned; self.sessionsFatal = sessionsFatal; self.sessionsKilled = sessionsKilled
    }

    /// New sessions per second.
    public var sessionsPerSecond: Double { seconds > 0 ? Double(sessions) / seconds : 0 }

    /// Mean length of the sessions that ended in the interval; nil when none ended.
    public var meanSessionMs: Double? { sessions > 0 ? sessionTimeMs / Double(sessions) : nil }
}

/// The oldest transaction left open by a session that is doing nothing.
public struct IdleTransaction: Codable, Sendable, Equatable {
    public var pid: Int
    /// Since `xact_start`, in ms.
    public var transactionAgeMs: Double
    /// Since the session last changed state (its last statement ended), in ms.
    public var idleMs: Double
    public var database: String
    public var user: String
    public var application: String

    public init(pid: Int, transactionAgeMs: Double, idleMs: Double, database: String = "", user: String = "", application: String = "") {
        self.pid = pid; self.transactionAgeMs = transactionAgeMs; self.idleMs = idleMs
        self.database = database; self.user = user; self.application = application
    }
}

/// How many client connections have been open for how long (the last sample): many young ones
/// mean connections are opened per request, without a pool.
public struct AgeBucket: Codable, Sendable, Equatable {
    public var label: String
    /// Upper bound of the bucket in seconds; nil for the last, open-ended one.
    public var upToSeconds: Double?
    public var connections: Int

    public init(label: String, upToSeconds: Double?, connections: Int) {
        self.label = label; self.upToSeconds = upToSeconds; self.connections = connections
    }

    /// The buckets `pool` reports, from "under a second" to "over an hour".
    public static let bounds: [(String, Double?)] = [
        ("< 1 s", 1), ("1-10 s", 10), ("10 s-1 min", 60), ("1-10 min", 600), ("10 min-1 h", 3600), ("> 1 h", nil),
    ]

    public static func distribution(ofAgesInSeconds ages: [Double]) -> [AgeBucket] {
        var lower = -Double.infinity
        return bounds.map { label, upper in
            defer { lower = upper ?? .infinity }
            let n = ages.filter { $0 >= lower && $0 < (upper ?? .infinity) }.count
            return AgeBucket(label: label, upToSeconds: upper, connections: n)
        }
    }
}

/// Client backends (pgadvise's own session excluded) over the observation window, sampled every
/// `intervalMs`. Counts per state and per database, user, application and client address are the
/// most seen in any one sample (peak concurrency); `activeMean` averages the samples.
/// `scan` builds one from its single snapshot (`samples` 1).
public struct PoolObservation: Codable, Sendable, Equatable {
    public var durationSeconds: Double
    public var intervalMs: Double
    public var samples: Int
    public var maxConnections: Int
    public var superuserReservedConnections: Int
    /// `reserved_connections` (PostgreSQL 16+); nil before.
    public var reservedConnections: Int?
    /// The most client connections open at once.
    public var connectionsPeak: Int
    /// The most sessions in each state at once: `active`, `idle`, `idle in transaction`,
    /// `idle in transaction (aborted)`, ...
    public var byState: [String: Int]
    public var byDatabase: [String: Int]
    public var byUser: [String: Int]
    public var byApplication: [String: Int]
    public var byClientAddress: [String: Int]
    /// The most sessions idle at once (`byState["idle"]`).
    public var idle: Int
    /// The most sessions idle in a transaction at once, aborted ones included.
    public var idleInTransaction: Int
    public var activePeak: Int
    public var activeP95: Double
    public var activeMean: Double
    /// Active backend-samples per wait class: `CPU` (no wait event), `Lock`, `LWLock`, `IO`, `Client`, `IPC`, ...
    public var waitEvents: [String: Int]
    /// The same, per wait event (`LWLock:WALWrite`), the ten most seen.
    public var topWaitEvents: [String: Int]
    public var oldestIdleInTransaction: IdleTransaction?
    public var connectionAges: [AgeBucket]
    /// Busy concurrency by Little's law: execution time pg_stat_statements accrued in the window
    /// divided by the window; nil when pg_stat_statements could not be read.
    public var busyConcurrency: Double?
    /// Statements per second pg_stat_statements counted in the window.
    public var statementsPerSecond: Double?
    /// `pg_stat_database` session counters over the window (PostgreSQL 14+).
    public var sessionsInWindow: SessionCounters?
    /// The same since the counters were reset.
    public var sessionsSinceReset: SessionCounters?
    /// CPU cores of the server, when known.
    public var cores: Int?
    /// Where `cores` came from: `--cores`, `measured` (from the load curve) or `unknown`.
    public var coresSource: String
    /// `work_mem` in bytes.
    public var workMemBytes: Int64?
    /// `hash_mem_multiplier`.
    public var hashMemMultiplier: Double?

    public init(durationSeconds: Double = 0, intervalMs: Double = 0, samples: Int = 0, maxConnections: Int,
                superuserReservedConnections: Int = 3, reservedConnections: Int? = nil, connectionsPeak: Int = 0,
                byState: [String: Int] = [:], byDatabase: [String: Int] = [:], byUser: [String: Int] = [:],
                byApplication: [String: Int] = [:], byClientAddress: [String: Int] = [:], activePeak: Int = 0,
                activeP95: Double = 0, activeMean: Double = 0, waitEvents: [String: Int] = [:],
                topWaitEvents: [String: Int] = [:], oldestIdleInTransaction: IdleTransaction? = nil,
                connectionAges: [AgeBucket] = [], busyConcurrency: Double? = nil, statementsPerSecond: Double? = nil,
                sessionsInWindow: SessionCounters? = nil, sessionsSinceReset: SessionCounters? = nil,
                cores: Int? = nil, coresSource: String = "unknown", workMemBytes: Int64? = nil, hashMemMultiplier: Double? = nil) {
        self.durationSeconds = durationSeconds; self.intervalMs = intervalMs; self.samples = samples
        self.maxConnections = maxConnections; self.superuserReservedConnections = superuserReservedConnections
        self.reservedConnections = reservedConnections; self.connectionsPeak = connectionsPeak; self.byState = byState
        self.byDatabase = byDatabase; self.byUser = byUser; self.byApplication = byApplication
        self.byClientAddress = byClientAddress; self.activePeak = activePeak
        idle = byState["idle"] ?? 0
        idleInTransaction = (byState["idle in transaction"] ?? 0) + (byState["idle in transaction (aborted)"] ?? 0); self.activeP95 = activeP95
        self.activeMean = activeMean; self.waitEvents = waitEvents; self.topWaitEvents = topWaitEvents
        self.oldestIdleInTransaction = oldestIdleInTransaction; self.connectionAges = connectionAges
        self.busyConcurrency = busyConcurrency; self.statementsPerSecond = statementsPerSecond
        self.sessionsInWindow = sessionsInWindow; self.sessionsSinceReset = sessionsSinceReset
        self.cores = cores; self.coresSource = coresSource; self.workMemBytes = workMemBytes
        self.hashMemMultiplier = hashMemMultiplier
    }

    /// An observation that knows only sessions (a log's connection and disconnection lines): no server
    /// setting and no sampled window, so only the rules about sessions have anything to judge.
    public init(sessionsInWindow counters: SessionCounters) {
        self.init(durationSeconds: counters.seconds, maxConnections: 0, superuserReservedConnections: 0, sessionsInWindow: counters)
    }

    /// Connection slots ordinary roles may use.
    public var usableConnections: Int { maxConnections - superuserReservedConnections - (reservedConnections ?? 0) }

    /// Session counters to judge churn by: the window's when sessions ended in it, else since reset.
    public var sessionCounters: SessionCounters? {
        if let window = sessionsInWindow, window.sessions > 0 { return window }
        return sessionsSinceReset ?? sessionsInWindow
    }
}

/// PgBouncer's admin console (`SHOW POOLS`, `SHOW STATS`, `SHOW CONFIG`, `SHOW DATABASES`).
public struct PgBouncerObservation: Codable, Sendable, Equatable {
    public struct Pool: Codable, Sendable, Equatable {
        public var database: String
        public var user: String
        public var clientsActive: Int
        public var clientsWaiting: Int
        public var serversActive: Int
        public var serversIdle: Int
        /// How long the oldest waiting client has waited, in ms.
        public var maxWaitMs: Double
        public var poolMode: String

        public init(database: String, user: String, clientsActive: Int, clientsWaiting: Int, serversActive: Int,
                    serversIdle: Int, maxWaitMs: Double, poolMode: String) {
            self.database = database; self.user = user; self.clientsActive = clientsActive
            self.clientsWaiting = clientsWaiting; self.serversActive = serversActive; self.serversIdle = serversIdle
            self.maxWaitMs = maxWaitMs; self.poolMode = poolMode
        }
    }

    public var version: String?
    public var pools: [Pool]
    /// Clients waiting for a server connection, over every pool (the most seen in one reading).
    public var clientsWaiting: Int
    public var maxWaitMs: Double
    /// Mean time a client waited for a server connection per transaction in the window, in ms
    /// (SHOW STATS total_wait_time over total_xact_count deltas).
    public var averageWaitMs: Double?
    public var transactionsPerSecond: Double?
    public var queriesPerSecond: Double?
    public var defaultPoolSize: Int?
    public var maxClientConn: Int?
    public var reservePoolSize: Int?
    public var poolMode: String?
    /// Per-database `pool_size` where SHOW DATABASES lists one (the admin database excluded).
    public var databasePoolSizes: [String: Int]

    public init(version: String? = nil, pools: [Pool] = [], clientsWaiting: Int = 0, maxWaitMs: Double = 0,
                averageWaitMs: Double? = nil, transactionsPerSecond: Double? = nil, queriesPerSecond: Double? = nil,
                defaultPoolSize: Int? = nil, maxClientConn: Int? = nil, reservePoolSize: Int? = nil, poolMode: String? = nil,
                databasePoolSizes: [String: Int] = [:]) {
        self.version = version; self.pools = pools; self.clientsWaiting = clientsWaiting; self.maxWaitMs = maxWaitMs
        self.averageWaitMs = averageWaitMs; self.transactionsPerSecond = transactionsPerSecond
        self.queriesPerSecond = queriesPerSecond; self.defaultPoolSize = defaultPoolSize
        self.maxClientConn = maxClientConn; self.reservePoolSize = reservePoolSize; self.poolMode = poolMode
        self.databasePoolSizes = databasePoolSizes
    }
}

/// One concurrency level of the load curve.
public struct LoadLevel: Codable, Sendable, Equatable {
    public var clients: Int
    /// Statements per second over the timed part of the level.
    public var tps: Double
    public var p50Ms: Double
    public var p95Ms: Double
    public var p99Ms: Double
    public var statements: Int
    public var errors: Int
    public var seconds: Double
    /// The level stopped before its time: a statement passed the statement timeout, or Ctrl-C.
    public var stoppedEarly: Bool
    public var note: String?

    public init(clients: Int, tps: Double, p50Ms: Double, p95Ms: Double, p99Ms: Double, statements: Int,
                errors: Int = 0, seconds: Double, stoppedEarly: Bool = false, note: String? = nil) {
        self.clients = clients; self.tps = tps; self.p50Ms = p50Ms; self.p95Ms = p95Ms; self.p99Ms = p99Ms
        self.statements = statements; self.errors = errors; self.seconds = seconds
        self.stoppedEarly = stoppedEarly; self.note = note
    }
}

/// A pool size with what it achieved when measured.
public struct PoolFigure: Codable, Sendable, Equatable {
    public var clients: Int
    public var tps: Double
    public var p95Ms: Double

    public init(clients: Int, tps: Double, p95Ms: Double) {
        self.clients = clients; self.tps = tps; self.p95Ms = p95Ms
    }
}

/// The Universal Scalability Law fitted to the load curve: X(N) = λN / (1 + σ(N−1) + κN(N−1)).
public struct ScalabilityFit: Codable, Sendable, Equatable {
    public var lambda: Double
    /// Contention (serialisation).
    public var sigma: Double
    /// Coherency (crosstalk).
    public var kappa: Double
    /// Concurrency of the peak, √((1−σ)/κ); nil when κ is not positive (no retrograde region seen).
    public var optimumClients: Double?

    public init(lambda: Double, sigma: Double, kappa: Double, optimumClients: Double?) {
        self.lambda = lambda; self.sigma = sigma; self.kappa = kappa; self.optimumClients = optimumClients
    }
}

/// What `--measure` ran and found.
public struct LoadMeasurement: Codable, Sendable, Equatable {
    /// `pg_stat_statements` or `script`.
    public var workloadSource: String
    /// The statements run, with their share of the calls.
    public var statements: [WeightedStatement]
    public var stepSeconds: Double
    public var warmupSeconds: Double
    public var maxClients: Int
    public var sloP95Ms: Double?
    /// Smallest concurrency with throughput at least 95% of the peak (and p95 within the SLO).
    public var knee: Int?
    public var peakTps: Double
    public var scalability: ScalabilityFit?
    /// Cores the curve suggests: the largest level that still scaled almost linearly (≥ 80% of
    /// N × the one-client throughput); a lower bound of the server's usable cores.
    public var linearScalingClients: Int?
    public var interrupted: Bool

    public init(workloadSource: String, statements: [WeightedStatement], stepSeconds: Double, warmupSeconds: Double,
                maxClients: Int, sloP95Ms: Double? = nil, knee: Int? = nil, peakTps: Double = 0,
                scalability: ScalabilityFit? = nil, linearScalingClients: Int? = nil, interrupted: Bool = false) {
        self.workloadSource = workloadSource; self.statements = statements; self.stepSeconds = stepSeconds
        self.warmupSeconds = warmupSeconds; self.maxClients = maxClients; self.sloP95Ms = sloP95Ms; self.knee = knee
        self.peakTps = peakTps; self.scalability = scalability; self.linearScalingClients = linearScalingClients
        self.interrupted = interrupted
    }
}

public struct WeightedStatement: Codable, Sendable, Equatable {
    public var text: String
    public var weight: Double
    /// Parameter values the clients bind to `$1`, `$2`, ...
    public var parameters: [String]
    /// Run as `BEGIN; ...; ROLLBACK` in one round trip (a `--script` statement, which may write), so a
    /// measurement never leaves a change behind.
    public var rolledBack: Bool

    public init(text: String, weight: Double = 1, parameters: [String] = [], rolledBack: Bool = false) {
        self.text = text; self.weight = weight; self.parameters = parameters; self.rolledBack = rolledBack
    }
}

/// PgBouncer settings to use, each with its reason.
public struct PgBouncerAdvice: Codable, Sendable, Equatable {
    public var defaultPoolSize: Int
    public var maxClientConn: Int
    public var poolMode: String
    public var reasons: [String]

    public init(defaultPoolSize: Int, maxClientConn: Int, poolMode: String, reasons: [String]) {
        self.defaultPoolSize = defaultPoolSize; self.maxClientConn = maxClientConn; self.poolMode = poolMode; self.reasons = reasons
    }
}

public struct PoolRecommendation: Codable, Sendable, Equatable {
    /// Server connections that should run statements at once, over every application instance.
    public var poolSize: Int
    /// What `poolSize` rests on: `measured knee`, `formula`, or `observed`.
    public var basis: String
    /// cores × 2 + spindles; nil when the cores are unknown.
    public var formulaPoolSize: Int?
    public var spindles: Int
    public var current: Int?
    /// `--current`, `pgbouncer default_pool_size`, or `observed peak connections`.
    public var currentSource: String
    public var measuredKnee: Int?
    public var appInstances: Int
    public var perInstance: Int
    public var pgbouncer: PgBouncerAdvice
    /// max_connections minus reserved slots minus the most connections seen.
    public var freeConnectionSlots: Int
    /// work_mem × the recommended pool, and × max_connections: each sort or hash may take that much
    /// (hashes hash_mem_multiplier times more), so these are a floor of the worst case, not a cap.
    public var workMemAtPoolBytes: Int64?
    public var workMemAtMaxConnectionsBytes: Int64?
    public var before: PoolFigure?
    public var after: PoolFigure?
    /// What the recommendation rests on and what only a measurement would show.
    public var notes: [String]

    public init(poolSize: Int, basis: String, formulaPoolSize: Int?, spindles: Int, current: Int?, currentSource: String,
                measuredKnee: Int?, appInstances: Int, perInstance: Int, pgbouncer: PgBouncerAdvice,
                freeConnectionSlots: Int, workMemAtPoolBytes: Int64?, workMemAtMaxConnectionsBytes: Int64?,
                before: PoolFigure? = nil, after: PoolFigure? = nil, notes: [String] = []) {
        self.poolSize = poolSize; self.basis = basis; self.formulaPoolSize = formulaPoolSize; self.spindles = spindles
        self.current = current; self.currentSource = currentSource; self.measuredKnee = measuredKnee
        self.appInstances = appInstances; self.perInstance = perInstance; self.pgbouncer = pgbouncer
        self.freeConnectionSlots = freeConnectionSlots; self.workMemAtPoolBytes = workMemAtPoolBytes
        self.workMemAtMaxConnectionsBytes = workMemAtMaxConnectionsBytes; self.before = before; self.after = after
        self.notes = notes
    }
}

public struct PoolReport: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var target: String
    public var startedAt: String
    public var serverVersion: String
    public var observed: PoolObservation
    public var pgbouncer: PgBouncerObservation?
    public var loadCurve: [LoadLevel]
    public var measurement: LoadMeasurement?
    public var recommendation: PoolRecommendation
    public var findings: [Finding]
    public var skipped: [ScanSkip]

    public init(schemaVersion: Int, target: String, startedAt: String, serverVersion: String, observed: PoolObservation,
                pgbouncer: PgBouncerObservation? = nil, loadCurve: [LoadLevel] = [], measurement: LoadMeasurement? = nil,
                recommendation: PoolRecommendation, findings: [Finding] = [], skipped: [ScanSkip] = []) {
        self.schemaVersion = schemaVersion; self.target = target; self.startedAt = startedAt; self.serverVersion = serverVersion
        self.observed = observed; self.pgbouncer = pgbouncer; self.loadCurve = loadCurve; self.measurement = measurement
        self.recommendation = recommendation; self.findings = findings; self.skipped = skipped
    }
}
