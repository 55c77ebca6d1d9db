import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

public struct IndexAdvisorOptions: Sendable {
    /// Storage the recommendations may add; nil: `defaultBudgetShare` of the database's size.
    public var budgetBytes: Int64?
    public var maxColumns: Int
    /// Build each selected index in a rolled-back transaction and time the statements it serves.
    public var measure: Bool
    public var measureRuns: Int
    /// Statement timeout of each timed run under `measure`; nil: the session's.
    public var measureTimeoutMs: Int?
    public var createExtension: Bool
    /// The heaviest statements (by total time) that are costed; the rest weigh too little to matter.
    public var maxStatements: Int
    public var lockTimeoutMs: Int
    public var strategy: SelectionStrategy

    public init(budgetBytes: Int64? = nil, maxColumns: Int = 3, measure: Bool = false, measureRuns: Int = 5,
                measureTimeoutMs: Int? = nil, createExtension: Bool = false, maxStatements: Int = 200,
                lockTimeoutMs: Int = 1_000, strategy: SelectionStrategy = .extend) {
        self.strategy = strategy; self.measureTimeoutMs = measureTimeoutMs
        self.budgetBytes = budgetBytes; self.maxColumns = maxColumns; self.measure = measure
        self.measureRuns = measureRuns; self.createExtension = createExtension
        self.maxStatements = maxStatements; self.lockTimeoutMs = lockTimeoutMs
    }
}

/// Proposes, costs and (optionally) verifies indexes for a workload: candidates from the statements
/// and pg_stats, HypoPG what-if costs, a budgeted selection, then measured before/after runs
/// (docs/ARCHITECTURE.md).
public final class IndexAdvisor {
    /// Default budget: a quarter of the database's current size (heap plus indexes). Indexes of an
    /// OLTP database commonly take 25-50% of its size; one round of advice adding at most a quarter
    /// more bounds the storage and write cost it can add while leaving room for the few indexes a
    /// workload lacks. Small databases get at least `minimumDefaultBudget`.
    public static let defaultBudgetShare = 0.25
    public static let minimumDefaultBudget: Int64 = 16 << 20
    /// Rounds of selection and measurement under --measure (see `selectAndMeasure`).
    static let measureRounds = 3

    let connection: PostgresConnection
    let catalog: Catalog
    let options: IndexAdvisorOptions
    var sizes = SizeEstimator()
    /// Index maintenance is charged from the workload's own INSERT, UPDATE, DELETE and MERGE rows
    /// (their `rows`, else their calls) rather than from pg_stat_user_tables, because the table
    /// counters usually cover a far longer window (often the initial load) than the statements'
    /// calls, and the penalty must be on the same scale as the reads it is weighed against. A table
    /// the workload does not write (or writes only in a log, which holds only the slow writes) but
    /// whose counters show writes is charged its counters scaled to the workload's window, when both
    /// windows are known. A bulk load is charged at most as rebuilding the index around it.
    private(set) var writes: WriteCostModel
    /// The candidate each recommendation was made from, by its name (the recommendation keeps only text).
    private var candidatesByName: [String: IndexCandidate] = [:]

    public init(connection: PostgresConnection, catalog: Catalog, options: IndexAdvisorOptions = IndexAdvisorOptions()) {
        self.connection = connection
        self.catalog = catalog
        self.options = options
        self.writes = WriteCostModel(catalog: catalog, workload: Workload(source: .pgStatStatements, queries: []),
                                     workloadWindowSeconds: nil, tableWindowSeconds: nil)
    }

    public var budget: Int64 {
        if let explicit = options.budgetBytes { return explicit }
        let heap = catalog.tables.reduce(Int64(0)) { $0 + ($1.sizeBytes ?? 0) }
        let indexes = catalog.tables.reduce(Int64(0)) { sum, t in sum + t.indexes.reduce(0) { $0 + ($1.sizeBytes ?? 0) } }
        return max(Self.minimumDefaultBudget, Int64(Double(heap + indexes) * Self.defaultBudgetShare))
    }

