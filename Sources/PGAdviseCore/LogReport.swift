/// What `pgadvise logs` found in one or more PostgreSQL logs: the Workload's queries plus what only a
/// log shows (errors, temporary files, lock waits, checkpoints, autovacuum, sessions). The JSON
/// field names are a published contract: add fields, never rename them.
public struct LogReport: Codable, Sendable {
    public var schemaVersion: Int
    public var summary: LogSummary
    /// Every fingerprint seen, highest total time first (or only those a rendered report shows, when the
    /// analysis was asked to keep fewer: `LogAnalysisOptions.queriesKept`).
    public var queries: [QueryStats]
    public var findings: [Finding]
    /// N+1 bursts seen in the sessions, one per fingerprint (judged into `n-plus-one` findings by NPlusOneRule).
    public var nPlusOne: [NPlusOneBurst]?
    public var slowestStatements: [QuerySample]
    public var errors: [LogErrorGroup]
    public var tempFiles: TempFileSummary
    public var lockWaits: LockWaitSummary
    public var checkpoints: CheckpointSummary
    public var autovacuum: AutovacuumSummary
    public var sessions: SessionSummary
    /// What PgBouncer logs said (present only when a PgBouncer log was read).
    public var pgbouncer: PgBouncerSummary?
    /// Statements, their time and errors per minute (hour, day on longer logs), when the log has times.
    public var timeline: LogTimeline?
    /// How many timed statements fell in each duration range.
    public var latencyDistribution: LatencyDistribution?
    /// The plan insights on the auto_explain plans of each fingerprint (present when the log holds plans).
    public var planInsights: [LogPlanInsights]?
    /// Statements that statement_timeout cancelled, one per fingerprint, most cancelled first (present
    /// when the log holds such cancellations). `errors` groups them all under their one message.
    public var cancelledStatements: [CancelledLogStatement]?

    public init(schemaVersion: Int, summary: LogSummary, queries: [QueryStats], findings: [Finding],
                slowestStatements: [QuerySample], errors: [LogErrorGroup], tempFiles: TempFileSummary,
                lockWaits: LockWaitSummary, checkpoints: CheckpointSummary, autovacuum: AutovacuumSummary,
                sessions: SessionSummary, pgbouncer: PgBouncerSummary? = nil) {
        self.schemaVersion = schemaVersion; self.summary = summary; self.queries = queries
        self.findings = findings; self.slowestStatements = slowestStatements; self.errors = errors
        self.tempFiles = tempFiles; self.lockWaits = lockWaits; self.checkpoints = checkpoints
        self.autovacuum = autovacuum; self.sessions = sessions; self.pgbouncer = pgbouncer
    }

    public var workload: Workload { Workload(source: .logs, queries: queries) }
}

/// What the plan insights found in the auto_explain plans logged for one fingerprint.
public struct LogPlanInsights: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    /// The statement's executions and total time in the log.
    public var calls: Int
    public var totalMs: Double
    /// auto_explain plans logged for it, and how many of them carried actual figures (log_analyze).
    public var plans: Int
    /// One per insight: its worst occurrence, most at stake first.
    public var insights: [LogPlanInsight]

    public init(fingerprint: String, normalized: String, calls: Int, totalMs: Double, plans: Int, insights: [LogPlanInsight]) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.calls = calls; self.totalMs = totalMs
        self.plans = plans; self.insights = insights
    }
}

/// One plan insight on one fingerprint: the occurrence with the most time at stake (its finding carries
/// the node, `exclusiveMs`, and the log `file`/`line` of the plan), the statement's duration in that
/// run, and how many times the insight appeared in the fingerprint's plans (on any node).
public struct LogPlanInsight: Codable, Sendable, Equatable {
    public var finding: Finding
    public var durationMs: Double
    public var occurrences: Int

    public init(finding: Finding, durationMs: Double, occurrences: Int = 1) {
        self.finding = finding; self.durationMs = durationMs; self.occurrences = occurrences
    }

    /// More time at stake, then a slower run, then earlier in the input (`file` holds a file index
    /// while the log is read, so the earliest position compares numerically).
    public func isWorse(than other: LogPlanInsight) -> Bool {
        let mine = finding.exclusiveMs ?? 0, theirs = other.finding.exclusiveMs ?? 0
        if mine != theirs { return mine > theirs }
        if durationMs != other.durationMs { return durationMs > other.durationMs }
        let position = { (f: Finding) in (Int(f.file ?? "") ?? Int.max, f.line ?? 0) }
        return position(finding) < position(other.finding)
    }

