/// One node of an execution plan, from `EXPLAIN (FORMAT JSON)` or an auto_explain JSON plan.
/// Costs are the planner's units; actual figures are present only for EXPLAIN ANALYZE.
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
    public var indexCondition: String?
    public var rowsRemovedByFilter: Double?
    public var sortKeys: [String]?
    public var sortMethod: String?
    public var sharedHitBlocks: Int64?
    public var sharedReadBlocks: Int64?
    public var children: [PlanNode]

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
        self.filter = filter; self.indexCondition = indexCondition; self.rowsRemovedByFilter = rowsRemovedByFilter
        self.sortKeys = sortKeys; self.sortMethod = sortMethod; self.sharedHitBlocks = sharedHitBlocks
        self.sharedReadBlocks = sharedReadBlocks; self.children = children
    }

    /// This node and every node below it, depth first.
    public var allNodes: [PlanNode] { [self] + children.flatMap { $0.allNodes } }
}

public struct Plan: Codable, Sendable, Equatable {
    public var root: PlanNode
    public var planningTimeMs: Double?
    public var executionTimeMs: Double?

    public init(root: PlanNode, planningTimeMs: Double? = nil, executionTimeMs: Double? = nil) {
        self.root = root; self.planningTimeMs = planningTimeMs; self.executionTimeMs = executionTimeMs
    }
}