    public func advise(_ workload: Workload) throws -> IndexAdvice {
        var advice = IndexAdvice(budgetBytes: budget)
        // What-if and measurement statements are not the workload: keep them out of
        // pg_stat_statements (only a superuser may change the setting; others are not tracked apart).
        _ = try? connection.query("SELECT set_config('pg_stat_statements.track', 'none', false)")
        if options.measure {
            if try connection.isInRecovery() {
                throw PGAdviseError(.usage, "--measure builds indexes and this server is a standby (pg_is_in_recovery() is true); "
                                    + "run it against a writable staging copy of the database")
            }
            advice.notes.append("--measure ran CREATE INDEX inside transactions that were rolled back; while each index was "
                                + "being built it blocked writes to its table. --measure is meant for a staging copy.")
        }
        advice.hypopg = try ensureHypoPG(notes: &advice.notes)
        let session = WhatIfSession(connection: connection, table: { [catalog] in catalog.table(QualifiedName($0)) })
        if advice.hypopg { try session.reset() }

        try countWrites(workload, notes: &advice.notes)
        advice.bulkLoads = writes.bulkLoads.map {
            BulkLoad(fingerprint: $0.query.fingerprint, text: $0.displayText, table: $0.table.description,
                     calls: $0.query.calls, rows: $0.rows)
        }
        var generic = try costedStatements(workload, session: session, skipped: &advice.skipped, inferred: &advice.notes)
        advice.statementsAnalyzed = generic.count
        generic = try withQualstatsValues(generic, notes: &advice.notes)
        let statements = advice.hypopg ? try withSkewedValuePlans(generic, session: session, notes: &advice.notes,
                                                                  observed: &advice.observedValues) : generic
        guard !statements.isEmpty else {
            advice.notes.append("No statement of the workload reads a table of this database with a WHERE, JOIN or ORDER BY "
                                + "that an index could serve.")
            return advice
        }

        let (ordered, origin) = candidates(for: statements, notes: &advice.notes)
        let inverted = ordered.filter { $0.method == "gin" }
        var costable = ordered.filter { $0.method != "gin" }
        sizes.distinctKeyCounts = try distinctKeyCounts(for: costable, notes: &advice.notes)
        costable = withoutUnprofitableKeyedForms(costable)

        var recommendations: [IndexRecommendation] = []
        if advice.hypopg {
            recommendations = try selectAndMeasure(statements: statements, costable: costable, inverted: inverted,
                                                   origin: origin, session: session, advice: &advice)
        } else if options.measure {
            recommendations = try measureUncosted(ordered, origin: origin, statements: statements, session: session,
                                                  withdrawn: &advice.withdrawn)
        }
        advice.recommendations = recommendations
        if options.measure { try measureFinalSetWithdrawingRegressions(&advice, statements: statements) }
        advice.redundant = redundantIndexes(for: advice.recommendations)
        return advice
    }

    /// Every statement's candidates, in first-proposed order, minus those an existing index already
    /// serves, with the statements (by id) that proposed each.
    private func candidates(for statements: [CostedStatement], notes: inout [String])
        -> (ordered: [IndexCandidate], origin: [IndexCandidate: [Int]]) {
        var origin: [IndexCandidate: [Int]] = [:]
        var ordered: [IndexCandidate] = []
        let generator = CandidateGenerator(catalog: catalog, maxColumns: options.maxColumns)
        for statement in statements {
            let output = generator.candidates(for: statement.shape, observed: statement.query.observedValues)
            notes += output.notes.filter { !notes.contains($0) }
            for candidate in output.candidates where !isServedByExisting(candidate) {
                if origin[candidate] == nil { ordered.append(candidate) }
                origin[candidate, default: []].append(statement.id)
            }
        }
        return (ordered, origin)
    }

    /// Without HypoPG nothing can be costed: under --measure the first candidates are built and
    /// timed one by one instead, and the narrowest of those that pay is kept.
    private func measureUncosted(_ ordered: [IndexCandidate], origin: [IndexCandidate: [Int]], statements: [CostedStatement],
                                 session: WhatIfSession, withdrawn: inout [WithdrawnRecommendation]) throws -> [IndexRecommendation] {
        var names = Set(catalog.tables.flatMap { $0.indexes.map(\.name) })
        var kept: [IndexRecommendation] = []
        for candidate in ordered.prefix(20) {
            let served = (origin[candidate] ?? []).map { statements[$0] }
            var rec = unestimatedRecommendation(candidate, served: served, names: &names)
            rec.notes = ["Not costed (HypoPG missing); proposed for measurement."]
            let verdict = try verify(rec, statements: statements, session: session)
            if let withdrawal = verdict.withdrawal { withdrawn.append(withdrawal) } else { kept.append(verdict.recommendation) }
        }
        return narrowestSufficient(kept)
    }

