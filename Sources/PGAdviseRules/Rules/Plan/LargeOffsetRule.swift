import PGAdviseCore

/// A Limit that reads and throws away a large number of rows to skip them for its OFFSET.
public struct LargeOffsetRule: PlanRule {
    public static let description = RuleDescription(
        id: "large-offset", severity: .warning, category: .performance,
        summary: "A Limit reads and discards many rows for its OFFSET.",
        rationale: """
        OFFSET n does not skip rows: the plan below the Limit produces them all and the Limit throws \
        the first n away, so page 1,000 of a listing costs a thousand pages. Reported when the Limit \
        discards at least 1,000 rows and takes at least 10% of the execution.
        """,
        solution: """
        Paginate by key (keyset pagination): remember the last row's sort key and ask for the next page \
        with WHERE (sort_key, id) > (last_sort_key, last_id) ORDER BY sort_key, id LIMIT n, served by an \
        index on (sort_key, id).
        """,
        scope: .plan,
        triggering: [Example(plan: """
        ↓Limit  (cost=3937.42..3937.81 rows=10 width=23) (actual time=52.733..52.737 rows=10 loops=1)
           ->  Index Scan using orders_created_at on orders  (cost=0.42..7874.42 rows=200000 width=23) (actual time=0.021..49.664 rows=100010 loops=1)
         Planning Time: 0.337 ms
         Execution Time: 52.771 ms
        """)],
        nonTriggering: [Example(plan: """
         Limit  (cost=0.42..0.81 rows=10 width=23) (actual time=0.033..0.037 rows=10 loops=1)
           ->  Index Scan using orders_created_at on orders  (cost=0.42..7874.42 rows=200000 width=23) (actual time=0.021..0.030 rows=10 loops=1)
         Planning Time: 0.337 ms
         Execution Time: 0.071 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            guard analyzed.node.nodeType == "Limit", let returned = analyzed.metrics.actualRowsTotal,
                  let child = plan.childNodes(of: analyzed.index).first(where: { $0.node.parentRelationship != "InitPlan" }),
                  let fetched = child.metrics.actualRowsTotal else { return nil }
            let discarded = fetched - returned
            guard discarded >= PlanThresholds.minimumRows, plan.matters(analyzed.index) else { return nil }
            return Violation(
                message: "\(analyzed.node.label) read \(rowCount(fetched)) rows from \(child.node.label) to return \(rowCount(returned)): "
                    + "\(rowCount(discarded)) were skipped for the OFFSET.",
                evidence: "\(rowCount(discarded)) rows discarded",
                nodeIndex: analyzed.index, details: ["rowsDiscarded": rowCount(discarded), "rowsReturned": rowCount(returned)])
        }
    }
}
