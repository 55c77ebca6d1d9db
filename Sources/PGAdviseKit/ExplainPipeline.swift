import Foundation
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
        let old = explain([before], source: beforeSource)[0], new = explain([after], source: afterSource)[0]
        let oldAnalysis = AnalyzedPlan(before), newAnalysis = AnalyzedPlan(after)
        let changes = PlanMatcher(before: oldAnalysis.nodes, after: newAnalysis.nodes).changes()
        let key = { (f: Finding) in "\(f.rule)|\(f.node ?? "")" }
        let oldKeys = Set(old.findings.map(key)), newKeys = Set(new.findings.map(key))
        let resolved = old.findings.filter { !newKeys.contains(key($0)) }
        let introduced = new.findings.filter { !oldKeys.contains(key($0)) }
        let beforeSide = PlanSide(source: beforeSource, analysis: oldAnalysis, findings: old.findings)
        let afterSide = PlanSide(source: afterSource, analysis: newAnalysis, findings: new.findings)
        return PlanComparison(schemaVersion: jsonSchemaVersion, before: beforeSide, after: afterSide, changes: changes,
                              findingsResolved: resolved, findingsIntroduced: introduced,
                              verdict: verdict(beforeSide, afterSide, changes: changes, resolved: resolved, introduced: introduced))
    }

    static func verdict(_ before: PlanSide, _ after: PlanSide, changes: [NodeChange], resolved: [Finding], introduced: [Finding]) -> String {
        var parts: [String] = []
        if let old = before.executionTimeMs, let new = after.executionTimeMs, old > 0, new > 0 {
            let ratio = old / new
            let trend = ratio >= 1.1 ? "Faster" : ratio <= 1 / 1.1 ? "Slower" : "About the same"
            let factor = ratio >= 1 ? String(format: "%.1fx", ratio) : String(format: "%.1fx", 1 / ratio)
            parts.append("\(trend): \(formatDuration(ms: old)) → \(formatDuration(ms: new))" + (trend == "About the same" ? "" : " (\(factor))"))
        } else {
            let trend = after.totalCost < before.totalCost * 0.9 ? "Cheaper" : after.totalCost > before.totalCost * 1.1 ? "Costlier" : "Same cost"
            parts.append("\(trend) (estimates only): cost \(Int(before.totalCost.rounded())) → \(Int(after.totalCost.rounded()))")
        }
        if let main = changes.first(where: { $0.kind == "changed" }) { parts.append(main.summary) }
        if !resolved.isEmpty || !introduced.isEmpty {
            parts.append("\(resolved.count) insight(s) resolved, \(introduced.count) new")
        }
        return parts.joined(separator: "; ") + "."
    }
}

/// Pairs the nodes of two plans: first by the relation they read (and its alias), then the others
/// by node type in plan order, so `Seq Scan on t` and `Index Scan using t_status on t` pair up.
struct PlanMatcher {
    let before: [AnalyzedNode]
    let after: [AnalyzedNode]

    func changes() -> [NodeChange] {
        var pairs: [(Int, Int)] = []
        var usedAfter = Set<Int>(), usedBefore = Set<Int>()
        func pair(_ same: (AnalyzedNode, AnalyzedNode) -> Bool) {
            for old in before where !usedBefore.contains(old.index) {
                guard let new = after.first(where: { !usedAfter.contains($0.index) && same(old, $0) }) else { continue }
                pairs.append((old.index, new.index)); usedBefore.insert(old.index); usedAfter.insert(new.index)
            }
        }
        pair { $0.node.label == $1.node.label && $0.depth == $1.depth }
        pair { a, b in a.node.relationName != nil && a.node.relationName == b.node.relationName && a.node.alias == b.node.alias }
        pair { $0.node.label == $1.node.label }
        pair { $0.node.nodeType == $1.node.nodeType }
        var changes: [NodeChange] = pairs.sorted { $0.1 < $1.1 }.compactMap { change(before[$0.0], after[$0.1]) }
        changes += before.filter { !usedBefore.contains($0.index) }.map {
            NodeChange(kind: "removed", before: $0.node.label, relation: $0.node.relationName, summary: "\($0.node.label) is gone")
        }
        changes += after.filter { !usedAfter.contains($0.index) }.map {
            NodeChange(kind: "added", after: $0.node.label, relation: $0.node.relationName, summary: "new \($0.node.label)")
        }
        return changes
    }

    /// What differs between two paired nodes, or nil when nothing worth a line did.
    private func change(_ old: AnalyzedNode, _ new: AnalyzedNode) -> NodeChange? {
        let relabeled = old.node.label != new.node.label
        let oldRows = old.node.planRows, newRows = new.node.planRows
        let estimateMoved = max(oldRows, 1) / max(newRows, 1) >= 2 || max(newRows, 1) / max(oldRows, 1) >= 2
        guard relabeled || estimateMoved else { return nil }
        let summary = relabeled
            ? "\(old.node.label) → \(new.node.label)"
            : "\(new.node.label): estimated rows \(formatCount(Int(oldRows.rounded()))) → \(formatCount(Int(newRows.rounded())))"
        var change = NodeChange(kind: relabeled ? "changed" : "estimate", before: old.node.label, after: new.node.label,
                                relation: new.node.relationName ?? old.node.relationName, summary: summary)
        change.beforeExclusiveMs = old.metrics.exclusiveTimeMs; change.afterExclusiveMs = new.metrics.exclusiveTimeMs
        change.beforeEstimatedRows = oldRows; change.afterEstimatedRows = newRows
        change.beforeActualRows = old.node.actualRows; change.afterActualRows = new.node.actualRows
        return change
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
