import Foundation
import PGAdviseCore

/// A rule about what a log's sessions did together rather than about one statement: it judges the
/// facts a log reader observed (Core values such as `NPlusOneBurst`).
public protocol WorkloadRule: Sendable {
    static var description: RuleDescription { get }
    func check(_ burst: NPlusOneBurst) -> [Violation]
}

/// The same statement run once per row of a previous result, found in a log's session order by
/// `pgadvise logs` (the statements are each fine; their sequence is the problem). The log reader
/// reports a burst when one session ran one statement at least `--n-plus-one-min-calls` times in a
/// row, each within `--n-plus-one-max-gap-ms` of the previous one, with changing values (10 and
/// 1 s by default: an ORM's lazy loading over a page of rows; a loop over a handful of ids is not
/// worth a round trip saved).
public struct NPlusOneRule: WorkloadRule {
    public init() {}

    public static let description = RuleDescription(
        id: "n-plus-one", severity: .warning, category: .workload,
        summary: "One session runs the same statement many times in a burst, once per row of an earlier result.",
        rationale: """
        An application that loads a list and then fetches each item's related rows one query at a time \
        pays a network round trip, a parse/bind and an executor start-up per row. Each statement is fast \
        and invisible in a slow-query ranking; together they dominate the request. `pgadvise logs` finds \
        these bursts from the order of statements within each session (the same fingerprint repeated \
        with different parameters, close together), so the rule works on a log, not on one statement.
        """,
        solution: """
        Fetch the related rows in one statement: a join, or `WHERE parent_id = ANY($1)` with the list of \
        ids, or the ORM's eager loading (`includes`, `select_related`, `joinedload`).
        """,
        scope: .workload,
        triggering: [
            Example("SELECT id, name, email FROM customers WHERE id = $1;", burst: NPlusOneBurst(
                fingerprint: "a1", normalized: "SELECT id, name, email FROM customers WHERE id = $1;", bursts: 1, calls: 25,
                totalMs: 1.4, largestBurst: 25, session: "4242", windowMs: 3.2, sampleValues: ["7", "14", "21"])),
        ],
        nonTriggering: [
            // One execution is not a burst (the log reader reports runs of --n-plus-one-min-calls, at least 2).
            Example("SELECT balance FROM accounts WHERE id = $1;", burst: NPlusOneBurst(
                fingerprint: "b2", normalized: "SELECT balance FROM accounts WHERE id = $1;", bursts: 1, calls: 1,
                totalMs: 0.2, largestBurst: 1, session: "77", windowMs: 0)),
        ])

    /// A run of one is no burst; the reader's --n-plus-one-min-calls (at least 2) decides the rest.
    static let minimumBurst = 2

    public func check(_ burst: NPlusOneBurst) -> [Violation] {
        guard burst.largestBurst >= Self.minimumBurst else { return [] }
        let window = burst.windowMs < 1000 ? String(format: "%.0f ms", burst.windowMs) : String(format: "%.1f s", burst.windowMs / 1000)
        let others = burst.bursts == 1 ? "" : " (largest of \(burst.bursts) bursts, \(burst.calls) executions in all)"
        var details: [String: String] = [
            "bursts": String(burst.bursts),
            "largestBurst": String(burst.largestBurst),
            "session": burst.session,
            "windowMs": String(format: "%.3f", burst.windowMs),
        ]
        if let start = burst.windowStart { details["windowStart"] = start }
        if let end = burst.windowEnd { details["windowEnd"] = end }
        if !burst.sampleValues.isEmpty { details["sampleValues"] = burst.sampleValues.joined(separator: " | ") }
        return [Violation(
            message: "N+1 queries: the same statement ran \(burst.largestBurst) times in a row in session \(burst.session) "
                + "within \(window), only its values changing\(others).",
            evidence: burst.normalized, fix: Self.anyArrayRewrite(burst.normalized), details: details)]
    }

    /// `... WHERE id = $1` → `... WHERE id = ANY($1)` when there is exactly one parameter.
    static func anyArrayRewrite(_ normalized: String) -> String? {
        guard normalized.components(separatedBy: "$").count == 2, normalized.contains("= $1") else { return nil }
        let rewritten = normalized.replacingOccurrences(of: "= $1", with: "= ANY($1)")
        return "-- $1 is an array of all the values, e.g. '{7,14,21}'\n" + rewritten
    }
}

extension RuleEngine {
    /// The workload rules on every burst a log showed, each finding placed where its largest burst starts.
    public static func check(bursts: [NPlusOneBurst], rules: [any WorkloadRule] = RuleRegistry.workloadRules) -> [Finding] {
        var findings: [Finding] = []
        for burst in bursts {
            for rule in rules {
                for violation in rule.check(burst) {
                    var finding = type(of: rule).description.finding(violation)
                    finding.file = burst.file
                    finding.line = burst.line
                    finding.fingerprint = burst.fingerprint
                    finding.calls = burst.calls
                    finding.totalMs = burst.totalMs
                    findings.append(finding)
                }
            }
        }
        return findings.sortedByImpact()
    }
}
