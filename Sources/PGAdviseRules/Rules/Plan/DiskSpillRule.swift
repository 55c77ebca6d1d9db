import PGAdviseCore

/// A sort, hash, hash aggregate or materialize that did not fit in `work_mem` and wrote to disk.
public struct DiskSpillRule: PlanRule {
    public static let description = RuleDescription(
        id: "disk-spill", severity: .warning, category: .performance,
        summary: "A sort, hash or aggregate did not fit in work_mem and spilled to disk.",
        rationale: """
        A node that outgrows work_mem writes temporary files: an external sort merges runs from disk, a \
        hash join splits into batches (PEV2 marks any hash with more than one batch), a hash aggregate \
        spills partitions. Each writes and reads its data again through temp files, often several times \
        slower than in memory. Reported when the node's subtree takes at least 10% of the execution.
        """,
        solution: """
        Give the statement more work_mem (SET LOCAL work_mem in its transaction, or for its role), at \
        least what the node needed, or make it need less: sort fewer rows (filter first, an index that \
        delivers the order), hash the smaller side. Raise the server-wide work_mem only with the number \
        of concurrent sorts and hashes in mind: each may use that much.
        """,
        scope: .plan,
        triggering: [Example(plan: """
        ↓Sort  (cost=24619.26..24913.38 rows=200000 width=45) (actual time=151.934..212.867 rows=200000 loops=1)
           Sort Key: note, customer_id
           Sort Method: external merge  Disk: 10904kB
           Buffers: shared hit=2731, temp read=4785 written=5212
           ->  Seq Scan on orders  (cost=0.00..3843.47 rows=200000 width=45) (actual time=0.014..32.538 rows=200000 loops=1)
                 Buffers: shared hit=2667
         Planning Time: 0.456 ms
         Execution Time: 250.951 ms
        """)],
        nonTriggering: [Example(plan: """
         Sort  (cost=24619.26..24913.38 rows=200000 width=45) (actual time=101.934..132.867 rows=200000 loops=1)
           Sort Key: note, customer_id
           Sort Method: quicksort  Memory: 25814kB
           ->  Seq Scan on orders  (cost=0.00..3843.47 rows=200000 width=45) (actual time=0.014..32.538 rows=200000 loops=1)
         Planning Time: 0.456 ms
         Execution Time: 140.951 ms
        """)])

    public init() {}

    public func check(_ plan: AnalyzedPlan) -> [Violation] {
        plan.nodes.compactMap { analyzed in
            guard let (what, neededKB) = spill(analyzed), plan.matters(analyzed.index) else { return nil }
            let setting = plan.plan.settings?["work_mem"].map { " (work_mem is \($0) here)" } ?? ""
            let message = "\(analyzed.node.label) spilled to disk: \(what)\(setting); it needs about "
                + "\(workMemSetting(kilobytes: neededKB)) of work_mem to stay in memory."
            return Violation(
                message: message, evidence: what,
                fix: "SET LOCAL work_mem = '\(workMemSetting(kilobytes: neededKB))';  -- in the statement's transaction",
                nodeIndex: analyzed.index, details: ["neededKB": String(wholeNumber(neededKB.rounded(.up)))])
        }
    }

    /// What spilled and the memory the node would have needed (kB), or nil when it stayed in memory.
    private func spill(_ analyzed: AnalyzedNode) -> (String, Double)? {
        let node = analyzed.node
        if node.sortSpaceType == "Disk" || node.sortMethod?.hasPrefix("external") == true {
            // An in-memory sort needs roughly the data's size again in tuple overhead; the spilled
            // size is the floor. Parallel sorts print the leader's figure: scale by the processes.
            let disk = Double(node.sortSpaceUsedKB ?? 0) * Double(analyzed.metrics.processes)
            return ("\(node.sortMethod ?? "external sort") using \(disk.rounded()) kB of disk", max(disk * 1.5, 1024))
        }
        if let batches = node.hashBatches, batches > 1 {
            let memory = Double(node.peakMemoryUsageKB ?? 0)
            return ("the hash table was split into \(batches) batches (\(wholeNumber(memory.rounded(.towardZero))) kB each in memory)", memory * Double(batches))
        }
        if (node.hashAggBatches ?? 0) > 1 || (node.diskUsageKB ?? 0) > 0 {
            let disk = Double(node.diskUsageKB ?? 0), memory = Double(node.peakMemoryUsageKB ?? 0)
            return ("the hash aggregate wrote \(wholeNumber(disk.rounded(.towardZero))) kB to disk in \(node.hashAggBatches ?? 1) batches", memory + disk)
        }
        if let written = analyzed.metrics.exclusiveBlocks?.tempWritten, written > 0,
           ["Materialize", "CTE Scan", "WindowAgg", "Incremental Sort"].contains(node.nodeType) {
            return ("\(formatBytes(written * 8192)) written to temporary files", Double(written) * 8)
        }
        return nil
    }
}
