import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// `logs` keeps in its report only the queries a rendered report shows (`queriesKept`): every query is
/// still counted, judged and ranked, so what a reader sees is the same as with every query kept.
@Suite struct LogsKeptQueriesTests {
    static func report(_ names: [String], kept: Int?, jobs: Int = 1) throws -> LogReport {
        var options = LogAnalysisOptions()
        options.jobs = jobs
        options.queriesKept = kept
        return try LogsPipeline(paths: names.map { RepositoryPaths.fixture("logs/\($0)").path }, options: options).run()
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test(arguments: [["stderr-default.log"], ["stderr-pgbadger.log"], ["csvlog.csv", "stderr-churn.log", "stderr-auto-explain-text.log"]])
    func theReportShowsTheSameWhateverIsKept(_ names: [String]) throws {
        let all = try Self.report(names, kept: nil)
        #expect(all.queries.count > 3, "the fixture must have more queries than are kept")
        for top in [1, 2, 3] {
            let kept = try Self.report(names, kept: top, jobs: 2)
            let heaviest = all.queries.prefix(top).map(\.fingerprint)
            let mostCalled = all.queries.sorted { ($0.calls, $1.fingerprint) > ($1.calls, $0.fingerprint) }.prefix(top).map(\.fingerprint)
            let expected = all.queries.filter { heaviest.contains($0.fingerprint) || mostCalled.contains($0.fingerprint) }
            #expect(try Self.json(kept.queries) == Self.json(expected), "top \(top)")
            #expect(kept.summary.distinctQueries == all.summary.distinctQueries)
            #expect(kept.summary.unparsedQueries == all.summary.unparsedQueries)
            #expect(try Self.json(kept.findings) == Self.json(all.findings), "top \(top)")
            #expect(kept.slowestStatements == all.slowestStatements)
            #expect(renderLogReportText(kept, top: top, color: false) == renderLogReportText(all, top: top, color: false))
            #expect(renderLogReportMarkdown(kept, top: top) == renderLogReportMarkdown(all, top: top))
            #expect(renderLogReportHTML(kept, top: top) == renderLogReportHTML(all, top: top))
        }
    }

    /// The slowest run's time is kept as a number only when it prints back as logged: a log without
    /// milliseconds (`%t`), a zone that changes (daylight saving time) and `%n` keep their text.
    @Test func sampleTimestampsAreTheLoggedText() throws {
        let lines = [
            "2024-03-31 01:59:59.120 CET [10] LOG:  duration: 5.000 ms  statement: SELECT 1 FROM a WHERE id = 1;",
            "2024-03-31 03:00:01.250 CEST [10] LOG:  duration: 7.000 ms  statement: SELECT 1 FROM b WHERE id = 1;",
            "2024-03-31 03:00:02 CEST [11] LOG:  duration: 9.000 ms  statement: SELECT 1 FROM c WHERE id = 1;",
            "2024-03-31 03:00:03.5 CEST [12] LOG:  duration: 11.000 ms  statement: SELECT 1 FROM d WHERE id = 1;",
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-sample-time-\(UUID().uuidString).log")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var options = LogAnalysisOptions()
        options.jobs = 1
        options.prefix = "%m [%p] "
        let r = try LogsPipeline(paths: [url.path], options: options).run()
        let times = Dictionary(uniqueKeysWithValues: r.queries.compactMap { q in q.slowest.map { ($0.text, $0.timestamp ?? "") } })
        #expect(times == [
            "SELECT 1 FROM a WHERE id = 1;": "2024-03-31 01:59:59.120 CET",
            "SELECT 1 FROM b WHERE id = 1;": "2024-03-31 03:00:01.250 CEST",
            "SELECT 1 FROM c WHERE id = 1;": "2024-03-31 03:00:02 CEST",
            "SELECT 1 FROM d WHERE id = 1;": "2024-03-31 03:00:03.5 CEST",
        ])
        #expect(r.slowestStatements.map { $0.timestamp ?? "" } == [
            "2024-03-31 03:00:03.5 CEST", "2024-03-31 03:00:02 CEST", "2024-03-31 03:00:01.250 CEST", "2024-03-31 01:59:59.120 CET",
        ])
    }
}
