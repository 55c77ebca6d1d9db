import Foundation
import PGAdviseCore
import PGAdviseTestSupport
import Testing

private func temporaryDirectory(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// `pgadvise snapshot --logs` and `pgadvise report` as a user runs them, without a database.
@Suite struct ReportCommandTests {
    static let log = RepositoryPaths.fixture("logs/stderr-default.log").path

    @Test func aLogSnapshotIsReportedInTheWeekOfItsLines() throws {
        let store = try temporaryDirectory("report").appendingPathComponent("history.sqlite").path
        let snapshot = try runPGAdvise(["snapshot", "--logs", Self.log, "--store", store])
        #expect(snapshot.exitCode == 0, "\(snapshot.stderr)")
        #expect(snapshot.stdout == "snapshot 1: 23 statements from logs of logs at 2026-11-23T13:04:24.783Z, stored in \(store)\n")
        // The log was written on Monday 2026-11-23: week 48, with nothing the week before.
        let out = try runPGAdvise(["report", "--store", store, "--week", "2026-W48", "--format", "json", "--top", "30"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let report = try jsonObject(out.stdout)
        let server = try #require((report["servers"] as? [[String: Any]])?.first)
        #expect(server["source"] as? String == "logs")
        let top = try #require(server["top"] as? [[String: Any]])
        #expect(top.count == 23)
        let sleep = try #require(top.first)
        #expect(sleep["normalized"] as? String == "SELECT pg_sleep($1)")
        let figures = try #require(sleep["thisWeek"] as? [String: Any])
        #expect(figures["p95Ms"] as? Double != nil)
        let thisWeek = try #require(server["thisWeek"] as? [String: Any])
        #expect(thisWeek["snapshots"] as? Int == 1)
        let notes = try #require(server["notes"] as? [String])
        #expect(notes.contains { $0.hasPrefix("No previous week to compare with") })
        // Without --top, the ten heaviest.
        let shorter = try jsonObject(try runPGAdvise(["report", "--store", store, "--week", "2026-W48", "--format", "json"]).stdout)
        #expect(((shorter["servers"] as? [[String: Any]])?.first?["top"] as? [Any])?.count == 10)
    }

    @Test func badWeekIsAUsageError() throws {
        let out = try runPGAdvise(["report", "--week", "2026-47", "--store", "/nonexistent/h.sqlite"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("--week 2026-47: expected an ISO week such as 2026-W47"))
    }

    @Test func aMissingStoreIsExitTwoWithWhatToDo() throws {
        let store = try temporaryDirectory("report").appendingPathComponent("none.sqlite").path
        let out = try runPGAdvise(["report", "--store", store])
        #expect(out.exitCode == 2)
        #expect(out.stderr == "pgadvise: no history store at \(store): run `pgadvise snapshot` first, or give --store PATH\n")
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test func outputNeverReplacesAFileWithoutForce() throws {
        let dir = try temporaryDirectory("report")
        let store = dir.appendingPathComponent("history.sqlite").path
        #expect(try runPGAdvise(["snapshot", "--logs", Self.log, "--store", store]).exitCode == 0)
        let target = dir.appendingPathComponent("week.html").path
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        let refused = try runPGAdvise(["report", "--store", store, "--week", "2026-W48", "--format", "html", "--output", target])
        #expect(refused.exitCode == 2)
        #expect(refused.stderr.contains("--output \(target) exists; refusing to overwrite it (add --force to replace it)"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
        let forced = try runPGAdvise(["report", "--store", store, "--week", "2026-W48", "--format", "html", "--output", target, "--force"])
        #expect(forced.exitCode == 0, "\(forced.stderr)")
        let html = try String(contentsOfFile: target, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg"))
    }

    @Test func aForeignFileAsStoreIsRefusedByBothCommands() throws {
        let path = try temporaryDirectory("report").appendingPathComponent("passwords.txt").path
        try "not a database".write(toFile: path, atomically: true, encoding: .utf8)
        for arguments in [["snapshot", "--logs", Self.log, "--store", path], ["report", "--store", path]] {
            let out = try runPGAdvise(arguments)
            #expect(out.exitCode == 2)
            #expect(out.stderr.contains("is not a pgadvise history store (not an SQLite file); it was left untouched"))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a database")
    }

    @Test func snapshotRefusesAConninfoTogetherWithLogs() throws {
        let out = try runPGAdvise(["snapshot", "host=localhost", "--logs", Self.log, "--store", "/nonexistent/h.sqlite"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("give either a conninfo (pg_stat_statements) or --logs FILE..., not both"))
    }
}

/// Snapshots of a real pg_stat_statements a week apart around a workload, then the report.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ReportIntegrationTests {
    static let database = "pgadvise_report_cli"
    static let lookup = "SELECT *, pg_sleep($1::float8) FROM items WHERE id = $2"

    @Test func twoWeeksOfSnapshotsShowTheStatementAndItsRegression() throws {
        let dsn = try TestDatabase.freshDatabase(Self.database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE TABLE items (id int PRIMARY KEY, note text);
            INSERT INTO items SELECT g, 'note ' || g FROM generate_series(1, 100) g;
            """)
        let store = try temporaryDirectory("report-db").appendingPathComponent("history.sqlite").path
        let admin = try TestDatabase.adminConnection(database: Self.database)
        func snapshot(_ at: String) throws {
            let out = try runPGAdvise(["snapshot", dsn, "--store", store, "--taken-at", at])
            #expect(out.exitCode == 0, "\(out.stderr)")
            #expect(out.stdout.contains("from pg_stat_statements of"))
            #expect(out.stdout.contains("/\(Self.database) at \(at), stored in \(store)"))
        }
        try snapshot("2026-11-09T06:00:00Z")
        for id in 1...20 { try admin.query(Self.lookup, ["0.001", String(id)]) }
        try snapshot("2026-11-15T06:00:00Z")
        for id in 1...30 { try admin.query(Self.lookup, ["0.05", String(id)]) }
        try snapshot("2026-11-22T06:00:00Z")

        let out = try runPGAdvise(["report", "--store", store, "--week", "2026-W47", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let report = try jsonObject(out.stdout)
        let server = try #require((report["servers"] as? [[String: Any]])?.first)
        #expect(server["database"] as? String == Self.database)
        #expect((server["server"] as? String)?.hasPrefix("system ") == true)
        let top = try #require(server["top"] as? [[String: Any]])
        let lookup = try #require(top.first { $0["normalized"] as? String == Self.lookup })
        #expect(lookup["callsDelta"] as? Int == 10)
        let now = try #require(lookup["thisWeek"] as? [String: Any])
        let before = try #require(lookup["previousWeek"] as? [String: Any])
        #expect(now["calls"] as? Int == 30)
        #expect(before["calls"] as? Int == 20)
        #expect(now["rows"] as? Int == 30)
        #expect((now["meanMs"] as? Double ?? 0) >= 50)
        #expect((before["meanMs"] as? Double ?? 100) < 50)
        let regressions = try #require(server["regressions"] as? [[String: Any]])
        let regression = try #require(regressions.first { $0["fingerprint"] as? String == lookup["fingerprint"] as? String })
        let findings = try #require(regression["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["rule"] as? String == "select-star" })

        let failing = try runPGAdvise(["report", "--store", store, "--week", "2026-W47", "--fail-on-regression"])
        #expect(failing.exitCode == 1)
        #expect(failing.stdout.contains("Regressions (mean time up more than 25%"))
    }
}
