import Foundation
import PGAdviseCore
import PGAdviseTestSupport
import Testing

/// `pgadvise lint` and `pgadvise rules`, run as a user would, on the SQL fixtures.
@Suite struct LintCommandTests {
    let root = RepositoryPaths.root.path

    /// Runs `pgadvise lint` with repository-relative fixture paths made absolute.
    func lint(_ arguments: [String]) throws -> CommandOutput {
        try runPGAdvise(["lint"] + arguments.map { $0.hasPrefix("fixtures/") ? root + "/" + $0 : $0 })
    }

    /// `rule file:line:column` with the file relative to the repository.
    func locations(_ report: LintReport) -> [String] {
        report.findings.map { "\($0.rule) \(relative($0.file ?? "-")):\($0.line ?? 0):\($0.column ?? 0)" }
    }

    func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    @Test func applicationQueriesWithSchema() throws {
        let out = try lint(["fixtures/sql/app", "--schema", "fixtures/sql/schema.sql", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let report = try JSONDecoder().decode(LintReport.self, from: Data(out.stdout.utf8))
        #expect(report.schemaVersion == 1)
        #expect(report.files == 5)
        #expect(report.statements == 16)
        #expect(locations(report) == [
            "parse-error fixtures/sql/app/broken.sql:3:12",
            "cartesian-join fixtures/sql/app/orders.sql:17:16",
            "implicit-cast fixtures/sql/app/orders.sql:21:29",
            "order-by-random fixtures/sql/app/orders.sql:24:57",
            "select-star fixtures/sql/app/users.sql:2:8",
            "function-on-indexed-column fixtures/sql/app/users.sql:2:33",
            "function-on-indexed-column fixtures/sql/app/users.sql:8:35",
            "leading-wildcard-like fixtures/sql/app/users.sql:11:39",
            "offset-pagination fixtures/sql/app/users.sql:14:85",
            "not-in-subquery fixtures/sql/app/users.sql:17:46",
            "null-comparison fixtures/sql/app/users.sql:20:39",
            "missing-fk-index fixtures/sql/schema.sql:36:32",
            "duplicate-index fixtures/sql/schema.sql:47:1",
        ])
        let byRule = Dictionary(report.findings.map { ($0.rule + "@\($0.line ?? 0)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byRule["parse-error@3"]?.message.contains("syntax error at or near \"{\"") == true)
        #expect(byRule["parse-error@3"]?.severity == .error)
        #expect(byRule["function-on-indexed-column@2"]?.fix == """
            -- index the expression:
            CREATE INDEX CONCURRENTLY ON users (lower(email));
            """)
        // created_at is timestamptz: ::date depends on TimeZone, so only the range rewrite is offered.
        #expect(byRule["function-on-indexed-column@8"]?.fix == """
            -- compare the bare column with a range:
            WHERE created_at >= $1::date AND created_at < $1::date + 1
            """)
        #expect(byRule["function-on-indexed-column@8"]?.solution?.contains("not IMMUTABLE") == true)
        #expect(byRule["offset-pagination@14"]?.fix == """
            -- keyset pagination: pass the sort key of the last row of the previous page
            WHERE (created_at, id) < (:last_created_at, :last_id)
            ORDER BY created_at DESC, id DESC
            LIMIT 25
            """)
        #expect(byRule["not-in-subquery@17"]?.fix == "NOT EXISTS (SELECT 1 FROM orders WHERE orders.user_id = u.id)")
        #expect(byRule["missing-fk-index@36"]?.fix == "CREATE INDEX CONCURRENTLY ON order_items (product_id);")
        #expect(byRule["duplicate-index@47"]?.fix == "DROP INDEX CONCURRENTLY sessions_user_id_idx1;")
        #expect(byRule["select-star@2"]?.solution == "List the columns the caller uses; all of them are: id, email, name, country, created_at, deleted_at.")
    }

    /// The common layout: `--schema` names a file that also sits inside the linted tree. Its DDL must
    /// build the schema once; loaded twice, every index would be reported as a duplicate of itself.
    @Test func schemaFileInsideTheLintedTreeIsLoadedOnce() throws {
        let out = try lint(["fixtures/sql", "--schema", "fixtures/sql/schema.sql", "--format", "json"])
        let report = try JSONDecoder().decode(LintReport.self, from: Data(out.stdout.utf8))
        let duplicates = report.findings.filter { $0.rule == "duplicate-index" }
        #expect(duplicates.allSatisfy { !$0.message.contains("\($0.index ?? "-") has the same keys as \($0.index ?? "-")") })
        #expect(duplicates.map { "\(relative($0.file ?? "-")):\($0.line ?? 0) \($0.index ?? "-")" }.sorted() == [
            "fixtures/sql/migrations/0002_invoice_lookups.sql:1 invoices_number_idx",
            "fixtures/sql/schema.sql:47 sessions_user_id_idx1",
        ])
        #expect(report.findings.filter { $0.rule == "missing-fk-index" }.count == 1)
    }

    @Test func migrationsBuildTheirOwnSchema() throws {
        let out = try lint(["fixtures/sql/migrations", "--format", "json"])
        let report = try JSONDecoder().decode(LintReport.self, from: Data(out.stdout.utf8))
        #expect(locations(report) == [
            "duplicate-index fixtures/sql/migrations/0002_invoice_lookups.sql:1:1",
            "unfiltered-write fixtures/sql/migrations/0003_backfill_currency.sql:3:1",
            // After a BEGIN ATOMIC body, whose semicolons the statement split must not cut at.
            "select-star fixtures/sql/migrations/0004_invoice_total_function.sql:8:8",
            "leading-wildcard-like fixtures/sql/migrations/0004_invoice_total_function.sql:8:37",
        ])
        #expect(report.statements == 11)
        #expect(report.findings[0].message.contains("has the same keys as invoices_number_key"))
    }

    @Test func failOnDecidesTheExitCode() throws {
        let migrations = "fixtures/sql/migrations"
        #expect(try lint([migrations]).exitCode == 0)
        #expect(try lint([migrations, "--fail-on", "warning"]).exitCode == 1)
        #expect(try lint([migrations, "--fail-on", "error"]).exitCode == 0)
        let text = try lint([migrations, "--fail-on", "info"])
        #expect(text.exitCode == 1)
        #expect(text.stdout.hasPrefix("Checked 11 statements in 4 files: 4 warnings.\n"))
        #expect(text.stdout.contains("[WARNING] unfiltered-write: UPDATE without WHERE rewrites every row of invoices."))
        #expect(text.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 })
    }

    @Test func unreadablePathIsExitTwo() throws {
        let out = try lint(["fixtures/sql/does-not-exist.sql"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("cannot read \(root)/fixtures/sql/does-not-exist.sql: no such file or directory"))
        #expect(try lint([]).exitCode == 2)
        #expect(try lint(["fixtures/sql/app", "--format", "markdown"]).exitCode == 2)
    }

    @Test func sarifHasTheRequiredStructure() throws {
        let out = try lint(["fixtures/sql/app", "--schema", "fixtures/sql/schema.sql", "--format", "sarif"])
        let log = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        #expect((log["$schema"] as? String)?.hasSuffix("sarif-2.1.0.json") == true)
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "pgadvise")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ruleIds = rules.compactMap { $0["id"] as? String }
        #expect(ruleIds.contains("select-star") && ruleIds.contains("parse-error") && ruleIds.contains("n-plus-one"))
        for rule in rules {
            #expect((rule["shortDescription"] as? [String: Any])?["text"] is String)
            let level = (rule["defaultConfiguration"] as? [String: Any])?["level"] as? String
            #expect(["note", "warning", "error"].contains(level ?? ""))
        }
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.count == 13)
        for result in results {
            let id = try #require(result["ruleId"] as? String)
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(ruleIds[index] == id)
            #expect((result["message"] as? [String: Any])?["text"] is String)
            #expect(["note", "warning", "error"].contains(result["level"] as? String ?? ""))
            let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let uri = (location["artifactLocation"] as? [String: Any])?["uri"] as? String
            #expect(uri?.hasPrefix("file://\(root)/fixtures/sql/") == true)
            let region = try #require(location["region"] as? [String: Any])
            #expect((region["startLine"] as? Int ?? 0) >= 1 && (region["startColumn"] as? Int ?? 0) >= 1)
        }
        let parseError = results.first { $0["ruleId"] as? String == "parse-error" }
        #expect(parseError?["level"] as? String == "error")
    }

    @Test func rulesListAndCommittedDocsMatchTheCode() throws {
        let list = try runPGAdvise(["rules"])
        #expect(list.exitCode == 0)
        #expect(list.stdout.contains("function-on-indexed-column"))
        #expect(list.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 })
        let json = try runPGAdvise(["rules", "--format", "json"])
        let document = try JSONDecoder().decode(RuleCatalogDocument.self, from: Data(json.stdout.utf8))
        #expect(document.rules.contains { $0.id == "n-plus-one" && $0.scope == "workload" })

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-rules-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try runPGAdvise(["rules", "--markdown", directory.path])
        #expect(written.exitCode == 0)
        let generated = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let committedDirectory = RepositoryPaths.root.appendingPathComponent("docs/rules")
        let committed = try FileManager.default.contentsOfDirectory(atPath: committedDirectory.path).sorted()
        #expect(generated == committed, "docs/rules is stale: run `pgadvise rules --markdown docs/rules`")
        for page in generated {
            let fresh = try String(contentsOf: directory.appendingPathComponent(page), encoding: .utf8)
            let old = try String(contentsOf: committedDirectory.appendingPathComponent(page), encoding: .utf8)
            #expect(fresh == old, "docs/rules/\(page) is stale: run `pgadvise rules --markdown docs/rules`")
        }
        #expect(generated.contains("select-star.md") && generated.contains("README.md"))
    }
}