    /// The search, and with --measure the verification of what it chose. An index withdrawn on its
    /// measurement leaves its budget to the next best: the search runs again without it (its costs
    /// are cached) and only new proposals are measured. A few rounds at most: each round builds indexes.
    private func selectAndMeasure(statements: [CostedStatement], costable: [IndexCandidate], inverted: [IndexCandidate],
                                  origin: [IndexCandidate: [Int]], session: WhatIfSession,
                                  advice: inout IndexAdvice) throws -> [IndexRecommendation] {
        var recommendations: [IndexRecommendation] = []
        var excluded = Set<IndexCandidate>()
        var verdicts: [String: MeasurementVerdict] = [:]
        var roundNotes: [String] = []
        var last: Selection?
        for round in 1...Self.measureRounds {
            let selection = try selectRecommendations(statements: statements, costable: costable, inverted: inverted,
                                                      origin: origin, session: session, excluding: excluded)
            last = selection
            try session.reset()
            recommendations = selection.recommendations
            guard options.measure else { break }
            var kept: [IndexRecommendation] = []
            var withdrawnNow: [IndexCandidate] = []
            for rec in recommendations {
                let key = rec.ddl + " " + rec.statements.map(\.fingerprint).joined(separator: ",")
                if verdicts[key] == nil { verdicts[key] = try verify(rec, statements: statements, session: session) }
                guard let verdict = verdicts[key] else { continue }
                if let withdrawal = verdict.withdrawal {
                    if !advice.withdrawn.contains(where: { $0.recommendation.ddl == rec.ddl }) { advice.withdrawn.append(withdrawal) }
                    if let candidate = candidate(of: rec) { withdrawnNow.append(candidate) }
                } else {
                    kept.append(verdict.recommendation)
                }
            }
            recommendations = kept
            let newlyExcluded = withdrawnNow.filter { !excluded.contains($0) }
            if newlyExcluded.isEmpty { break }
            excluded.formUnion(newlyExcluded)
            if round < Self.measureRounds {
                roundNotes.append("Selection round \(round + 1) ran without the \(newlyExcluded.count) withdrawn "
                                  + "index\(newlyExcluded.count == 1 ? "" : "es") (--measure).")
            }
        }
        advice.notes += roundNotes + (last?.notes ?? [])
        advice.rejected = last?.rejected ?? []
        advice.workloadCostBefore = last?.costBefore
        advice.workloadCostAfter = last?.costAfter
        // The estimates describe the set that was costed; what is kept after withdrawals is costed again.
        if options.measure {
            // HypoPG cannot simulate GIN: the kept GIN proposals stay out of the estimate, as in the search.
            let kept = recommendations.compactMap(candidate(of:)).filter { $0.method != "gin" }
            advice.workloadCostAfter = try statements.reduce(0.0) { $0 + $1.weight * (try session.plan($1, with: kept).totalCost) }
            try session.reset()
        }
        return recommendations
    }

    private struct Selection {
        var recommendations: [IndexRecommendation]
        var notes: [String]
        var rejected: [RejectedCandidate]
        var costBefore: Double
        var costAfter: Double
    }

    /// The search over the costable candidates (minus `excluded`), then the GIN proposals that fit
    /// what is left of the budget, and the workload's estimated cost before and after.
    private func selectRecommendations(statements: [CostedStatement], costable: [IndexCandidate], inverted: [IndexCandidate],
                                       origin: [IndexCandidate: [Int]], session: WhatIfSession,
                                       excluding excluded: Set<IndexCandidate>) throws -> Selection {
        // HypoPG cannot cost GIN, so the inverted proposals cannot compete in the search; they serve
        // statements (containment, overlap, full text) that no B-tree can, and are small next to the
        // B-trees, so their bytes are set aside before the search rather than left to what remains;
        // at most half the budget, so that large ones (full text over a big table) cannot starve the
        // indexes whose gain is estimated.
        let reserved = options.strategy == .extend
            ? inverted.filter { !excluded.contains($0) }.reduce(Int64(0)) { $0 + estimatedSize($1) } : 0
        let selector = IndexSelector(session: session, statements: statements, fullCandidates: costable,
                                     size: { self.estimatedSize($0) },
                                     writeCost: { [writes] in writes.cost(of: $0, tables: [$1]) },
                                     budget: budget - min(reserved, budget / 2), robustnessCheck: !options.measure, excluding: excluded,
                                     servedByExisting: isServedByExisting)
        let chosen = options.strategy == .extend ? try selector.select()
            : try DexterRuleBaseline(session: session, statements: statements, catalog: catalog).select()
        var notes: [String] = []
        for (candidate, reason) in selector.rejected.sorted(by: { $0.key.description < $1.key.description }) {
            notes.append("Could not cost \(candidate.definition()): \(reason)")
        }
        var recommendations: [IndexRecommendation] = []
        var used = chosen.reduce(Int64(0)) { $0 + estimatedSize($1) }
        var names = Set(catalog.tables.flatMap { $0.indexes.map(\.name) })
        for index in chosen {
            var rec = try recommendation(for: index, chosen: chosen, selector: selector, names: &names)
            if selector.robustnessCheck { rec.notes += try fragileEstimateNotes(for: index, chosen: chosen, selector: selector) }
            recommendations.append(rec)
        }
        var invertedLeftOut: [RejectedCandidate] = []
        for candidate in inverted where options.strategy == .extend && !excluded.contains(candidate) {
            let size = estimatedSize(candidate)
            guard used + size <= budget else {
                invertedLeftOut.append(invertedOverBudget(candidate, size: size, budgetLeft: budget - used))
                continue
            }
            guard let rec = try invertedRecommendation(candidate, statements: statements, origin: origin[candidate] ?? [],
                                                       session: session, chosen: chosen, names: &names) else { continue }
            used += size
            recommendations.append(rec)
        }
        return Selection(
            recommendations: recommendations, notes: notes, rejected: invertedLeftOut + leftOutCandidates(selector, chosen: chosen),
            costBefore: try statements.reduce(0.0) { $0 + $1.weight * (try session.plan($1, with: []).totalCost) },
            costAfter: try statements.reduce(0.0) { $0 + $1.weight * (try session.plan($1, with: chosen).totalCost) })
    }

