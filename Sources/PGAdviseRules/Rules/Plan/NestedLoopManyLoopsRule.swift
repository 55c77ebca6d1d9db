import PGAdviseCore

/// A nested loop whose inner side runs many times and does the same filtering work on every loop.
public struct NestedLoopManyLoopsRule: PlanRule {
    /// Inner executions from which the same scan counts as repeated: ten times the same filtering
    /// work is already an order of magnitude of waste.
    static let minimumLoops = 10.0

    public static let description = RuleDescription(
        id: "nested-loop-many-loops", severity: .warning, category: .performance,
        summary: "A nested loop runs its inner side many times, filtering the same rows on every loop.",
        rationale: """
        A nested loop executes its inner side once per outer row. That is cheap when the inner side is an \
        index lookup; when it scans and filters (a Join Filter on the loop, or a Filter on the inner \
        scan), the same rows are read and thrown away on every loop. Reported when the inner side runs \
        at least 10 times, at least 1,000 rows are thrown away in all, and the loop takes at least 10% \
        of the execution.
        """,
        solution: """
        Index the inner table on its join columns so each loop is a lookup, or let the planner hash or \
        merge instead: the outer side's row estimate is often far too low (see row-misestimate), or \
        enable_hashjoin / enable_mergejoin were turned off.
        """,
        scope: .plan,
        triggering: [Example(plan: """
        ↓Nested Loop  (cost=0.29..150080.12 rows=23500 width=8) (actual time=7.809..1094.254 rows=50 loops=1)
           Join Filter: ((c.id * 1000) = (e.id + 1))
           Rows Removed by Join Filter: 4999950
           ->  Index Only Scan using customers_pkey on customers c  (cost=0.29..9.12 rows=47 width=4) (actual time=0.030..0.311 rows=50 loops=1)
                 Index Cond: (id <= 50)
           ->  Seq Scan on events e  (cost=0.00..1443.00 rows=100000 width=8) (actual time=0.004..11.767 rows=100000 loops=50)
         Planning Time: 0.700 ms
         Execution Time: 1129.255 ms
        """)],
        nonTriggering: [Example(plan: """
         Nested Loop  (cost=0.71..16.75 rows=200 width=29) (actual time=0.068..2.069 rows=200 loops=1)
           ->  Seq Scan on orders o  (cost=0.42..8.44 rows=200 width=19) (actual time=0.057..0.558 rows=200 loops=1)
           ->  Index Scan using customers_pkey on customers c  (cost=0.29..8.31 rows=1 width=18) (actual time=0.007..0.007 rows=1 loops=200)
                 Index Cond: (id = o.customer_id)
         Planning Time: 0.728 ms
         Execution Time: 2.102 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            guard analyzed.node.nodeType == "Nested Loop", plan.matters(analyzed.index) else { return nil }
            let children = plan.childNodes(of: analyzed.index).filter { $0.node.parentRelationship != "InitPlan" && $0.node.parentRelationship != "SubPlan" }
            guard children.count >= 2 else { return nil }
            let inner = children[1]
            let loops = inner.node.actualLoops ?? 1
            guard loops >= Self.minimumLoops else { return nil }
            let joinRemoved = (analyzed.node.rowsRemovedByJoinFilter ?? 0) * (analyzed.node.actualLoops ?? 1)
            let innerScan = plan.nodes.first { $0.index >= inner.index && isUnder($0, inner.index, plan) && $0.node.filter != nil && $0.node.rowsRemovedByFilter != nil }
            let filterRemoved = innerScan.map { ($0.node.rowsRemovedByFilter ?? 0) * ($0.node.actualLoops ?? 1) } ?? 0
            let removed = max(joinRemoved, filterRemoved)
            guard removed >= PlanThresholds.minimumRows else { return nil }
            let condition = joinRemoved >= filterRemoved ? analyzed.node.joinFilter : innerScan?.node.filter
            let target = innerScan?.node ?? inner.node
            let columns = target.relationName.map { relation in
                condition.map { innerColumns(of: $0, relation: relation, alias: target.alias) } ?? []
            } ?? []
            return Violation(
                message: "\(analyzed.node.label) ran \(inner.node.label) \(rowCount(loops)) times and threw away "
                    + "\(rowCount(removed)) rows doing the same filtering on every loop.",
                evidence: condition,
                fix: createIndexDDL(target, columns: columns), nodeIndex: analyzed.index,
                details: ["innerLoops": rowCount(loops), "rowsRemoved": rowCount(removed)])
        }
    }

    private func isUnder(_ node: AnalyzedNode, _ ancestor: Int, _ plan: AnalyzedPlan) -> Bool {
        var current: Int? = node.index
        while let index = current {
            if index == ancestor { return true }
            current = plan.nodes[index].parent
        }
        return false
    }

    /// The inner table's plain columns in a join condition (`(o.customer_id = c.id)` → `customer_id`
    /// for alias `o`); none when the inner side compares an expression.
    private func innerColumns(of condition: String, relation: String, alias: String?) -> [String] {
        indexableColumns(of: [condition], relation: relation, alias: alias)
    }
}
