/// One node of an execution plan, from EXPLAIN in text or JSON format, or an auto_explain plan.
/// Costs are the planner's units; actual figures are present only for EXPLAIN ANALYZE. Field names
/// follow EXPLAIN's JSON keys; every figure EXPLAIN may omit is optional, so a plan captured without
/// BUFFERS, TIMING or ANALYZE reads as "unknown", never as zero.
///
/// Times are what EXPLAIN prints: per loop, and for a node under Gather the average over the
/// processes that ran it (see `PlanMetrics` for the exclusive times derived from them).
public struct PlanNode: Codable, Sendable, Equatable {
    public var nodeType: String
    public var relationName: String?
    public var schema: String?
    public var alias: String?
    public var indexName: String?
    public var joinType: String?
    public var startupCost: Double
    public var totalCost: Double
    public var planRows: Double
    public var planWidth: Int
    public var actualTotalTimeMs: Double?
    public var actualRows: Double?
    public var actualLoops: Double?
    public var filter: String?
    public var rowsRemovedByFilter: Double?
    public var sortKeys: [String]?
    public var sortMethod: String?
    public var sharedHitBlocks: Int64?
    public var sharedReadBlocks: Int64?
    public var children: [PlanNode]

    // How the node relates to its parent, and what it is.
    /// `Outer`, `Inner`, `Member`, `Subquery`, `InitPlan` or `SubPlan` (text plans name only the last two).
    public var parentRelationship: String?
    /// `SubPlan 1`, `InitPlan 1 (returns $0)`, `CTE recent`.
    public var subplanName: String?
    /// The CTE a `CTE Scan` reads, the function a `Function Scan` calls.
    public var cteName: String?
    public var functionName: String?
    /// `Hashed`, `Sorted`, `Plain`, `Mixed` (Aggregate, SetOp).
    public var strategy: String?
    /// `Partial`, `Finalize` (parallel aggregation); nil for simple.
    public var partialMode: String?
    /// `Insert`, `Update`, `Delete`, `Merge` (ModifyTable).
    public var operation: String?
    public var scanDirection: String?
    public var parallelAware: Bool?
    /// False when EXPLAIN ANALYZE printed `(never executed)`.
    public var executed: Bool?
    public var actualStartupTimeMs: Double?
    public var output: [String]?
    public var groupKey: [String]?

    // Conditions, each under its own name.
    public var indexCond: String? { didSet { refreshIndexCondition() } }
    public var recheckCond: String? { didSet { refreshIndexCondition() } }
    public var hashCond: String? { didSet { refreshIndexCondition() } }
    public var mergeCond: String? { didSet { refreshIndexCondition() } }
    public var joinFilter: String? { didSet { refreshIndexCondition() } }
    /// How rows were found: the index, recheck, hash or merge condition, else the join filter. Kept
    /// (and encoded) because scan's JSON has carried it since its first version; the conditions
    /// above say which is which.
    public private(set) var indexCondition: String?
    public var oneTimeFilter: String?
    public var rowsRemovedByJoinFilter: Double?
    public var rowsRemovedByIndexRecheck: Double?

    // Index and bitmap scans.
    public var heapFetches: Double?
    public var exactHeapBlocks: Double?
    public var lossyHeapBlocks: Double?

    // Sort, hash, hash aggregate (kB as EXPLAIN prints them).
    /// `Memory` or `Disk`.
    public var sortSpaceType: String?
    public var sortSpaceUsedKB: Int64?
    public var hashBuckets: Int64?
    public var originalHashBuckets: Int64?
    public var hashBatches: Int64?
    public var originalHashBatches: Int64?
    /// Hash tables and hash aggregates: the most memory the node used.
    public var peakMemoryUsageKB: Int64?
    public var plannedPartitions: Int64?
    public var hashAggBatches: Int64?
    public var diskUsageKB: Int64?

    // Parallel query.
    public var workersPlanned: Int?
    public var workersLaunched: Int?
    /// Per-worker figures (JSON plans, and text plans with VERBOSE).
    public var workers: [PlanWorker]?