    // MARK: - HypoPG

    private func ensureHypoPG(notes: inout [String]) throws -> Bool {
        let installed = !(try connection.query("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'").isEmpty)
        if installed { return true }
        let available = !(try connection.query("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").isEmpty)
        let major = connection.serverVersionNumber / 10000
        if options.createExtension {
            guard available else {
                throw PGAdviseError(.database, "--create-extension: HypoPG is not available on this server; install the "
                                    + "package postgresql-\(major)-hypopg (Debian/Ubuntu) or build it from github.com/HypoPG/hypopg")
            }
            do {
                try connection.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            } catch let error as PostgresError {
                throw PGAdviseError(.database, "--create-extension: CREATE EXTENSION hypopg failed: \(error.message). "
                                    + "A superuser or the database owner must run it.")
            }
            notes.append("Created the extension hypopg in this database (--create-extension).")
            return true
        }
        let how = available ? "run CREATE EXTENSION hypopg in this database"
            : "install the package postgresql-\(major)-hypopg on the server, then run CREATE EXTENSION hypopg"
        notes.append("HypoPG is not installed, so no index could be costed: \(how), or pass --create-extension. "
                     + (options.measure ? "Candidates were measured instead." : "Nothing was written."))
        return false
    }

    // MARK: - Statements

    /// The type of a column of `tables` by its lower-case name, when the tables agree on it.
    private func columnTypes(of tables: Set<QualifiedName>) -> (String) -> String? {
        var types: [String: String?] = [:]
        for table in tables.compactMap({ catalog.table($0) }) {
            for column in table.columns {
                let name = column.name.lowercased()
                if let known = types[name], known != column.type { types[name] = .some(nil) } else { types[name] = column.type }
            }
        }
        return { types[$0] ?? nil }
    }

