/// How much a finding matters. Ordered so that `--fail-on warning` also fails on errors.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case info, warning, error

    private var rank: Int {
        switch self {
        case .info: return 0
        case .warning: return 1
        case .error: return 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

public enum RuleCategory: String, Codable, Sendable, CaseIterable {
    case performance, correctness, schema, workload, configuration
}

/// One piece of advice. Every input (lint, logs, scan) produces these same values, so every renderer
/// and `--fail-on` treat them alike. Fields are flat because the JSON output is a published contract.
public struct Finding: Codable, Sendable, Equatable {
    public var rule: String
    public var severity: Severity
    public var category: RuleCategory?
    /// What is wrong, in one sentence a DBA can read without the rest of the report.
    public var message: String
    // Where.
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var fingerprint: String?
    public var table: String?
    public var index: String?
    /// The offending text (an expression, a statement excerpt, an index definition).
    public var evidence: String?
    /// What to do, in prose.
    public var solution: String?
    /// The fix as SQL where there is one.
    public var fix: String?
    // Why it costs: the weight of the statement the finding is about.
    public var calls: Int?
    public var totalMs: Double?
    /// Rule-specific facts (e.g. an N+1 burst's session and window), kept as strings for stable JSON.
    public var details: [String: String]?
    // Plan insights (`pgadvise explain`): the node the finding is about and the time at stake.
    /// The node as EXPLAIN names it: `Seq Scan on orders`.
    public var node: String? = nil
    /// From the root down to the node: `Limit → Sort → Seq Scan on orders`.
    public var nodePath: String? = nil
    /// The node's position in the plan, depth first from 0 (the root).
    public var nodeIndex: Int? = nil
    /// The node's own time and its share of the execution (0...1).
    public var exclusiveMs: Double? = nil
    public var shareOfExecution: Double? = nil

    public init(rule: String, severity: Severity, category: RuleCategory? = nil, message: String,
                file: String? = nil, line: Int? = nil, column: Int? = nil, fingerprint: String? = nil,
                table: String? = nil, index: String? = nil, evidence: String? = nil, solution: String? = nil,
                fix: String? = nil, calls: Int? = nil, totalMs: Double? = nil, details: [String: String]? = nil) {
        self.rule = rule; self.severity = severity; self.category = category; self.message = message
        self.file = file; self.line = line; self.column = column; self.fingerprint = fingerprint
        self.table = table; self.index = index; self.evidence = evidence; self.solution = solution
        self.fix = fix; self.calls = calls; self.totalMs = totalMs; self.details = details
    }
}

extension Array where Element == Finding {
    /// Highest impact first: severity, then total time, then calls, then a stable textual order.
    public func sortedByImpact() -> [Finding] {
        sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if (a.totalMs ?? 0) != (b.totalMs ?? 0) { return (a.totalMs ?? 0) > (b.totalMs ?? 0) }
            if (a.calls ?? 0) != (b.calls ?? 0) { return (a.calls ?? 0) > (b.calls ?? 0) }
            if a.rule != b.rule { return a.rule < b.rule }
            if (a.file ?? "") != (b.file ?? "") { return (a.file ?? "") < (b.file ?? "") }
            if (a.line ?? 0) != (b.line ?? 0) { return (a.line ?? 0) < (b.line ?? 0) }
            return a.message < b.message
        }
    }

    /// The exit-code question behind `--fail-on`.
    public func reaches(_ threshold: Severity?) -> Bool {
        guard let threshold else { return false }
        return contains { $0.severity >= threshold }
    }
}