    // Buffers (inclusive of the children, as EXPLAIN prints them since PostgreSQL 13), I/O and WAL.
    public var sharedDirtiedBlocks: Int64?
    public var sharedWrittenBlocks: Int64?
    public var localHitBlocks: Int64?
    public var localReadBlocks: Int64?
    public var localDirtiedBlocks: Int64?
    public var localWrittenBlocks: Int64?
    public var tempReadBlocks: Int64?
    public var tempWrittenBlocks: Int64?
    public var ioReadTimeMs: Double?
    public var ioWriteTimeMs: Double?
    public var tempIOReadTimeMs: Double?
    public var tempIOWriteTimeMs: Double?
    public var walRecords: Int64?
    public var walFPI: Int64?
    public var walBytes: Int64?

    /// `indexCondition` is the single condition earlier callers read: how rows were found (the index,
    /// recheck, hash or merge condition, else the join filter). It fills `indexCond`.
    public init(nodeType: String, relationName: String? = nil, schema: String? = nil, alias: String? = nil,
                indexName: String? = nil, joinType: String? = nil, startupCost: Double = 0, totalCost: Double = 0,
                planRows: Double = 0, planWidth: Int = 0, actualTotalTimeMs: Double? = nil, actualRows: Double? = nil,
                actualLoops: Double? = nil, filter: String? = nil, indexCondition: String? = nil,
                rowsRemovedByFilter: Double? = nil, sortKeys: [String]? = nil, sortMethod: String? = nil,
                sharedHitBlocks: Int64? = nil, sharedReadBlocks: Int64? = nil, children: [PlanNode] = []) {
        self.nodeType = nodeType; self.relationName = relationName; self.schema = schema; self.alias = alias
        self.indexName = indexName; self.joinType = joinType; self.startupCost = startupCost
        self.totalCost = totalCost; self.planRows = planRows; self.planWidth = planWidth
        self.actualTotalTimeMs = actualTotalTimeMs; self.actualRows = actualRows; self.actualLoops = actualLoops
        self.filter = filter; self.indexCond = indexCondition; self.rowsRemovedByFilter = rowsRemovedByFilter
        self.sortKeys = sortKeys; self.sortMethod = sortMethod; self.sharedHitBlocks = sharedHitBlocks
        self.sharedReadBlocks = sharedReadBlocks; self.children = children
        self.indexCondition = indexCondition
    }

    private mutating func refreshIndexCondition() {
        indexCondition = indexCond ?? recheckCond ?? hashCond ?? mergeCond ?? joinFilter
    }

    /// This node and every node below it, depth first.
    public var allNodes: [PlanNode] { [self] + children.flatMap { $0.allNodes } }

    /// True when the node carries EXPLAIN ANALYZE figures (or was never executed under ANALYZE).
    public var hasActuals: Bool { actualRows != nil || actualLoops != nil || executed == false }

    /// All blocks touched, read or written, inclusive of the children; nil without BUFFERS.
    public var totalBlocks: Int64? {
        let parts = [sharedHitBlocks, sharedReadBlocks, sharedDirtiedBlocks, sharedWrittenBlocks, localHitBlocks,
                     localReadBlocks, localDirtiedBlocks, localWrittenBlocks, tempReadBlocks, tempWrittenBlocks]
        guard parts.contains(where: { $0 != nil }) else { return nil }
        return parts.reduce(0) { $0 + ($1 ?? 0) }
    }

