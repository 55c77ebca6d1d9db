import PGAdviseCore

/// An index-only scan that visits the heap for many of its rows: the visibility map is not current.
public struct HeapFetchesRule: PlanRule {
    /// Share of the returned rows fetched from the heap (PEV2 colours heap fetches from 40%).
    static let minimumShare = 0.4

    public static let description = RuleDescription(
        id: "heap-fetches", severity: .warning, category: .performance,
        summary: "An index-only scan visits the table for a large share of its rows: the visibility map is stale.",
        rationale: """
        An index-only scan skips the table only for pages the visibility map marks all-visible; VACUUM \
        sets those marks. On a table written since its last vacuum, every row on a changed page is \
        fetched from the heap (Heap Fetches) and the scan costs as much as an index scan. Reported when \
        at least 40% of the returned rows (PEV2's threshold) and 1,000 rows in all were fetched from \
        the heap, on a node that takes at least 10% of the execution.
        """,
        solution: """
        VACUUM the table, then make autovacuum visit it often enough (autovacuum_vacuum_scale_factor, or \
        autovacuum_vacuum_insert_scale_factor for insert-only tables, on the table).
        """,
        scope: .plan,
        triggering: [Example(plan: """
        ↓Index Only Scan using events_id on events  (cost=0.29..1638.75 rows=49569 width=4) (actual time=0.040..18.553 rows=50000 loops=1)
           Index Cond: (id <= 50000)
           Heap Fetches: 50000
         Planning Time: 0.324 ms
         Execution Time: 20.058 ms
        """)],
        nonTriggering: [Example(plan: """
         Index Only Scan using events_id on events  (cost=0.29..1638.75 rows=49569 width=4) (actual time=0.040..8.553 rows=50000 loops=1)
           Index Cond: (id <= 50000)
           Heap Fetches: 0
         Planning Time: 0.324 ms
         Execution Time: 10.058 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            let node = analyzed.node
            guard node.nodeType == "Index Only Scan", let fetches = node.heapFetches, let rows = analyzed.metrics.actualRowsTotal,
                  fetches >= PlanThresholds.minimumRows, plan.matters(analyzed.index) else { return nil }
            let share = min(1, fetches / max(rows, 1))
            guard share >= Self.minimumShare else { return nil }
            let table = node.relationName.map { QualifiedName(schema: node.schema, $0).description }
            return Violation(
                message: "\(node.label) fetched \(rowCount(fetches)) of its \(rowCount(rows)) rows from the table "
                    + "(\(formatPercent(share))): the visibility map is not current, so the scan is index-only in name only.",
                evidence: "Heap Fetches: \(rowCount(fetches))",
                fix: table.map { "VACUUM (ANALYZE) \($0);" }, nodeIndex: analyzed.index,
                details: ["heapFetches": rowCount(fetches), "rows": rowCount(rows)])
        }
    }
}
