import PGAdviseCore
import PGAdviseSQL

/// Everything a rule says about itself: its id, weight, the problem, the fix, and the examples that are
/// also its tests. `pgadvise rules` and docs/rules/ are printed from these values.
public struct RuleDescription: Sendable {
    /// Kebab-case, stable once released.
    public var id: String
    public var severity: Severity
    public var category: RuleCategory
    /// The problem in one sentence.
    public var summary: String
    /// Why it costs, for the documentation page.
    public var rationale: String
    /// What to do, in prose.
    public var solution: String
    public var scope: RuleScope
    /// Statements that must produce a finding at each `↓`.
    public var triggering: [Example]
    /// Statements that must produce none.
    public var nonTriggering: [Example]

    public init(id: String, severity: Severity, category: RuleCategory, summary: String, rationale: String = "",
                solution: String, scope: RuleScope = .query, triggering: [Example] = [], nonTriggering: [Example] = []) {
        self.id = id; self.severity = severity; self.category = category; self.summary = summary
        self.rationale = rationale; self.solution = solution; self.scope = scope
        self.triggering = triggering; self.nonTriggering = nonTriggering
    }

    /// A finding of this rule from what a check found; location and weight are added by the engine.
    public func finding(_ violation: Violation) -> Finding {
        Finding(rule: id, severity: severity, category: category, message: violation.message,
                fingerprint: violation.fingerprint, table: violation.table, index: violation.index,
                evidence: violation.evidence, solution: violation.solution ?? solution, fix: violation.fix,
                calls: violation.calls, totalMs: violation.totalMs, details: violation.details)
    }
}

/// What a rule reads.
public enum RuleScope: String, Sendable, Codable {
    /// One statement's QueryShape (and the catalog, when one is known).
    case query
    /// The catalog as a whole (schema rules): DDL files or a live scan.
    case catalog
    /// A live scan's usage counters and plans (applied by `pgadvise scan`).
    case scan
    /// Several statements together, e.g. the order of a session's statements in a log.
    case workload
    /// Reported by the lint driver itself (a file that does not parse).
    case input
    /// How the server's connections are used (`pgadvise pool`, and `scan` on its snapshot).
    case connection
    /// One EXPLAIN ANALYZE plan (`pgadvise explain`).
    case plan
}

/// One example of a rule: SQL where `↓` marks each place a finding points at, and, for rules that
/// need the catalog, the DDL of the schema it runs against. A scan rule's example is a
/// `ScanRuleInput` value instead, with a caption that says what it holds (for the docs).
public struct Example: Sendable {
    public var sql: String
    public var schema: String?
    public var scan: ScanRuleInput? = nil
    /// What the example shows, in a sentence, when it is not SQL.
    public var caption: String? = nil

    /// For connection rules: the observation the example stands for, described by `caption`.
    public var connection: PoolObservation? = nil
    /// For plan rules: the EXPLAIN output the rule reads (`↓` before the node a finding points at).
    public var plan: String? = nil
    /// For workload rules: the burst a log showed (`sql` is its statement, as the docs print it).
    public var burst: NPlusOneBurst? = nil

    public init(_ sql: String, schema: String? = nil) {
        self.sql = sql
        self.schema = schema
    }

    public init(caption: String, connection: PoolObservation) {
        self.sql = ""
        self.caption = caption
        self.connection = connection
    }

    public init(caption: String, scan: ScanRuleInput) {
        self.sql = ""
        self.caption = caption
        self.scan = scan
    }

    public init(_ sql: String, burst: NPlusOneBurst) {
        self.sql = sql
        self.burst = burst
    }

    public static let marker: Character = "↓"

    /// The SQL without markers, and the UTF-8 byte offset of each marker in it.
    public var stripped: (sql: String, offsets: [Int]) {
        var out = ""
        var offsets: [Int] = []
        for ch in sql {
            if ch == Example.marker { offsets.append(out.utf8.count) } else { out.append(ch) }
        }
        return (out, offsets)
    }
}

/// What a check found, before the engine adds where (file and line, or fingerprint) and weight.
public struct Violation: Sendable, Equatable {
    public var message: String
    /// Byte offset in the statement's text (query rules); nil for catalog rules.
    public var location: Int?
    public var evidence: String?
    /// Overrides the rule's general solution when the check can say something more specific.
    public var solution: String?
    public var fix: String?
    public var table: String?
    public var index: String?
    /// For catalog rules about a constraint (a foreign key): its name, to find where it was defined.
    public var constraint: String?
    public var details: [String: String]?
    /// The weight of the statement the violation is about (scan rules on a statement's plan), so the
    /// finding ranks by impact.
    public var fingerprint: String? = nil
    public var calls: Int? = nil
    public var totalMs: Double? = nil
    /// For plan rules: the node's position in `AnalyzedPlan.nodes`.
    public var nodeIndex: Int? = nil

    public init(message: String, location: Int? = nil, evidence: String? = nil, solution: String? = nil,
                fix: String? = nil, table: String? = nil, index: String? = nil, constraint: String? = nil,
                details: [String: String]? = nil) {
        self.message = message; self.location = location; self.evidence = evidence; self.solution = solution
        self.fix = fix; self.table = table; self.index = index; self.constraint = constraint; self.details = details
    }
}

/// What a query rule may consult besides the statement.
public struct RuleContext: Sendable {
    /// The schema, when known (`--schema`, DDL in the linted files, or a live scan). Rules that need
    /// types or indexes stay silent without it.
    public var catalog: Catalog?
    /// When linting a file: the tables created earlier in the same file (a migration that creates a
    /// table may index it at once: nobody uses it yet). Nil for statements from logs or a live scan.
    public var tablesCreatedEarlierInFile: Set<QualifiedName>?

    public init(catalog: Catalog? = nil, tablesCreatedEarlierInFile: Set<QualifiedName>? = nil) {
        self.catalog = catalog
        self.tablesCreatedEarlierInFile = tablesCreatedEarlierInFile
    }
}

/// A rule about one statement. The shape it gets is already resolved against the catalog.
public protocol QueryRule: Sendable {
    static var description: RuleDescription { get }
    func check(_ query: QueryShape, in context: RuleContext) -> [Violation]
}

/// A rule about the schema as a whole.
public protocol CatalogRule: Sendable {
    static var description: RuleDescription { get }
    func check(_ catalog: Catalog) -> [Violation]
}

/// A rule about how the server's connections are used, judged on an observation (sampled over a
/// window by `pool`, or one snapshot by `scan`).
public protocol ConnectionRule: Sendable {
    static var description: RuleDescription { get }
    func check(_ observation: PoolObservation) -> [Violation]
}

extension RuleDescription {
    /// The description as reports and documentation print it.
    public var info: RuleInfo {
        RuleInfo(id: id, severity: severity, category: category, scope: scope.rawValue, summary: summary,
                 rationale: rationale, solution: solution,
                 triggering: triggering.map { RuleExample(sql: $0.sql, schema: $0.schema, caption: $0.caption, plan: $0.plan) },
                 nonTriggering: nonTriggering.map { RuleExample(sql: $0.sql, schema: $0.schema, caption: $0.caption, plan: $0.plan) })
    }
}
