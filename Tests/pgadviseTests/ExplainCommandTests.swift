import Foundation
import PGAdviseCore
import PGAdviseTestSupport
import Testing

/// `pgadvise explain` as a user runs it.
@Suite struct ExplainCommandTests {
    static func plan(_ name: String) -> String { RepositoryPaths.fixture("plans/\(name)").path }

    /// Found by Benchmarks/fuzz (FuzzExplain): actual rows of 124 digits trapped in the tree's
    /// row column (Int(_:)) after the plan rules were fixed; the count saturates instead.
    @Test func rowsBeyondIntAreShownNotTrappedOn() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-huge-rows-\(UUID().uuidString).txt")
        let rows = "2" + String(repeating: "1", count: 123)
        try "Seq Scan on t  (cost=0.00..55.00 rows=2000 width=68) (actual time=0.01..0.02 rows=\(rows) loops=1)\n"
            .write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let out = try runPGAdvise(["explain", url.path])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("9,223,372,036,854,775,807 of 2,000"))
    }

    @Test func printsTheTreeWithFiguresThenTheInsights() throws {
        let out = try runPGAdvise(["explain", Self.plan("index-filter.txt")])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("exclusive  inclusive  share"))
        #expect(out.stdout.contains("Index Scan using orders_created_at on orders  !index-filter"))
        #expect(out.stdout.contains("Insights (1):"))
        #expect(out.stdout.contains("CREATE INDEX CONCURRENTLY ON orders (status, created_at);"))
        let healthy = try runPGAdvise(["explain", Self.plan("healthy.json")])
        #expect(healthy.exitCode == 0 && healthy.stdout.contains("Insights: none."))
    }

    @Test func writesMarkdown() throws {
        let out = try runPGAdvise(["explain", Self.plan("disk-spill.json"), "--format", "markdown"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("| Node | Exclusive | Inclusive | Share | Rows (actual of est.) | Estimate | Loops | Buffers |"))
        #expect(out.stdout.contains("| · Sort |"))
        #expect(out.stdout.contains("### Insights\n\n- **warning** `disk-spill`"))
        let compare = try runPGAdvise(["explain", "--compare", Self.plan("disk-spill.txt"), Self.plan("disk-spill.json"), "--format", "markdown"])
        #expect(compare.exitCode == 0 && compare.stdout.contains("| Before |") && compare.stdout.contains("| After |"))
    }

    @Test func failOnTurnsInsightsIntoExitCodeOne() throws {
        #expect(try runPGAdvise(["explain", Self.plan("lossy-bitmap.txt"), "--fail-on", "warning"]).exitCode == 1)
        #expect(try runPGAdvise(["explain", Self.plan("healthy.txt"), "--fail-on", "warning"]).exitCode == 0)
    }

    @Test func readsStandardInputAndWritesJSON() throws {
        let text = try Data(contentsOf: URL(fileURLWithPath: Self.plan("heap-fetches.json")))
        let out = try runPGAdvise(["explain", "-", "--format", "json"], stdin: text)
        #expect(out.exitCode == 0, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(json["schemaVersion"] as? Int == 1)
        let plans = try #require(json["plans"] as? [[String: Any]])
        let nodes = try #require(plans.first?["nodes"] as? [[String: Any]])
        let metrics = try #require(nodes.first?["metrics"] as? [String: Any])
        #expect(metrics["exclusiveTimeMs"] != nil && metrics["estimateFactor"] != nil)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["heap-fetches"])
        #expect(findings.first?["nodePath"] as? String == "Index Only Scan using events_id on events")
    }

    @Test func comparesTwoPlans() throws {
        let out = try runPGAdvise(["explain", "--compare", Self.plan("filter-removes-most-rows.txt"), Self.plan("healthy.json"), "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let before = try #require(json["before"] as? [String: Any]), after = try #require(json["after"] as? [String: Any])
        #expect(before["executionTimeMs"] as? Double != nil && before["planningTimeMs"] as? Double != nil)
        #expect(after["executionTimeMs"] as? Double != nil && after["planningTimeMs"] as? Double != nil)
        #expect((json["changes"] as? [[String: Any]])?.isEmpty == false)
        #expect((json["verdict"] as? String)?.hasPrefix("Faster") == true)
        let text = try runPGAdvise(["explain", "--compare", Self.plan("filter-removes-most-rows.txt"), Self.plan("healthy.json")])
        #expect(text.stdout.contains("Resolved:\n  - filter-removes-most-rows"))
    }

    @Test func refusesWhatItCannotReadWithExitCodeTwo() throws {
        let yaml = try runPGAdvise(["explain", "-"], stdin: Data("- Plan: \n    Node Type: \"Seq Scan\"\n".utf8))
        #expect(yaml.exitCode == 2 && yaml.stderr.contains("YAML"))
        let truncated = try runPGAdvise(["explain", "-"], stdin: Data("[{\"Plan\": {\"Node Type\": \"Seq".utf8))
        #expect(truncated.exitCode == 2 && truncated.stderr.contains("truncated"))
        let missing = try runPGAdvise(["explain", "/nonexistent/plan.txt"])
        #expect(missing.exitCode == 2 && missing.stderr.contains("cannot read"))
        #expect(try runPGAdvise(["explain"]).exitCode == 2)
        #expect(try runPGAdvise(["explain", "--compare", Self.plan("healthy.txt")]).exitCode == 2)
    }
}

/// The HTML report in a real browser: the tree, the bars, the badges, and escaped names.
@Suite(.enabled(if: HeadlessBrowser.isAvailable))
struct ExplainHTMLBrowserTests {
    @Test func rendersTheTreeBarsAndBadgesWithEverythingEscaped() throws {
        let hostile = """
             Limit  (cost=3937.42..3937.81 rows=10 width=23) (actual time=52.733..52.737 rows=10 loops=1)
               ->  Index Scan using "<img src=x onerror=alert(1)>" on "<script>alert(1)</script>"  (cost=0.42..7874.42 rows=200000 width=23) (actual time=0.021..49.664 rows=100010 loops=1)
             Planning Time: 0.337 ms
             Execution Time: 52.771 ms
            """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("hostile.txt")
        try hostile.write(to: input, atomically: true, encoding: .utf8)
        let out = try runPGAdvise(["explain", input.path, RepositoryPaths.fixture("plans/row-misestimate.json").path, "--format", "html"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("<script>") && !out.stdout.contains("<img") && !out.stdout.contains("http"))
        let dom = try HeadlessBrowser.renderedDOM(html: out.stdout)
        #expect(dom.contains("Index Scan using &lt;img src=x onerror=alert(1)&gt; on &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!dom.contains("<script>alert"))
        #expect(dom.contains("class=\"badge warning\" href=\"#plan1-f0\""))
        #expect(dom.contains("large-offset"))
        #expect(dom.contains("Seq Scan on customers c"))
        #expect(dom.contains("class=\"badge warning\" href=\"#plan2-f"))
        #expect(dom.contains("<div class=\"bar\"><span style=\"width:"))
        #expect(dom.contains("CREATE STATISTICS ON city, zip FROM customers;"))
    }
}

/// `pgadvise explain CONNINFO --sql/--file`: EXPLAIN ANALYZE run by pgadvise, always rolled back.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ExplainLiveCommandTests {
    static let dsn: Result<String, Error> = Result {
        try TestDatabase.freshDatabase("pgadvise_explain_cmd", setupSQL: """
            CREATE TABLE items (id int PRIMARY KEY, kind int NOT NULL);
            INSERT INTO items SELECT i, i % 100 FROM generate_series(1, 50000) i;
            ANALYZE items;
            """)
    }

    @Test func runsASelectAndReportsItsInsights() throws {
        let out = try runPGAdvise(["explain", try Self.dsn.get(), "--sql", "SELECT * FROM items WHERE kind = 7;", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let plans = try #require(json["plans"] as? [[String: Any]])
        #expect(plans.first?["analyzed"] as? Bool == true && plans.first?["source"] as? String == "pgadvise_explain_cmd")
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["filter-removes-most-rows"])
        #expect(findings.first?["fix"] as? String == "CREATE INDEX CONCURRENTLY ON items (kind);")
    }

    @Test func writesNeedAllowWritesAndAreRolledBackWithAWarning() throws {
        let dsn = try Self.dsn.get()
        let refused = try runPGAdvise(["explain", dsn, "--sql", "DELETE FROM items WHERE id <= 10"])
        #expect(refused.exitCode == 2 && refused.stderr.contains("--allow-writes"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-explain-sql-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("q.sql")
        try "DELETE FROM items WHERE id <= 10;\n".write(to: file, atomically: true, encoding: .utf8)
        let allowed = try runPGAdvise(["explain", dsn, "--file", file.path, "--allow-writes"])
        #expect(allowed.exitCode == 0, "\(allowed.stderr)")
        #expect(allowed.stderr.contains("warning: --allow-writes") && allowed.stdout.contains("Delete on items"))
        let count = try runPGAdvise(["explain", dsn, "--sql", "SELECT * FROM items WHERE id <= 10", "--format", "json"])
        #expect(count.stdout.contains("\"actualRows\" : 10"), "the DELETE was not rolled back")
        let timeout = try runPGAdvise(["explain", dsn, "--sql", "SELECT pg_sleep(2)", "--statement-timeout", "200"])
        #expect(timeout.exitCode == 3 && timeout.stderr.contains("statement timeout"), "\(timeout.stderr)")
    }
}