    private func costedStatements(_ workload: Workload, session: WhatIfSession, skipped: inout [SkippedStatement],
                                  inferred: inout [String]) throws -> [CostedStatement] {
        let heaviest = workload.queries.filter(\.parsed).sorted { $0.totalMs > $1.totalMs }.prefix(options.maxStatements)
        var out: [CostedStatement] = []
        trace("workload: \(workload.queries.count) statements, \(heaviest.count) parsed and heaviest")
        for query in heaviest {
            // `date $1` (a typed literal pg_stat_statements normalized) is prepared as `$1::date`.
            var text = TypedParameters.preparable(statementInsidePrepare(query.normalized))
            var mode = PlanMode.generic
            if let sample = query.slowest, buildShape(sample.text) != nil {
                if let bound = sample.parameters, !bound.isEmpty {
                    text = sample.text
                    mode = .boundValues(bound)
                } else if let n = try? session.parameterCount(of: sample.text), n == 0 {
                    text = sample.text
                    mode = .literal
                }
            }
            guard let shape = buildShape(text)?.resolved(with: catalog), [.select, .update, .delete].contains(shape.kind) else {
                trace("not a costable statement: \(text)")
                continue
            }
            let tables = Set(shape.allRelations.compactMap { catalog.table($0.name)?.name })
            trace("statement \(query.fingerprint) \(mode) tables \(tables): \(text)")
            guard !tables.isEmpty else { continue }
            var parameters: Int
            var costedShape = shape
            var renumbered: [Int: Int]? = nil
            do {
                parameters = mode == .literal ? 0 : try session.parameterCount(of: text)
            } catch let error as PostgresError {
                // PostgreSQL could not type some parameter: type them from their context and try again.
                guard mode == .generic, let typed = ParameterTypeInference.typed(text, columnType: columnTypes(of: tables)),
                      let typedShape = buildShape(typed.text)?.resolved(with: catalog),
                      let count = try? session.parameterCount(of: typed.text) else {
                    skipped.append(SkippedStatement(fingerprint: query.fingerprint, text: query.normalized,
                                                    reason: "cannot be prepared here: \(error.message)"))
                    continue
                }
                trace("statement \(query.fingerprint) typed: \(typed.text)")
                inferred.append("Statement \(query.fingerprint) could not be prepared as stored (\(error.message)); it was "
                                + "planned with its parameters typed from their context: \(typed.inferences.joined(separator: ", ")).")
                (text, parameters, costedShape) = (typed.text, count, typedShape)
                renumbered = typed.numbers
            }
            out.append(CostedStatement(id: out.count, query: query, shape: costedShape, text: text, mode: mode,
                                       tables: tables, parameterCount: parameters, parameterNumbers: renumbered))
        }
        return out
    }

    // MARK: - Existing indexes

    /// True when a valid existing index of the same method and predicate has the candidate's keys as
    /// its leading keys (in the same or the exactly reversed order) and holds its INCLUDE columns.
    func isServedByExisting(_ candidate: IndexCandidate) -> Bool {
        guard let table = catalog.table(candidate.table) else { return false }
        return table.indexes.contains { index in
            guard index.valid, index.method == candidate.method,
                  normalizedSQL(index.predicate) == normalizedSQL(candidate.predicate),
                  index.keys.count >= candidate.keys.count else { return false }
            let pairs = zip(candidate.keys, index.keys)
            guard pairs.allSatisfy({ keyLabel($0.0) == keyLabel($0.1) }) else { return false }
            let sameDirection = pairs.allSatisfy { $0.0.descending == $0.1.descending }
            let reversed = pairs.allSatisfy { $0.0.descending != $0.1.descending }
            let held = Set(index.keys.compactMap(\.column) + index.include)
            return (sameDirection || reversed) && Set(candidate.include).isSubset(of: held)
        }
    }

    private func keyLabel(_ key: CandidateKey) -> String { key.column ?? normalizedSQL(key.expression) }

    /// Below this share of the covering index's size, a deduplicated key form is worth weighing;
    /// closer than that the difference is within the size model's error, and the narrower keys of
    /// the covering form are cheaper to compare and to keep.
    static let keyedFormShare = 0.9

    /// The candidates without the deduplicated key forms (`CandidateGenerator.deduplicatedForm`)
    /// that are not clearly smaller than the covering index they were made from.
    func withoutUnprofitableKeyedForms(_ candidates: [IndexCandidate]) -> [IndexCandidate] {
        var unprofitable = Set<IndexCandidate>()
        for covering in candidates where !covering.include.isEmpty {
            guard let table = catalog.table(covering.table),
                  let keyed = CandidateGenerator.deduplicatedForm(of: covering, table: table) else { continue }
            let keyedSize = Double(estimatedSize(keyed)), coveringSize = Double(estimatedSize(covering))
            trace("keyed form \(keyed) \(Int(keyedSize)) against \(covering) \(Int(coveringSize))")
            if keyedSize >= coveringSize * Self.keyedFormShare { unprofitable.insert(keyed) }
        }
        return candidates.filter { !unprofitable.contains($0) }
    }

    // MARK: - Recommendations

    func estimatedSize(_ candidate: IndexCandidate) -> Int64 {
        guard let table = catalog.table(candidate.table) else { return 8192 }
        return sizes.estimate(candidate, table: table)
    }

    // MARK: - Writes

