/// Where a workload's statistics came from. Rules never branch on it; reports print it.
public enum WorkloadSource: String, Codable, Sendable {
    case logs
    case pgStatStatements = "pg_stat_statements"
    case files
}

/// One statement as it actually ran, with its literal values or bind parameters: what a DBA pastes
/// into psql to reproduce, and what the index advisor uses as representative parameter values.
public struct QuerySample: Codable, Sendable, Equatable {
    public var text: String
    public var durationMs: Double?
    /// Bind values `$1..$n` in order, as logged (`DETAIL: parameters: $1 = '42'`), unquoted.
    public var parameters: [String]?
    /// ISO-8601 with the log's own offset, as logged.
    public var timestamp: String?
    public var database: String?
    public var user: String?
    public var application: String?
    /// The plan logged by auto_explain (text or JSON, as logged).
    public var plan: String?
    public var file: String?
    public var line: Int?

    public init(text: String, durationMs: Double? = nil, parameters: [String]? = nil, timestamp: String? = nil,
                database: String? = nil, user: String? = nil, application: String? = nil, plan: String? = nil,
                file: String? = nil, line: Int? = nil) {
        self.text = text; self.durationMs = durationMs; self.parameters = parameters; self.timestamp = timestamp
        self.database = database; self.user = user; self.application = application; self.plan = plan
        self.file = file; self.line = line
    }
}

/// Everything known about one normalized statement (one libpg_query fingerprint), whatever the source.
public struct QueryStats: Codable, Sendable {
    /// libpg_query's fingerprint as 16 hex digits; for unparsable statements, a fallback hash
    /// prefixed with `u` so the two can never collide.
    public var fingerprint: String
    /// Literals and parameters replaced by `$n`.
    public var normalized: String
    /// False when libpg_query could not parse the statement (grouped by the fallback normalization).
    public var parsed: Bool
    public var calls: Int
    public var totalMs: Double
    public var minMs: Double?
    public var maxMs: Double?
    public var meanMs: Double
    public var stddevMs: Double?
    public var p50Ms: Double?
    public var p95Ms: Double?
    public var p99Ms: Double?
    public var rows: Int64?
    public var sharedBlocksHit: Int64?
    public var sharedBlocksRead: Int64?
    public var tempBlocksWritten: Int64?
    /// pg_stat_statements' queryid, when the source is a live database.
    public var queryId: Int64?
    public var firstSeen: String?
    public var lastSeen: String?
    /// Calls by database, user and application (`"database": ["app": 10]`); logs only.
    public var breakdown: [String: [String: Int]]?
    /// The slowest execution seen, with its literal values.
    public var slowest: QuerySample?
    /// The values its parameters were actually run with, and how many executions used each (logged
    /// bind values, or pg_qualstats' constants). Nil when no source saw them.
    public var observedValues: [ObservedParameterValues]?

    public init(fingerprint: String, normalized: String, parsed: Bool = true, calls: Int, totalMs: Double,
                minMs: Double? = nil, maxMs: Double? = nil, meanMs: Double? = nil, stddevMs: Double? = nil,
                p50Ms: Double? = nil, p95Ms: Double? = nil, p99Ms: Double? = nil, rows: Int64? = nil,
                sharedBlocksHit: Int64? = nil, sharedBlocksRead: Int64? = nil, tempBlocksWritten: Int64? = nil,
                queryId: Int64? = nil, firstSeen: String? = nil, lastSeen: String? = nil,
                breakdown: [String: [String: Int]]? = nil, slowest: QuerySample? = nil) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.parsed = parsed; self.calls = calls
        self.totalMs = totalMs; self.minMs = minMs; self.maxMs = maxMs
        self.meanMs = meanMs ?? (calls > 0 ? totalMs / Double(calls) : 0)
        self.stddevMs = stddevMs; self.p50Ms = p50Ms; self.p95Ms = p95Ms; self.p99Ms = p99Ms; self.rows = rows
        self.sharedBlocksHit = sharedBlocksHit; self.sharedBlocksRead = sharedBlocksRead
        self.tempBlocksWritten = tempBlocksWritten; self.queryId = queryId; self.firstSeen = firstSeen
        self.lastSeen = lastSeen; self.breakdown = breakdown; self.slowest = slowest
    }
}

/// The statements a database ran, grouped by fingerprint: the one input every query rule and the
/// index advisor read, whether it came from logs or from pg_stat_statements.
public struct Workload: Codable, Sendable {
    public var source: WorkloadSource
    public var queries: [QueryStats]
    /// How long the counters ran, in seconds: since pg_stat_statements was last reset (14+). Nil when
    /// unknown, and for logs. Rates (writes per window) need it.
    public var windowSeconds: Double?

