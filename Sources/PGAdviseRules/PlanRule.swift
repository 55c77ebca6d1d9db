import Foundation
import PGAdviseCore
import PGAdviseSQL

/// An insight about one EXPLAIN plan. It reads the analyzed plan (figures computed once, see
/// `AnalyzedPlan`) and returns violations that name the node they are about (`nodeIndex`).
public protocol PlanRule: Sendable {
    static var description: RuleDescription { get }
    /// True when the rule reads actual figures: it is skipped for a plan captured without ANALYZE.
    static var needsActuals: Bool { get }
    func check(_ plan: AnalyzedPlan) -> [Violation]
}

extension PlanRule {
    public static var needsActuals: Bool { true }
}

extension Example {
    /// A plan rule's example: EXPLAIN output where `↓`, in place of the first space of psql's
    /// margin, marks each node line a finding points at.
    public init(plan: String) {
        self.init("")
        self.plan = plan
    }

    /// The plan without markers (each `↓` back to the space it stands for), and the marked lines
    /// (0-based) in it.
    public var strippedPlan: (text: String, markedLines: [Int]) {
        let lines = (plan ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        let marked = lines.indices.filter { lines[$0].contains(Example.marker) }
        return (lines.map { $0.replacingOccurrences(of: String(Example.marker), with: " ") }.joined(separator: "\n"), marked)
    }
}

extension Violation {
    /// A plan rule's violation, about the node at `nodeIndex` of the analyzed plan (nil: the whole plan).
    public init(message: String, evidence: String? = nil, solution: String? = nil, fix: String? = nil,
                nodeIndex: Int?, details: [String: String]? = nil) {
        self.init(message: message, evidence: evidence, solution: solution, fix: fix, details: details)
        self.nodeIndex = nodeIndex
    }
}

/// Where plan insights start to matter. A plan is judged alone, so "matters" is a share of its own
/// run: PEV2 (dalibo/pev2, src/node.ts) marks a node slow from 10% of the execution time, colours
/// estimate factors from 10, and heap fetches from 40% of the rows; pgMustard likewise ranks its
/// tips by the time of the operations they are about. Counts keep a finding to work that is large
/// in itself (a thousand rows thrown away is measurable; ten are not).
public enum PlanThresholds {
    /// Share of the execution a node's subtree must take for an insight about it.
    public static let minimumShare = 0.10
    /// Rows (over all loops) from which thrown-away or misestimated rows count.
    public static let minimumRows = 1_000.0
    /// Actual/estimated rows (either direction) from which an estimate is off (PEV2's first badge).
    public static let estimateFactor = 10.0
    /// Share of the rows read that a filter must throw away: it keeps fewer than one row in ten.
    public static let removedShare = 0.90
}

/// Plan-rule helpers.
extension AnalyzedPlan {
    /// True when the node's subtree takes a share of the run worth an insight, or, for a plan
    /// captured without timing, always (row thresholds then decide alone).
    public func matters(_ index: Int) -> Bool {
        guard let inclusive = nodes[index].metrics.inclusiveTimeMs, let total = executionTimeMs, total > 0 else { return true }
        return inclusive / total >= PlanThresholds.minimumShare
    }

