import Foundation
import Testing
import PGAdviseTestSupport

/// `pgadvise logs` as a user runs it: the built binary, its exit codes and its output contracts.
@Suite struct LogsCommandTests {
    static let log = RepositoryPaths.fixture("logs/stderr-default.log").path

    static func json(_ output: CommandOutput) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func jsonFollowsTheContract() throws {
        let out = try runPGAdvise(["logs", Self.log, "--format", "json", "--all-queries"])
        #expect(out.exitCode == 0)
        let report = try Self.json(out)
        #expect(report["schemaVersion"] as? Int == 1)
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["statements"] as? Int == 96)
        #expect(summary["skippedLines"] as? Int == 0)
        #expect(summary["firstTimestamp"] as? String == "2026-11-23 13:04:19.362 UTC")
        #expect(summary["lastTimestamp"] as? String == "2026-11-23 13:04:24.783 UTC")
        #expect(abs((summary["durationTotalMs"] as? Double ?? 0) - 1685.55) < 0.0005)
        let queries = try #require(report["queries"] as? [[String: Any]])
        #expect(queries.count == 23)
        for key in ["fingerprint", "normalized", "calls", "totalMs", "meanMs", "p95Ms", "maxMs"] {
            #expect(queries.allSatisfy { $0[key] != nil }, "every query has \(key)")
        }
        #expect(queries.first?["normalized"] as? String == "SELECT pg_sleep($1)")
        // By default the JSON holds the --top queries, highest total time first.
        let bounded = try Self.json(try runPGAdvise(["logs", Self.log, "--format", "json", "--top", "5"]))
        let top = try #require(bounded["queries"] as? [[String: Any]])
        #expect(top.map { $0["fingerprint"] as? String } == queries.prefix(5).map { $0["fingerprint"] as? String })
        #expect((bounded["summary"] as? [String: Any])?["distinctQueries"] as? Int == 23)
        let findings = try #require(report["findings"] as? [[String: Any]])
        let n1 = try #require(findings.first { $0["rule"] as? String == "n-plus-one" })
        #expect(n1["severity"] as? String == "warning")
        #expect((n1["file"] as? String)?.hasSuffix("stderr-default.log") == true)
        #expect(n1["line"] as? Int != nil)
        #expect(n1["fingerprint"] as? String != nil)
        #expect(n1["calls"] as? Int == 25)
    }

    @Test func failOnTurnsFindingsIntoExitOne() throws {
        #expect(try runPGAdvise(["logs", Self.log, "--fail-on", "warning"]).exitCode == 1)
        #expect(try runPGAdvise(["logs", Self.log, "--fail-on", "error"]).exitCode == 0)
    }

    @Test func textReportFitsOneHundredColumns() throws {
        let out = try runPGAdvise(["logs", Self.log, "--top", "5"])
        #expect(out.exitCode == 0)
        #expect(out.stdout.contains("Top queries by total time"))
        #expect(out.stdout.contains("n-plus-one"))
        #expect(out.stdout.contains("SELECT id, name, email FROM customers WHERE id = ANY($1);"))
        for line in out.stdout.split(separator: "\n") { #expect(line.count <= 100, "\(line)") }
    }

    @Test func markdownReport() throws {
        let out = try runPGAdvise(["logs", Self.log, "--format", "markdown"])
        #expect(out.exitCode == 0)
        #expect(out.stdout.hasPrefix("# PostgreSQL log analysis"))
        #expect(out.stdout.contains("| Statements | 96 (96 timed), 23 distinct |"))
    }

    @Test func standardInputPlainAndCompressed() throws {
        for name in ["stderr-default.log", "stderr-default.log.gz", "stderr-default.log.zst"] {
            let data = try Data(contentsOf: RepositoryPaths.fixture("logs/\(name)"))
            let out = try runPGAdvise(["logs", "-", "--format", "json"], stdin: data)
            #expect(out.exitCode == 0, "\(name): \(out.stderr)")
            let summary = try #require(try Self.json(out)["summary"] as? [String: Any])
            #expect(summary["statements"] as? Int == 96, "\(name)")
        }
    }

    @Test func severalFilesAddUp() throws {
        let out = try runPGAdvise(["logs", Self.log, RepositoryPaths.fixture("logs/csvlog.csv").path, "--format", "json"])
        let summary = try #require(try Self.json(out)["summary"] as? [String: Any])
        #expect(summary["statements"] as? Int == 192)
        #expect((summary["files"] as? [[String: Any]])?.compactMap { $0["format"] as? String } == ["stderr", "csvlog"])
    }

    @Test func noStatementsIsExitTwoWithWhatWasDetected() throws {
        let empty = try runPGAdvise(["logs", "-"], stdin: Data())
        #expect(empty.exitCode == 2)
        #expect(empty.stderr.contains("no SQL statement"))
        #expect(empty.stderr.contains("%p or %c"))
        let garbage = try runPGAdvise(["logs", "-"], stdin: Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }))
        #expect(garbage.exitCode == 2)
        #expect(garbage.stderr.contains("nothing recognised"))
    }

    /// A log without any statement (log_min_duration_statement off) is still a report, saying what to set.
    @Test func aLogWithoutStatementsIsReportedWithExitZero() throws {
        let noDurations = "2026-01-01 00:00:00.000 UTC [1] LOG:  checkpoint starting: time\n"
        let log = try runPGAdvise(["logs", "-"], stdin: Data(noDurations.utf8))
        #expect(log.exitCode == 0, "\(log.stderr)")
        #expect(log.stdout.contains("prefix '%m [%p] '"))
        #expect(log.stdout.contains("log_min_duration_statement = 0"))
        let real = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/stderr-no-statements.log").path, "--format", "json"])
        #expect(real.exitCode == 0)
        let report = try Self.json(real)
        #expect((report["summary"] as? [String: Any])?["errors"] as? Int == 4)
        #expect((report["queries"] as? [Any])?.isEmpty == true)
        let bouncer = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/pgbouncer.log").path, "--format", "markdown"])
        #expect(bouncer.exitCode == 0)
        #expect(bouncer.stdout.contains("## PgBouncer"))
        #expect(bouncer.stdout.contains("| 1 | no more connections allowed (max_client_conn) |"))
    }

    @Test func forcedFormatsOnEmptyInputAreExitTwo() throws {
        for format in ["stderr", "csvlog", "jsonlog", "syslog", "cloudnativepg", "cloudsql"] {
            let out = try runPGAdvise(["logs", "-", "--log-format", format], stdin: Data())
            #expect(out.exitCode == 2, "\(format)")
            #expect(out.stderr.contains("no SQL statement"), "\(format)")
        }
    }

    @Test func unreadableInputIsExitTwo() throws {
        let missing = try runPGAdvise(["logs", "/nonexistent/postgresql.log"])
        #expect(missing.exitCode == 2)
        #expect(missing.stderr.contains("/nonexistent/postgresql.log"))
        #expect(try runPGAdvise(["logs"]).exitCode == 2)
        #expect(try runPGAdvise(["logs", Self.log, "--format", "sarif"]).exitCode == 2)
    }

    @Test func forcedFormatAndPrefix() throws {
        let out = try runPGAdvise(["logs", RepositoryPaths.fixture("logs/stderr-rds.log").path, "--log-format", "stderr",
                                   "--prefix", "%t:%r:%u@%d:[%p]:", "--jobs", "1", "--format", "json"])
        #expect(out.exitCode == 0)
        let summary = try #require(try Self.json(out)["summary"] as? [String: Any])
        #expect(summary["statements"] as? Int == 96)
    }
}
