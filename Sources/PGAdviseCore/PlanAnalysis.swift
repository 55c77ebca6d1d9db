/// A plan with the figures every insight and renderer reads, computed once: each node's wall time
/// inclusive and exclusive of its children, its share of the execution, its row estimate factor and
/// the buffers it touched itself.
///
/// Time. EXPLAIN prints a node's actual time per loop, so its wall time is `time × loops`. A node
/// under Gather (or Gather Merge) runs in every process that joined the query (the leader and the
/// launched workers), each counted as a loop, and its time is the average over them; the processes
/// run at the same time, so its wall time is `time × loops / processes` (PEV2 divides the same way,
/// by the planned workers plus the leader; launched workers are what actually ran, so they are used
/// when EXPLAIN says). Exclusive time is the node's wall time minus its children's, never below 0
/// (a CTE read by a CTE Scan is counted under both and would otherwise go negative).
public struct AnalyzedPlan: Codable, Sendable, Equatable {
    public var plan: Plan
    /// Every node depth first (the order of `plan.root.allNodes`), without its children, with metrics.
    public var nodes: [AnalyzedNode]
    /// EXPLAIN's Execution Time, else the root's wall time (auto_explain prints no execution time).
    public var executionTimeMs: Double?

    public init(_ plan: Plan) {
        self.plan = plan
        var nodes: [AnalyzedNode] = []
        Self.collect(plan.root, parent: nil, depth: 0, path: [], processes: 1, into: &nodes)
        self.nodes = nodes
        executionTimeMs = plan.executionTimeMs ?? nodes.first?.metrics.inclusiveTimeMs
        Self.fillExclusives(&nodes, executionTimeMs: executionTimeMs)
        self.nodes = nodes
    }

    /// True when the plan has actual figures (EXPLAIN ANALYZE, or auto_explain with log_analyze).
    public var isAnalyzed: Bool { plan.isAnalyzed }

    /// Children of the node at `index`, as positions in `nodes`.
    public func children(of index: Int) -> [Int] { nodes[index].children }

    private static func collect(_ node: PlanNode, parent: Int?, depth: Int, path: [String], processes: Int,
                                into nodes: inout [AnalyzedNode]) {
        var flat = node
        flat.children = []
        let label = node.label
        let index = nodes.count
        nodes.append(AnalyzedNode(index: index, parent: parent, depth: depth, path: (path + [label]).joined(separator: " → "),
                                  node: flat, metrics: NodeMetrics(node, processes: processes)))
        if let parent { nodes[parent].children.append(index) }
        // Below a Gather the node runs in the leader and in every launched worker.
        var below = processes
        if node.nodeType == "Gather" || node.nodeType == "Gather Merge" {
            below = (node.workersLaunched ?? node.workersPlanned ?? 0) + 1
        }
        for child in node.children {
            collect(child, parent: index, depth: depth + 1, path: path + [label], processes: below, into: &nodes)
        }
    }

    private static func fillExclusives(_ nodes: inout [AnalyzedNode], executionTimeMs: Double?) {
        var childTime = Array(repeating: 0.0, count: nodes.count)
        var childBlocks = Array(repeating: BlockCounts(), count: nodes.count)
        for node in nodes {
            guard let parent = node.parent else { continue }
            childTime[parent] += node.metrics.inclusiveTimeMs ?? 0
            childBlocks[parent] = childBlocks[parent] + BlockCounts(node.node)
        }
        for i in nodes.indices {
            if let inclusive = nodes[i].metrics.inclusiveTimeMs {
                let exclusive = max(0, inclusive - childTime[i])
                nodes[i].metrics.exclusiveTimeMs = exclusive
                if let executionTimeMs, executionTimeMs > 0 { nodes[i].metrics.shareOfExecution = min(1, exclusive / executionTimeMs) }
            }
            if nodes[i].node.totalBlocks != nil {
                nodes[i].metrics.exclusiveBlocks = (BlockCounts(nodes[i].node) - childBlocks[i]).clampedAtZero
            }
        }
    }
}

/// One node of an analyzed plan: where it sits and what it cost.
public struct AnalyzedNode: Codable, Sendable, Equatable {
    /// Position in `AnalyzedPlan.nodes` (depth first).
    public var index: Int
    public var parent: Int?
    /// Positions of its children in `AnalyzedPlan.nodes`, in plan order.
    public var children: [Int] = []
    public var depth: Int
    /// The labels from the root down to this node: `Limit → Sort → Seq Scan on orders`.
    public var path: String
    /// The node's own fields; its children are the nodes whose `parent` is `index`.
    public var node: PlanNode
    public var metrics: NodeMetrics
}