    /// The node as EXPLAIN's text format names it: `Index Scan using t_a on t`, `Hash Left Join`.
    public var label: String {
        var name = nodeType
        switch nodeType {
        case "Aggregate":
            let kinds = ["Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"]
            name = kinds[strategy ?? ""] ?? "Aggregate"
            if let partialMode { name = partialMode + " " + name }
        case "Nested Loop":
            if let joinType, joinType != "Inner" { name += " \(joinType) Join" }
        case "Hash Join", "Merge Join":
            if let joinType, joinType != "Inner" { name = String(nodeType.dropLast(5)) + " \(joinType) Join" }
        case "ModifyTable": name = operation ?? nodeType
        default: break
        }
        if parallelAware == true { name = "Parallel " + name }
        if scanDirection == "Backward" { name += " Backward" }
        if let indexName, nodeType != "Bitmap Index Scan" { name += " using \(indexName)" }
        if let target = indexName.flatMap({ nodeType == "Bitmap Index Scan" ? $0 : nil })
            ?? relationName ?? cteName ?? functionName {
            name += " on " + (schema.map { "\($0)." } ?? "") + target
            if let alias, alias != target { name += " \(alias)" }
        } else if let alias, nodeType == "Subquery Scan" || nodeType == "Values Scan" {
            name += " on \(alias)"
        }
        return name
    }
}

/// One parallel worker's share of a node (EXPLAIN's `Workers` list, or `Worker N:` lines in VERBOSE text).
public struct PlanWorker: Codable, Sendable, Equatable {
    public var workerNumber: Int
    public var actualStartupTimeMs: Double?
    public var actualTotalTimeMs: Double?
    public var actualRows: Double?
    public var actualLoops: Double?

    public init(workerNumber: Int, actualStartupTimeMs: Double? = nil, actualTotalTimeMs: Double? = nil,
                actualRows: Double? = nil, actualLoops: Double? = nil) {
        self.workerNumber = workerNumber; self.actualStartupTimeMs = actualStartupTimeMs
        self.actualTotalTimeMs = actualTotalTimeMs; self.actualRows = actualRows; self.actualLoops = actualLoops
    }
}

/// A trigger's cost, after the plan (`Trigger t_audit on t: time=1.2 calls=10`).
public struct PlanTrigger: Codable, Sendable, Equatable {
    public var name: String
    public var constraintName: String?
    public var relation: String?
    public var timeMs: Double?
    public var calls: Double?

    public init(name: String, constraintName: String? = nil, relation: String? = nil, timeMs: Double? = nil, calls: Double? = nil) {
        self.name = name; self.constraintName = constraintName; self.relation = relation; self.timeMs = timeMs; self.calls = calls
    }
}

/// The JIT block after the plan: what was compiled and how long each step took (ms).
public struct PlanJIT: Codable, Sendable, Equatable {
    public var functions: Int?
    public var inlining: Bool?
    public var optimization: Bool?
    public var expressions: Bool?
    public var deforming: Bool?
    public var generationMs: Double?
    public var inliningMs: Double?
    public var optimizationMs: Double?
    public var emissionMs: Double?
    public var totalMs: Double?

    public init(functions: Int? = nil, inlining: Bool? = nil, optimization: Bool? = nil, expressions: Bool? = nil,
                deforming: Bool? = nil, generationMs: Double? = nil, inliningMs: Double? = nil,
                optimizationMs: Double? = nil, emissionMs: Double? = nil, totalMs: Double? = nil) {
        self.functions = functions; self.inlining = inlining; self.optimization = optimization
        self.expressions = expressions; self.deforming = deforming; self.generationMs = generationMs
        self.inliningMs = inliningMs; self.optimizationMs = optimizationMs; self.emissionMs = emissionMs; self.totalMs = totalMs
    }
}

public struct Plan: Codable, Sendable, Equatable {
    public var root: PlanNode
    public var planningTimeMs: Double?
    public var executionTimeMs: Double?
    /// The statement, when the plan came with it (auto_explain's `Query Text`).
    public var queryText: String?
    public var triggers: [PlanTrigger]?
    public var jit: PlanJIT?
    /// Settings that differ from the defaults (EXPLAIN's SETTINGS option): name → value.
    public var settings: [String: String]?

    public init(root: PlanNode, planningTimeMs: Double? = nil, executionTimeMs: Double? = nil) {
        self.root = root; self.planningTimeMs = planningTimeMs; self.executionTimeMs = executionTimeMs
    }

    /// True when the plan was captured with ANALYZE: actual figures are there to judge.
    public var isAnalyzed: Bool { root.hasActuals || executionTimeMs != nil }
}
