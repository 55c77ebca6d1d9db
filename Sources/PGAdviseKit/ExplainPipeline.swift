import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseSQL
import PGAdviseSources

/// `pgadvise explain`: read plans (files, standard input, or a live capture), analyze each once,
/// run the plan insights, and compare two plans. Other commands reuse the two building blocks:
/// `explain(_:source:)` (plans → analyzed plans with findings) and `compare(before:after:)`.
public enum ExplainPipeline {
    /// Every plan in each input (`-` is standard input), analyzed and judged.
    public static func run(inputs: [String]) throws -> ExplainReport {
        var plans: [ExplainedPlan] = []
        for input in inputs {
            plans += explain(try readPlans(input), source: input)
        }
        return ExplainReport(schemaVersion: jsonSchemaVersion, plans: plans)
    }

    /// Plans → analyzed plans with their insights. Findings carry `file = source`.
    public static func explain(_ plans: [Plan], source: String) -> [ExplainedPlan] {
        plans.enumerated().map { offset, plan in
            let analysis = AnalyzedPlan(plan)
            let outcome = PlanRuleEngine.check(analysis)
            let findings = outcome.findings.map { finding -> Finding in
                var located = finding
                located.file = source
                return located
            }
            let skipped = outcome.skippedRules.isEmpty ? [] : [
                "the plan has no actual figures (EXPLAIN without ANALYZE): \(outcome.skippedRules.joined(separator: ", ")) not checked",
            ]
            return ExplainedPlan(source: source, number: offset + 1, analysis: analysis, findings: findings, skipped: skipped)
        }
    }

    /// The plans in a file (`-`: standard input), or a `PGAdviseError(.input)` saying what was found.
    public static func readPlans(_ input: String) throws -> [Plan] {
        let text: String
        if input == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw PGAdviseError(.input, "cannot read \(input)")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        do {
            return try ExplainParser.parseAll(text)
        } catch let error as PGAdviseError {
            throw PGAdviseError(.input, "\(input): \(error.message)")
        }
    }

    /// Two plans of one statement compared (the first plan of each when they hold several).
    public static func compare(beforeInput: String, afterInput: String) throws -> PlanComparison {
        guard let before = try readPlans(beforeInput).first, let after = try readPlans(afterInput).first else {
            throw PGAdviseError(.input, "--compare needs a plan in each file")
        }
        return compare(before: before, after: after, beforeSource: beforeInput, afterSource: afterInput)
    }

    /// Before/after plan → comparison: times, buffers, node changes, insights resolved and introduced.
    public static func compare(before: Plan, after: Plan, beforeSource: String = "before", afterSource: String = "after") -> PlanComparison {
        PlanComparer.compare(before: before, after: after, beforeSource: beforeSource, afterSource: afterSource)
    }
}

extension ExplainPipeline {
    /// Runs `EXPLAIN (ANALYZE, BUFFERS, SETTINGS)` (and WAL for writes) on one statement in a
    /// transaction that is always rolled back. A statement other than SELECT needs `allowWrites`:
    /// even rolled back it takes locks, fires triggers, writes WAL and consumes sequence values.
    /// The connection must be writable for writes (a read-only session refuses them).
    public static func capture(connection: PostgresConnection, sql: String, allowWrites: Bool) throws -> Plan {
        let shapes: [QueryShape]
        switch QueryShape.build(sql: sql) {
        case let .failure(error): throw PGAdviseError(.input, "the statement does not parse: \(error)")
        case let .success(parsed): shapes = parsed
        }
        guard shapes.count == 1, let shape = shapes.first else {
            throw PGAdviseError(.input, "--sql/--file must hold exactly one statement (found \(shapes.count))")
        }
        guard shape.kind != .utility else {
            throw PGAdviseError(.input, "EXPLAIN ANALYZE runs queries and data changes, not utility statements (DDL, SET, VACUUM ...)")
        }
        let writes = shape.kind != .select
        if writes && !allowWrites {
            throw PGAdviseError(.usage, "this statement writes (\(shape.kind.rawValue)); pass --allow-writes to run it in a transaction that is rolled back")
        }
        // Without --allow-writes the transaction is read-only: a SELECT that writes after all (a
        // data-modifying CTE, FOR UPDATE, a volatile function) is refused by the server itself.
        let options = writes ? "ANALYZE, BUFFERS, SETTINGS, WAL, FORMAT JSON" : "ANALYZE, BUFFERS, SETTINGS, FORMAT JSON"
        try connection.execute(allowWrites ? "BEGIN READ WRITE" : "BEGIN READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        let statementWrites = writes ? Interruption.shared.begin("the writes of the statement under EXPLAIN ANALYZE") : nil
        defer { if let statementWrites { Interruption.shared.end(statementWrites) } }
        let json: String?
        do {
            json = try connection.query("EXPLAIN (\(options)) \(statementBody(sql))").rows.first?.first ?? nil
        } catch let error as PostgresError where error.sqlState == "25006" {
            throw PGAdviseError(.usage, "the statement writes (\(error.message)); pass --allow-writes to run it in a transaction that is rolled back")
        }
        guard let json else { throw PGAdviseError(.database, "EXPLAIN returned no plan") }
        return try ExplainParser.parse(json)
    }

    /// The statement without trailing semicolons and whitespace, so it can follow `EXPLAIN (...)`.
    static func statementBody(_ text: String) -> String {
        var s = Substring(text)
        while let last = s.last, last == ";" || last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