    public init(source: WorkloadSource, queries: [QueryStats] = [], windowSeconds: Double? = nil) {
        self.source = source
        self.queries = queries
        self.windowSeconds = windowSeconds
    }

    public var totalMs: Double { queries.reduce(0) { $0 + $1.totalMs } }
    public var totalCalls: Int { queries.reduce(0) { $0 + $1.calls } }

    public func query(fingerprint: String) -> QueryStats? { queries.first { $0.fingerprint == fingerprint } }

    /// Adds what another view of the same server saw (`--logs` on top of pg_stat_statements). Both
    /// count the same executions, so a statement seen by both keeps the larger count rather than the
    /// sum: pg_stat_statements counts every call and a log only those it logged, unless the statistics
    /// were reset since. The slowest sample is kept, with the literal or bound values only a log has.
    public mutating func merge(overlapping other: Workload) {
        var position: [String: Int] = [:]
        for (i, q) in queries.enumerated() { position[q.fingerprint] = i }
        for q in other.queries {
            guard let i = position[q.fingerprint] else {
                position[q.fingerprint] = queries.count
                queries.append(q)
                continue
            }
            var mine = queries[i]
            if q.calls > mine.calls {
                mine.calls = q.calls
                mine.totalMs = q.totalMs
                mine.meanMs = q.calls > 0 ? q.totalMs / Double(q.calls) : 0
            }
            if let m = q.maxMs { mine.maxMs = Swift.max(mine.maxMs ?? m, m) }
            if let m = q.minMs { mine.minMs = Swift.min(mine.minMs ?? m, m) }
            if (q.slowest?.durationMs ?? -1) > (mine.slowest?.durationMs ?? -1) || mine.slowest == nil {
                mine.slowest = q.slowest ?? mine.slowest
            }
            if mine.observedValues == nil { mine.observedValues = q.observedValues }
            queries[i] = mine
        }
    }
}


/// Where observed parameter values come from.
public enum ObservedValueSource: String, Codable, Sendable, Equatable {
    /// Bind values logged with the statement (`DETAIL:  parameters: $1 = '...'`).
    case log
    /// Constants pg_qualstats recorded for the statement's quals.
    case pgQualstats = "pg_qualstats"

    /// As a reader sees it: "from pg_qualstats", "from the log's bind values".
    public var label: String { self == .log ? "the log's bind values" : "pg_qualstats" }
}

/// One value a parameter was run with, and how many executions used it.
public struct ObservedValue: Codable, Sendable, Equatable {
    public var value: String
    public var executions: Int

    public init(value: String, executions: Int) { self.value = value; self.executions = executions }
}

/// The values one parameter (`$n`) of a statement was actually run with, most used first.
public struct ObservedParameterValues: Codable, Sendable, Equatable {
    public var parameter: Int
    /// The column it is compared with, when the source says (pg_qualstats does).
    public var column: String?
    public var source: ObservedValueSource
    /// The most used values, at most `maxKept`.
    public var values: [ObservedValue]
    /// Executions that used a value not kept.
    public var otherExecutions: Int

    /// Values kept per parameter: enough for the few values that carry most calls on a skewed column,
    /// few enough that costing each under its own custom plan stays cheap.
    public static let maxKept = 5

    public init(parameter: Int, column: String? = nil, source: ObservedValueSource, values: [ObservedValue], otherExecutions: Int = 0) {
        self.parameter = parameter; self.column = column; self.source = source
        self.values = values; self.otherExecutions = otherExecutions
    }

    /// From counts of every value seen: the `maxKept` most used (ties by value, so runs agree), the rest summed.
    public init(parameter: Int, column: String? = nil, source: ObservedValueSource, counts: [String: Int]) {
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        self.init(parameter: parameter, column: column, source: source,
                  values: sorted.prefix(Self.maxKept).map { ObservedValue(value: $0.key, executions: $0.value) },
                  otherExecutions: sorted.dropFirst(Self.maxKept).reduce(0) { $0 + $1.value })
    }

    public var totalExecutions: Int { values.reduce(otherExecutions) { $0 + $1.executions } }
}

extension QueryStats {
    /// The order of a logs report's queries: total time, then calls, then fingerprint.
    public static func heavierFirst(_ a: QueryStats, _ b: QueryStats) -> Bool {
        if a.totalMs != b.totalMs { return a.totalMs > b.totalMs }
        if a.calls != b.calls { return a.calls > b.calls }
        return a.fingerprint < b.fingerprint
    }

    /// The order of a logs report's "Most frequent" table: calls, then fingerprint. The analyzer keeps
    /// the queries that table shows by this same order.
    public static func moreFrequentFirst(_ a: QueryStats, _ b: QueryStats) -> Bool {
        (a.calls, b.fingerprint) > (b.calls, a.fingerprint)
    }
}
