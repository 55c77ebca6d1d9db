import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseTestSupport
import Testing

/// The lint pipeline on the SQL fixtures, called as a library.
struct LintPipelineTests {
    let root = RepositoryPaths.root.path

    @Test func lintsTheApplicationQueriesAgainstTheirSchema() throws {
        let report = try LintPipeline(paths: [root + "/fixtures/sql/app"], schemaPaths: [root + "/fixtures/sql/schema.sql"]).run()
        #expect(report.files == 5)
        #expect(report.statements == 16)
        let located = report.findings.map { "\($0.rule) \(($0.file ?? "-").replacingOccurrences(of: root + "/", with: "")):\($0.line ?? 0)" }
        #expect(located == [
            "parse-error fixtures/sql/app/broken.sql:3",
            "cartesian-join fixtures/sql/app/orders.sql:17",
            "implicit-cast fixtures/sql/app/orders.sql:21",
            "order-by-random fixtures/sql/app/orders.sql:24",
            "select-star fixtures/sql/app/users.sql:2",
            "function-on-indexed-column fixtures/sql/app/users.sql:2",
            "function-on-indexed-column fixtures/sql/app/users.sql:8",
            "leading-wildcard-like fixtures/sql/app/users.sql:11",
            "offset-pagination fixtures/sql/app/users.sql:14",
            "not-in-subquery fixtures/sql/app/users.sql:17",
            "null-comparison fixtures/sql/app/users.sql:20",
            "missing-fk-index fixtures/sql/schema.sql:36",
            "duplicate-index fixtures/sql/schema.sql:47",
        ])
        let text = try report.render(.text, options: RenderOptions())
        #expect(text.hasPrefix("Checked 16 statements in 5 files: 2 errors, 11 warnings.\n\n"))
        #expect(report.findingsForExitCode == report.findings)
    }

    @Test func aMissingPathIsAnInputErrorNamingIt() throws {
        #expect(throws: PGAdviseError(.input, "cannot read /nonexistent/queries.sql: no such file or directory")) {
            try LintPipeline(paths: ["/nonexistent/queries.sql"]).run()
        }
    }
}
