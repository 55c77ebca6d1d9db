import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseTestSupport
import Testing

/// auto_explain plans inside a log, judged by the plan insights of `pgadvise explain`. The fixtures were
/// captured from PostgreSQL 15 with auto_explain.log_analyze and log_buffers (fixtures/logs/make-fixtures.sh):
/// a sort that spills under work_mem = 64kB, run twice (30,000 then 100,000 rows), a scan whose filter
/// throws away 99% of what it reads, and two primary-key lookups that must stay silent.
@Suite struct LogsPlanInsightsTests {
    static func run(_ names: [String]) throws -> LogReport {
        try LogsPipeline(paths: names.map { RepositoryPaths.fixture("logs/\($0)").path }).run()
    }

    struct Expected {
        let file: String
        let spillLine: Int, spillDurationMs: Double, spillExclusiveMs: Double, spillCalls: Int, spillTotalMs: Double
        let filterLine: Int, filterDurationMs: Double, filterExclusiveMs: Double
    }

    static let text = Expected(file: "stderr-auto-explain-analyze.log", spillLine: 61, spillDurationMs: 176.655, spillExclusiveMs: 137.669,
                               spillCalls: 2, spillTotalMs: 237.126, filterLine: 39, filterDurationMs: 16.355, filterExclusiveMs: 16.275)
    static let json = Expected(file: "stderr-auto-explain-analyze-json.log", spillLine: 287, spillDurationMs: 217.802, spillExclusiveMs: 161.97,
                               spillCalls: 2, spillTotalMs: 287.371, filterLine: 147, filterDurationMs: 7.634, filterExclusiveMs: 7.568)

    @Test(arguments: [text, json])
    func eachInsightsWorstOccurrencePerFingerprint(_ expected: Expected) throws {
        let r = try Self.run([expected.file])
        let groups = try #require(r.planInsights)
        #expect(groups.map(\.normalized) == ["SELECT id, payload FROM events WHERE id <= $1 ORDER BY payload;",
                                             "SELECT count(*) FROM events WHERE kind = $1;"])
        #expect(groups.map { $0.insights.map(\.finding.rule) } == [["disk-spill"], ["filter-removes-most-rows"]])

        let sort = groups[0], spill = sort.insights[0]
        #expect(sort.calls == expected.spillCalls && sort.plans == 2)
        #expect(abs(sort.totalMs - expected.spillTotalMs) < 0.001)
        // Both runs spilled; the 100,000-row one has more at stake, so it is the one reported.
        #expect(spill.occurrences == 2)
        #expect(spill.finding.line == expected.spillLine)
        #expect(spill.finding.file?.hasSuffix(expected.file) == true)
        #expect(spill.durationMs == expected.spillDurationMs)
        #expect(abs((spill.finding.exclusiveMs ?? 0) - expected.spillExclusiveMs) < 0.001)
        #expect(spill.finding.node == "Sort")
        #expect(spill.finding.fingerprint == sort.fingerprint && spill.finding.calls == 2)
        #expect(spill.finding.evidence?.hasPrefix("external merge using ") == true)
        #expect(spill.finding.fix == "SET LOCAL work_mem = '8MB';  -- in the statement's transaction")

        let filter = groups[1].insights[0]
        #expect(filter.occurrences == 1 && groups[1].calls == 1)
        #expect(filter.finding.line == expected.filterLine)
        #expect(filter.durationMs == expected.filterDurationMs)
        #expect(abs((filter.finding.exclusiveMs ?? 0) - expected.filterExclusiveMs) < 0.001)
        #expect(filter.finding.node == "Seq Scan on events")
        #expect(filter.finding.details?["rowsRemoved"] == "99,000")
        #expect(filter.finding.fix == "CREATE INDEX CONCURRENTLY ON events (kind);")

        // The same findings are the report's findings, ranked with the others; the lookups are silent.
        #expect(r.findings.map(\.rule).sorted() == ["disk-spill", "filter-removes-most-rows"])
        #expect(r.findings.first { $0.rule == "disk-spill" } == spill.finding)
    }

    @Test func plansWithoutActualFiguresStaySilent() throws {
        for name in ["stderr-auto-explain-text.log", "stderr-auto-explain-json.log"] {
            let r = try Self.run([name])
            #expect(r.planInsights == nil)
            #expect(r.findings.map(\.rule).sorted() == ["n-plus-one", "offset-pagination"])
        }
    }

    @Test func occurrencesAddUpAcrossFilesAndTheEarliestWorstIsKept() throws {
        let r = try Self.run([Self.text.file, Self.text.file])
        let spill = try #require(r.planInsights?.first?.insights.first)
        #expect(spill.occurrences == 4)
        #expect(spill.finding.line == Self.text.spillLine)
        #expect(r.planInsights?.first?.plans == 4 && r.planInsights?.first?.calls == 4)
    }
}
