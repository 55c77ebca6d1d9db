import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources
import Testing
@testable import PGAdviseRules

/// Every rule's examples are its tests: each triggering example fires exactly at its `↓` markers,
/// each non-triggering one stays silent, and a triggering example inside a comment or a string
/// literal does not fire.
@Suite struct RuleExamplesTests {
    /// Found by Benchmarks/fuzz (FuzzExplain): 124 digits of actual rows trapped where the
    /// misestimate's message turned them into an Int.
    @Test func aRowCountBeyondIntIsWrittenNotTrappedOn() throws {
        let rows = "2" + String(repeating: "1", count: 123)
        let plan = try ExplainParser.parse("Seq Scan on t  (cost=0.00..55.00 rows=2000 width=68) (actual time=0.01..0.02 rows=\(rows) loops=1)")
        let findings = PlanRuleEngine.check(AnalyzedPlan(plan)).findings
        let misestimate = try #require(findings.first { $0.rule == "row-misestimate" })
        #expect(misestimate.message.hasPrefix("Seq Scan on t returned 9,223,372,036,854,775,807 rows per loop where the planner expected 2,000"))
    }

    static let checkedRules: [RegisteredRule] = ruleRegistry.filter {
        switch $0 {
        case .query, .catalog, .plan: return true
        case .scan, .described, .connection, .workload: return false   // their examples run in their own suites
        }
    }
    static let ids = checkedRules.map(\.description.id)

    func rule(_ id: String) throws -> RegisteredRule {
        try #require(Self.checkedRules.first { $0.description.id == id })
    }

    /// Lints the example with only this rule; returns its findings in the example's own file.
    func findings(of registered: RegisteredRule, sql: String, schema: String?) -> [Finding] {
        let source = LintSource(path: "example.sql", text: sql)
        let schemaSources = schema.map { [LintSource(path: "schema.sql", text: $0)] } ?? []
        let result: Linter.Result
        switch registered {
        case let .query(rule): result = Linter.lint([source], schema: schemaSources, queryRules: [rule], catalogRules: [])
        case let .catalog(rule): result = Linter.lint([source], schema: schemaSources, queryRules: [], catalogRules: [rule])
        case .scan, .described, .connection, .plan, .workload: return []
        }
        return result.findings.filter { $0.rule == registered.description.id }
    }

    /// A plan rule's findings on an example plan (EXPLAIN text, parsed as users' plans are).
    func planFindings(of rule: any PlanRule, plan: String) throws -> [Finding] {
        let plans = try ExplainParser.parseAll(plan)
        return plans.flatMap { PlanRuleEngine.check(AnalyzedPlan($0), rules: [rule]).findings }
    }

