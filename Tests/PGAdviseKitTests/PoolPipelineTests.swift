import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A statement running on its own connection and thread, so the test can observe it while it runs.
final class BackgroundStatement: @unchecked Sendable {
    let connection: PostgresConnection
    let canceller: PostgresCanceller?
    private let done = DispatchGroup()

    /// Connects now; the statement starts with `start()` (or at once when `sql` is given here).
    init(conninfo: String, sql: String? = nil) throws {
        connection = try PostgresConnection(conninfo: conninfo, options: SessionOptions(statementTimeoutMs: 60_000))
        canceller = connection.makeCanceller()
        if let sql { start(sql) }
    }

    func start(_ sql: String) {
        done.enter()
        let thread = Thread { [connection, done] in
            _ = try? connection.query(sql)
            done.leave()
        }
        thread.start()
    }

    /// Cancels the statement (if still running) and waits for the thread.
    func finish() {
        canceller?.cancelRunningStatement()
        done.wait()
    }
}

/// Polls until `condition` holds (at most `seconds`).
func waitUntil(seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct PoolPipelineTests {
    func activeCount(_ admin: PostgresConnection, database: String) throws -> Int64 {
        try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()",
                        [database]).records.first?.int("n") ?? 0
    }

    @Test func observesPlantedSessionsExactlyAsAMonitoringRole() throws {
        let database = "pgadvise_pool_observe"
        let dsn = try TestDatabase.freshDatabase(database)
        try TestDatabase.ensureMonitoringRole("pgadvise_pool_monitor")
        let admin = try TestDatabase.adminConnection()
        // 2 active (pg_sleep), 3 idle, 1 idle in transaction, 1 idle in an aborted transaction.
        let sleepers = try (0..<2).map { _ in try BackgroundStatement(conninfo: dsn, sql: "SELECT pg_sleep(30)") }
        defer { sleepers.forEach { $0.finish() } }
        let idle = try (0..<3).map { _ in try PostgresConnection(conninfo: dsn) }
        let inTransaction = try PostgresConnection(conninfo: dsn)
        let idlePid = try #require(try inTransaction.query("SELECT pg_backend_pid() AS pid").records.first?.int("pid"))
        try inTransaction.execute("BEGIN; SELECT 1")
        let aborted = try PostgresConnection(conninfo: dsn)
        try aborted.execute("BEGIN")
        _ = try? aborted.execute("SELECT 1/0")
        #expect(try waitUntil { try activeCount(admin, database: database) == 2 })

        let monitor = try PostgresConnection(conninfo: dsn + " user=pgadvise_pool_monitor")
        var options = PoolOptions()
        options.durationSeconds = 0.6
        options.currentDatabaseOnly = true
        options.cores = 2
        var pipeline = PoolPipeline(connection: monitor, conninfo: dsn, session: SessionOptions(), options: options, stop: StopSignal())
        let report = try pipeline.run()
        let o = report.observed
        #expect(o.byState == ["active": 2, "idle": 3, "idle in transaction": 1, "idle in transaction (aborted)": 1])
        #expect(o.activePeak == 2 && o.activeP95 == 2 && o.activeMean == 2)
        #expect(o.idle == 3 && o.idleInTransaction == 2 && o.connectionsPeak == 7)
        #expect(o.byDatabase == [database: 7] && o.byUser == ["postgres": 7] && o.byApplication == ["pgadvise": 7])
        #expect(o.samples >= 3 && o.waitEvents == ["Timeout": 2 * o.samples] && o.topWaitEvents == ["Timeout:PgSleep": 2 * o.samples])
        #expect(o.oldestIdleInTransaction?.pid == Int(idlePid))
        #expect(o.connectionAges.map(\.connections).reduce(0, +) == 7)
        #expect(o.maxConnections == 200 && o.superuserReservedConnections == 3)
        #expect(o.cores == 2 && o.coresSource == "--cores")
        #expect(report.recommendation.formulaPoolSize == 4 && report.recommendation.poolSize == 4 && report.recommendation.basis == "formula")
        #expect(report.recommendation.current == 7 && report.recommendation.currentSource == "observed peak connections")
        #expect(report.loadCurve.isEmpty && report.recommendation.notes.contains { $0.contains("Only --measure") })
        withExtendedLifetime((idle, inTransaction, aborted)) {}
    }

    @Test(.enabled(if: TestPgBouncer.isAvailable))
    func readsPgBouncerWithClientsWaiting() throws {
        let database = "pgadvise_pool_bouncer"
        let dsn = try TestDatabase.freshDatabase(database)
        let adminDSN = try #require(TestPgBouncer.adminDSN)
        // Seven clients on a pool of five, all running a statement: five get a server, two wait.
        // All connect first: a client's session setup also needs a server connection.
        let through = TestPgBouncer.dsn(database: database)
        let clients = try (0..<7).map { _ in try BackgroundStatement(conninfo: through) }
        // Long enough for a loaded machine to read the pooler twice before the first five finish;
        // finish() cancels them.
        clients.forEach { $0.start("SELECT pg_sleep(6)") }
        let console = try PgBouncerConsole(conninfo: adminDSN)
        let pool = { try console.read().pools.first { $0.database == database } }
        #expect(try waitUntil(seconds: 5) { try pool()?.clientsWaiting == 2 })
        var options = PoolOptions()
        options.durationSeconds = 0.2
        options.currentDatabaseOnly = true
        options.pgbouncerConninfo = adminDSN
        var pipeline = PoolPipeline(connection: try PostgresConnection(conninfo: dsn), conninfo: dsn, session: SessionOptions(),
                                    options: options, stop: StopSignal())
        let report = try pipeline.run()
        clients.forEach { $0.finish() }
        let bouncer = try #require(report.pgbouncer)
        let mine = try #require(bouncer.pools.first { $0.database == database })
        #expect(mine.clientsWaiting == 2 && mine.serversActive == 5 && mine.clientsActive == 5 && mine.poolMode == "transaction")
        // --this-database: the pools other tests use through the same pooler are left out.
        #expect(bouncer.pools.map(\.database) == [database] && bouncer.clientsWaiting == 2 && bouncer.maxWaitMs > 0)
        #expect(bouncer.defaultPoolSize == 5 && bouncer.maxClientConn == 100 && bouncer.poolMode == "transaction")
        #expect(bouncer.version?.hasPrefix("PgBouncer") == true)
        #expect(report.recommendation.current == 5 && report.recommendation.currentSource == "pgbouncer default_pool_size")
        #expect(report.recommendation.pgbouncer.reasons.contains { $0.contains("2 client(s) were waiting") })

        // Transactions between two readings: exactly the statements sent through the pooler.
        let client = try PostgresConnection(conninfo: through)
        let before = try console.read(servingDatabase: database)
        for _ in 0..<40 { try client.query("SELECT 1") }
        let after = try console.read(servingDatabase: database)
        #expect(after.transactions - before.transactions == 40)
        let window = PgBouncerConsole.observation(first: before, last: after)
        #expect((window.transactionsPerSecond ?? 0) > 0 && window.averageWaitMs != nil)
    }

    @Test func measuresALoadCurveOnTheWorkloadsStatements() throws {
        let database = "pgadvise_pool_measure"
        let dsn = try TestDatabase.freshDatabase(database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, name text NOT NULL);
            INSERT INTO items SELECT g, g % 50, 'item ' || g FROM generate_series(1, 20000) g;
            ANALYZE items;
            """)
        let app = try TestDatabase.adminConnection(database: database)
        for i in 1...40 {
            try app.query("SELECT name FROM items WHERE id = $1", [String(i * 7)])
            if i % 4 == 0 { try app.query("SELECT count(*) FROM items WHERE category = $1", [String(i % 50)]) }
        }
        var options = PoolOptions()
        options.durationSeconds = 0.2
        options.currentDatabaseOnly = true
        options.measure = true
        options.maxClients = 4
        options.stepSeconds = 0.4
        options.warmupSeconds = 0.1
        options.current = 4
        let connection = try PostgresConnection(conninfo: dsn)
        var pipeline = PoolPipeline(connection: connection, conninfo: dsn, session: SessionOptions(), options: options, stop: StopSignal())
        let report = try pipeline.run()
        let measurement = try #require(report.measurement)
        #expect(report.loadCurve.map(\.clients) == [1, 2, 4])
        #expect(report.loadCurve.allSatisfy { $0.tps > 0 && $0.p50Ms > 0 && $0.p50Ms <= $0.p95Ms && $0.p95Ms <= $0.p99Ms && $0.errors == 0 })
        #expect(measurement.workloadSource == "pg_stat_statements")
        let texts = Set(measurement.statements.map(\.text))
        #expect(texts == ["SELECT name FROM items WHERE id = $1", "SELECT count(*) FROM items WHERE category = $1"])
        #expect(measurement.statements.allSatisfy { $0.parameters.count == 1 })
        // Weighted by calls: 40 lookups, 10 counts.
        #expect(measurement.statements.first { $0.text.contains("id = $1") }.map { abs($0.weight - 0.8) < 1e-9 } == true)
        let knee = try #require(measurement.knee)
        #expect([1, 2, 4].contains(knee))
        let rec = report.recommendation
        #expect(rec.poolSize == knee && rec.basis == "measured knee" && rec.measuredKnee == knee)
        #expect(rec.before?.clients == 4 && rec.after?.clients == knee)
        #expect((rec.before?.tps ?? 0) > 0 && (rec.after?.tps ?? 0) > 0 && (rec.after?.p95Ms ?? 0) > 0)
        #expect(!pipeline.interrupted && !measurement.interrupted)
        // Every load client is gone once the pipeline returns.
        let admin = try TestDatabase.adminConnection()
        let ownPids = try [connection, app].map { try $0.query("SELECT pg_backend_pid()::text AS p").records.first?["p"] ?? "" }
        #expect(try waitUntil(seconds: 2) {
            try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND NOT (pid::text = ANY ($2::text[]))",
                            [database, postgresArrayLiteral(ownPids)]).records.first?.int("n") == 0
        })
    }

    @Test func aLevelStopsEarlyWhenAStatementPassesTheStatementTimeout() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_pool_timeout")
        var options = PoolOptions()
        options.durationSeconds = 0.1
        options.currentDatabaseOnly = true
        options.measure = true
        options.maxClients = 4
        options.stepSeconds = 5
        options.warmupSeconds = 0
        options.script = [WeightedStatement(text: "SELECT pg_sleep(3)")]
        let session = SessionOptions(statementTimeoutMs: 300)
        var pipeline = PoolPipeline(connection: try PostgresConnection(conninfo: dsn, options: session), conninfo: dsn,
                                    session: session, options: options, stop: StopSignal())
        let started = Date()
        let report = try pipeline.run()
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(report.loadCurve.map(\.clients) == [1])
        let level = try #require(report.loadCurve.first)
        #expect(level.stoppedEarly && level.statements == 0)
        #expect(level.note == "a statement passed the statement timeout (300 ms): the step stopped early")
        #expect(report.measurement?.knee == nil && report.recommendation.basis == "observed")
    }

    @Test func aScriptThatWritesLeavesNothingBehind() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_pool_script_writes", setupSQL: """
            CREATE TABLE counters (id int PRIMARY KEY, hits bigint NOT NULL);
            INSERT INTO counters VALUES (1, 0);
            """)
        var options = PoolOptions()
        options.durationSeconds = 0.1
        options.currentDatabaseOnly = true
        options.measure = true
        options.maxClients = 2
        options.stepSeconds = 0.3
        options.warmupSeconds = 0
        options.script = try PoolScript.parse("UPDATE counters SET hits = hits + 1 WHERE id = 1\n"
                                              + "INSERT INTO counters SELECT max(id) + 1, 0 FROM counters\n", path: "load.sql")
        let session = SessionOptions()
        var pipeline = PoolPipeline(connection: try PostgresConnection(conninfo: dsn, options: session), conninfo: dsn,
                                    session: session, options: options, stop: StopSignal())
        let report = try pipeline.run()
        #expect(report.loadCurve.map(\.clients) == [1, 2])
        #expect(report.loadCurve.allSatisfy { $0.statements > 0 && $0.errors == 0 }, "\(report.loadCurve.map { "\($0.errors) \($0.note ?? "")" })")
        let rows = try TestDatabase.adminConnection(database: "pgadvise_pool_script_writes")
            .query("SELECT count(*) AS n, sum(hits) AS hits FROM counters").records.first
        #expect(rows?.int("n") == 1 && rows?.int("hits") == 0, "\(String(describing: rows))")
    }

    @Test func scanReportsManyIdleConnectionsOnItsSnapshot() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_pool_scan_idle", setupSQL: "CREATE TABLE t (id int PRIMARY KEY);")
        let idle = try (0..<24).map { _ in try PostgresConnection(conninfo: dsn) }
        var scan = ScanPipeline(connection: try PostgresConnection(conninfo: dsn), top: 5, planStatements: false)
        let report = try scan.run()
        let finding = try #require(report.findings.first { $0.rule == "many-idle-connections" })
        #expect(finding.message == "24 connections idle while at most 0 were active at once")
        #expect(!report.findings.contains { $0.rule == "max-connections-oversized" || $0.rule == "idle-in-transaction" })
        withExtendedLifetime(idle) {}
    }

    @Test func scriptsAreOneStatementPerLineWithoutMetaCommands() throws {
        let statements = try PoolScript.parse("-- lookups\nSELECT 1;\n\nSELECT name FROM items WHERE id = 3\n", path: "load.sql")
        #expect(statements.map(\.text) == ["SELECT 1", "SELECT name FROM items WHERE id = 3"])
        #expect(statements.allSatisfy { $0.rolledBack })
        #expect(throws: PGAdviseError.self) { try PoolScript.parse("\\set id random(1, 10)\nSELECT 1", path: "load.sql") }
        do {
            _ = try PoolScript.parse("SELECT 1\nSELEC 2", path: "load.sql")
            Issue.record("a line that is no SQL statement was accepted")
        } catch let error as PGAdviseError {
            #expect(error.message == "load.sql:2: not one SQL statement: SELEC 2")
            #expect(error.exitCode == 2)
        }
    }
}
