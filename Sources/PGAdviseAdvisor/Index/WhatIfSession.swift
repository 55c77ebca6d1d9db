import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// How a statement is planned for costing.
public enum PlanMode: Sendable, Equatable {
    /// The normalized text (`$n`) as a generic plan: what a prepared statement runs with any values.
    case generic
    /// A logged execution with its literal values in the text: a custom plan for those values.
    case literal
    /// A logged execution with bind values for its `$n`: a custom plan for those values.
    case boundValues([String?])
}

/// One workload statement the advisor costs.
public struct CostedStatement: Sendable {
    public var id: Int
    public var query: QueryStats
    public var shape: QueryShape
    /// What is planned: the normalized text, or a logged sample.
    public var text: String
    public var mode: PlanMode
    public var tables: Set<QualifiedName>
    public var parameterCount: Int
    /// For a statement typed from context, each parameter's number in the stored text → its number in
    /// `text` (they differ when typing took keyword parameters out: `extract($1 FROM ...)`); nil when
    /// `text` is the stored text.
    public var parameterNumbers: [Int: Int]? = nil
    /// The share of the statement's calls this plan stands for: below 1 when the statement is also
    /// costed under custom plans for skewed values (see `SkewedValues`).
    public var share: Double = 1
    /// For such a custom plan, the values it was planned with, for the reader.
    public var customPlan: String?

    /// The number in `text` of the stored text's `$n`; nil for a keyword parameter typing took out.
    func parameterNumber(stored n: Int) -> Int? { parameterNumbers == nil ? n : parameterNumbers?[n] }

    /// The normalized statement as a reader should see it (without a `PREPARE ... AS` wrapper).
    public var displayText: String { statementInsidePrepare(query.normalized) }

    /// Calls, at least one, so a statement seen once in a log still weighs; times its share.
    public var weight: Double { Double(max(1, query.calls)) * share }
}

/// What one EXPLAIN says.
public struct PlanSummary: Sendable, Equatable {
    public var totalCost: Double
    /// Index names in the plan (HypoPG names look like `<13556>btree_t_a`).
    public var indexNames: Set<String>
    /// Tables read by a sequential scan.
    public var sequentialScans: Set<String>
    /// Indexes probed once per outer row of a nested loop (for `FragileEstimates`).
    public var probes: [IndexProbe] = []
    /// Index scans stopped by a Limit once enough rows pass their Filter (for `FragileEstimates`).
    public var walks: [OrderedWalk] = []
    /// The server's random_page_cost, the planner's price of a heap page read out of order.
    public var randomPageCost = 4.0
}

/// A HypoPG what-if session: hypothetical indexes are private to this connection and vanish with it.
/// Costs are cached by statement and by the set of hypothetical indexes on the statement's tables, so
/// a run costs candidates times affected statements, not candidates times all statements.
public final class WhatIfSession {
    let connection: PostgresConnection
    private var created: [IndexCandidate: Int64] = [:]
    private var cache: [String: PlanSummary] = [:]
    private var planCacheMode: String?
    private var prepared = false
    public private(set) var explainCount = 0
    static let statementName = "pgadvise_whatif"

    /// A table of the catalog by its name as EXPLAIN prints it: its rows for `OrderedWalk`, its
    /// layout and indexes for `IndexProbe.heapPagesPerProbe`.
    private let table: (String) -> Table?

    public init(connection: PostgresConnection, table: @escaping (String) -> Table? = { _ in nil }) {
        self.connection = connection
        self.table = table
    }

    private lazy var randomPageCost: Double = {
        let value = try? connection.query("SELECT current_setting('random_page_cost')::float8 AS cost").records.first?.double("cost")
        return (value ?? nil) ?? 4.0
    }()

    /// Clears hypothetical indexes (ours only: HypoPG keeps them per session).
    public func reset() throws {
        try connection.query("SELECT hypopg_reset()")
        created.removeAll()
        if let hypotheticalActivity { Interruption.shared.end(hypotheticalActivity) }
        hypotheticalActivity = nil
    }

    /// Open while this session has hypothetical indexes, so an interruption says they went with it.
    private var hypotheticalActivity: Int?

    deinit {
        if let hypotheticalActivity { Interruption.shared.end(hypotheticalActivity) }
    }

    /// Checks that the statement can be prepared here and returns its number of parameters.
    public func parameterCount(of text: String) throws -> Int {
        try prepare(text)
        defer { try? deallocate() }
        let result = try connection.query("SELECT cardinality(parameter_types) AS n FROM pg_prepared_statements WHERE name = $1",
                                          [Self.statementName])
        return Int(result.records.first?.int("n") ?? 0)
    }

    /// The plan of `statement` with exactly `configuration`'s indexes on its tables made hypothetical.
    public func plan(_ statement: CostedStatement, with configuration: [IndexCandidate]) throws -> PlanSummary {
        let relevant = configuration.filter { statement.tables.contains($0.table) }
        let key = "\(statement.id)|" + relevant.map(\.description).sorted().joined(separator: "|")
        if let hit = cache[key] { return hit }
        try synchronize(to: relevant, on: statement.tables)
        let summary = try explain(statement)
        cache[key] = summary
        return summary
    }

    /// Creates or drops hypothetical indexes so that those on `tables` are exactly `wanted`.
    private func synchronize(to wanted: [IndexCandidate], on tables: Set<QualifiedName>) throws {
        let wantedSet = Set(wanted)
        for (candidate, oid) in created where tables.contains(candidate.table) && !wantedSet.contains(candidate) {
            try connection.query("SELECT hypopg_drop_index($1::oid)", [String(oid)])
            created[candidate] = nil
        }
        for candidate in wanted where created[candidate] == nil {
            created[candidate] = try createHypothetical(candidate)
        }
    }

