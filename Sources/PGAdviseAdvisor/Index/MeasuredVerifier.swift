import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// Builds one index for real inside a transaction that is always rolled back, and times the statements
/// it serves, and the write statements it adds index maintenance to, before and after with EXPLAIN
/// ANALYZE. Writes: meant for a staging copy.
struct MeasuredVerifier {
    let connection: PostgresConnection
    let runs: Int
    let lockTimeoutMs: Int
    /// Statement timeout of each timed run; nil: the session's. The index build keeps the session's,
    /// so a short limit on the runs does not cancel the build of an index on a large table.
    var runTimeoutMs: Int? = nil

    struct Outcome {
        var perStatement: [String: StatementMeasurement]
        var builtSizeBytes: Int64?
        /// Statements that could not be run, with the reason.
        var unmeasured: [String: String]
        /// Fingerprints of the statements whose plan used the index once it was built and analysed.
        var usedBy: Set<String> = []
    }

    struct Timing {
        var ms: Double
        var buffers: Double
        var indexNames: Set<String> = []
        /// The run was cancelled by the statement timeout: `ms` is that timeout, a lower bound.
        var cutOff = false
        /// The plan of the run whose time is nearest the median (nil when cut off).
        var plan: Plan?
    }

    /// `statements` pairs each statement with the values for its `$n` (empty when it has none).
    /// `writes` pairs each write statement with one value set per run, warm-up included, before and
    /// then after (2 x (runs + 1) sets; see `time`).
    func measure(_ candidate: IndexCandidate, name: String, statements: [(CostedStatement, [String])],
                 writes: [(CostedStatement, [[String]])] = []) throws -> Outcome {
        let runsPerSide = runs + 1
        let all: [(CostedStatement, before: [[String]], after: [[String]])] =
            statements.map { ($0.0, Array(repeating: $0.1, count: runsPerSide), Array(repeating: $0.1, count: runsPerSide)) }
            + writes.map { ($0.0, Array($0.1.prefix(runsPerSide)), Array($0.1.dropFirst(runsPerSide).prefix(runsPerSide))) }
        // Every setting is local to the transaction, so it ends with the ROLLBACK.
        func begin() throws {
            try connection.execute("BEGIN")
            try connection.query("SELECT set_config('lock_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)",
                                 [String(lockTimeoutMs)])
        }
        try begin()
        // Says what an interruption rolled back; the phrase follows the phase.
        let activity = Interruption.shared.begin("the timed runs on \(candidate.table) before building \(name)")
        defer {
            _ = try? connection.execute("ROLLBACK")
            Interruption.shared.end(activity)
        }
        var before: [String: Timing] = [:]
        var unmeasured: [String: String] = [:]
        for (statement, values, _) in all {
            do {
                before[statement.query.fingerprint] = try time(statement, valueSets: values)
            } catch let error as PostgresError {
                unmeasured[statement.query.fingerprint] = error.message
                // A failed statement aborts the transaction; start it again so the others can run.
                try connection.execute("ROLLBACK")
                try begin()
            }
        }
        Interruption.shared.update(activity, "the index build of \(name) on \(candidate.table)")
        do {
            try connection.execute(candidate.definition(name: name))
            try connection.execute("ANALYZE \(candidate.table)")
        } catch let error as PostgresError {
            if error.isLockTimeout {
                throw PGAdviseError(.database, "--measure could not lock \(candidate.table) within lock_timeout (\(lockTimeoutMs) ms): "
                                    + "another session is writing to it. Run --measure on a staging copy.")
            }
            throw PGAdviseError(.database, "--measure could not build \(name): \(error.message)")
        }
        Interruption.shared.update(activity, "the index \(name) on \(candidate.table) and its timed runs")
        var results: [String: StatementMeasurement] = [:]
        var usedBy = Set<String>()
        for (statement, _, values) in all {
            guard let first = before[statement.query.fingerprint] else { continue }
            let after = try time(statement, valueSets: values)
            if after.indexNames.contains(name) { usedBy.insert(statement.query.fingerprint) }
            results[statement.query.fingerprint] = StatementMeasurement(
                beforeMs: first.ms, afterMs: after.ms, beforeBuffers: first.buffers, afterBuffers: after.buffers,
                runs: runs, parameters: values.first ?? [], beforeCutOff: first.cutOff ? true : nil,
                afterCutOff: after.cutOff ? true : nil, plans: Self.comparison(first, after))
        }
        let size = try connection.query("SELECT pg_relation_size(c.oid) AS bytes FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'i'",
                                        [name]).records.first?.int("bytes")
        return Outcome(perStatement: results, builtSizeBytes: size, unmeasured: unmeasured, usedBy: usedBy)
    }

