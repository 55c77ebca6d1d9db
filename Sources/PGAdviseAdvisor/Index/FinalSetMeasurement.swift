import Foundation
import PGAdviseCore
import PGAdviseSources

/// `--measure`'s last step. Each index was measured alone, on the statements whose estimate it
/// lowers; the set is built together, in one transaction that is rolled back, and every statement
/// on its tables is timed before and after, so that plans that use an index without a lower
/// estimate, plans that change only in combination, and regressions of the combination show.
extension MeasuredVerifier {
    /// Slower by this share and by `regressionMs` with the set is a regression: below either, run-to-run
    /// noise on a busy server (the same margins the single-index verdicts use for reads).
    static let regressionShare = 0.1
    static let regressionMs = 0.1

    func measureSet(_ indexes: [(candidate: IndexCandidate, name: String)],
                    statements: [(CostedStatement, [String])]) throws -> SetMeasurement {
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.query("SELECT set_config('lock_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)",
                             [String(lockTimeoutMs)])
        var before: [String: Timing] = [:]
        var unmeasured: [String: String] = [:]
        for (statement, values) in statements {
            // Each run is in a savepoint, so a failing statement leaves the transaction usable.
            try connection.execute("SAVEPOINT pgadvise_statement")
            do {
                before[statement.query.fingerprint] = try time(statement, valueSets: [values])
                try connection.execute("RELEASE SAVEPOINT pgadvise_statement")
            } catch let error as PostgresError {
                unmeasured[statement.query.fingerprint] = error.message
                try connection.execute("ROLLBACK TO SAVEPOINT pgadvise_statement")
            }
        }
        for (candidate, name) in indexes {
            do {
                try connection.execute(candidate.definition(name: name))
            } catch let error as PostgresError {
                throw PGAdviseError(.database, "--measure could not build \(name) with the rest of the set: \(error.message)")
            }
        }
        for table in Set(indexes.map(\.candidate.table)).sorted(by: { $0.description < $1.description }) {
            try connection.execute("ANALYZE \(table)")
        }
        let names = Set(indexes.map(\.name))
        var measured: [SetStatementMeasurement] = []
        var beforeTotal = 0.0, afterTotal = 0.0
        for (statement, values) in statements {
            guard let first = before[statement.query.fingerprint] else { continue }
            let after = try time(statement, valueSets: [values])
            let used = after.indexNames.intersection(names)
            let calls = Double(max(1, statement.query.calls))
            beforeTotal += calls * first.ms
            afterTotal += calls * after.ms
            // A plan that uses none of the set is the plan it had: what it measures is noise.
            guard !used.isEmpty || first.indexNames != after.indexNames else { continue }
            let slower = after.ms >= first.ms * (1 + Self.regressionShare) && after.ms - first.ms >= Self.regressionMs
            measured.append(SetStatementMeasurement(
                fingerprint: statement.query.fingerprint, text: statement.displayText, calls: statement.query.calls,
                measured: StatementMeasurement(beforeMs: first.ms, afterMs: after.ms, beforeBuffers: first.buffers,
                                               afterBuffers: after.buffers, runs: runs, parameters: values,
                                               beforeCutOff: first.cutOff ? true : nil, afterCutOff: after.cutOff ? true : nil),
                indexesUsed: used.sorted(), regression: slower))
        }
        return SetMeasurement(indexes: indexes.map(\.name), statements: measured, beforeMs: beforeTotal, afterMs: afterTotal,
                              unmeasured: unmeasured)
    }
}

extension IndexAdvisor {
    /// The statements on the recommended indexes' tables that can run (one per fingerprint, with
    /// representative values), timed without and with the whole set. Nil when nothing was recommended.
    func measureFinalSet(_ recommendations: [IndexRecommendation], statements: [CostedStatement]) throws -> SetMeasurement? {
        let indexes = recommendations.compactMap { rec in candidate(of: rec).map { (candidate: $0, name: rec.name) } }
        guard !indexes.isEmpty else { return nil }
        let tables = Set(indexes.map(\.candidate.table))
        var seen = Set<String>()
        var runnable: [(CostedStatement, [String])] = []
        for statement in statements where statement.customPlan == nil && !statement.tables.isDisjoint(with: tables) {
            guard seen.insert(statement.query.fingerprint).inserted,
                  let values = representativeValues(for: statement, catalog: catalog) else { continue }
            runnable.append((statement, values))
        }
        let verifier = MeasuredVerifier(connection: connection, runs: options.measureRuns, lockTimeoutMs: options.lockTimeoutMs,
                                        runTimeoutMs: options.measureTimeoutMs)
        return try verifier.measureSet(indexes, statements: runnable)
    }
}
