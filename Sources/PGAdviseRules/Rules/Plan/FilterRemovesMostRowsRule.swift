import PGAdviseCore

/// A sequential scan that reads rows only to throw most of them away by its filter.
public struct FilterRemovesMostRowsRule: PlanRule {
    public static let description = RuleDescription(
        id: "filter-removes-most-rows", severity: .warning, category: .performance,
        summary: "A scan reads rows only to throw 90% or more of them away by its filter.",
        rationale: """
        A sequential scan pays for every row it reads, kept or not. When its filter throws away 90% or \
        more of them (it keeps fewer than one row in ten), an index on the filtered columns would read \
        only the rows kept. PEV2 likewise weighs the share of rows removed by the node's share of the \
        time before it marks a filter. Reported when at least 1,000 rows are thrown away and the scan takes at \
        least 10% of the execution; a scan repeated by a nested loop is left to nested-loop-many-loops.
        """,
        solution: """
        Index the columns the filter compares with constants, equality columns first, then one range \
        column; `pgadvise indexes` proposes and verifies such an index against the whole workload.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Gather  (cost=1000.00..5528.81 rows=971 width=14) (actual time=0.287..37.107 rows=1000 loops=1)
           Workers Planned: 1
           Workers Launched: 1
        ↓  ->  Parallel Seq Scan on orders  (cost=0.00..4431.71 rows=571 width=14) (actual time=0.018..22.449 rows=500 loops=2)
                 Filter: ((customer_id < 50000) AND (status = 'refunded'::text))
                 Rows Removed by Filter: 99500
         Planning Time: 0.292 ms
         Execution Time: 37.178 ms
        """)],
        nonTriggering: [Example(plan: """
         Seq Scan on orders  (cost=0.00..4667.00 rows=180000 width=14) (actual time=0.018..32.449 rows=180000 loops=1)
           Filter: (status = 'shipped'::text)
           Rows Removed by Filter: 20000
         Planning Time: 0.292 ms
         Execution Time: 40.178 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            let node = analyzed.node
            guard node.nodeType == "Seq Scan", let filter = node.filter, !repeatedByNestedLoop(plan, analyzed),
                  let removal = removal(node), plan.matters(analyzed.index) else { return nil }
            let columns = node.relationName.map { indexableColumns(of: [filter], relation: $0, alias: node.alias) } ?? []
            return Violation(
                message: "\(node.label) read \(rowCount(removal.read)) rows and its filter threw away \(rowCount(removal.removed)) "
                    + "(\(formatPercent(removal.share))) to keep \(rowCount(removal.read - removal.removed)).",
                evidence: filter,
                solution: columns.isEmpty ? nil : "Index \(columns.joined(separator: ", ")) so the scan reads only the rows it keeps; "
                    + "`pgadvise indexes` verifies the index against the whole workload.",
                fix: createIndexDDL(node, columns: columns), nodeIndex: analyzed.index,
                details: ["rowsRemoved": rowCount(removal.removed), "rowsKept": rowCount(removal.read - removal.removed)])
        }
    }
}

/// Rows a node read and threw away by its filter, over all loops, when the share and count matter.
func removal(_ node: PlanNode) -> (read: Double, removed: Double, share: Double)? {
    guard let removedPerLoop = node.rowsRemovedByFilter, let kept = node.actualRows else { return nil }
    let loops = node.actualLoops ?? 1
    let removed = removedPerLoop * loops, read = (removedPerLoop + kept) * loops
    guard read > 0, removed >= PlanThresholds.minimumRows, removed / read >= PlanThresholds.removedShare else { return nil }
    return (read, removed, removed / read)
}

/// The inner side of a nested loop run many times: its cost is the loop's, judged by nested-loop-many-loops.
func repeatedByNestedLoop(_ plan: AnalyzedPlan, _ analyzed: AnalyzedNode) -> Bool {
    guard (analyzed.node.actualLoops ?? 1) >= NestedLoopManyLoopsRule.minimumLoops else { return false }
    var parent = analyzed.parent
    while let index = parent {
        if plan.nodes[index].node.nodeType == "Nested Loop" { return true }
        parent = plan.nodes[index].parent
    }
    return false
}
