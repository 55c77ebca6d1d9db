import PGAdviseCore

/// A node whose actual rows are off from the estimate by 10x or more, where the misestimate starts
/// (its children were estimated well): every choice above it (join method, memory, parallelism) was
/// made for the wrong number of rows.
public struct RowMisestimateRule: PlanRule {
    public static let description = RuleDescription(
        id: "row-misestimate", severity: .warning, category: .performance,
        summary: "The planner's row estimate for a node that matters is off by 10x or more.",
        rationale: """
        The planner picks join methods, join order, memory and parallelism from its row estimates; an \
        estimate off by an order of magnitude is the most common root cause of a slow plan (PEV2 marks \
        estimate factors over 10, 100 and 1000). The finding points at the node where the error starts: \
        nodes above it inherit it. It is reported only for a node whose subtree takes at least 10% of \
        the execution and that produced or was expected to produce at least 1,000 rows.
        """,
        solution: """
        Refresh the statistics (ANALYZE). When one table's filter combines correlated columns, create \
        extended statistics on them (CREATE STATISTICS ... ON a, b FROM t) so the planner stops \
        multiplying their selectivities; for one skewed column, raise its statistics target.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Hash Join  (cost=2325.14..6477.44 rows=13 width=12) (actual time=19.533..59.963 rows=1000 loops=1)
           Hash Cond: (o.customer_id = c.id)
           ->  Seq Scan on orders o  (cost=0.00..3843.47 rows=200000 width=12) (actual time=0.004..19.560 rows=200000 loops=1)
           ->  Hash  (cost=2325.00..2325.00 rows=11 width=4) (actual time=19.497..19.498 rows=1000 loops=1)
                 Buckets: 1024  Batches: 1  Memory Usage: 44kB
        ↓        ->  Seq Scan on customers c  (cost=0.00..2325.00 rows=11 width=4) (actual time=0.012..15.302 rows=1000 loops=1)
                       Filter: ((city = 'city 7'::text) AND (zip = 'zip 7'::text))
                       Rows Removed by Filter: 99000
         Planning Time: 0.549 ms
         Execution Time: 60.371 ms
        """)],
        nonTriggering: [Example(plan: """
         Index Scan using orders_pkey on orders o  (cost=0.42..8.44 rows=1 width=19) (actual time=0.057..0.058 rows=1 loops=1)
           Index Cond: (id = 42)
         Planning Time: 0.728 ms
         Execution Time: 0.102 ms
        """), Example(plan: """
         Seq Scan on customers c  (cost=0.00..2325.00 rows=11 width=4) (actual time=0.012..15.302 rows=40 loops=1)
           Filter: ((city = 'city 7'::text) AND (zip = 'zip 7'::text))
           Rows Removed by Filter: 99960
         Planning Time: 0.549 ms
         Execution Time: 15.371 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.indices.compactMap { index in
            guard let direction = misestimate(plan, index), plan.matters(index) else { return nil }
            // Where the error starts: no child is off the same way.
            if plan.children(of: index).contains(where: { misestimate(plan, $0) == direction }) { return nil }
            return violation(plan.nodes[index], direction: direction)
        }
    }

    /// The direction of a misestimate that counts, or nil.
    private func misestimate(_ plan: AnalyzedPlan, _ index: Int) -> String? {
        let metrics = plan.nodes[index].metrics
        guard let factor = metrics.estimateFactor, factor >= PlanThresholds.estimateFactor,
              max(metrics.actualRowsTotal ?? 0, metrics.plannedRowsTotal) >= PlanThresholds.minimumRows else { return nil }
        return metrics.estimateDirection
    }

    private func violation(_ analyzed: AnalyzedNode, direction: String) -> Violation {
        let node = analyzed.node, metrics = analyzed.metrics
        let factor = metrics.estimateFactor ?? 1
        let message = "\(node.label) returned \(rowCount(node.actualRows ?? 0)) rows per loop where the planner expected "
            + "\(rowCount(node.planRows)) (\(direction)estimated \(String(format: "%.0f", factor))x); the plan above it was chosen for the wrong row count."
        var solution = "Run ANALYZE on the tables below this node and check the estimate again."
        var fix: String?
        if let relation = node.relationName {
            let table = QualifiedName(schema: node.schema, relation).description
            let conditions = [node.filter, node.indexCond, node.recheckCond].compactMap { $0 }
            let columns = indexableColumns(of: conditions, relation: relation, alias: node.alias)
            if columns.count >= 2 {
                solution = "The condition combines \(columns.count) columns of \(table) that the planner treats as independent; "
                    + "extended statistics teach it how they go together."
                fix = "CREATE STATISTICS ON \(columns.map(quoteIdentifierIfNeeded).joined(separator: ", ")) FROM \(table);\nANALYZE \(table);"
            } else if let column = columns.first {
                solution = "Refresh the statistics of \(table); if the estimate stays off, raise the statistics target of \(column)."
                fix = "ALTER TABLE \(table) ALTER COLUMN \(quoteIdentifierIfNeeded(column)) SET STATISTICS 1000;\nANALYZE \(table);"
            } else {
                fix = "ANALYZE \(table);"
            }
        }
        return Violation(message: message, evidence: [node.filter, node.indexCond, node.hashCond, node.joinFilter].compactMap { $0 }.first,
                         solution: solution, fix: fix, nodeIndex: analyzed.index,
                         details: ["estimatedRows": rowCount(node.planRows), "actualRows": rowCount(node.actualRows ?? 0),
                                   "loops": rowCount(node.actualLoops ?? 1), "estimateFactor": String(format: "%.1f", factor)])
    }
}
