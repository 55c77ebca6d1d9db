import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseStore
import Testing

/// Two known weeks through the builder and every renderer.
@Suite struct WeeklyReportTests {
    typealias T = TestSnapshots
    static let report = WeeklyReportBuilder(week: ISOWeek(year: 2026, week: 47)).build(T.twoWeeks, schemaVersion: jsonSchemaVersion)
    static var server: ServerWeekReport? { report.servers.first }

    @Test func listsRegressionsNewGoneAndFasterStatements() throws {
        let s = try #require(Self.server)
        #expect(Self.report.servers.count == 1)
        #expect(s.regressions.map(\.fingerprint) == [T.fingerprint("a")])
        #expect(s.newStatements.map(\.fingerprint) == [T.fingerprint("e")])
        #expect(s.goneStatements.map(\.fingerprint) == [T.fingerprint("c")])
        #expect(s.faster.map(\.fingerprint) == [T.fingerprint("d")])
        #expect(s.top.map(\.fingerprint) == ["a", "b", "d", "e"].map(T.fingerprint))
        let a = try #require(s.regressions.first)
        #expect(a.thisWeek?.calls == 100 && a.thisWeek?.totalMs == 2_000 && a.thisWeek?.meanMs == 20)
        #expect(a.previousWeek?.calls == 100 && a.previousWeek?.totalMs == 1_000 && a.previousWeek?.meanMs == 10)
        #expect(a.callsDelta == 0 && a.totalMsDelta == 1_000 && a.meanMsDelta == 10 && a.meanChange == 1)
        let d = try #require(s.faster.first)
        #expect(d.meanChange == -0.75 && d.totalMsDelta == -1_500)
        #expect(s.thisWeek == WeekTotals(totalMs: 3_800, calls: 250, statements: 4, snapshots: 1, counterReset: false))
        #expect(s.previousWeek == WeekTotals(totalMs: 4_100, calls: 230, statements: 4, snapshots: 1, counterReset: false))
        #expect(s.daily.first { $0.day == "2026-11-22" }?.totalMs == 3_800)
        #expect(s.daily.first { $0.day == "2026-11-15" }?.totalMs == 4_100)
    }

    @Test func thresholdsDecideWhatIsARegression() throws {
        // A's mean doubled (+100%) and its week cost 1 s more: a 150% threshold or a 2 s floor drops it.
        let strict = WeeklyReportBuilder(week: ISOWeek(year: 2026, week: 47), regressionThreshold: 1.5).build(T.twoWeeks, schemaVersion: 1)
        #expect(strict.regressionCount == 0)
        let floor = WeeklyReportBuilder(week: ISOWeek(year: 2026, week: 47), minimumTotalIncreaseMs: 2_000).build(T.twoWeeks, schemaVersion: 1)
        #expect(floor.regressionCount == 0)
        #expect(Self.report.regressionCount == 1)
    }

    @Test func markdownMatchesTheExpectedFile() throws {
        let expected = try String(contentsOf: Self.fixture("weekly-report.md"), encoding: .utf8)
        #expect(renderWeeklyReportMarkdown(Self.report) == expected)
    }

    @Test func jsonCarriesTheContract() throws {
        let json = try JSONOutput.encode(Self.report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["schemaVersion"] as? Int == 1)
        #expect(object["week"] as? String == "2026-W47")
        #expect(object["previousWeek"] as? String == "2026-W46")
        #expect(object["weekStart"] as? String == "2026-11-16T00:00:00Z")
        #expect(object["weekEnd"] as? String == "2026-11-23T00:00:00Z")
        let server = try #require((object["servers"] as? [[String: Any]])?.first)
        #expect(server["serverLabel"] as? String == "db1:5432")
        #expect(server["database"] as? String == "shop")
        #expect(server["source"] as? String == "pg_stat_statements")
        let regression = try #require((server["regressions"] as? [[String: Any]])?.first)
        #expect(regression["fingerprint"] as? String == T.fingerprint("a"))
        #expect(regression["normalized"] as? String == "SELECT a FROM t WHERE id = $1")
        #expect(regression["totalMsDelta"] as? Double == 1_000)
        #expect(regression["meanChange"] as? Double == 1)
        let thisWeek = try #require(regression["thisWeek"] as? [String: Any])
        #expect(thisWeek["calls"] as? Int == 100)
        #expect(thisWeek["meanMs"] as? Double == 20)
        let decoded = try JSONDecoder().decode(WeeklyReport.self, from: Data(json.utf8))
        #expect(decoded.servers.first?.regressions == Self.server?.regressions)
    }

    @Test func htmlIsOneSelfContainedFileWithChartsAndEscapedText() throws {
        let html = renderWeeklyReportHTML(Self.report)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("src="))
        #expect(html.components(separatedBy: "<svg").count - 1 == 2)
        // 14 daily bars plus two bars for each of the four top statements.
        #expect(html.components(separatedBy: "<rect").count - 1 == 14 + 8)
        #expect(html.contains("SELECT &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; FROM t"))
        #expect(html.contains("<h3>Regressions (mean time up more than 25% and total time up at least 1.00 s)</h3>"))
        #expect(html.contains("<td><code>aaaaaaaaaaaaaaaa</code></td><td class=\"n\">100</td><td class=\"n\">2.00 s</td>"))
    }

    @Test func textFitsOneHundredColumns() throws {
        let text = renderWeeklyReportText(Self.report)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 })
        #expect(text.contains("Regressions (mean time up more than 25% and total time up at least 1.00 s)"))
        #expect(text.contains("aaaaaaaaaaaaaaaa  SELECT a FROM t WHERE id = $1"))
    }

    static func fixture(_ name: String) -> URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("fixtures/report").appendingPathComponent(name)
    }
}
