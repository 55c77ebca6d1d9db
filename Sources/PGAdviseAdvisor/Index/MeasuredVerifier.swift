import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// Builds one index for real inside a transaction that is always rolled back, and times the statements
/// it serves before and after with EXPLAIN ANALYZE. Writes: meant for a staging copy.
struct MeasuredVerifier {
    let connection: PostgresConnection
    let runs: Int
    let lockTimeoutMs: Int

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
    }

    /// `statements` pairs each statement with the values for its `$n` (empty when it has none).
    func measure(_ candidate: IndexCandidate, name: String, statements: [(CostedStatement, [String])]) throws -> Outcome {
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.query("SELECT set_config('lock_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)",
                             [String(lockTimeoutMs)])
        var before: [String: Timing] = [:]
        var unmeasured: [String: String] = [:]
        for (statement, values) in statements {
            do {
                before[statement.query.fingerprint] = try time(statement, values: values)
            } catch let error as PostgresError {
                unmeasured[statement.query.fingerprint] = error.message
                // A failed statement aborts the transaction; start it again so the others can run.
                try connection.execute("ROLLBACK; BEGIN")
                try connection.query("SELECT set_config('lock_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)",
                                     [String(lockTimeoutMs)])
            }
        }
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
        var results: [String: StatementMeasurement] = [:]
        var usedBy = Set<String>()
        for (statement, values) in statements {
            guard let first = before[statement.query.fingerprint] else { continue }
            let after = try time(statement, values: values)
            if after.indexNames.contains(name) { usedBy.insert(statement.query.fingerprint) }
            results[statement.query.fingerprint] = StatementMeasurement(
                beforeMs: first.ms, afterMs: after.ms, beforeBuffers: first.buffers, afterBuffers: after.buffers,
                runs: runs, parameters: values)
        }
        let size = try connection.query("SELECT pg_relation_size(c.oid) AS bytes FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'i'",
                                        [name]).records.first?.int("bytes")
        return Outcome(perStatement: results, builtSizeBytes: size, unmeasured: unmeasured, usedBy: usedBy)
    }

    /// Median execution time and buffers of `runs` runs, after one warm-up run that is not counted,
    /// so the before and after figures both start from a warm cache. Each run sits in a savepoint
    /// that is rolled back, so UPDATE and DELETE see the same rows every time.
    private func time(_ statement: CostedStatement, values: [String]) throws -> Timing {
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
            explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE \(name)(" + values.map(quoteLiteral).joined(separator: ", ") + ")"
        }
        var timings: [Timing] = []
        for run in 0...runs {
            try connection.execute("SAVEPOINT pgadvise_run")
            let json = try connection.query(explain).rows.first?.first ?? nil
            try connection.execute("ROLLBACK TO SAVEPOINT pgadvise_run")
            guard let json, let timing = Self.timing(explainAnalyzeJSON: json) else {
                throw PGAdviseError(.database, "EXPLAIN ANALYZE returned no timing for \(statement.query.fingerprint)")
            }
            if run > 0 { timings.append(timing) }
        }
        return Timing(ms: median(timings.map(\.ms)), buffers: median(timings.map(\.buffers)),
                      indexNames: timings.reduce(into: Set<String>()) { $0.formUnion($1.indexNames) })
    }

    static func timing(explainAnalyzeJSON: String) -> Timing? {
        guard let data = explainAnalyzeJSON.data(using: .utf8),
              let top = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]],
              let first = top.first, let root = first["Plan"] as? [String: Any],
              let ms = (first["Execution Time"] as? NSNumber)?.doubleValue else { return nil }
        let hit = (root["Shared Hit Blocks"] as? NSNumber)?.doubleValue ?? 0
        let read = (root["Shared Read Blocks"] as? NSNumber)?.doubleValue ?? 0
        var names = Set<String>()
        func walk(_ node: [String: Any]) {
            if let name = node["Index Name"] as? String { names.insert(name) }
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        walk(root)
        return Timing(ms: ms, buffers: hit + read, indexNames: names)
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Values for a statement's `$n` that look like the real ones: bind values seen in logs first, else
/// `pg_stats`: a middle most-common value for equality, histogram bounds near the ends for ranges
/// (a selective range, as lookups usually are), 10 for LIMIT and 0 for OFFSET. Nil when some
/// parameter has no representative value, so the statement is not measured with made-up input.
func representativeValues(for statement: CostedStatement, catalog: Catalog) -> [String]? {
    if case .boundValues(let bound) = statement.mode { return bound.map { $0 ?? "" } }
    if statement.mode == .literal || statement.parameterCount == 0 { return [] }
    var values: [Int: String] = [:]
    for block in statement.shape.blocks {
        if case .parameter(let n) = block.limit { values[n] = "10" }
        if case .parameter(let n) = block.offset { values[n] = "0" }
        for p in block.predicates {
            guard case .parameter(let n) = p.value, values[n] == nil else { continue }
            let relation = p.column.relation ?? p.column.qualifier.flatMap { block.relation(named: $0) }
                ?? (block.relations.count == 1 ? block.relations.first : nil)
            guard let relation, let stats = catalog.table(relation.name)?.column(p.column.name)?.stats else { continue }
            let bounds = stats.histogramBounds
            switch p.op {
            case "=", "IN":
                if !stats.mostCommonValues.isEmpty {
                    values[n] = stats.mostCommonValues[stats.mostCommonValues.count / 2]
                } else if !bounds.isEmpty {
                    values[n] = bounds[bounds.count / 2]
                }
            case ">", ">=":
                if !bounds.isEmpty { values[n] = bounds[bounds.count * 9 / 10] }
            case "<", "<=":
                if !bounds.isEmpty { values[n] = bounds[bounds.count / 10] }
            default:
                continue
            }
        }
    }
    var out: [String] = []
    for n in 1...statement.parameterCount {
        guard let v = values[n] else { return nil }
        out.append(v)
    }
    return out
}