    /// The worse of two occurrences of one insight, counting both.
    public func combined(with other: LogPlanInsight) -> LogPlanInsight {
        var worst = other.isWorse(than: self) ? other : self
        worst.occurrences = occurrences + other.occurrences
        return worst
    }
}

public struct LogFileSummary: Codable, Sendable, Equatable {
    public var path: String
    public var format: String
    /// The log_line_prefix used for stderr-style lines (given or detected).
    public var prefix: String?
    public var compression: String?
    public var bytes: Int64
    public var lines: Int
    public var skippedLines: Int
    /// Lines that did not fit the detected shape but another known one (a log_line_prefix changed by
    /// a reload, the other Heroku logplex framing); absent when there were none.
    public var otherShapeLines: Int?

    public init(path: String, format: String, prefix: String?, compression: String?, bytes: Int64, lines: Int, skippedLines: Int,
                otherShapeLines: Int? = nil) {
        self.path = path; self.format = format; self.prefix = prefix; self.compression = compression
        self.bytes = bytes; self.lines = lines; self.skippedLines = skippedLines; self.otherShapeLines = otherShapeLines
    }
}

public struct LogSummary: Codable, Sendable {
    public var files: [LogFileSummary]
    /// Statements logged (timed or not).
    public var statements: Int
    /// Statements logged with a duration.
    public var timedStatements: Int
    public var durationTotalMs: Double
    public var distinctQueries: Int
    public var unparsedQueries: Int
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var lines: Int
    public var skippedLines: Int
    /// `parse`/`bind` steps of the extended protocol, timed separately from execution.
    public var parseBindSteps: Int
    public var parseBindMs: Double
    public var errors: Int
    public var nPlusOneBursts: Int
    /// Why some analysis could not run (e.g. no %p or %c in the prefix for N+1 detection).
    public var notes: [String]

    public init(files: [LogFileSummary] = [], statements: Int = 0, timedStatements: Int = 0, durationTotalMs: Double = 0,
                distinctQueries: Int = 0, unparsedQueries: Int = 0, firstTimestamp: String? = nil,
                lastTimestamp: String? = nil, lines: Int = 0, skippedLines: Int = 0, parseBindSteps: Int = 0,
                parseBindMs: Double = 0, errors: Int = 0, nPlusOneBursts: Int = 0, notes: [String] = []) {
        self.files = files; self.statements = statements; self.timedStatements = timedStatements
        self.durationTotalMs = durationTotalMs; self.distinctQueries = distinctQueries
        self.unparsedQueries = unparsedQueries; self.firstTimestamp = firstTimestamp; self.lastTimestamp = lastTimestamp
        self.lines = lines; self.skippedLines = skippedLines; self.parseBindSteps = parseBindSteps
        self.parseBindMs = parseBindMs; self.errors = errors; self.nPlusOneBursts = nPlusOneBursts; self.notes = notes
    }
}

/// Errors with the same SQLSTATE and message shape (numbers and quoted names aside).
public struct LogErrorGroup: Codable, Sendable, Equatable {
    public var severity: String
    public var sqlstate: String?
    public var message: String
    public var count: Int
    public var statement: String?
    public var firstSeen: String?
    public var file: String?
    public var line: Int?

    public init(severity: String, sqlstate: String?, message: String, count: Int, statement: String?,
                firstSeen: String?, file: String?, line: Int?) {
        self.severity = severity; self.sqlstate = sqlstate; self.message = message; self.count = count
        self.statement = statement; self.firstSeen = firstSeen; self.file = file; self.line = line
    }
}

/// A statement cancelled by statement_timeout (SQLSTATE 57014, "canceling statement due to
/// statement timeout"): it never finished, so no duration line times it.
public struct CancelledLogStatement: Codable, Sendable, Equatable {
    /// Empty when libpg_query cannot parse the statement (then it is told apart by its text).
    public var fingerprint: String
    public var normalized: String
    /// The first cancelled execution's text, with its real literals.
    public var sample: String
    public var count: Int

    public init(fingerprint: String, normalized: String, sample: String, count: Int) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.sample = sample; self.count = count
    }
}