    /// The node's children, in plan order.
    public func childNodes(of index: Int) -> [AnalyzedNode] { children(of: index).map { nodes[$0] } }
}

/// The columns of a plan's condition (`((status = 'open'::text) AND (customer_id = 42))`), read by
/// libpg_query as the WHERE clause of a query on the node's relation: equality columns first, then
/// range columns, each once; wrapped columns and OR branches are left out (a plain index cannot serve them).
func indexableColumns(of conditions: [String], relation: String, alias: String?) -> [String] {
    var equality: [String] = [], range: [String] = []
    for condition in conditions {
        let sql = "SELECT 1 FROM \(quoteIdentifier(relation)) AS \(quoteIdentifier(alias ?? relation)) WHERE \(condition)"
        guard case let .success(shapes) = QueryShape.build(sql: sql) else { continue }
        for predicate in shapes.flatMap(\.blocks).flatMap(\.predicates) where !predicate.underOr && !predicate.isWrapped {
            if let qualifier = predicate.column.qualifier, qualifier != (alias ?? relation), qualifier != relation { continue }
            let name = predicate.column.name
            if predicate.isEquality, !equality.contains(name) { equality.append(name) }
            if predicate.isRange, !range.contains(name) { range.append(name) }
        }
    }
    return equality + range.filter { !equality.contains($0) }
}

/// `CREATE INDEX CONCURRENTLY ON public.t (a, b);`, as `pgadvise indexes` prints its proposals.
func createIndexDDL(_ node: PlanNode, columns: [String]) -> String? {
    guard let relation = node.relationName, !columns.isEmpty else { return nil }
    return createIndexSQL(on: QualifiedName(schema: node.schema, relation), keys: columns.map(quoteIdentifierIfNeeded).joined(separator: ", "))
}

/// Rows as a count a person reads: `12,345`.
func rowCount(_ value: Double) -> String { formatCount(wholeNumber(value)) }


/// Memory for `work_mem`, rounded up to a power of two one would set: `4MB`, `64MB`, `1GB`.
func workMemSetting(kilobytes: Double) -> String {
    // At most 1 PB: past it the doubling below would overflow.
    let mb = min(max(1, wholeNumber((kilobytes / 1024).rounded(.up))), 1 << 30)
    var setting = 1
    while setting < mb { setting *= 2 }
    return setting >= 1024 && setting % 1024 == 0 ? "\(setting / 1024)GB" : "\(setting)MB"
}

/// Applies plan rules to analyzed plans and turns what they find into findings that carry the node,
/// its path and the time at stake.
public enum PlanRuleEngine {
    public struct Outcome: Sendable {
        public var findings: [Finding]
        /// Rules not run because the plan has no actual figures (EXPLAIN without ANALYZE).
        public var skippedRules: [String]
    }

    public static func check(_ plan: AnalyzedPlan, rules: [any PlanRule] = RuleRegistry.planRules) -> Outcome {
        var findings: [Finding] = []
        var skipped: [String] = []
        for rule in rules {
            let description = type(of: rule).description
            if type(of: rule).needsActuals && !plan.isAnalyzed {
                skipped.append(description.id)
                continue
            }
            for violation in rule.check(plan) {
                findings.append(finding(description, violation, in: plan))
            }
        }
        return Outcome(findings: findings.sorted(by: moreAtStake), skippedRules: skipped)
    }

    static func finding(_ description: RuleDescription, _ violation: Violation, in plan: AnalyzedPlan) -> Finding {
        var finding = description.finding(violation)
        if let index = violation.nodeIndex, plan.nodes.indices.contains(index) {
            let analyzed = plan.nodes[index]
            finding.node = analyzed.node.label
            finding.nodePath = analyzed.path
            finding.nodeIndex = index
            finding.exclusiveMs = analyzed.metrics.exclusiveTimeMs
            finding.shareOfExecution = analyzed.metrics.shareOfExecution
            finding.table = finding.table ?? analyzed.node.relationName.map { QualifiedName(schema: analyzed.node.schema, $0).description }
        }
        // Plan-level insights (JIT, planning) put their time at stake against planning plus execution.
        if let ms = violation.details?["timeAtStakeMs"].flatMap(Double.init) {
            finding.exclusiveMs = ms
            let total = (plan.executionTimeMs ?? 0) + (plan.plan.planningTimeMs ?? 0)
            if total > 0 { finding.shareOfExecution = min(1, ms / total) }
        }
        return finding
    }

    /// Severity first, then the time at stake, then plan order.
    static func moreAtStake(_ a: Finding, _ b: Finding) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        if (a.exclusiveMs ?? 0) != (b.exclusiveMs ?? 0) { return (a.exclusiveMs ?? 0) > (b.exclusiveMs ?? 0) }
        if (a.nodeIndex ?? -1) != (b.nodeIndex ?? -1) { return (a.nodeIndex ?? -1) < (b.nodeIndex ?? -1) }
        return a.rule < b.rule
    }
}
