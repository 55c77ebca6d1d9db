import PGAdviseCore
import PGAdviseRules
import Testing

/// `parse-error` is reported by the lint driver, not by a check: its examples run through `Linter`.
@Suite struct ParseErrorRuleTests {
    @Test func examplesPointAtTheParsersPosition() {
        for example in ParseErrorRule.description.triggering {
            let (sql, offsets) = example.stripped
            let findings = Linter.lint([LintSource(path: "example.sql", text: sql)]).findings
            #expect(findings.map(\.rule) == ["parse-error"], "\(sql)")
            #expect(findings.first?.line == 1 && findings.first?.column == (offsets.first ?? -1) + 1, "\(sql)")
        }
        for example in ParseErrorRule.description.nonTriggering {
            #expect(Linter.lint([LintSource(path: "example.sql", text: example.sql)]).findings.allSatisfy { $0.rule != "parse-error" })
        }
    }
}