    private func countWrites(_ workload: Workload, notes: inout [String]) throws {
        let workloadWindow = workload.windowSeconds
        let tableWindow = try tableStatsWindowSeconds()
        writes = WriteCostModel(catalog: catalog, workload: workload, workloadWindowSeconds: workloadWindow,
                                tableWindowSeconds: tableWindow)
        let uncharged = writes.uncharged(workloadWindowSeconds: workloadWindow, tableWindowSeconds: tableWindow)
        if !uncharged.isEmpty {
            notes.append("pg_stat_user_tables shows writes to \(uncharged.map(\.description).joined(separator: ", ")) that no "
                         + "statement of the workload makes, and the window they were counted over "
                         + (workloadWindow == nil ? "(the workload's, from pg_stat_statements_info.stats_reset)"
                            : "(pg_stat_database.stats_reset)")
                         + " is unknown, so their index maintenance is not charged.")
        }
    }

    /// Seconds since this database's table counters were reset; nil when they never were (then they
    /// count since the cluster was created, which says nothing about a rate).
    private func tableStatsWindowSeconds() throws -> Double? {
        try connection.query("SELECT extract(epoch FROM now() - stats_reset)::float8 AS seconds FROM pg_stat_database "
                             + "WHERE datname = current_database()").records.first?.double("seconds")
    }

    /// Tables share the namespace of indexes: a suggested name equal to a table's would fail to build.
    private lazy var tableNames = Set(catalog.tables.map(\.name.name))

    private func uniqueName(_ candidate: IndexCandidate, names: inout Set<String>) -> String {
        var name = candidate.suggestedName
        var n = 2
        while names.contains(name) || tableNames.contains(name) {
            name = identifierPrefix(candidate.suggestedName, bytes: 63 - String(n).utf8.count) + String(n)
            n += 1
        }
        names.insert(name)
        candidatesByName[name] = candidate
        return name
    }

    private func recommendation(for index: IndexCandidate, chosen: [IndexCandidate], selector: IndexSelector,
                                names: inout Set<String>) throws -> IndexRecommendation {
        let without = chosen.filter { $0 != index }
        var served: [ServedStatement] = []
        // A statement costed under custom plans too is listed once per plan, weighing its share of the calls.
        var weights: [Double] = []
        for statement in selector.affected(by: index) where statement.share > 0 {
            let before = try selector.cost(statement, without)
            let after = try selector.cost(statement, chosen)
            guard after < before * 0.99 else { continue }
            served.append(ServedStatement(fingerprint: statement.query.fingerprint, text: statement.displayText,
                                          calls: statement.query.calls, estimatedCostBefore: before, estimatedCostAfter: after,
                                          customPlan: statement.customPlan))
            weights.append(statement.weight)
        }
        let name = uniqueName(index, names: &names)
        return IndexRecommendation(
            ddl: index.definition(name: name, concurrently: true), name: name, kind: index.kind,
            table: index.table.description, method: index.method, columns: index.keys.map(\.sql), include: index.include,
            predicate: index.predicate, statements: served,
            estimatedCostBefore: zip(served, weights).reduce(0) { $0 + $1.1 * ($1.0.estimatedCostBefore ?? 0) },
            estimatedCostAfter: zip(served, weights).reduce(0) { $0 + $1.1 * ($1.0.estimatedCostAfter ?? 0) },
            sizeBytes: estimatedSize(index), sizeSource: sizes.sizeSource(of: index), writeOverhead: writes.overhead(of: index, chosen: chosen),
            verified: true)
    }

    private func unestimatedRecommendation(_ candidate: IndexCandidate, served: [CostedStatement], names: inout Set<String>) -> IndexRecommendation {
        let name = uniqueName(candidate, names: &names)
        return IndexRecommendation(
            ddl: candidate.definition(name: name, concurrently: true), name: name, kind: candidate.kind,
            table: candidate.table.description, method: candidate.method, columns: candidate.keys.map(\.sql),
            include: candidate.include, predicate: candidate.predicate,
            statements: served.map { ServedStatement(fingerprint: $0.query.fingerprint, text: $0.displayText, calls: $0.query.calls) },
            sizeBytes: estimatedSize(candidate), sizeSource: sizes.sizeSource(of: candidate), writeOverhead: writes.overhead(of: candidate, chosen: []),
            verified: false)
    }

