/// What `pgadvise scan` learned about a live server, and what it made of it. The JSON output of
/// `scan` is this value, so field names are a published contract (add, never rename).

/// One `pg_settings` row that matters for performance.
public struct ServerSetting: Codable, Sendable, Equatable {
    public var name: String
    /// `pg_settings.setting` as the server reports it (in `unit`s).
    public var setting: String
    public var unit: String?
    /// The value as `SHOW` prints it (`128MB`, `4MB`, `on`).
    public var display: String
    /// `default`, `configuration file`, `command line`, ... (`pg_settings.source`).
    public var source: String

    public init(name: String, setting: String, unit: String? = nil, display: String, source: String) {
        self.name = name; self.setting = setting; self.unit = unit; self.display = display; self.source = source
    }
}

/// The server and the session pgadvise ran as.
public struct ServerInfo: Codable, Sendable, Equatable {
    /// `SELECT version()`.
    public var version: String
    /// `server_version_num`, e.g. 150004.
    public var versionNumber: Int
    public var database: String
    public var user: String
    public var isSuperuser: Bool
    /// Member of `pg_read_all_stats` (directly, through `pg_monitor`, or as superuser).
    public var canReadAllStats: Bool
    public var inRecovery: Bool
    public var settings: [ServerSetting]
    /// Extensions installed in this database: name → version.
    public var extensions: [String: String]
    /// Extensions the server could install: name → default version.
    public var availableExtensions: [String: String]
    /// `shared_preload_libraries`, split.
    public var preloadedLibraries: [String]

    public init(version: String, versionNumber: Int, database: String, user: String, isSuperuser: Bool = false,
                canReadAllStats: Bool = false, inRecovery: Bool = false, settings: [ServerSetting] = [],
                extensions: [String: String] = [:], availableExtensions: [String: String] = [:],
                preloadedLibraries: [String] = []) {
        self.version = version; self.versionNumber = versionNumber; self.database = database; self.user = user
        self.isSuperuser = isSuperuser; self.canReadAllStats = canReadAllStats; self.inRecovery = inRecovery
        self.settings = settings; self.extensions = extensions; self.availableExtensions = availableExtensions
        self.preloadedLibraries = preloadedLibraries
    }

    public func setting(_ name: String) -> ServerSetting? { settings.first { $0.name == name } }

    /// `15.4` from 150004, `9.6` style numbers are not supported (pgadvise needs 13+).
    public var shortVersion: String { "\(versionNumber / 10000).\(versionNumber % 10000)" }
}

/// `pg_stat_database` for the scanned database.
public struct DatabaseStats: Codable, Sendable, Equatable {
    public var commits: Int64
    public var rollbacks: Int64
    public var blocksRead: Int64
    public var blocksHit: Int64
    public var tuplesReturned: Int64
    public var tuplesFetched: Int64
    public var tempFiles: Int64
    public var tempBytes: Int64
    public var deadlocks: Int64
    /// Database size in bytes (`pg_database_size`).
    public var sizeBytes: Int64?
    /// When the statistics pgadvise judges by were last reset (ISO-8601), nil when never.
    public var statsReset: String?

    public init(commits: Int64 = 0, rollbacks: Int64 = 0, blocksRead: Int64 = 0, blocksHit: Int64 = 0,
                tuplesReturned: Int64 = 0, tuplesFetched: Int64 = 0, tempFiles: Int64 = 0, tempBytes: Int64 = 0,
                deadlocks: Int64 = 0, sizeBytes: Int64? = nil, statsReset: String? = nil) {
        self.commits = commits; self.rollbacks = rollbacks; self.blocksRead = blocksRead; self.blocksHit = blocksHit
        self.tuplesReturned = tuplesReturned; self.tuplesFetched = tuplesFetched; self.tempFiles = tempFiles
        self.tempBytes = tempBytes; self.deadlocks = deadlocks; self.sizeBytes = sizeBytes; self.statsReset = statsReset
    }

    /// Share of block requests served from shared buffers; nil before any block was read.
    public var cacheHitRatio: Double? {
        let total = blocksRead + blocksHit
        return total > 0 ? Double(blocksHit) / Double(total) : nil
    }
}

/// A `pg_stat_activity` snapshot for the scanned database, pgadvise's own session excluded.
public struct ActivitySnapshot: Codable, Sendable, Equatable {
    /// Client backends by state (`active`, `idle`, `idle in transaction`, ...).
    public var sessionsByState: [String: Int]
    /// Sessions waiting on a lock right now.
    public var waitingOnLock: Int
    /// The longest-running active statement, in ms.
    public var longestActiveMs: Double?
    /// The oldest open transaction that is idle, in ms.
    public var longestIdleInTransactionMs: Double?

    public init(sessionsByState: [String: Int] = [:], waitingOnLock: Int = 0, longestActiveMs: Double? = nil,
                longestIdleInTransactionMs: Double? = nil) {
        self.sessionsByState = sessionsByState; self.waitingOnLock = waitingOnLock
        self.longestActiveMs = longestActiveMs; self.longestIdleInTransactionMs = longestIdleInTransactionMs
    }

