import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The write side of `pgadvise indexes` end to end: pg_stat_statements records lookups by assignee,
/// an UPDATE that reassigns tickets (it sets `assignee`, so an index on it makes it lose HOT) and an
/// UPDATE of the subject (no index mentions it: it stays HOT and costs the index nothing). The table
/// is rewritten at fillfactor 70 first, so its pages have room for HOT updates, as a table that is
/// updated in place usually has.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesWriteCostTests {
    static let reassign = "UPDATE tickets SET assignee = $1 WHERE id = $2"
    static let retitle = "UPDATE tickets SET subject = $1 WHERE id = $2"

    static let seeded: Result<String, Error> = Result {
        let dsn = try seedIndexesCommandDatabase("pgadvise_indexes_cli_writes")
        let admin = try TestDatabase.adminConnection(database: "pgadvise_indexes_cli_writes")
        try admin.execute("CREATE EXTENSION hypopg")
        try admin.execute("ALTER TABLE tickets SET (fillfactor = 70)")
        try admin.execute("VACUUM FULL ANALYZE tickets")
        let app = try PostgresConnection(conninfo: dsn, options: SessionOptions(readOnly: false))
        for id in 1...30 {
            try app.query(reassign, [String(id % 7), String(id * 1000)])
            try app.query(retitle, ["subject \(id)", String(id * 997)])
        }
        return dsn
    }

    @Test func theReportNamesTheUpdateThatLosesHOTAndNotTheOneThatStaysHOT() throws {
        let dsn = try Self.seeded.get()
        let json = try runPGAdvise(["indexes", dsn, "--max-columns", "1", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let recs = try #require(try jsonObject(json.stdout)["recommendations"] as? [[String: Any]])
        #expect(recs.map { $0["ddl"] as? String } == ["CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee)"])
        let overhead = try #require(recs.first?["writeOverhead"] as? [String: Any])
        #expect(overhead["rowsWritten"] as? Int == 60)
        #expect(overhead["estimatedCost"] as? Double == 60)
        #expect(overhead["source"] as? String == "workload")
        let writes = try #require(overhead["statements"] as? [[String: Any]])
        #expect(writes.map { $0["text"] as? String } == [Self.reassign])
        #expect(writes.map { $0["losesHot"] as? Bool } == [true])
        #expect(writes.map { $0["indexesMaintained"] as? Int } == [2])
        #expect(writes.map { $0["rows"] as? Int } == [30])

        let text = try runPGAdvise(["indexes", dsn, "--max-columns", "1"])
        #expect(text.exitCode == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(foldedWhitespace(text.stdout).contains("; write overhead 60 rows (cost 60.00), 1 update loses HOT"), "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("   - ") && $0.hasSuffix(" update, 30 calls, loses HOT (2 indexes per row)") }, "\(text.stdout)")
        #expect(lines.contains("     > " + Self.reassign))
        #expect(!text.stdout.contains(Self.retitle))
        #expect(lines.allSatisfy { $0.count <= 100 })
    }

    @Test func measureTimesTheUpdateAndReportsTheNetGain() throws {
        let dsn = try Self.seeded.get()
        let result = try runPGAdvise(["indexes", dsn, "--max-columns", "1", "--measure", "--measure-runs", "3", "--format", "json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let rec = try #require((try jsonObject(result.stdout)["recommendations"] as? [[String: Any]])?.first)
        let writes = try #require((rec["writeOverhead"] as? [String: Any])?["statements"] as? [[String: Any]])
        let measured = try #require(writes.first?["measured"] as? [String: Any])
        #expect(measured["runs"] as? Int == 3)
        // Each run updated another row: the id walks pg_stats' histogram bounds.
        #expect((measured["parameters"] as? [String])?.count == 2)
        let figures = try #require(rec["measured"] as? [String: Any])
        let saved = try #require(figures["readMsSaved"] as? Double), added = try #require(figures["writeMsAdded"] as? Double)
        #expect(saved > added)

        let text = try runPGAdvise(["indexes", dsn, "--max-columns", "1", "--measure", "--measure-runs", "3"])
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect(foldedWhitespace(text.stdout).contains("Over the workload's calls: reads save "), "\(text.stdout)")
        #expect(foldedWhitespace(text.stdout).contains(" saved"))
    }
}
