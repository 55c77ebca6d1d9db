/// What `pgadvise explain` made of one or more plans: the JSON output of `--format json`, and what
/// the text, Markdown and HTML renderers print. Field names are a published contract (add, never rename).
public struct ExplainReport: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var plans: [ExplainedPlan]
    /// Every plan's findings, most at stake first within each plan; `file` names the plan's source.
    public var findings: [Finding]

    public init(schemaVersion: Int, plans: [ExplainedPlan]) {
        self.schemaVersion = schemaVersion
        self.plans = plans
        self.findings = plans.flatMap(\.findings)
    }
}

/// One plan with its per-node metrics and insights.
public struct ExplainedPlan: Codable, Sendable, Equatable {
    /// The file it came from (`-` for standard input, the conninfo's database for a live capture).
    public var source: String
    /// Its position among the plans of that source, from 1.
    public var number: Int
    /// False for EXPLAIN without ANALYZE: estimates only.
    public var analyzed: Bool
    public var planningTimeMs: Double?
    public var executionTimeMs: Double?
    public var queryText: String?
    public var settings: [String: String]?
    public var jit: PlanJIT?
    public var triggers: [PlanTrigger]?
    /// Depth first, each with its metrics; a node's children are the nodes whose `parent` is its `index`.
    public var nodes: [AnalyzedNode]
    public var findings: [Finding]
    /// Insights not checked, and why (a plan without ANALYZE has no actual figures to judge).
    public var skipped: [String]

    public init(source: String, number: Int, analysis: AnalyzedPlan, findings: [Finding], skipped: [String]) {
        self.source = source; self.number = number; analyzed = analysis.isAnalyzed
        planningTimeMs = analysis.plan.planningTimeMs; executionTimeMs = analysis.executionTimeMs
        queryText = analysis.plan.queryText; settings = analysis.plan.settings; jit = analysis.plan.jit
        triggers = analysis.plan.triggers; nodes = analysis.nodes; self.findings = findings; self.skipped = skipped
    }
}

/// `pgadvise explain --compare BEFORE AFTER`: what changed between two plans of one statement.
public struct PlanComparison: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var before: PlanSide
    public var after: PlanSide
    /// Node by node: relations read differently, nodes added or removed, row estimates that moved.
    public var changes: [NodeChange]
    /// Insights of the before plan that the after plan no longer has, and new ones.
    public var findingsResolved: [Finding]
    public var findingsIntroduced: [Finding]
    /// One line: faster or slower, by how much, and what changed most.
    public var verdict: String

    public init(schemaVersion: Int, before: PlanSide, after: PlanSide, changes: [NodeChange],
                findingsResolved: [Finding], findingsIntroduced: [Finding], verdict: String) {
        self.schemaVersion = schemaVersion; self.before = before; self.after = after; self.changes = changes
        self.findingsResolved = findingsResolved; self.findingsIntroduced = findingsIntroduced; self.verdict = verdict
    }
}

/// One side of a comparison.
public struct PlanSide: Codable, Sendable, Equatable {
    public var source: String
    public var analyzed: Bool
    public var executionTimeMs: Double?
    public var planningTimeMs: Double?
    /// The root's total cost, for plans without ANALYZE.
    public var totalCost: Double
    /// Buffers of the whole plan (the root's, which include its children's); nil without BUFFERS.
    public var sharedHitBlocks: Int64?
    public var sharedReadBlocks: Int64?
    public var tempBlocks: Int64?
    public var nodes: Int
    public var findings: [Finding]

    public init(source: String, analysis: AnalyzedPlan, findings: [Finding]) {
        let root = analysis.plan.root
        self.source = source; analyzed = analysis.isAnalyzed; executionTimeMs = analysis.executionTimeMs
        planningTimeMs = analysis.plan.planningTimeMs; totalCost = root.totalCost
        sharedHitBlocks = root.sharedHitBlocks; sharedReadBlocks = root.sharedReadBlocks
        tempBlocks = root.tempReadBlocks == nil && root.tempWrittenBlocks == nil ? nil : saturatingSum(root.tempReadBlocks ?? 0, root.tempWrittenBlocks ?? 0)
        nodes = analysis.nodes.count; self.findings = findings
    }
}

/// A node that differs between the two plans.
public struct NodeChange: Codable, Sendable, Equatable {
    /// `changed` (same relation, read another way), `added`, `removed`, `estimate` (same node, row estimate moved).
    public var kind: String
    /// The node's label in each plan: `Seq Scan on t` → `Index Scan using t_status on t`.
    public var before: String?
    public var after: String?
    public var relation: String?
    public var beforeExclusiveMs: Double?
    public var afterExclusiveMs: Double?
    public var beforeEstimatedRows: Double?
    public var afterEstimatedRows: Double?
    public var beforeActualRows: Double?
    public var afterActualRows: Double?
    /// One sentence for the text report.
    public var summary: String

    public init(kind: String, before: String? = nil, after: String? = nil, relation: String? = nil, summary: String) {
        self.kind = kind; self.before = before; self.after = after; self.relation = relation; self.summary = summary
    }
}
