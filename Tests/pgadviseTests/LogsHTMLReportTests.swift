import Foundation
import Testing
import PGAdviseTestSupport

/// `logs --format html` as a browser shows it: one file, charts and tables present after loading with
/// the network blocked, nothing fetched, and a statement's text staying text.
@Suite(.enabled(if: HeadlessBrowser.isAvailable))
struct LogsHTMLReportTests {
    @Test func rendersInHeadlessChromiumWithHostileText() throws {
        var log = try Data(contentsOf: RepositoryPaths.fixture("logs/stderr-default.log"))
        log.append(Data("""
            2026-11-23 13:04:25.000 UTC [999] LOG:  duration: 5000.000 ms  statement: SELECT id AS "<script>document.title='pwned'</script>" FROM "x&y"
            2026-11-23 13:04:25.100 UTC [999] ERROR:  invalid input syntax for type integer: "<img src=x onerror=alert(1)>"

            """.utf8))
        let out = try runPGAdvise(["logs", "-", "--format", "html"], stdin: log)
        #expect(out.exitCode == 0, "\(out.stderr)")
        let html = out.stdout
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("url("))
        let dom = try HeadlessBrowser.renderedDOM(html: html)
        #expect(dom.contains("<title>pgadvise log analysis</title>"))
        #expect(dom.contains("&lt;script&gt;document.title"))
        #expect(dom.contains("&lt;img src=x onerror=alert(1)&gt;"))
        // The timeline's three charts and the latency distribution; the sections a pgBadger reader looks for.
        #expect(dom.components(separatedBy: "<svg").count - 1 == 4)
        for heading in ["Statements per second", "Latency distribution", "Top queries by total time", "N+1 bursts", "Errors",
                        "Temporary files", "Lock waits", "Maintenance", "Sessions"] {
            #expect(dom.contains(heading), "\(heading)")
        }
        #expect(dom.contains("SELECT id, name, email FROM customers WHERE id = $1;"))
    }

    @Test func pgbouncerSectionHasItsCharts() throws {
        let out = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/pgbouncer.log").path, "--format", "html"])
        #expect(out.exitCode == 0)
        let dom = try HeadlessBrowser.renderedDOM(html: out.stdout)
        #expect(dom.contains("<h2>PgBouncer</h2>"))
        #expect(dom.contains("Client wait for a server"))
        #expect(dom.contains("no more connections allowed (max_client_conn)"))
        #expect(dom.components(separatedBy: "<svg").count - 1 == 2)
    }
}