    /// Plan examples: each finding names the node on a marked line; without markers, the example
    /// is about the whole plan and gives one finding with no node.
    func checkPlanExample(_ rule: any PlanRule, _ example: Example, id: String) throws {
        let (text, marked) = example.strippedPlan
        let found = try planFindings(of: rule, plan: text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let expected = try marked.map { line -> String in
            let nodeText = lines[line].drop { $0 == " " || $0 == "-" || $0 == ">" }
            return try ExplainParser.parse(String(nodeText)).root.label
        }
        if expected.isEmpty {
            #expect(found.count == 1 && found.first?.node == nil, "\(id): \(found.map(\.message))")
        } else {
            #expect(found.compactMap(\.node).sorted() == expected.sorted(), "\(id): \(found.map(\.message))")
        }
        #expect(found.allSatisfy { !$0.message.isEmpty && $0.severity == type(of: rule).description.severity })
    }

    @Test(arguments: ids) func triggeringExamplesFireAtTheirMarkers(id: String) throws {
        let registered = try rule(id)
        if case let .plan(planRule) = registered {
            for example in registered.description.triggering { try checkPlanExample(planRule, example, id: id) }
            return
        }
        for example in registered.description.triggering {
            let (sql, offsets) = example.stripped
            let lines = LineIndex(sql)
            let expected = offsets.map { lines.lineAndColumn(ofByteOffset: $0) }.map { "\($0.line):\($0.column)" }
            let found = findings(of: registered, sql: sql, schema: example.schema)
            #expect(found.allSatisfy { $0.file == "example.sql" }, "\(id): \(sql)")
            #expect(found.map { "\($0.line ?? 0):\($0.column ?? 0)" }.sorted() == expected.sorted(), "\(id): \(sql)")
            #expect(found.allSatisfy { !$0.message.isEmpty && $0.severity == registered.description.severity })
        }
    }

    @Test(arguments: ids) func nonTriggeringExamplesStaySilent(id: String) throws {
        let registered = try rule(id)
        if case let .plan(planRule) = registered {
            for example in registered.description.nonTriggering {
                let found = try planFindings(of: planRule, plan: example.strippedPlan.text)
                #expect(found.isEmpty, "\(id) fired on: \(example.plan ?? "")\n\(found.map(\.message))")
            }
            return
        }
        for example in registered.description.nonTriggering {
            let found = findings(of: registered, sql: example.stripped.sql, schema: example.schema)
            #expect(found.isEmpty, "\(id) fired on: \(example.sql)\n\(found.map(\.message))")
        }
    }

    @Test(arguments: ids) func triggeringExamplesInCommentsOrStringsStaySilent(id: String) throws {
        let registered = try rule(id)
        if case .plan = registered { return }  // plans are not SQL: nothing to comment out
        for example in registered.description.triggering {
            let sql = example.stripped.sql
            let commented = sql.split(separator: "\n", omittingEmptySubsequences: false).map { "-- " + $0 }.joined(separator: "\n")
            let blockComment = "/* " + sql + " */ SELECT 1;"
            let literal = "SELECT " + quoteLiteral(sql) + " AS example;"
            for wrapped in [commented + "\nSELECT 1;", blockComment, literal] {
                let found = findings(of: registered, sql: wrapped, schema: example.schema)
                #expect(found.isEmpty, "\(id) fired inside a comment or literal: \(wrapped)")
            }
        }
    }

    static let scanRules: [any ScanRule] = RuleRegistry.scanRules
    static let scanIDs = scanRules.map { type(of: $0).description.id }

    /// A scan rule's examples are ScanRuleInput values: each triggering one gives findings of this
    /// rule that say what is wrong and where (a table, an index or a statement), each non-triggering
    /// one gives none.
    @Test(arguments: scanIDs) func scanExamplesFireOrStaySilent(id: String) throws {
        let rule = try #require(Self.scanRules.first { type(of: $0).description.id == id })
        let description = type(of: rule).description
        for example in description.triggering {
            let input = try #require(example.scan, "\(id): a scan example without input")
            let found = RuleEngine.check(scan: input, rules: [rule])
            #expect(!found.isEmpty, "\(id) did not fire on: \(example.caption ?? "")")
            #expect(found.allSatisfy { $0.rule == id && $0.severity == description.severity && !$0.message.isEmpty })
            if id != "pg-stat-statements-missing" {
                #expect(found.allSatisfy { $0.table != nil || $0.fingerprint != nil }, "\(id): a finding that names nothing")
            }
        }
        for example in description.nonTriggering {
            let input = try #require(example.scan, "\(id): a scan example without input")
            let found = RuleEngine.check(scan: input, rules: [rule])
            #expect(found.isEmpty, "\(id) fired on: \(example.caption ?? "")\n\(found.map(\.message))")
        }
    }

    @Test func everyRuleIsDescribedCompletely() {
        let all = ruleRegistry.map(\.description)
        #expect(Set(all.map(\.id)).count == all.count)
        for d in all {
            #expect(d.id.allSatisfy { $0.isLowercase || $0 == "-" }, "\(d.id) is not kebab-case")
            #expect(!d.summary.isEmpty && !d.solution.isEmpty && !d.rationale.isEmpty, "\(d.id)")
            if d.scope == .plan {
                #expect(!d.triggering.isEmpty && !d.nonTriggering.isEmpty, "\(d.id) needs examples")
                #expect((d.triggering + d.nonTriggering).allSatisfy { $0.plan != nil }, "\(d.id): an example without a plan")
            }
            if d.scope == .query || d.scope == .catalog {
                #expect(!d.triggering.isEmpty && !d.nonTriggering.isEmpty, "\(d.id) needs examples")
                #expect(d.triggering.allSatisfy { !$0.stripped.offsets.isEmpty }, "\(d.id): an example without ↓")
            }
            if d.scope == .scan {
                #expect(!d.triggering.isEmpty && !d.nonTriggering.isEmpty, "\(d.id) needs examples")
                #expect((d.triggering + d.nonTriggering).allSatisfy { $0.scan != nil && !($0.caption ?? "").isEmpty },
                        "\(d.id): a scan example needs an input and a caption")
            }
        }
        #expect(RuleRegistry.descriptions.contains { $0.id == "n-plus-one" && $0.severity == .warning && $0.scope == .workload })
    }
}
