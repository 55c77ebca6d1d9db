import Foundation
import PGAdviseCore

/// What a live scan knows beyond the statements themselves: the catalog with its usage counters,
/// the statements with their weights and generic plans, and whether pg_stat_statements was usable.
/// Usage and plan rules read only this, so they can be tested on values without a server.
public struct ScanRuleInput: Sendable {
    public var catalog: Catalog
    public var queries: [ScannedQuery]
    public var statementStats: StatementStatsStatus
    /// When the table and index counters were last reset (ISO-8601), nil when never.
    public var statsReset: String?
    public var database: String
    /// The role pgadvise connected as, for GRANT fixes.
    public var user: String
    public var preloadedLibraries: [String]
    /// The server-wide `autovacuum` setting.
    public var autovacuumEnabled: Bool
    /// When the scan read the counters, to tell a just-finished load from statistics left stale.
    public var scanTime: Date
    public var thresholds: ScanThresholds

    public init(catalog: Catalog, queries: [ScannedQuery] = [], statementStats: StatementStatsStatus,
                statsReset: String? = nil, database: String = "", user: String = "", preloadedLibraries: [String] = [],
                autovacuumEnabled: Bool = true, scanTime: Date = Date(), thresholds: ScanThresholds = ScanThresholds()) {
        self.catalog = catalog; self.queries = queries; self.statementStats = statementStats
        self.statsReset = statsReset; self.database = database; self.user = user; self.preloadedLibraries = preloadedLibraries
        self.autovacuumEnabled = autovacuumEnabled; self.scanTime = scanTime; self.thresholds = thresholds
    }

    /// False when autovacuum is off for the server or for this table (`WITH (autovacuum_enabled = off)`).
    func autovacuumCovers(_ table: Table) -> Bool {
        guard autovacuumEnabled else { return false }
        guard let value = table.storageParameters?["autovacuum_enabled"]?.lowercased() else { return true }
        return !["off", "false", "no", "0"].contains(value)
    }

    /// The table a plan node reads: its schema when EXPLAIN VERBOSE named it, else the search path.
    func table(of node: PlanNode) -> Table? {
        guard let name = node.relationName else { return nil }
        return catalog.table(QualifiedName(schema: node.schema, name))
    }
}

/// Where "large" starts. A sequential scan of a few thousand rows is often the best plan; these
/// thresholds keep findings to tables where reading everything costs real I/O.
public struct ScanThresholds: Sendable {
    /// Rows from which a table counts as large.
    public var largeTableRows: Double = 10_000
    /// Sequential scans a table must have had before its scan mix means anything.
    public var minimumSequentialScans: Int64 = 50
    /// A sequential scan keeping at most this fraction of a large table's rows is "selective".
    public var selectiveFraction: Double = 0.05
    /// Rows into a Sort from which the sort counts as large.
    public var largeSortRows: Double = 10_000
    /// Changed rows (as a fraction of the table, and at least `staleMinimumRows`) after which the
    /// planner's statistics are stale; autoanalyze's default trigger is 10%.
    public var staleFraction: Double = 0.2
    public var staleMinimumRows: Int64 = 1_000
    /// Within this many seconds of an ANALYZE, changes on a table autovacuum looks after are left to
    /// autoanalyze: a load that just finished (or a session whose counts arrived after its own ANALYZE)
    /// is not stale statistics yet.
    public var staleGraceSeconds: Double = 3_600

    public init() {}
}

/// A rule about the live database as a whole (usage counters, statistics, generic plans), as
/// opposed to a rule about one statement's text. Its examples are `ScanRuleInput` values.
public protocol ScanRule: Sendable {
    static var description: RuleDescription { get }
    func check(_ input: ScanRuleInput) -> [Violation]
}

/// Applies every scan rule of the registry; findings come back highest impact first.
public func applyScanRules(_ input: ScanRuleInput, rules: [any ScanRule] = RuleRegistry.scanRules) -> [Finding] {
    RuleEngine.check(scan: input, rules: rules)
}

extension Table {
    /// Rows as the planner believes (reltuples), else as the statistics collector counts them.
    var estimatedRows: Double {
        if let rows = rowEstimate { return rows }
        return Double(usage?.liveTuples ?? 0)
    }
}

func formatRows(_ rows: Double) -> String { formatCount(Int(rows.rounded())) }

func formatSize(_ bytes: Int64?) -> String { bytes.map(formatBytes) ?? "size unknown" }