public struct TempFileStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    public var count: Int
    public var totalBytes: Int64
    public var maxBytes: Int64

    public init(fingerprint: String, normalized: String, count: Int, totalBytes: Int64, maxBytes: Int64) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.count = count
        self.totalBytes = totalBytes; self.maxBytes = maxBytes
    }
}

public struct TempFileSummary: Codable, Sendable, Equatable {
    public var count: Int = 0
    public var totalBytes: Int64 = 0
    public var maxBytes: Int64 = 0
    public var byStatement: [TempFileStatement] = []
    public init() {}
}

public struct LockWaitStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    public var waits: Int
    public init(fingerprint: String, normalized: String, waits: Int) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.waits = waits
    }
}

public struct LockWaitSummary: Codable, Sendable, Equatable {
    /// `still waiting for ...` lines: waits longer than deadlock_timeout.
    public var waits: Int = 0
    /// `acquired ... after N ms` lines, with the total and longest wait they report.
    public var acquired: Int = 0
    public var acquiredWaitMs: Double = 0
    public var maxWaitMs: Double = 0
    public var byLockMode: [String: Int] = [:]
    public var byStatement: [LockWaitStatement] = []
    public init() {}
}

public struct CheckpointSummary: Codable, Sendable, Equatable {
    public var started: Int = 0
    public var completed: Int = 0
    public var buffersWritten: Int = 0
    public var totalSeconds: Double = 0
    public var maxSeconds: Double = 0
    /// Why they started: `time`, `wal`, `immediate force wait`, `shutdown immediate`, ...
    public var reasons: [String: Int] = [:]
    public init() {}
}

public struct AutovacuumTable: Codable, Sendable, Equatable {
    public var table: String
    public var vacuums: Int
    public var analyzes: Int
    public var elapsedSeconds: Double
    public init(table: String, vacuums: Int, analyzes: Int, elapsedSeconds: Double) {
        self.table = table; self.vacuums = vacuums; self.analyzes = analyzes; self.elapsedSeconds = elapsedSeconds
    }
}

public struct AutovacuumSummary: Codable, Sendable, Equatable {
    public var vacuums: Int = 0
    public var analyzes: Int = 0
    public var tables: [AutovacuumTable] = []
    public init() {}
}

public struct SessionSummary: Codable, Sendable, Equatable {
    public var connectionsReceived: Int = 0
    public var connectionsAuthorized: Int = 0
    public var disconnections: Int = 0
    public var totalSessionMs: Double = 0
    public var maxSessionMs: Double = 0
    public var meanSessionMs: Double? = nil
    public var byDatabase: [String: Int] = [:]
    public var byUser: [String: Int] = [:]
    public var byApplication: [String: Int] = [:]
    /// New sessions per second over the log's time range (authorized connections, or disconnections
    /// where only log_disconnections is on).
    public var sessionsPerSecond: Double? = nil
    /// The log's time range the rate is over, in seconds.
    public var observedSeconds: Double? = nil
    /// Session durations of the sessions that ended in the log (log_disconnections), from the latency
    /// sketch: within 0.8% of the exact value.
    public var medianSessionMs: Double? = nil
    public var p95SessionMs: Double? = nil
    /// The most sessions open at once, from the sessions that ended in the log (each spans its
    /// `session time` up to its disconnection), and when that was first reached.
    public var peakConcurrentSessions: Int? = nil
    public var peakConcurrentAt: String? = nil
    public init() {}

    /// What the connection rules judge churn by: the sessions and their mean length over the log's range.
    public var sessionCounters: SessionCounters? {
        guard let seconds = observedSeconds, let rate = sessionsPerSecond, let mean = meanSessionMs else { return nil }
        let sessions = Int64((rate * seconds).rounded())
        return SessionCounters(seconds: seconds, sessions: sessions, sessionTimeMs: mean * Double(sessions))
    }
}

/// One `stats:` line of PgBouncer (every `stats_period`, 60 s by default): averages over that period.
/// Client and server parses and binds are logged by PgBouncer 1.21 and later only.
public struct PgBouncerStatsPeriod: Codable, Sendable, Equatable {
    public var timestamp: String?
    public var xactsPerSecond: Int
    public var queriesPerSecond: Int
    public var clientParsesPerSecond: Int?
    public var serverParsesPerSecond: Int?
    public var bindsPerSecond: Int?
    public var bytesInPerSecond: Int
    public var bytesOutPerSecond: Int
    /// Average transaction, query and client wait times over the period, in microseconds.
    public var xactMicros: Int
    public var queryMicros: Int
    public var waitMicros: Int

