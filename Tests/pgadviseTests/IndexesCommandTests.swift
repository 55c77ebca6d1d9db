import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// One table and one slow lookup, repeated so pg_stat_statements records it.
let indexesCommandSchemaSQL = """
    CREATE EXTENSION pg_stat_statements;
    CREATE TABLE tickets (id int PRIMARY KEY, assignee int NOT NULL, subject text NOT NULL, status text NOT NULL);
    INSERT INTO tickets SELECT g, g % 5000, 'subject ' || g, CASE WHEN g % 200 = 0 THEN 'escalated' ELSE 'open' END
      FROM generate_series(1, 200000) g;
    ANALYZE tickets;
    """

/// Creates the database and runs the workload against it, as an application would.
func seedIndexesCommandDatabase(_ name: String) throws -> String {
    let dsn = try TestDatabase.freshDatabase(name, setupSQL: indexesCommandSchemaSQL)
    // Counters since the last reset, as on a server whose initial load is long past.
    // The loading backend flushes its counters when it exits, which can land after a reset: reset
    // until the load no longer shows.
    let admin = try TestDatabase.adminConnection(database: name)
    // The workload starts after the load, as pg_stat_statements would show it once reset (this
    // database's entries only, so other suites keep theirs).
    try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
    for _ in 0..<20 {
        try admin.query("SELECT pg_stat_reset()")
        Thread.sleep(forTimeInterval: 0.2)
        let written = try admin.query("SELECT coalesce(sum(n_tup_ins), 0) AS n FROM pg_stat_user_tables").records.first?.int("n") ?? 0
        if written == 0 { break }
    }
    let app = try PostgresConnection(conninfo: dsn)
    for assignee in 1...20 {
        try app.query("SELECT id, subject FROM tickets WHERE assignee = $1", [String(assignee)])
    }
    return dsn
}

/// What the database holds that pgadvise must not have written unless asked.
func writableState(_ database: String) throws -> (extensions: [String], indexes: [String]) {
    let db = try TestDatabase.adminConnection(database: database)
    let extensions = try db.query("SELECT extname FROM pg_extension ORDER BY 1").rows.compactMap { $0.first ?? nil }
    let indexes = try db.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1").rows.compactMap { $0.first ?? nil }
    return (extensions, indexes)
}

