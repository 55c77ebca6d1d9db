import Foundation
import Testing
import PGAdviseTestSupport

/// `pgadvise logs` on a log with auto_explain plans: the plan insights per query in every format.
@Suite struct LogsPlanInsightsCommandTests {
    static let fixture = RepositoryPaths.fixture("logs/stderr-auto-explain-analyze.log").path

    @Test func textAndMarkdownShowEachQuerysWorstOccurrence() throws {
        let text = try runPGAdvise(["logs", Self.fixture])
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Plan insights (auto_explain), worst occurrence per query"))
        #expect(text.stdout.contains("SELECT id, payload FROM events WHERE id <= $1 ORDER BY payload; (ecca3daff3bdd9a3: 2 calls, 237.1"))
        #expect(text.stdout.contains("    warning disk-spill (x2): 137.7 ms (85%) at stake on Sort, in a 176.7 ms run\n      at \(Self.fixture):61\n"))
        #expect(text.stdout.contains("    warning filter-removes-most-rows: 16.3 ms (100%) at stake on Seq Scan on events, in a 16.4 ms"))
        #expect(text.stdout.contains("run\n      at \(Self.fixture):39\n"))

        let markdown = try runPGAdvise(["logs", Self.fixture, "--format", "markdown"])
        #expect(markdown.exitCode == 0)
        #expect(markdown.stdout.contains("## Plan insights (auto_explain)"))
        #expect(markdown.stdout.contains("| warning | filter-removes-most-rows | 16.3 ms (100%) | 16.4 ms | Seq Scan on events | "))
    }

    @Test func jsonCarriesThePlanInsights() throws {
        let out = try runPGAdvise(["logs", Self.fixture, "--format", "json"])
        #expect(out.exitCode == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let groups = try #require(json["planInsights"] as? [[String: Any]])
        #expect(groups.map { $0["fingerprint"] as? String } == ["ecca3daff3bdd9a3", "2ed1bfc7be129438"])
        let insight = try #require((groups[0]["insights"] as? [[String: Any]])?.first)
        let finding = try #require(insight["finding"] as? [String: Any])
        #expect(finding["rule"] as? String == "disk-spill")
        #expect(finding["line"] as? Int == 61)
        #expect(insight["durationMs"] as? Double == 176.655)
        #expect(insight["occurrences"] as? Int == 2)
    }

    @Test(.enabled(if: HeadlessBrowser.isAvailable))
    func htmlEscapesThePlansText() throws {
        var log = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        log.append(Data("""
            2026-12-06 01:30:09.000 UTC [999] LOG:  duration: 16.355 ms  plan:
            \tQuery Text: SELECT count(*) FROM "<script>x</script>" WHERE kind = '<img src=x onerror=alert(1)>';
            \tAggregate  (cost=2187.55..2187.56 rows=1 width=8) (actual time=16.343..16.345 rows=1 loops=1)
            \t  ->  Seq Scan on "<script>x</script>"  (cost=0.00..2185.00 rows=1020 width=0) (actual time=0.009..16.275 rows=1000 loops=1)
            \t        Filter: (kind = '<img src=x onerror=alert(1)>'::text)
            \t        Rows Removed by Filter: 99000

            """.utf8))
        let out = try runPGAdvise(["logs", "-", "--format", "html"], stdin: log)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("<script") && !out.stdout.contains("<img"))
        let dom = try HeadlessBrowser.renderedDOM(html: out.stdout)
        #expect(dom.contains("<h2>Plan insights (auto_explain)</h2>"))
        #expect(dom.contains("Seq Scan on &lt;script&gt;x&lt;/script&gt;"))
        #expect(dom.contains("stderr-auto-explain-analyze.log:61") == false)   // stdin: the log line is named "-"
        #expect(dom.contains("-:61"))
    }
}

/// The sessions section of `pgadvise logs` on a log of short sessions.
@Suite struct LogsSessionsCommandTests {
    @Test func textNamesRateLengthsAndPeak() throws {
        let out = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/stderr-churn.log").path])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("  Sessions        61 connections, 61 disconnections, 168.04 new per second\n"))
        #expect(out.stdout.contains("8.9 ms on average, longest 25.0 ms\n"))
        #expect(out.stdout.contains("at most 4 open at once (2026-12-06 01:38:21.984 UTC)\n"))
        #expect(out.stdout.contains("[WARNING] connection-churn: 168.0 new sessions per second"))
        let markdown = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/stderr-churn.log").path, "--format", "markdown"])
        #expect(markdown.stdout.contains("| Sessions | 61 connections, 61 disconnections, 168.04 new per second; sessions last "))
    }
}