    public init(timestamp: String?, xactsPerSecond: Int, queriesPerSecond: Int, clientParsesPerSecond: Int? = nil,
                serverParsesPerSecond: Int? = nil, bindsPerSecond: Int? = nil, bytesInPerSecond: Int, bytesOutPerSecond: Int,
                xactMicros: Int, queryMicros: Int, waitMicros: Int) {
        self.timestamp = timestamp; self.xactsPerSecond = xactsPerSecond; self.queriesPerSecond = queriesPerSecond
        self.clientParsesPerSecond = clientParsesPerSecond; self.serverParsesPerSecond = serverParsesPerSecond
        self.bindsPerSecond = bindsPerSecond; self.bytesInPerSecond = bytesInPerSecond; self.bytesOutPerSecond = bytesOutPerSecond
        self.xactMicros = xactMicros; self.queryMicros = queryMicros; self.waitMicros = waitMicros
    }
}

/// PgBouncer messages with the same text (addresses aside): `pooler error: ...` and `closing because: ...`.
public struct PgBouncerMessageCount: Codable, Sendable, Equatable {
    public var message: String
    public var count: Int
    public init(message: String, count: Int) { self.message = message; self.count = count }
}

public struct PgBouncerSummary: Codable, Sendable, Equatable {
    public var statsPeriods: [PgBouncerStatsPeriod] = []
    public var peakXactsPerSecond: Int = 0
    public var peakQueriesPerSecond: Int = 0
    /// Transaction and query times averaged over the periods, each period weighted by its traffic.
    public var meanXactMicros: Double? = nil
    public var meanQueryMicros: Double? = nil
    /// Client wait for a server: the mean of the periods' averages (periods with traffic) and the worst period.
    public var meanWaitMicros: Double? = nil
    public var maxWaitMicros: Int = 0
    /// `login attempt` lines.
    public var clientLogins: Int = 0
    /// Pooler errors that refused a login: bad password, unknown database or user.
    public var loginFailures: Int = 0
    public var serverConnections: Int = 0
    /// Every `pooler error: ...` (login failures and pool errors such as `no more connections allowed`).
    public var poolerErrors: [PgBouncerMessageCount] = []
    public var clientDisconnections: [PgBouncerMessageCount] = []
    public var serverDisconnections: [PgBouncerMessageCount] = []
    public init() {}
}

public struct LogTimeBucket: Codable, Sendable, Equatable {
    /// The bucket's start, in the log's own clock and zone.
    public var start: String
    public var statements: Int
    public var durationMs: Double
    public var errors: Int
    public init(start: String, statements: Int, durationMs: Double, errors: Int) {
        self.start = start; self.statements = statements; self.durationMs = durationMs; self.errors = errors
    }
}

public struct LogTimeline: Codable, Sendable, Equatable {
    /// 60, 3600 or 86400: a minute while the log spans at most 12 hours, an hour up to 90 days, else a day
    /// (wider still when that would make more than 4,000 buckets).
    public var bucketSeconds: Int
    /// Every bucket from the first to the last, empty ones included.
    public var buckets: [LogTimeBucket]
    public init(bucketSeconds: Int, buckets: [LogTimeBucket]) { self.bucketSeconds = bucketSeconds; self.buckets = buckets }
}

/// Timed statements by duration range, as pgBadger's "query duration distribution".
public struct LatencyDistribution: Codable, Sendable, Equatable {
    /// Upper bounds of the ranges in milliseconds; the last range has none (counts has one more entry).
    public var upperBoundsMs: [Double]
    public var counts: [Int]
    public static let standardBoundsMs: [Double] = [1, 5, 10, 25, 50, 100, 500, 1000, 10000]
    public init(upperBoundsMs: [Double] = LatencyDistribution.standardBoundsMs, counts: [Int]? = nil) {
        self.upperBoundsMs = upperBoundsMs
        self.counts = counts ?? Array(repeating: 0, count: upperBoundsMs.count + 1)
    }
    public mutating func record(milliseconds: Double) {
        var i = 0
        while i < upperBoundsMs.count, milliseconds >= upperBoundsMs[i] { i += 1 }
        counts[i] += 1
    }
    public mutating func merge(_ other: LatencyDistribution) {
        for i in counts.indices where i < other.counts.count { counts[i] += other.counts[i] }
    }
}
