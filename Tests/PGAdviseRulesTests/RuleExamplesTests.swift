import PGAdviseCore
import PGAdviseSQL
import Testing
@testable import PGAdviseRules

/// Every rule's examples are its tests: each triggering example fires exactly at its `↓` markers,
/// each non-triggering one stays silent, and a triggering example inside a comment or a string
/// literal does not fire.
@Suite struct RuleExamplesTests {
    static let checkedRules: [RegisteredRule] = ruleRegistry.filter {
        switch $0 {
        case .described, .workload: return false   // workload rules: WorkloadRuleExamplesTests
        default: return true
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
        case .described, .workload: return []
        }
        return result.findings.filter { $0.rule == registered.description.id }
    }

    @Test(arguments: ids) func triggeringExamplesFireAtTheirMarkers(id: String) throws {
        let registered = try rule(id)
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
        for example in registered.description.nonTriggering {
            let found = findings(of: registered, sql: example.stripped.sql, schema: example.schema)
            #expect(found.isEmpty, "\(id) fired on: \(example.sql)\n\(found.map(\.message))")
        }
    }

    @Test(arguments: ids) func triggeringExamplesInCommentsOrStringsStaySilent(id: String) throws {
        let registered = try rule(id)
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

    @Test func everyRuleIsDescribedCompletely() {
        let all = ruleRegistry.map(\.description)
        #expect(Set(all.map(\.id)).count == all.count)
        for d in all {
            #expect(d.id.allSatisfy { $0.isLowercase || $0 == "-" }, "\(d.id) is not kebab-case")
            #expect(!d.summary.isEmpty && !d.solution.isEmpty && !d.rationale.isEmpty, "\(d.id)")
            if d.scope == .query || d.scope == .catalog {
                #expect(!d.triggering.isEmpty && !d.nonTriggering.isEmpty, "\(d.id) needs examples")
                #expect(d.triggering.allSatisfy { !$0.stripped.offsets.isEmpty }, "\(d.id): an example without ↓")
            }
        }
        #expect(RuleRegistry.descriptions.contains { $0.id == "n-plus-one" && $0.severity == .warning && $0.scope == .workload })
    }
}
