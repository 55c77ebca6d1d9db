import PGAdviseCore

/// An index scan whose filter throws away most of the rows the index returned: the index finds
/// the rows by some of the conditions and the others are checked row by row.
public struct IndexFilterRule: PlanRule {
    public static let description = RuleDescription(
        id: "index-filter", severity: .warning, category: .performance,
        summary: "An index scan's filter throws away most of the rows the index returned.",
        rationale: """
        The index serves only part of the WHERE clause (its Index Cond); every row it returns is then \
        fetched from the table and checked against the rest (the Filter). When the filter throws away \
        90% or more of them, the index does not match the query: most heap fetches are wasted. \
        Reported when at least 1,000 rows are thrown away and the scan takes at least 10% of the execution.
        """,
        solution: """
        Create an index whose leading columns are the filter's equality columns, then the index \
        condition's columns, so the index returns only the rows kept (or extend the existing index).
        """,
        scope: .plan,
        triggering: [Example(plan: """
        ↓Index Scan using orders_created_at on orders  (cost=0.42..5804.56 rows=1185 width=8) (actual time=0.032..47.051 rows=1310 loops=1)
           Index Cond: (created_at < '2024-04-01 00:00:00+00'::timestamp with time zone)
           Filter: (status = 'refunded'::text)
           Rows Removed by Filter: 129729
         Planning Time: 0.425 ms
         Execution Time: 47.154 ms
        """)],
        nonTriggering: [Example(plan: """
         Index Scan using orders_created_at on orders  (cost=0.42..5804.56 rows=1185 width=8) (actual time=0.032..47.051 rows=117000 loops=1)
           Index Cond: (created_at < '2024-04-01 00:00:00+00'::timestamp with time zone)
           Filter: (status = 'shipped'::text)
           Rows Removed by Filter: 13039
         Planning Time: 0.425 ms
         Execution Time: 57.154 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            let node = analyzed.node
            guard ["Index Scan", "Index Only Scan", "Bitmap Heap Scan"].contains(node.nodeType), let filter = node.filter,
                  !repeatedByNestedLoop(plan, analyzed), let removal = removal(node), plan.matters(analyzed.index) else { return nil }
            let condition = node.indexCond ?? node.recheckCond
            // Equality columns first (the filter's, then the index condition's), then one range.
            let columns = node.relationName.map {
                indexableColumns(of: [filter] + (condition.map { [$0] } ?? []), relation: $0, alias: node.alias)
            } ?? []
            let via = node.indexName.map { " (\($0))" } ?? ""
            return Violation(
                message: "\(node.label): the index\(via) returned \(rowCount(removal.read)) rows and the filter threw away "
                    + "\(rowCount(removal.removed)) of them (\(formatPercent(removal.share))); the index does not match the query.",
                evidence: "Index Cond: \(condition ?? "-"); Filter: \(filter)",
                fix: createIndexDDL(node, columns: columns), nodeIndex: analyzed.index,
                details: ["rowsRemoved": rowCount(removal.removed), "rowsKept": rowCount(removal.read - removal.removed)])
        }
    }
}
