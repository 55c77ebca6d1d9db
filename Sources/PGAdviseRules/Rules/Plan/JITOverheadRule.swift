import PGAdviseCore

/// JIT compilation that takes a large share of a short execution.
public struct JITOverheadRule: PlanRule {
    /// JIT time as a share of the execution from which it is overhead rather than an investment.
    static let minimumShare = 0.2
    /// Below this, JIT costs too little to matter whatever its share.
    static let minimumMs = 10.0

    public static let description = RuleDescription(
        id: "jit-overhead", severity: .warning, category: .configuration,
        summary: "JIT compilation takes a large share of a short execution.",
        rationale: """
        PostgreSQL compiles expressions with LLVM when a plan's estimated cost passes jit_above_cost \
        (inlining and optimization at higher thresholds). Compiling takes tens to hundreds of \
        milliseconds, which pays off only on long-running queries; a statement whose cost estimate is \
        high but which runs quickly (or is misestimated) pays it on every execution. Reported when JIT \
        takes at least 20% of the execution time and at least 10 ms.
        """,
        solution: """
        Raise jit_above_cost (and jit_inline_above_cost, jit_optimize_above_cost) above this statement's \
        cost, or turn JIT off for the role or the statement (SET jit = off); fix the row estimates if \
        the cost itself is inflated.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Aggregate  (cost=11.28..11.29 rows=1 width=32) (actual time=162.231..162.233 rows=1 loops=1)
           ->  Index Scan using orders_pkey on orders  (cost=0.42..11.05 rows=93 width=6) (actual time=0.027..0.051 rows=100 loops=1)
                 Index Cond: (id <= 100)
         Settings: jit_above_cost = '0', jit_inline_above_cost = '0', jit_optimize_above_cost = '0'
         Planning Time: 0.435 ms
         JIT:
           Functions: 5
           Options: Inlining true, Optimization true, Expressions true, Deforming true
           Timing: Generation 0.259 ms, Inlining 99.701 ms, Optimization 31.720 ms, Emission 30.727 ms, Total 162.408 ms
         Execution Time: 194.418 ms
        """)],
        nonTriggering: [Example(plan: """
         Nested Loop  (cost=0.29..150080.12 rows=23500 width=8) (actual time=7.809..1094.254 rows=50 loops=1)
           Join Filter: ((c.id * 1000) = (e.id + 1))
           ->  Index Only Scan using customers_pkey on customers c  (cost=0.29..9.12 rows=47 width=4) (actual time=0.030..0.311 rows=50 loops=1)
           ->  Seq Scan on events e  (cost=0.00..1443.00 rows=100000 width=8) (actual time=0.004..11.767 rows=100000 loops=50)
         Planning Time: 0.700 ms
         JIT:
           Functions: 5
           Options: Inlining false, Optimization false, Expressions true, Deforming true
           Timing: Generation 0.233 ms, Inlining 0.000 ms, Optimization 0.195 ms, Emission 7.434 ms, Total 7.862 ms
         Execution Time: 1129.255 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        guard let jit = plan.plan.jit, let jitMs = jit.totalMs, let execution = plan.executionTimeMs, execution > 0,
              jitMs >= Self.minimumMs, jitMs / execution >= Self.minimumShare else { return [] }
        let steps = [("inlining", jit.inliningMs), ("optimization", jit.optimizationMs), ("emission", jit.emissionMs)]
            .compactMap { name, ms in ms.map { "\(name) \(formatDuration(ms: $0))" } }.joined(separator: ", ")
        return [Violation(
            message: "JIT compilation took \(formatDuration(ms: jitMs)) of a \(formatDuration(ms: execution)) execution "
                + "(\(formatPercent(jitMs / execution))): \(steps).",
            evidence: "JIT: \(jit.functions ?? 0) functions, total \(formatDuration(ms: jitMs))",
            fix: "SET jit_above_cost = \(wholeNumber(max(plan.plan.root.totalCost * 10, 100_000).rounded(.towardZero)));  -- or SET jit = off for this workload",
            nodeIndex: nil, details: ["timeAtStakeMs": String(jitMs)])]
    }
}
