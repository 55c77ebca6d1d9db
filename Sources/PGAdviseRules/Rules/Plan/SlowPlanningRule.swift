import PGAdviseCore

/// Planning that takes longer than the execution it plans, and long in itself.
public struct SlowPlanningRule: PlanRule {
    /// Planning time from which it is worth a finding (a few ms is normal for a join of several tables).
    static let minimumMs = 10.0

    public static let description = RuleDescription(
        id: "slow-planning", severity: .warning, category: .performance,
        summary: "Planning takes longer than the execution, and long in itself.",
        rationale: """
        The planner's search grows quickly with the number of joined relations (exhaustively up to \
        join_collapse_limit and from_collapse_limit, then by GEQO from geqo_threshold) and with the \
        partitions it must consider. A statement planned on every execution pays this each time. \
        Reported when planning takes longer than the execution and at least 10 ms.
        """,
        solution: """
        Prepare the statement (most drivers can), so it is planned once per session; reduce the \
        relations the planner must order (join_collapse_limit, fewer joins or partitions it cannot prune at \
        plan time); keep statistics targets moderate on columns of many-joined tables.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Aggregate  (cost=14.33..14.34 rows=1 width=8) (actual time=0.160..0.163 rows=1 loops=1)
           ->  Nested Loop  (cost=4.61..14.33 rows=1 width=0) (actual time=0.148..0.160 rows=1 loops=1)
                 Join Filter: (dim2.v = dim10.v)
                 ->  Seq Scan on dim2  (cost=0.00..1.10 rows=10 width=4) (actual time=0.004..0.004 rows=10 loops=1)
                 ->  Seq Scan on dim10  (cost=0.00..1.10 rows=10 width=4) (actual time=0.006..0.007 rows=10 loops=1)
         Settings: from_collapse_limit = '20', geqo = 'off', join_collapse_limit = '20'
         Planning Time: 336.415 ms
         Execution Time: 0.332 ms
        """)],
        nonTriggering: [Example(plan: """
         Index Scan using orders_pkey on orders o  (cost=0.42..8.44 rows=1 width=19) (actual time=0.057..0.058 rows=1 loops=1)
           Index Cond: (id = 42)
         Planning Time: 0.728 ms
         Execution Time: 0.102 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        guard let planning = plan.plan.planningTimeMs, let execution = plan.plan.executionTimeMs,
              planning > execution, planning >= Self.minimumMs else { return [] }
        let relations = Set(plan.nodes.compactMap { $0.node.relationName }).count
        return [Violation(
            message: "Planning took \(formatDuration(ms: planning)), more than the \(formatDuration(ms: execution)) execution"
                + (relations > 1 ? " (\(relations) relations to order)." : "."),
            evidence: "Planning Time: \(planning) ms; Execution Time: \(execution) ms",
            nodeIndex: nil, details: ["timeAtStakeMs": String(planning), "relations": String(relations)])]
    }
}
