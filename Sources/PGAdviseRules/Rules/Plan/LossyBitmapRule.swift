import PGAdviseCore

/// A bitmap heap scan whose bitmap outgrew work_mem and degraded to whole pages: every row of a
/// lossy page is read and rechecked.
public struct LossyBitmapRule: PlanRule {
    public static let description = RuleDescription(
        id: "lossy-bitmap", severity: .warning, category: .performance,
        summary: "A bitmap heap scan went lossy: it rechecks every row of whole pages.",
        rationale: """
        A bitmap index scan collects the matching row positions in work_mem. When they do not fit, the \
        bitmap keeps only page numbers ("lossy" heap blocks) and the heap scan must read and recheck \
        every row of those pages (Rows Removed by Index Recheck). Reported when lossy blocks appear on \
        a node whose subtree takes at least 10% of the execution.
        """,
        solution: """
        Raise work_mem for the statement so the bitmap stays exact (a few bytes per heap page), or make \
        the index condition more selective so the bitmap is smaller.
        """,
        scope: .plan,
        triggering: [Example(plan: """
         Aggregate  (cost=6738.89..6738.90 rows=1 width=8) (actual time=43.618..43.620 rows=1 loops=1)
        ↓  ->  Bitmap Heap Scan on orders  (cost=1627.54..6522.40 rows=86596 width=0) (actual time=2.460..40.330 rows=86399 loops=1)
                 Recheck Cond: (created_at < '2024-03-01 00:00:00+00'::timestamp with time zone)
                 Heap Blocks: exact=635 lossy=517
                 ->  Bitmap Index Scan on orders_created_at  (cost=0.00..1605.89 rows=86596 width=0) (actual time=2.402..2.402 rows=86399 loops=1)
                       Index Cond: (created_at < '2024-03-01 00:00:00+00'::timestamp with time zone)
         Settings: work_mem = '64kB'
         Planning Time: 0.306 ms
         Execution Time: 43.715 ms
        """)],
        nonTriggering: [Example(plan: """
         Aggregate  (cost=6738.89..6738.90 rows=1 width=8) (actual time=33.618..33.620 rows=1 loops=1)
           ->  Bitmap Heap Scan on orders  (cost=1627.54..6522.40 rows=86596 width=0) (actual time=2.460..30.330 rows=86399 loops=1)
                 Recheck Cond: (created_at < '2024-03-01 00:00:00+00'::timestamp with time zone)
                 Heap Blocks: exact=1152
                 ->  Bitmap Index Scan on orders_created_at  (cost=0.00..1605.89 rows=86596 width=0) (actual time=2.402..2.402 rows=86399 loops=1)
                       Index Cond: (created_at < '2024-03-01 00:00:00+00'::timestamp with time zone)
         Planning Time: 0.306 ms
         Execution Time: 33.715 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            let node = analyzed.node
            guard node.nodeType == "Bitmap Heap Scan", let lossy = node.lossyHeapBlocks, lossy > 0,
                  plan.matters(analyzed.index) else { return nil }
            let exact = node.exactHeapBlocks ?? 0
            let rechecked = (node.rowsRemovedByIndexRecheck ?? 0) * (node.actualLoops ?? 1)
            // An exact bitmap keeps an entry of about 64 bytes (with hash overhead) per heap page.
            let neededKB = (exact + lossy) * 64 / 1024
            let setting = plan.plan.settings?["work_mem"].map { " (work_mem is \($0) here)" } ?? ""
            var message = "\(node.label) went lossy on \(rowCount(lossy)) of \(rowCount(exact + lossy)) heap pages\(setting)"
            message += rechecked > 0 ? " and rechecked them, throwing away \(rowCount(rechecked)) rows." : "; every row of those pages is rechecked."
            return Violation(message: message, evidence: "Heap Blocks: exact=\(wholeNumber(exact.rounded(.towardZero))) lossy=\(wholeNumber(lossy.rounded(.towardZero)))",
                             fix: "SET LOCAL work_mem = '\(workMemSetting(kilobytes: neededKB))';  -- in the statement's transaction",
                             nodeIndex: analyzed.index, details: ["lossyBlocks": rowCount(lossy), "exactBlocks": rowCount(exact)])
        }
    }
}