    /// GIN proposals: HypoPG cannot simulate them, so they are proposed, unverified, only for statements
    /// whose plan reads the table sequentially, and the table is big enough for an index to matter.
    private func invertedRecommendation(_ candidate: IndexCandidate, statements: [CostedStatement], origin: [Int],
                                        session: WhatIfSession, chosen: [IndexCandidate], names: inout Set<String>) throws -> IndexRecommendation? {
        guard let table = catalog.table(candidate.table), (table.rowEstimate ?? 0) >= 10_000 else { return nil }
        var served: [CostedStatement] = []
        for id in origin {
            let plan = try session.plan(statements[id], with: chosen)
            if plan.sequentialScans.contains(table.name.name) { served.append(statements[id]) }
        }
        guard !served.isEmpty else { return nil }
        var rec = unestimatedRecommendation(candidate, served: served, names: &names)
        rec.estimatedCostBefore = try served.reduce(0.0) { $0 + $1.weight * (try session.plan($1, with: chosen).totalCost) }
        for i in rec.statements.indices {
            rec.statements[i].estimatedCostBefore = try session.plan(served[i], with: chosen).totalCost
        }
        rec.notes.append("HypoPG cannot simulate \(candidate.method.uppercased()) indexes: the benefit is not estimated and the "
                         + "size is a rough pg_stats figure. Verify with --measure on a staging copy.")
        return rec
    }

    // MARK: - Measurement

    /// Builds the index in a rolled-back transaction, times the statements it serves and the writes
    /// that maintain it (MeasuredVerifier), and judges the figures (MeasurementVerdict).
    private func verify(_ rec: IndexRecommendation, statements: [CostedStatement], session: WhatIfSession) throws -> MeasurementVerdict {
        var rec = rec
        let reads = runnableReads(of: &rec, statements: statements)
        guard !reads.isEmpty, let candidate = candidate(of: rec) else {
            rec.notes.append("Not measured: none of its statements could be run with representative values.")
            return MeasurementVerdict(unmeasured: rec)
        }
        let servedFingerprints = Set(rec.statements.map(\.fingerprint))
        var runnableWrites: [(CostedStatement, [[String]])] = []
        for write in writes.writesMaintaining(candidate) where !servedFingerprints.contains(write.query.fingerprint) {
            if let measurable = try measurableWrite(write, id: statements.count + runnableWrites.count, session: session) {
                runnableWrites.append(measurable)
            } else {
                rec.notes.append("Write statement \(write.query.fingerprint) not measured: no representative values for its parameters.")
            }
        }
        let verifier = MeasuredVerifier(connection: connection, runs: options.measureRuns, lockTimeoutMs: options.lockTimeoutMs,
                                        runTimeoutMs: options.measureTimeoutMs)
        let outcome = try verifier.measure(candidate, name: rec.name, statements: reads, writes: runnableWrites)
        for (fingerprint, reason) in outcome.unmeasured.sorted(by: { $0.key < $1.key }) {
            rec.notes.append("Statement \(fingerprint) could not be run: \(reason)")
        }
        return MeasurementVerdict(rec, outcome: outcome, runs: options.measureRuns, measuredWrites: !runnableWrites.isEmpty)
    }

