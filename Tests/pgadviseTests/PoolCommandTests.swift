import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct PoolCommandTests {
    func writeScript(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-pool-\(UUID().uuidString).sql")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    /// The published JSON contract, with a measured curve from a script and PgBouncer's console.
    @Test func jsonHasTheObservedCurveAndRecommendationFields() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_pool_json", setupSQL: """
            CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);
            """)
        let script = try writeScript("SELECT count(*) FROM t WHERE id < 500;\nSELECT * FROM t WHERE id = 42;\n")
        defer { try? FileManager.default.removeItem(at: script) }
        var arguments = [
            "pool", dsn, "--this-database", "--duration", "0.3", "--cores", "2", "--current", "2", "--measure",
            "--max-clients", "2", "--step-duration", "0.3", "--warmup", "0", "--script", script.path, "--format", "json",
        ]
        if TestPgBouncer.isAvailable, let admin = TestPgBouncer.adminDSN { arguments += ["--pgbouncer", admin] }
        let result = try runPGAdvise(arguments)
        #expect(result.exitCode == 0, "\(result.stderr)")
        let report = try object(result.stdout)
        #expect(report["schemaVersion"] as? Int == 1)
        let observed = try #require(report["observed"] as? [String: Any])
        #expect(Set(observed.keys).isSuperset(of: ["maxConnections", "activePeak", "activeP95", "idle", "idleInTransaction", "byState", "waitEvents"]))
        #expect(observed["maxConnections"] as? Int == 200)
        let curve = try #require(report["loadCurve"] as? [[String: Any]])
        #expect(curve.map { $0["clients"] as? Int } == [1, 2])
        for level in curve {
            #expect(Set(level.keys).isSuperset(of: ["clients", "tps", "p50Ms", "p95Ms", "p99Ms"]))
            #expect((level["tps"] as? Double ?? 0) > 0)
        }
        let rec = try #require(report["recommendation"] as? [String: Any])
        #expect(rec["formulaPoolSize"] as? Int == 4 && rec["current"] as? Int == 2 && rec["currentSource"] as? String == "--current")
        let knee = try #require(rec["poolSize"] as? Int)
        #expect([1, 2].contains(knee))
        for (side, clients) in [("before", 2), ("after", knee)] {
            let figure = try #require(rec[side] as? [String: Any], "\(side) missing")
            #expect(figure["clients"] as? Int == clients)
            #expect((figure["tps"] as? Double ?? 0) > 0 && figure["p95Ms"] is Double)
        }
        let measurement = try #require(report["measurement"] as? [String: Any])
        #expect(measurement["workloadSource"] as? String == "script")
        if TestPgBouncer.isAvailable {
            let bouncer = try #require(report["pgbouncer"] as? [String: Any])
            #expect(bouncer["defaultPoolSize"] as? Int == 5 && bouncer["poolMode"] as? String == "transaction")
            #expect(bouncer["maxClientConn"] as? Int == 100)
        }
    }

    /// The HTML report renders in a real browser with its chart, and session names are text, not markup.
    @Test(.enabled(if: HeadlessBrowser.isAvailable))
    func htmlRendersTheLoadCurveAndEscapesNames() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_pool_html", setupSQL: "CREATE TABLE t (id int PRIMARY KEY);")
        var options = SessionOptions()
        options.applicationName = "<b id=\"injected\">app</b>"
        let named = try PostgresConnection(conninfo: dsn, options: options)
        let script = try writeScript("SELECT 1\n")
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try runPGAdvise(["pool", dsn, "--this-database", "--duration", "0.3", "--measure", "--max-clients", "2",
                                      "--step-duration", "0.2", "--warmup", "0", "--script", script.path, "--format", "html"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("<b id="))
        let dom = try HeadlessBrowser.renderedDOM(html: result.stdout)
        #expect(dom.contains("<svg") && dom.contains("class=\"load-curve\"") && dom.contains("class=\"tps\"") && dom.contains("class=\"p95\""))
        #expect(dom.contains("&lt;b id=\"injected\"&gt;app&lt;/b&gt;"))
        #expect(!dom.contains("id=\"injected\">"))
        #expect(dom.contains("Recommendation") && dom.contains("Measured load curve"))
        withExtendedLifetime(named) {}
    }

    /// Ctrl-C during --measure: exit 130 within a second or so, running statements cancelled, every
    /// connection closed (nothing named pgadvise left in pg_stat_activity).
    @Test func sigintStopsTheLoadAndLeavesNothingRunning() throws {
        let database = "pgadvise_pool_sigint"
        let dsn = try TestDatabase.freshDatabase(database)
        // Statements that run far longer than the test: only a cancel ends them early.
        let script = try writeScript("SELECT pg_sleep(30)\n")
        defer { try? FileManager.default.removeItem(at: script) }
        let process = Process()
        process.executableURL = RepositoryPaths.binary
        process.arguments = ["pool", dsn, "--this-database", "--duration", "0.2", "--measure", "--max-clients", "4",
                             "--step-duration", "60", "--warmup", "0", "--script", script.path, "--statement-timeout", "120000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let admin = try TestDatabase.adminConnection()
        func pgadviseSessions() throws -> Int64 {
            try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgadvise'",
                            [database]).records.first?.int("n") ?? -1
        }
        func sleeping() throws -> Int64 {
            try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%SELECT pg_sleep(30)%' AND state = 'active'",
                            [database]).records.first?.int("n") ?? -1
        }
        // The one-client level is running its statement.
        let started = Date()
        while try sleeping() < 1 && Date().timeIntervalSince(started) < 15 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try sleeping() == 1)
        let interrupted = Date()
        process.interrupt()
        while process.isRunning && Date().timeIntervalSince(interrupted) < 10 { Thread.sleep(forTimeInterval: 0.02) }
        let stoppedAfter = Date().timeIntervalSince(interrupted)
        #expect(!process.isRunning)
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(stoppedAfter < 2, "took \(stoppedAfter) s to stop")
        // A backend leaves pg_stat_activity a moment after its client closed the connection.
        var remaining = try pgadviseSessions()
        let closing = Date()
        while remaining > 0 && Date().timeIntervalSince(closing) < 3 {
            Thread.sleep(forTimeInterval: 0.05)
            remaining = try pgadviseSessions()
        }
        #expect(remaining == 0)
    }

    @Test func badUsageIsExitCodeTwoWithOneLine() throws {
        let negative = try runPGAdvise(["pool", TestDatabase.dsn ?? "", "--duration", "-1"])
        #expect(negative.exitCode == 2)
        let withoutMeasure = try runPGAdvise(["pool", TestDatabase.dsn ?? "", "--script", "x.sql"])
        #expect(withoutMeasure.exitCode == 2 && withoutMeasure.stderr.contains("--script runs only with --measure"))
        let script = try writeScript("\\set id random(1, 100)\nSELECT :id\n")
        defer { try? FileManager.default.removeItem(at: script) }
        let meta = try runPGAdvise(["pool", TestDatabase.dsn ?? "", "--measure", "--script", script.path])
        #expect(meta.exitCode == 2)
        #expect(meta.stderr == "pgadvise: \(script.path):1: pgbench meta-commands (\\set) are not supported; write one SQL statement per line with its values\n")
        let unreachable = try runPGAdvise(["pool", "host=127.0.0.1 port=1 connect_timeout=2", "--duration", "0.1"])
        #expect(unreachable.exitCode == 3)
    }
}
