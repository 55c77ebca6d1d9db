import PGAdviseCore

/// A Gather that launched fewer parallel workers than the plan was made for.
public struct WorkersNotLaunchedRule: PlanRule {
    public static let description = RuleDescription(
        id: "workers-not-launched", severity: .warning, category: .configuration,
        summary: "A parallel plan launched fewer workers than it planned.",
        rationale: """
        The planner costs a parallel plan for the workers it plans; at run time a worker is launched only \
        if one of max_parallel_workers (and max_worker_processes) is free. With none free, the leader does \
        all the work of a plan chosen for several processes, and the statement runs several times slower \
        than planned. Reported when the Gather's subtree takes at least 10% of the execution.
        """,
        solution: """
        Raise max_parallel_workers (and max_worker_processes, which needs a restart) to cover the \
        parallel queries that run at once, or lower max_parallel_workers_per_gather so plans expect \
        what the server can give.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Finalize Aggregate  (cost=3812.02..3812.03 rows=1 width=8) (actual time=39.117..39.261 rows=1 loops=1)
        ↓  ->  Gather  (cost=3812.00..3812.01 rows=2 width=8) (actual time=39.110..39.254 rows=1 loops=1)
                 Workers Planned: 2
                 Workers Launched: 0
                 ->  Partial Aggregate  (cost=3812.00..3812.01 rows=1 width=8) (actual time=38.811..38.812 rows=1 loops=1)
                       ->  Parallel Seq Scan on orders  (cost=0.00..3708.67 rows=41335 width=0) (actual time=0.055..30.910 rows=99800 loops=1)
         Settings: max_parallel_workers = '0'
         Planning Time: 0.362 ms
         Execution Time: 39.362 ms
        """)],
        nonTriggering: [Example(plan: """
         Finalize Aggregate  (cost=3812.02..3812.03 rows=1 width=8) (actual time=19.117..19.261 rows=1 loops=1)
           ->  Gather  (cost=3812.00..3812.01 rows=2 width=8) (actual time=19.110..19.254 rows=3 loops=1)
                 Workers Planned: 2
                 Workers Launched: 2
                 ->  Partial Aggregate  (cost=3812.00..3812.01 rows=1 width=8) (actual time=18.811..18.812 rows=1 loops=3)
                       ->  Parallel Seq Scan on orders  (cost=0.00..3708.67 rows=41335 width=0) (actual time=0.055..10.910 rows=33266 loops=3)
         Planning Time: 0.362 ms
         Execution Time: 19.362 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            let node = analyzed.node
            guard let planned = node.workersPlanned, let launched = node.workersLaunched, launched < planned,
                  plan.matters(analyzed.index) else { return nil }
            return Violation(
                message: "\(node.label) planned \(planned) parallel workers and launched \(launched): the leader did "
                    + "the work of \(planned + 1) processes\(launched > 0 ? " with fewer helpers" : " alone").",
                evidence: "Workers Planned: \(planned), Workers Launched: \(launched)",
                fix: "ALTER SYSTEM SET max_parallel_workers = ...;  -- at least the parallel workers of the queries that run at once\nSELECT pg_reload_conf();",
                nodeIndex: analyzed.index, details: ["workersPlanned": String(planned), "workersLaunched": String(launched)])
        }
    }
}