    /// Returns the hypothetical index's oid; a definition PostgreSQL rejects (e.g. a non-immutable
    /// expression) surfaces as a PostgresError the caller turns into a dropped candidate.
    public func createHypothetical(_ candidate: IndexCandidate) throws -> Int64 {
        if hypotheticalActivity == nil {
            hypotheticalActivity = Interruption.shared.begin("the hypothetical indexes (HypoPG, private to pgadvise's session)")
        }
        let result = try connection.query("SELECT indexrelid FROM hypopg_create_index($1)", [candidate.definition()])
        guard let oid = result.records.first?.int("indexrelid") else {
            throw PGAdviseError(.database, "HypoPG returned no index for \(candidate.definition())")
        }
        return oid
    }

    private func explain(_ statement: CostedStatement) throws -> PlanSummary {
        explainCount += 1
        let json: String?
        switch statement.mode {
        case .literal:
            json = try connection.query("EXPLAIN (FORMAT JSON) \(Self.statementBody(statement.text))").rows.first?.first ?? nil
        case .generic, .boundValues:
            var values: [String] = Array(repeating: "NULL", count: statement.parameterCount)
            var mode = "force_generic_plan"
            if case .boundValues(let bound) = statement.mode {
                mode = "force_custom_plan"
                for (i, v) in bound.enumerated() where i < values.count { values[i] = v.map(quoteLiteral) ?? "NULL" }
            }
            try setPlanCacheMode(mode)
            // A prepared statement keeps its cached plan when hypothetical indexes change (HypoPG
            // sends no invalidation), so each EXPLAIN prepares afresh.
            try prepare(statement.text)
            defer { try? deallocate() }
            let args = values.isEmpty ? "" : "(" + values.joined(separator: ", ") + ")"
            json = try connection.query("EXPLAIN (FORMAT JSON) EXECUTE \(Self.statementName)\(args)").rows.first?.first ?? nil
        }
        guard let json, var summary = Self.summarize(explainJSON: json) else {
            throw PGAdviseError(.database, "EXPLAIN returned no plan for statement \(statement.query.fingerprint)")
        }
        // HypoPG names a hypothetical index `<oid>name`; the oid says which candidate it stands for now.
        let byPrefix = Dictionary(created.map { ("<\($0.value)>", $0.key) }, uniquingKeysWith: { a, _ in a })
        for i in summary.probes.indices {
            guard let end = summary.probes[i].indexName.firstIndex(of: ">") else { continue }
            summary.probes[i].candidate = byPrefix[String(summary.probes[i].indexName[...end])]
        }
        summary.randomPageCost = randomPageCost
        for i in summary.walks.indices where summary.walks[i].walksWholeHeapIndex {
            summary.walks[i].rowsWalked = summary.walks[i].relation.flatMap(table)?.rowEstimate.map { $0 * summary.walks[i].share }
        }
        for i in summary.probes.indices where summary.probes[i].heapRowsPerProbe > 0 {
            summary.probes[i].heapPagesPerProbe = heapPages(of: summary.probes[i])
        }
        return summary
    }

    /// `FragileEstimates.heapPages` for a probe, from the leading column of the index it probes
    /// (the candidate's, or the existing index's by name); nil without the table's statistics.
    private func heapPages(of probe: IndexProbe) -> Double? {
        guard let relation = probe.relation, let table = table(relation), let rows = table.rowEstimate, rows > 0,
              let bytes = table.sizeBytes, bytes > 0 else { return nil }
        let leading = probe.candidate.map { $0.keys.first?.column }
            ?? table.indexes.first { $0.name == probe.indexName }?.keys.first?.column
        guard let leading, let correlation = table.column(leading)?.stats?.correlation else { return nil }
        return FragileEstimates.heapPages(rows: probe.heapRowsPerProbe, correlation: correlation,
                                          rowsPerPage: rows / max(1, Double(bytes) / 8192))
    }

    private func setPlanCacheMode(_ mode: String) throws {
        guard planCacheMode != mode else { return }
        try connection.query("SELECT set_config('plan_cache_mode', $1, false)", [mode])
        planCacheMode = mode
    }

    private func prepare(_ text: String) throws {
        try deallocate()
        // The extended protocol refuses more than one statement, whatever a logged text holds.
        try connection.query("PREPARE \(Self.statementName) AS \(Self.statementBody(text))")
        prepared = true
    }

    private func deallocate() throws {
        guard prepared else { return }
        try connection.execute("DEALLOCATE \(Self.statementName)")
        prepared = false
    }

    /// The statement without trailing semicolons, so it can follow `PREPARE name AS` or `EXPLAIN`.
    static func statementBody(_ text: String) -> String {
        var s = Substring(text)
        while let last = s.last, last == ";" || last.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    static func summarize(explainJSON: String) -> PlanSummary? {
        guard let plan = try? ExplainParser.parse(explainJSON) else { return nil }
        let nodes = plan.root.allNodes
        return PlanSummary(totalCost: plan.root.totalCost, indexNames: Set(nodes.compactMap(\.indexName)),
                           sequentialScans: Set(nodes.filter { $0.nodeType == "Seq Scan" }.compactMap(\.relationName)),
                           probes: FragileEstimates.probes(in: plan.root), walks: FragileEstimates.walks(in: plan.root))
    }
}
