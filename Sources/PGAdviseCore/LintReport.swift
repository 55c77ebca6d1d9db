/// What `pgadvise lint` found: the JSON document of `--format json`, and what the text and SARIF
/// renderers print.
public struct LintReport: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    /// Files read (linted paths and `--schema` files).
    public var files: Int
    /// Statements checked in the linted files.
    public var statements: Int
    /// In file, line and column order.
    public var findings: [Finding]

    public init(schemaVersion: Int, files: Int, statements: Int, findings: [Finding]) {
        self.schemaVersion = schemaVersion; self.files = files; self.statements = statements; self.findings = findings
    }
}

/// A rule as reports describe it (`pgadvise rules --format json`, SARIF's rule metadata).
public struct RuleInfo: Codable, Sendable, Equatable {
    public var id: String
    public var severity: Severity
    public var category: RuleCategory
    /// query, catalog, scan, workload or input: what the rule reads.
    public var scope: String
    public var summary: String
    public var rationale: String
    public var solution: String
    public var triggering: [RuleExample]
    public var nonTriggering: [RuleExample]

    public init(id: String, severity: Severity, category: RuleCategory, scope: String, summary: String, rationale: String,
                solution: String, triggering: [RuleExample], nonTriggering: [RuleExample]) {
        self.id = id; self.severity = severity; self.category = category; self.scope = scope; self.summary = summary
        self.rationale = rationale; self.solution = solution; self.triggering = triggering; self.nonTriggering = nonTriggering
    }
}

public struct RuleExample: Codable, Sendable, Equatable {
    /// With `↓` where the finding points.
    public var sql: String
    public var schema: String?
    /// For an example that is not SQL (a scan rule's statistics and plans): what it holds.
    public var caption: String?
    /// For plan rules: the EXPLAIN output, with `↓` before the node a finding points at.
    public var plan: String?

    public init(sql: String, schema: String? = nil, caption: String? = nil, plan: String? = nil) {
        self.sql = sql
        self.schema = schema
        self.caption = caption
        self.plan = plan
    }
}

/// `pgadvise rules --format json`.
public struct RuleCatalogDocument: Codable, Sendable {
    public var schemaVersion: Int
    public var rules: [RuleInfo]

    public init(schemaVersion: Int, rules: [RuleInfo]) {
        self.schemaVersion = schemaVersion
        self.rules = rules
    }
}