    /// Median execution time and buffers of `runs` runs, after one warm-up run that is not counted,
    /// so the before and after figures both start from a warm cache. Run `i` uses `valueSets[i]`.
    /// Each run sits in a savepoint that is rolled back, so every run sees the same committed rows;
    /// but a rolled-back UPDATE still leaves its new row version (and, when not HOT, its index
    /// entries) behind on the page until the page is pruned. Running one UPDATE on the same row again
    /// and again would fill that page, so later runs, and all the "after" runs, would no longer find
    /// room for a HOT update and would measure a page state production never has. Writes therefore
    /// get a different row per run, before and after alike, drawn from the same pool of values.
    ///
    /// A run the statement timeout cancels is not an error but a figure, the timeout, which the
    /// statement takes at least. Without it a statement that runs for hours without its index (a
    /// correlated subquery over a large table) could never show its gain, and one that a new plan
    /// makes that slow could not show its regression. It is not run again: every run would take that long.
    func time(_ statement: CostedStatement, valueSets: [[String]]) throws -> Timing {
        let body = WhatIfSession.statementBody(statement.text)
        let name = "pgadvise_measure_\(statement.id)"
        let explain: String
        if statement.mode == .literal || statement.parameterCount == 0 {
            explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) \(body)"
        } else {
            if !(try connection.query("SELECT 1 FROM pg_prepared_statements WHERE name = $1", [name]).isEmpty) {
                try connection.execute("DEALLOCATE \(name)")
            }
            // The extended protocol refuses more than one statement, whatever a logged text holds.
            try connection.query("PREPARE \(name) AS \(body)")
            explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE \(name)"
        }
        var timings: [Timing] = []
        for run in 0...runs {
            let values = valueSets.isEmpty ? [] : valueSets[run % valueSets.count]
            let arguments = values.isEmpty ? "" : "(" + values.map(quoteLiteral).joined(separator: ", ") + ")"
            try connection.execute("SAVEPOINT pgadvise_run")
            // Undone by the ROLLBACK TO SAVEPOINT below, like everything the run did.
            if let runTimeoutMs { try connection.query("SELECT set_config('statement_timeout', $1, true)", [String(runTimeoutMs)]) }
            let json: String?
            do {
                json = try connection.query(explain + arguments).rows.first?.first ?? nil
            } catch let error as PostgresError where error.isStatementTimeout {
                try connection.execute("ROLLBACK TO SAVEPOINT pgadvise_run")
                return Timing(ms: Double(runTimeoutMs ?? connection.options.statementTimeoutMs), buffers: 0, cutOff: true)
            }
            try connection.execute("ROLLBACK TO SAVEPOINT pgadvise_run")
            guard let json, let timing = Self.timing(explainAnalyzeJSON: json) else {
                throw PGAdviseError(.database, "EXPLAIN ANALYZE returned no timing for \(statement.query.fingerprint)")
            }
            if run > 0 { timings.append(timing) }
        }
        let medianMs = median(timings.map(\.ms))
        return Timing(ms: medianMs, buffers: median(timings.map(\.buffers)),
                      indexNames: timings.reduce(into: Set<String>()) { $0.formUnion($1.indexNames) },
                      plan: timings.min { abs($0.ms - medianMs) < abs($1.ms - medianMs) }?.plan)
    }

    /// The before and after plans of a statement compared, as `explain --compare` shows them.
    static func comparison(_ before: Timing, _ after: Timing) -> PlanComparison? {
        guard let old = before.plan, let new = after.plan else { return nil }
        return PlanComparer.compare(before: old, after: new, beforeSource: "without the index", afterSource: "with the index")
    }

    static func timing(explainAnalyzeJSON: String) -> Timing? {
        guard let plan = try? ExplainParser.parse(explainAnalyzeJSON), let ms = plan.executionTimeMs else { return nil }
        let buffers = Double((plan.root.sharedHitBlocks ?? 0) + (plan.root.sharedReadBlocks ?? 0))
        return Timing(ms: ms, buffers: buffers, indexNames: Set(plan.root.allNodes.compactMap(\.indexName)), plan: plan)
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Values for a statement's `$n` that look like the real ones: bind values seen in logs first, then
/// the value each parameter was observed with most often (pg_qualstats or logged bind values:
/// a statement always called with one rare status is measured with it), else `pg_stats`: a middle
/// most-common value for equality, histogram bounds near the ends for ranges (a selective range, as
/// lookups usually are; the top tenth for a column bounded on both sides), 10 for LIMIT and 0 for
/// OFFSET. A value side that is arithmetic on parameters (`$1::date - $2::interval`) gets the
/// chosen value through its `ParameterFill`. Nil when some parameter has no representative value,
/// so the statement is not measured with made-up input.
/// `known`: values already chosen for some parameters (a write's SET values).
func representativeValues(for statement: CostedStatement, catalog: Catalog, known: [Int: String] = [:]) -> [String]? {
    if case .boundValues(let bound) = statement.mode { return bound.map { $0 ?? "" } }
    if statement.mode == .literal || statement.parameterCount == 0 { return [] }
    let values = representativeValueMap(for: statement, catalog: catalog, known: known)
    var out: [String] = []
    for n in 1...statement.parameterCount {
        guard let v = values[n] else { return nil }
        out.append(v)
    }
    return out
}

/// The `$n` of a statement `representativeValues` finds no value for: those inside an expression that
/// neutral elements do not reduce to one parameter (`attrs @> jsonb_build_object($1, $2)`, see
/// `ParameterFill`) or compared with no column whose statistics say what is typical.
func unrepresentedParameters(of statement: CostedStatement, catalog: Catalog) -> [Int] {
    guard statement.parameterCount > 0 else { return [] }
    let values = representativeValueMap(for: statement, catalog: catalog)
    return (1...statement.parameterCount).filter { values[$0] == nil }
}

/// Why a statement was not run: `no value to run it with for $2, $5`.
func missingValuesReason(of statement: CostedStatement, catalog: Catalog) -> String {
    "no value to run it with for " + unrepresentedParameters(of: statement, catalog: catalog).map { "$\($0)" }.joined(separator: ", ")
}

private func representativeValueMap(for statement: CostedStatement, catalog: Catalog, known: [Int: String] = [:]) -> [Int: String] {
    var values = known
    for observed in statement.query.observedValues ?? [] where values[observed.parameter] == nil {
        values[observed.parameter] = observed.values.first?.value
    }
    // A fill is only exact when its parameters appear nowhere else: in `x >= $1 - $2 AND x < $1` the
    // neutral $2 would make the window empty.
    var uses: [Int: Int] = [:]
    for p in statement.shape.blocks.flatMap(\.predicates) {
        if case .parameter(let n) = p.value { uses[n, default: 0] += 1 }
        for fill in [p.valueFill].compactMap({ $0 }) + p.elementFills {
            for n in [fill.carrier] + fill.neutral.keys { uses[n, default: 0] += 1 }
        }
    }
    func exact(_ fill: ParameterFill) -> Bool { ([fill.carrier] + fill.neutral.keys).allSatisfy { uses[$0] == 1 } }
    func assign(_ chosen: String, through fill: ParameterFill) {
        guard let carried = fill.beforeNow ? intervalBeforeNow(chosen) : chosen else { return }
        values[fill.carrier] = carried
        values.merge(fill.neutral) { kept, _ in kept }
    }
    for block in statement.shape.blocks {
        if case .parameter(let n) = block.limit, values[n] == nil { values[n] = "10" }
        if case .parameter(let n) = block.offset, values[n] == nil { values[n] = "0" }
        // A column bounded on both sides (`created_at >= $1 AND created_at < $2`) gets the window
        // between the bound a tenth from the top and the top, not an upper bound below its lower one.
        let boundedBelow = Set(block.predicates.filter { [">", ">="].contains($0.comparison) }.map(\.column.name))
        for p in block.predicates {
            if !p.elementFills.isEmpty, p.elementFills.allSatisfy({ values[$0.carrier] == nil && exact($0) }),
               let stats = columnStats(of: p, in: block, catalog: catalog) {
                for (fill, value) in zip(p.elementFills, listValues(for: p, count: p.elementFills.count, stats: stats)) {
                    assign(value, through: fill)
                }
                continue
            }
            let fill: ParameterFill
            switch p.value {
            case .parameter(let n): fill = ParameterFill(carrier: n)
            case .expression:
                guard let reducible = p.valueFill, exact(reducible) else { continue }
                fill = reducible
            default: continue
            }
            guard values[fill.carrier] == nil, let stats = columnStats(of: p, in: block, catalog: catalog) else { continue }
            let chosen: String?
            switch p.comparison {
            case "=", "IN", "<>":
                chosen = stats.middleValue
            case ">", ">=":
                chosen = stats.topTenth?.low
            case "<", "<=":
                let ordered = stats.orderedValues
                chosen = boundedBelow.contains(p.column.name) ? stats.topTenth?.high : ordered.isEmpty ? nil : ordered[ordered.count / 10]
            default:
                chosen = nil
            }
            if let chosen { assign(chosen, through: fill) }
        }
    }
    // What is only computed from the rows read (`sum(l_extendedprice * ($1 - l_discount))`, a CASE
    // branch in the select list) runs as long with any value: '1' reads as a number, text, boolean
    // and interval alike.
    if statement.parameterCount > 0 {
        for n in 1...statement.parameterCount where values[n] == nil && !statement.shape.filteringParameters.contains(n) { values[n] = "1" }
    }
    return values
}

private func columnStats(of p: PGAdviseSQL.Predicate, in block: QueryBlock, catalog: Catalog) -> ColumnStats? {
    let relation = p.column.relation ?? p.column.qualifier.flatMap { block.relation(named: $0) }
        ?? (block.relations.count == 1 ? block.relations.first : nil)
    return relation.flatMap { catalog.table($0.name)?.column(p.column.name)?.stats }
}

/// Values for an IN list's parameters (distinct values, the most common first) or BETWEEN's bounds
/// (the histogram's top tenth, as for a column bounded on both sides); empty when the statistics
/// have none.
private func listValues(for p: PGAdviseSQL.Predicate, count: Int, stats: ColumnStats) -> [String] {
    if p.comparison == .between {
        return stats.topTenth.map { count == 2 ? [$0.low, $0.high] : [] } ?? []
    }
    guard p.comparison == .in else { return [] }
    var distinct: [String] = []
    for value in stats.mostCommonValues + stats.histogramBounds where !distinct.contains(value) {
        distinct.append(value)
        if distinct.count == count { break }
    }
    guard let last = distinct.last else { return [] }
    return distinct + Array(repeating: last, count: count - distinct.count)
}

/// `now() - $n::interval` at `time`: the interval from that time to now, in whole seconds.
private func intervalBeforeNow(_ time: String) -> String? {
    guard let date = ISOTimestamp.parse(time) else { return nil }
    return "\(Int(Date().timeIntervalSince(date).rounded())) seconds"
}

/// One value set per run for a write statement's `$n`. A parameter that picks the rows by equality
/// walks values that match about as many rows each (see `ColumnStats.valuesOfSimilarFrequency`), so
/// each run writes other rows of the same kind and number (see `MeasuredVerifier.time`); other WHERE
/// parameters take the values reads get.
/// A SET parameter takes the value the logged sample assigned to that column, else a middle
/// most-common value, else a middle histogram bound. Nil when some parameter has no such value.
func representativeWriteValueSets(for statement: CostedStatement, catalog: Catalog, sample: QueryShape?, count: Int) -> [[String]]? {
    if case .boundValues(let bound) = statement.mode { return [bound.map { $0 ?? "" }] }
    if statement.mode == .literal || statement.parameterCount == 0 { return [[]] }
    guard let target = statement.shape.target, let table = catalog.table(target.name) else { return nil }
    var fixed: [Int: String] = [:]
    var pools: [Int: [String]] = [:]
    let sampled = Dictionary((sample?.assignments ?? []).compactMap { a -> (String, String)? in
        guard case .constant(let c) = a.value, let text = c.sqlValue else { return nil }
        return (a.column.lowercased(), text)
    }, uniquingKeysWith: { first, _ in first })
    for assignment in statement.shape.assignments {
        guard case .parameter(let n) = assignment.value else { continue }
        let stats = table.column(assignment.column)?.stats
        if let value = sampled[assignment.column.lowercased()] ?? stats?.middleValue { fixed[n] = value }
    }
    for block in statement.shape.blocks {
        for p in block.predicates where p.comparison == .equal {
            guard case .parameter(let n) = p.value, p.column.relation?.name == table.name || p.column.relation == nil,
                  let stats = table.column(p.column.name)?.stats else { continue }
            if let pool = stats.valuesOfSimilarFrequency, pool.count >= 2 { pools[n] = pool }
        }
    }
    let readValues = representativeValues(for: statement, catalog: catalog, known: fixed)
    guard let readValues else { return nil }
    return (0..<max(1, count)).map { run in
        readValues.enumerated().map { i, value in
            guard let pool = pools[i + 1] else { return value }
            // Spread the runs over the pool, so their rows sit on different pages.
            return pool.count >= count ? pool[run * pool.count / count] : pool[run % pool.count]
        }
    }
}

extension ColumnStats {
    /// Values that each match about as many rows as the others: the histogram bounds when no value
    /// is common (a unique key, an even spread), else the most-common values within 25% of the middle
    /// one's frequency. Nil when there are none.
    var valuesOfSimilarFrequency: [String]? {
        if mostCommonValues.isEmpty { return histogramBounds.isEmpty ? nil : histogramBounds }
        guard mostCommonFrequencies.count == mostCommonValues.count else { return nil }
        let middle = mostCommonFrequencies[mostCommonFrequencies.count / 2]
        return zip(mostCommonValues, mostCommonFrequencies).filter { $0.1 >= middle * 0.8 && $0.1 <= middle * 1.25 }.map(\.0)
    }

    /// The column's values in order as far as the statistics tell: the histogram's bounds, else (a
    /// column whose every value is a most common one, like a quantity of 1 to 50) those values sorted,
    /// as numbers when they all are.
    var orderedValues: [String] {
        guard histogramBounds.isEmpty else { return histogramBounds }
        let numbers = mostCommonValues.compactMap(Double.init)
        guard numbers.count == mostCommonValues.count else { return mostCommonValues.sorted() }
        return zip(numbers, mostCommonValues).sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A selective window at the top of `orderedValues`: from the value a tenth from the top to the top.
    var topTenth: (low: String, high: String)? {
        let values = orderedValues
        guard let high = values.last else { return nil }
        return (values[values.count * 9 / 10], high)
    }

    /// A typical value: the middle most-common value, else the middle histogram bound.
    var middleValue: String? {
        if !mostCommonValues.isEmpty { return mostCommonValues[mostCommonValues.count / 2] }
        return histogramBounds.isEmpty ? nil : histogramBounds[histogramBounds.count / 2]
    }
}

extension Constant {
    /// The constant as a parameter value; nil for NULL.
    var sqlValue: String? {
        switch self {
        case .integer(let n): return String(n)
        case .numeric(let s), .string(let s): return s
        case .boolean(let b): return b ? "true" : "false"
        case .null: return nil
        }
    }
}