/// Text with every run of whitespace (wrapped lines) folded into one space.
func foldedWhitespace(_ text: String) -> String {
    text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesCommandTests {
    @Test func withoutHypoPGAndWithoutTheFlagNothingIsWrittenAndTheReportSaysHow() throws {
        let dsn = try seedIndexesCommandDatabase("pgadvise_indexes_cli_plain")
        let before = try writableState("pgadvise_indexes_cli_plain")
        let result = try runPGAdvise(["indexes", dsn])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Recommended indexes: 0"))
        #expect(foldedWhitespace(result.stdout).contains("HypoPG is not installed, so no index could be costed: run CREATE EXTENSION hypopg in this database, or pass --create-extension. Nothing was written."))
        let after = try writableState("pgadvise_indexes_cli_plain")
        #expect(after.extensions == before.extensions)
        #expect(!after.extensions.contains("hypopg"))
        #expect(after.indexes == before.indexes)

        // --measure without HypoPG measures the candidates instead, keeps the narrowest that pays,
        // and still leaves nothing behind.
        let measured = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "2", "--format", "json"])
        #expect(measured.exitCode == 0, "\(measured.stderr)")
        let recs = try #require(try jsonObject(measured.stdout)["recommendations"] as? [[String: Any]])
        #expect(recs.map { $0["ddl"] as? String } == ["CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee)"])
        #expect((recs.first?["measured"] as? [String: Any])?["runs"] as? Int == 2)
        let afterMeasure = try writableState("pgadvise_indexes_cli_plain")
        #expect(afterMeasure.extensions == after.extensions)
        #expect(afterMeasure.indexes == after.indexes)
    }

    @Test func createExtensionCostsTheLookupAndMeasureRollsBack() throws {
        let dsn = try seedIndexesCommandDatabase("pgadvise_indexes_cli_json")
        let before = try writableState("pgadvise_indexes_cli_json")

        let estimated = try runPGAdvise(["indexes", dsn, "--create-extension", "--format", "json"])
        #expect(estimated.exitCode == 0, "\(estimated.stderr)")
        let document = try jsonObject(estimated.stdout)
        #expect(document["schemaVersion"] as? Int == 1)
        let recommendations = try #require(document["recommendations"] as? [[String: Any]])
        #expect(recommendations.count == 1)
        let rec = try #require(recommendations.first)
        #expect(rec["ddl"] as? String == "CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee)")
        // Without a visibility map (never vacuumed) an index-only scan would not pay, so no INCLUDE.
        #expect(rec["kind"] as? String == "btree")
        #expect(rec["table"] as? String == "public.tickets")
        #expect(rec["verified"] as? Bool == true)
        #expect(rec["measured"] is NSNull)
        let statements = try #require(rec["statements"] as? [[String: Any]])
        #expect(statements.map { $0["text"] as? String } == ["SELECT id, subject FROM tickets WHERE assignee = $1"])
        let costBefore = try #require(rec["estimatedCostBefore"] as? Double), costAfter = try #require(rec["estimatedCostAfter"] as? Double)
        #expect(costAfter < costBefore * 0.2)
        let created = try writableState("pgadvise_indexes_cli_json")
        #expect(created.extensions == (before.extensions + ["hypopg"]).sorted())
        #expect(created.indexes == before.indexes)

        let measured = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "3", "--format", "json"])
        #expect(measured.exitCode == 0, "\(measured.stderr)")
        let measuredRec = try #require((try jsonObject(measured.stdout)["recommendations"] as? [[String: Any]])?.first)
        let figures = try #require(measuredRec["measured"] as? [String: Any])
        #expect(figures["runs"] as? Int == 3)
        let beforeMs = try #require(figures["beforeMs"] as? Double), afterMs = try #require(figures["afterMs"] as? Double)
        #expect(afterMs < beforeMs)
        // Each served statement carries its plans without and with the index, compared as `explain --compare` does.
        let served = try #require((measuredRec["statements"] as? [[String: Any]])?.first?["measured"] as? [String: Any])
        let plans = try #require(served["plans"] as? [String: Any])
        let changes = try #require(plans["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["summary"] as? String == "Seq Scan on tickets → Index Scan using tickets_assignee_idx on tickets" }
                || changes.contains { ($0["summary"] as? String)?.hasPrefix("Seq Scan on tickets → Bitmap Heap Scan on tickets") == true },
                "\(changes.map { $0["summary"] ?? "" })")
        #expect((plans["verdict"] as? String)?.hasPrefix("Faster: ") == true, "\(plans["verdict"] ?? "")")
        let text = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "1"])
        #expect(text.stdout.contains("     Plan: Faster: "), "\(text.stdout)")
        #expect(try writableState("pgadvise_indexes_cli_json").indexes == before.indexes)
    }

    @Test func textReportShowsTheDDLAndTheStatement() throws {
        let dsn = try seedIndexesCommandDatabase("pgadvise_indexes_cli_text")
        try TestDatabase.adminConnection(database: "pgadvise_indexes_cli_text").execute("CREATE EXTENSION hypopg")
        let result = try runPGAdvise(["indexes", dsn, "--max-columns", "1", "--budget", "4MB"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Recommended indexes: 1 (budget 4.0 MB, 1 statement analysed") == true)
        #expect(lines.contains("   CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee);"))
        #expect(lines.contains { $0.hasPrefix("1. tickets_assignee_idx [btree] on public.tickets, size ") })
        #expect(lines.contains("     > SELECT id, subject FROM tickets WHERE assignee = $1"))
        #expect(lines.allSatisfy { $0.count <= 100 })

        let markdown = try runPGAdvise(["indexes", dsn, "--max-columns", "1", "--budget", "4MB", "--format", "markdown"])
        #expect(markdown.exitCode == 0)
        #expect(markdown.stdout.hasPrefix("## Recommended indexes\n"))
        #expect(markdown.stdout.contains("### `tickets_assignee_idx` (btree) on `public.tickets`\n\n```sql\n"
                                         + "CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee);\n```"))
    }

    /// A slow-query log brings the literal value pg_stat_statements hides: the rare status earns a
    /// partial index.
    @Test func logsAddLiteralValuesThatEarnAPartialIndex() throws {
        let dsn = try seedIndexesCommandDatabase("pgadvise_indexes_cli_logs")
        try TestDatabase.adminConnection(database: "pgadvise_indexes_cli_logs").execute("CREATE EXTENSION hypopg")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-indexes-\(getpid()).log")
        let line = "2024-05-01 10:00:0%d.000 UTC [4242] LOG:  duration: 35.%d ms  statement: "
            + "SELECT id, subject FROM tickets WHERE status = 'escalated'\n"
        try (1...3).map { String(format: line, $0, $0) }.joined().write(to: log, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: log) }
        let result = try runPGAdvise(["indexes", dsn, "--logs", log.path, "--format", "json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let recommendations = try #require(try jsonObject(result.stdout)["recommendations"] as? [[String: Any]])
        let partial = recommendations.filter { $0["kind"] as? String == "partial" }
        #expect(partial.map { $0["ddl"] as? String } == [
            "CREATE INDEX CONCURRENTLY tickets_status_partial_idx ON public.tickets (status) WHERE status = 'escalated'"])
        let served = try #require(partial.first?["statements"] as? [[String: Any]])
        #expect(served.first?["calls"] as? Int == 3)
    }

    @Test func badBudgetIsAUsageError() throws {
        let result = try runPGAdvise(["indexes", "host=127.0.0.1 port=1", "--budget", "lots"])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("--budget lots: expected a size such as 100MB, 1.5GB or 512kB"))
    }
}
