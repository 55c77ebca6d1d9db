import Foundation
import PGAdviseCore
import PGAdviseSources

/// `--measure`'s last step. Each index was measured alone, on the statements whose estimate it
/// lowers; the set is built together, in one transaction that is rolled back, and every statement
/// on its tables is timed before and after, so that plans that use an index without a lower
/// estimate, plans that change only in combination, and regressions of the combination show.
extension MeasuredVerifier {
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
            let m = StatementMeasurement(beforeMs: first.ms, afterMs: after.ms, beforeBuffers: first.buffers,
                                         afterBuffers: after.buffers, runs: runs, parameters: values,
                                         beforeCutOff: first.cutOff ? true : nil, afterCutOff: after.cutOff ? true : nil)
            // Slower beyond run-to-run noise, by the rule the single-index verdicts apply to reads.
            let slower = MeasurementVerdict.isRegression(m, thresholdMs: MeasurementVerdict.readRegressionMs)
            measured.append(SetStatementMeasurement(
                fingerprint: statement.query.fingerprint, text: statement.displayText, calls: statement.query.calls,
                measured: m, indexesUsed: used.sorted(), regression: slower))
        }
        return SetMeasurement(indexes: indexes.map(\.name), statements: measured, beforeMs: beforeTotal, afterMs: afterTotal,
                              unmeasured: unmeasured)
    }
}

extension IndexAdvisor {
    /// The final set measured together, acted on: a statement that regresses with it withdraws the
    /// chosen indexes its slower plan uses (a plan that uses none of them changed for another reason
    /// and withdraws nothing), and what is left is measured once more, so the set recommended is the
    /// set measured.
    func measureFinalSetWithdrawingRegressions(_ advice: inout IndexAdvice, statements: [CostedStatement]) throws {
        guard let first = try measureFinalSet(advice.recommendations, statements: statements) else { return }
        let reasons = Self.setWithdrawals(first, runs: options.measureRuns)
        guard !reasons.isEmpty else {
            advice.finalSet = first
            return
        }
        for rec in advice.recommendations {
            if let reason = reasons[rec.name] { advice.withdrawn.append(WithdrawnRecommendation(recommendation: rec, reason: reason)) }
        }
        advice.recommendations.removeAll { reasons[$0.name] != nil }
        var final = try measureFinalSet(advice.recommendations, statements: statements) ?? first
        final.withdrawn = reasons.keys.sorted()
        advice.finalSet = final
    }

    /// The indexes of `set` that a regressed plan uses, each with the reason a DBA reads.
    static func setWithdrawals(_ set: SetMeasurement, runs: Int) -> [String: String] {
        var evidence: [String: [String]] = [:]
        for s in set.regressions {
            let figures = "\(s.fingerprint) \(String(format: "%.3f", s.measured.beforeMs)) ms -> "
                + "\(String(format: "%.3f", s.measured.afterMs)) ms"
            for name in s.indexesUsed { evidence[name, default: []].append(figures) }
        }
        return evidence.mapValues {
            "measured together with the rest of the set, a plan that uses it was slower: \($0.joined(separator: ", ")) "
                + "(median of \(runs) runs); withdrawn, and the rest of the set measured again without it"
        }
    }

    /// The statements on the recommended indexes' tables that can run (one per fingerprint, with
    /// representative values), timed without and with the whole set. Nil when nothing was recommended.
    func measureFinalSet(_ recommendations: [IndexRecommendation], statements: [CostedStatement]) throws -> SetMeasurement? {
        let indexes = recommendations.compactMap { rec in candidate(of: rec).map { (candidate: $0, name: rec.name) } }
        guard !indexes.isEmpty else { return nil }
        let tables = Set(indexes.map(\.candidate.table))
        var seen = Set<String>()
        var runnable: [(CostedStatement, [String])] = []
        var withoutValues: [String: String] = [:]
        for statement in statements where statement.customPlan == nil && !statement.tables.isDisjoint(with: tables) {
            guard seen.insert(statement.query.fingerprint).inserted else { continue }
            guard let values = representativeValues(for: statement, catalog: catalog) else {
                withoutValues[statement.query.fingerprint] = missingValuesReason(of: statement, catalog: catalog)
                continue
            }
            runnable.append((statement, values))
        }
        let verifier = MeasuredVerifier(connection: connection, runs: options.measureRuns, lockTimeoutMs: options.lockTimeoutMs,
                                        runTimeoutMs: options.measureTimeoutMs)
        var set = try verifier.measureSet(indexes, statements: runnable)
        set.unmeasured.merge(withoutValues) { ran, _ in ran }
        return set
    }
}
