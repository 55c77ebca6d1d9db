import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseStore
import PGAdviseTestSupport
import Testing

/// The weekly HTML report as a browser shows it: its charts and tables are there after the page
/// loaded with the network blocked, and a statement's text stays text.
@Suite(.enabled(if: HeadlessBrowser.isAvailable))
struct WeeklyReportBrowserTests {
    @Test func rendersInHeadlessChromium() throws {
        var snapshots = TestSnapshots.twoWeeks
        let hostile = "SELECT '<script>document.title=\"pwned\"</script>' FROM \"x&y\""
        snapshots[2].statements[3].normalized = hostile
        let report = WeeklyReportBuilder(week: ISOWeek(year: 2026, week: 47)).build(snapshots, schemaVersion: jsonSchemaVersion)
        let dom = try HeadlessBrowser.renderedDOM(html: renderWeeklyReportHTML(report))
        #expect(dom.contains("<svg"))
        #expect(dom.contains("<table"))
        #expect(!dom.contains("pwned</title>"))
        #expect(dom.contains("&lt;script&gt;"))
    }
}