    public var totalSessions: Int { sessionsByState.values.reduce(0, +) }
}

/// Whether pg_stat_statements could be read, and if not, exactly why.
public enum StatementStatsAvailability: String, Codable, Sendable {
    case available
    /// The server has the extension but this database has not run CREATE EXTENSION.
    case notCreated = "not-created"
    /// CREATE EXTENSION was run but the library is not in shared_preload_libraries.
    case notPreloaded = "not-preloaded"
    /// The extension is not even installed on the server (no contrib package).
    case notInstalled = "not-installed"
    /// The role may not read the view.
    case permissionDenied = "permission-denied"
}

/// The outcome of reading pg_stat_statements: what was read, the database-wide totals that shares
/// are computed against, and, when unavailable, what the user must do.
public struct StatementStatsStatus: Codable, Sendable, Equatable {
    public var availability: StatementStatsAvailability
    /// Statements recorded for this database (all of them, not only the top ones read).
    public var statementCount: Int
    /// Sum of total execution time over every statement of this database, in ms.
    public var totalMs: Double
    public var totalCalls: Int64
    /// Statements whose text the role may not see (`<insufficient privilege>`), skipped.
    public var hiddenStatements: Int
    /// `pg_stat_statements_info.stats_reset` (14+), ISO-8601.
    public var statsReset: String?
    /// One sentence saying how to make it available, when it is not.
    public var remedy: String?

    public init(availability: StatementStatsAvailability, statementCount: Int = 0, totalMs: Double = 0,
                totalCalls: Int64 = 0, hiddenStatements: Int = 0, statsReset: String? = nil, remedy: String? = nil) {
        self.availability = availability; self.statementCount = statementCount; self.totalMs = totalMs
        self.totalCalls = totalCalls; self.hiddenStatements = hiddenStatements; self.statsReset = statsReset
        self.remedy = remedy
    }
}

/// A part of the scan that could not be done, and why: a report must never look complete when it is not.
public struct ScanSkip: Codable, Sendable, Equatable {
    /// What was skipped (`pg_stat_statements`, `column statistics`, `generic plan of 3f2a...`).
    public var step: String
    public var reason: String

    public init(step: String, reason: String) {
        self.step = step
        self.reason = reason
    }
}

/// One statement the scan considered, with its statistics, its weight in the database's workload
/// and its generic plan when one could be made.
public struct ScannedQuery: Codable, Sendable {
    public var stats: QueryStats
    /// Share of the database's total execution time (0...1).
    public var shareOfTotalTime: Double
    /// The generic plan (`plan_cache_mode = force_generic_plan`), when the statement could be planned.
    public var plan: Plan?
    /// Why there is no plan (utility statement, parameters of unknown type, timeout, ...).
    public var planSkipReason: String?

    public init(stats: QueryStats, shareOfTotalTime: Double, plan: Plan? = nil, planSkipReason: String? = nil) {
        self.stats = stats; self.shareOfTotalTime = shareOfTotalTime; self.plan = plan
        self.planSkipReason = planSkipReason
    }
}

/// The whole result of `pgadvise scan`.
public struct ScanReport: Codable, Sendable {
    public var schemaVersion: Int
    /// `user@host:port/database`, never with a password.
    public var target: String
    /// When the scan started (ISO-8601, UTC).
    public var startedAt: String
    public var durationMs: Double
    /// Statements sent to the server for the whole scan (constant in the number of tables).
    public var roundTrips: Int
    public var server: ServerInfo
    public var database: DatabaseStats?
    public var activity: ActivitySnapshot?
    public var statementStats: StatementStatsStatus
    public var tableCount: Int
    public var indexCount: Int
    public var skipped: [ScanSkip]
    /// Highest impact first.
    public var findings: [Finding]
    /// The statements considered, heaviest first: the union of the top `topPerRanking` by total
    /// time, by calls and by mean time.
    public var queries: [ScannedQuery]
    public var topPerRanking: Int?
    /// The catalog the findings were judged on, included only on request (`--include-catalog`): it is large.
    public var catalog: Catalog?
    /// The index advisor's proposals for the scanned workload, when it ran (the "Recommended
    /// indexes" section); nil when it was not asked for or could not run.
    public var recommendations: IndexAdvice?

    public init(schemaVersion: Int, target: String, startedAt: String, durationMs: Double, roundTrips: Int,
                server: ServerInfo, database: DatabaseStats?, activity: ActivitySnapshot?,
                statementStats: StatementStatsStatus, tableCount: Int, indexCount: Int, skipped: [ScanSkip],
                findings: [Finding], queries: [ScannedQuery], catalog: Catalog? = nil, recommendations: IndexAdvice? = nil,
                topPerRanking: Int? = nil) {
        self.schemaVersion = schemaVersion; self.target = target; self.startedAt = startedAt
        self.durationMs = durationMs; self.roundTrips = roundTrips; self.server = server; self.database = database
        self.activity = activity; self.statementStats = statementStats; self.tableCount = tableCount
        self.indexCount = indexCount; self.skipped = skipped; self.findings = findings; self.queries = queries
        self.catalog = catalog; self.recommendations = recommendations; self.topPerRanking = topPerRanking
    }
}