    /// The statements a recommendation serves that can run, with representative values for their
    /// parameters; a note on the recommendation for each that cannot.
    private func runnableReads(of rec: inout IndexRecommendation, statements: [CostedStatement]) -> [(CostedStatement, [String])] {
        let byFingerprint = Dictionary(statements.map { ($0.query.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        var runnable: [(CostedStatement, [String])] = []
        var seen = Set<String>()
        // A statement costed under custom plans too is listed once per plan, and run once.
        for served in rec.statements where seen.insert(served.fingerprint).inserted {
            guard let statement = byFingerprint[served.fingerprint] else { continue }
            guard let values = representativeValues(for: statement, catalog: catalog) else {
                rec.notes.append("Statement \(served.fingerprint) not measured: \(missingValuesReason(of: statement, catalog: catalog)) (no bind value "
                                 + "in the logs, no constant pg_qualstats recorded, and not compared with a column whose statistics "
                                 + "give one, or inside an expression that does not reduce to one parameter).")
                continue
            }
            runnable.append((statement, values))
        }
        return runnable
    }

    /// A write statement ready to be measured, with one value set per run (before and after): its
    /// normalized text with values from pg_stats and its logged sample, so runs write different
    /// rows; else the logged sample itself (the same row every run, before and after alike). Nil
    /// when neither can run.
    private func measurableWrite(_ write: TableWrite, id: Int, session: WhatIfSession) throws -> (CostedStatement, [[String]])? {
        let sets = 2 * (options.measureRuns + 1)
        let sample = write.query.slowest.flatMap { buildShape($0.text) }
        var attempts: [(String, PlanMode)] = [(write.displayText, .generic)]
        if let logged = write.query.slowest, sample != nil {
            if let bound = logged.parameters, !bound.isEmpty { attempts.append((logged.text, .boundValues(bound))) }
            else { attempts.append((logged.text, .literal)) }
        }
        for (text, mode) in attempts {
            guard let shape = buildShape(text)?.resolved(with: catalog),
                  let parameters = try? session.parameterCount(of: text), mode != .literal || parameters == 0 else { continue }
            let statement = CostedStatement(id: id, query: write.query, shape: shape, text: text, mode: mode,
                                            tables: [write.table], parameterCount: parameters)
            if let values = representativeWriteValueSets(for: statement, catalog: catalog, sample: sample, count: sets) {
                return (statement, values)
            }
        }
        return nil
    }

    /// Without HypoPG every candidate was measured on its own, so one index and its widening can both
    /// pass: keep the narrower unless the wider one measured at least 10% and 0.1 ms per call faster.
    private func narrowestSufficient(_ recs: [IndexRecommendation]) -> [IndexRecommendation] {
        var kept = recs
        for rec in recs {
            guard let narrow = candidate(of: rec), let narrowMs = rec.measured?.afterMs else { continue }
            for other in kept where other.name != rec.name {
                guard let wide = candidate(of: other), narrow.isPrefix(of: wide), let wideMs = other.measured?.afterMs else { continue }
                // Sub-millisecond differences are run-to-run noise on a busy server.
                let widerPays = wideMs < narrowMs * 0.9 && narrowMs - wideMs >= 0.1
                kept.removeAll { $0.name == (widerPays ? rec.name : other.name) }
            }
        }
        return kept
    }

    /// The candidate a recommendation was made from.
    func candidate(of rec: IndexRecommendation) -> IndexCandidate? { candidatesByName[rec.name] }

    // MARK: - Redundant existing indexes

    func redundantIndexes(for recommendations: [IndexRecommendation]) -> [RedundantIndex] {
        var out: [RedundantIndex] = []
        for rec in recommendations where rec.method == "btree" && rec.predicate == nil {
            guard let candidate = candidate(of: rec), let table = catalog.table(candidate.table) else { continue }
            let recColumns = candidate.keys.map { $0.column }
            for index in table.indexes where index.method == "btree" && index.predicate == nil && !index.unique && !index.primary
                && index.constraintName == nil && index.keys.allSatisfy({ $0.column != nil }) && index.include.isEmpty {
                let columns = index.keys.map(\.column)
                // Same keys count only when the recommendation adds INCLUDE columns (it would not be
                // proposed otherwise).
                guard columns.count < recColumns.count || (columns.count == recColumns.count && !rec.include.isEmpty),
                      Array(recColumns.prefix(columns.count)) == columns else { continue }
                let scans = index.scans.map { "\($0) scans since the statistics were reset" } ?? "scan count unknown"
                out.append(RedundantIndex(
                    index: index.name, table: table.name.description,
                    ddl: "DROP INDEX CONCURRENTLY \(QualifiedName(schema: table.name.schema, index.name))",
                    supersededBy: rec.name,
                    evidence: "its keys (\(columns.compactMap { $0 }.joined(separator: ", "))) lead the recommended \(rec.name) "
                        + "(\(rec.columns.joined(separator: ", "))\(rec.include.isEmpty ? "" : " INCLUDE " + rec.include.joined(separator: ", "))), "
                        + "which serves every lookup it serves; \(scans)",
                    sizeBytes: index.sizeBytes))
            }
        }
        return out
    }
}

/// SQL text reduced for comparison: lower case, casts, parentheses and spaces removed, so
/// `lower((email)::text)` (as PostgreSQL prints an index) equals `lower(email)` (as written).
func normalizedSQL(_ text: String?) -> String {
    guard let text else { return "" }
    var s = text.lowercased()
    s = s.replacingOccurrences(of: #"::[a-z_ ]+(\[\])?"#, with: "", options: .regularExpression)
    return s.filter { !"() \"".contains($0) }
}

/// pg_stat_statements files a statement run through SQL-level `PREPARE name AS ...` (an application's,
/// or pgadvise's own what-if session) under the PREPARE text; the statement is what follows `AS`.
func statementInsidePrepare(_ text: String) -> String {
    let pattern = #"^\s*(/\*.*?\*/\s*)?PREPARE\s+("[^"]+"|\w+)\s*(\([^)]*\))?\s+AS\s+"#
    guard let range = text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) else { return text }
    return String(text[range.upperBound...])
}

/// The shape of one statement, or nil when libpg_query cannot parse it.
func buildShape(_ sql: String) -> QueryShape? {
    guard case .success(let shapes) = QueryShape.build(sql: sql), shapes.count == 1 else { return nil }
    return shapes[0]
}