/// Figures derived from one node's EXPLAIN figures.
public struct NodeMetrics: Codable, Sendable, Equatable {
    /// Processes that ran the node at once: 1, or the workers plus the leader below a Gather.
    public var processes: Int
    /// Wall time including the children: actual total time × loops / processes.
    public var inclusiveTimeMs: Double?
    public var exclusiveTimeMs: Double?
    /// Exclusive time over the plan's execution time (0...1).
    public var shareOfExecution: Double?
    /// Rows over all loops, actual and estimated (EXPLAIN prints both per loop).
    public var actualRowsTotal: Double?
    public var plannedRowsTotal: Double
    /// How far the estimate was off, as a factor of at least 1, whichever the direction.
    public var estimateFactor: Double?
    /// `under` when more rows came than estimated, `over` when fewer, nil when exact.
    public var estimateDirection: String?
    public var exclusiveBlocks: BlockCounts?

    init(_ node: PlanNode, processes: Int) {
        self.processes = processes
        let loops = node.actualLoops ?? 1
        if let time = node.actualTotalTimeMs {
            inclusiveTimeMs = time * loops / Double(max(processes, 1))
        }
        plannedRowsTotal = node.planRows * max(loops, 1)
        if let rows = node.actualRows, node.executed != false {
            actualRowsTotal = rows * loops
            // Both per loop; a zero on either side counts as one row, as EXPLAIN rounds below one.
            let actual = max(rows, 1), planned = max(node.planRows, 1)
            estimateFactor = max(actual / planned, planned / actual)
            estimateDirection = actual > planned ? "under" : actual < planned ? "over" : nil
        }
    }
}

/// Blocks by kind; the node's own when it is `exclusiveBlocks`.
public struct BlockCounts: Codable, Sendable, Equatable {
    public var sharedHit: Int64 = 0
    public var sharedRead: Int64 = 0
    public var sharedDirtied: Int64 = 0
    public var sharedWritten: Int64 = 0
    public var localHit: Int64 = 0
    public var localRead: Int64 = 0
    public var tempRead: Int64 = 0
    public var tempWritten: Int64 = 0

    public init() {}

    public init(_ node: PlanNode) {
        sharedHit = node.sharedHitBlocks ?? 0; sharedRead = node.sharedReadBlocks ?? 0
        sharedDirtied = node.sharedDirtiedBlocks ?? 0; sharedWritten = node.sharedWrittenBlocks ?? 0
        localHit = node.localHitBlocks ?? 0; localRead = node.localReadBlocks ?? 0
        tempRead = node.tempReadBlocks ?? 0; tempWritten = node.tempWrittenBlocks ?? 0
    }

    /// Sums and differences are held at Int64's range: the counters of a pasted plan can be anything.
    public var total: Int64 {
        [sharedHit, sharedRead, sharedDirtied, sharedWritten, localHit, localRead, tempRead, tempWritten].reduce(0, saturatingSum)
    }

    private func combined(_ other: BlockCounts, _ op: (Int64, Int64) -> Int64) -> BlockCounts {
        var out = BlockCounts()
        out.sharedHit = op(sharedHit, other.sharedHit); out.sharedRead = op(sharedRead, other.sharedRead)
        out.sharedDirtied = op(sharedDirtied, other.sharedDirtied); out.sharedWritten = op(sharedWritten, other.sharedWritten)
        out.localHit = op(localHit, other.localHit); out.localRead = op(localRead, other.localRead)
        out.tempRead = op(tempRead, other.tempRead); out.tempWritten = op(tempWritten, other.tempWritten)
        return out
    }

    public static func + (a: BlockCounts, b: BlockCounts) -> BlockCounts { a.combined(b, saturatingSum) }
    public static func - (a: BlockCounts, b: BlockCounts) -> BlockCounts { a.combined(b, saturatingDifference) }
    /// A child's figures can exceed its parent's (an InitPlan's buffers, a CTE read twice).
    public var clampedAtZero: BlockCounts { combined(BlockCounts()) { a, _ in max(a, 0) } }
}
