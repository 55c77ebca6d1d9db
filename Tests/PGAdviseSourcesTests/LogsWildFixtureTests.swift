import Foundation
import Testing
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport

/// Logs as they come in the wild (fixtures/logs/README.md): no timed statement, a log_line_prefix
/// changed by a reload, PgBouncer's own log. Figures checked against grep/awk sums over the files.
@Suite struct LogsWildFixtureTests {
    static func analyse(_ name: String) throws -> LogReport {
        let analyzer = LogAnalyzer()
        try analyzer.add(path: RepositoryPaths.fixture("logs/\(name)").path)
        return try analyzer.report()
    }

    static func analyse(text: String) throws -> LogReport {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-wild-\(UUID().uuidString).log")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let analyzer = LogAnalyzer()
        try analyzer.add(path: url.path)
        return try analyzer.report()
    }

    @Test func aLogWithoutStatementsIsReportedWithTheSettingsToAdd() throws {
        let r = try Self.analyse("stderr-no-statements.log")
        #expect(r.summary.files.first?.format == "stderr")
        #expect(r.summary.files.first?.prefix == "%m [%p] ")
        #expect(r.summary.skippedLines == 0)
        #expect(r.summary.statements == 0)
        #expect(r.queries.isEmpty)
        #expect(r.summary.errors == 4)
        #expect(Set(r.errors.compactMap(\.statement)) == ["SELECT * FROM missing_table WHERE id = 1;", "SELECT 1 / 0;",
                                                          "SELEC broken syntax;", "INSERT INTO customers VALUES (1, 'dup', NULL);"])
        #expect(r.tempFiles.count == 1)
        #expect(r.tempFiles.totalBytes == 425_984)
        #expect(r.tempFiles.byStatement.map(\.normalized) == ["SELECT id FROM orders ORDER BY note, total DESC, id OFFSET $1"])
        #expect(r.lockWaits.waits == 1)
        #expect(r.lockWaits.acquired == 1)
        #expect(r.checkpoints.completed == 2)
        #expect(r.autovacuum.vacuums == 7)     // aggressive vacuums included
        #expect(r.autovacuum.analyzes == 14)
        #expect(r.sessions.connectionsAuthorized == 15)
        #expect(r.sessions.disconnections == 15)
        #expect(r.summary.firstTimestamp == "2026-12-06 00:24:00.889 UTC")
        #expect(r.summary.lastTimestamp == "2026-12-06 00:24:06.656 UTC")
        #expect(r.summary.notes.contains { $0.contains("log_min_duration_statement = 0") && $0.contains("log_statement = 'all'") })
    }

    @Test func aPrefixChangedByAReloadKeepsEveryLine() throws {
        let r = try Self.analyse("stderr-prefix-change.log")
        let file = try #require(r.summary.files.first)
        #expect(file.prefix == "%m [%p] ")
        #expect(file.skippedLines == 0)
        // Every line from the reload on (line 487) that is not a continuation.
        #expect(file.otherShapeLines == 372)
        #expect(r.summary.statements == 195)
        #expect(r.summary.timedStatements == 195)
        #expect(abs(r.summary.durationTotalMs - 2910.161) < 0.0005)
        #expect(r.summary.parseBindSteps == 184)
        #expect(r.summary.errors == 8)
        #expect(r.errors.map(\.count) == [2, 2, 2, 2])
        #expect(r.sessions.connectionsAuthorized == 32)
        #expect(r.checkpoints.completed == 4)
        #expect(r.summary.lastTimestamp == "2026-12-06 00:24:22.000 UTC")
        // The second prefix's fields are read: the statement logged only after the reload has its context.
        let drop = try #require(r.queries.first { $0.normalized == "DROP DATABASE shop" })
        #expect(drop.breakdown == ["database": ["postgres": 1], "user": ["postgres": 1], "application": ["psql": 1]])
        let burst = try #require(r.nPlusOne?.first)
        #expect(burst.calls == 50)
        #expect(burst.bursts == 2)
        #expect(r.summary.nPlusOneBursts == 2)
        // Ten seconds of log: one minute bucket holding everything; every timed statement in the distribution.
        let timeline = try #require(r.timeline)
        #expect(timeline.bucketSeconds == 60)
        #expect(timeline.buckets.count == 1)
        #expect(timeline.buckets.first?.start == "2026-12-06 00:24:00.000 UTC")
        #expect(timeline.buckets.first?.statements == 195)
        #expect(timeline.buckets.first?.errors == 8)
        #expect(abs((timeline.buckets.first?.durationMs ?? 0) - 2910.161) < 0.0005)
        #expect(r.latencyDistribution?.counts.reduce(0, +) == 195)
    }

    /// Buckets across minutes and hours: events three minutes apart, then a day later.
    @Test func timelineBucketsFollowTheSpan() throws {
        let minutes = try Self.analyse(text: """
            2025-03-01 10:00:10.000 UTC [1] LOG:  duration: 2.000 ms  statement: SELECT 1
            2025-03-01 10:00:50.000 UTC [1] LOG:  duration: 3.000 ms  statement: SELECT 1
            2025-03-01 10:03:05.000 UTC [1] ERROR:  division by zero

            """)
        #expect(minutes.timeline?.bucketSeconds == 60)
        #expect(minutes.timeline?.buckets.map(\.statements) == [2, 0, 0, 0])
        #expect(minutes.timeline?.buckets.map(\.errors) == [0, 0, 0, 1])
        #expect(minutes.timeline?.buckets.first?.durationMs == 5)
        let hours = try Self.analyse(text: """
            2025-03-01 10:00:10.000 UTC [1] LOG:  duration: 2.000 ms  statement: SELECT 1
            2025-03-02 11:30:00.000 UTC [1] LOG:  duration: 3.000 ms  statement: SELECT 1

            """)
        #expect(hours.timeline?.bucketSeconds == 3600)
        #expect(hours.timeline?.buckets.count == 26)
        #expect(hours.timeline?.buckets.last?.start == "2025-03-02 11:00:00.000 UTC")
        #expect(hours.latencyDistribution?.counts == [0, 2, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func pgbouncerLogIsReadInItsOwnSection() throws {
        let r = try Self.analyse("pgbouncer.log")
        #expect(r.summary.files.first?.format == "pgbouncer")
        #expect(r.summary.skippedLines == 0)
        #expect(r.summary.lines == 62)
        #expect(r.summary.statements == 0)
        let b = try #require(r.pgbouncer)
        #expect(b.statsPeriods.map(\.xactsPerSecond) == [5436, 11898, 13846, 3467, 0])
        #expect(b.statsPeriods.map(\.waitMicros) == [1_640_150, 2_752_365, 2_994_573, 727_537, 0])
        #expect(b.statsPeriods.first == PgBouncerStatsPeriod(
            timestamp: "2026-12-06 00:23:39.047 UTC", xactsPerSecond: 5436, queriesPerSecond: 5436, bytesInPerSecond: 336_687,
            bytesOutPerSecond: 358_877, xactMicros: 527, queryMicros: 527, waitMicros: 1_640_150))
        #expect(b.peakXactsPerSecond == 13846)
        #expect(b.peakQueriesPerSecond == 13846)
        let weighted = Double(5436 * 527 + 11898 * 394 + 13846 * 358 + 3467 * 384) / Double(5436 + 11898 + 13846 + 3467)
        #expect(abs((b.meanXactMicros ?? 0) - weighted) < 1e-9)
        #expect(b.meanWaitMicros == Double(1_640_150 + 2_752_365 + 2_994_573 + 727_537) / 4)   // idle periods aside
        #expect(b.maxWaitMicros == 2_994_573)
        #expect(b.clientLogins == 22)
        #expect(b.loginFailures == 2)
        #expect(b.serverConnections == 2)
        #expect(b.poolerErrors == [PgBouncerMessageCount(message: "no more connections allowed (max_client_conn)", count: 1),
                                   PgBouncerMessageCount(message: "no such database: nosuchdb", count: 1),
                                   PgBouncerMessageCount(message: "password authentication failed", count: 1)])
        #expect(b.clientDisconnections.prefix(2) == [PgBouncerMessageCount(message: "client close request", count: 10),
                                                     PgBouncerMessageCount(message: "client unexpected eof", count: 9)])
        #expect(b.serverDisconnections == [PgBouncerMessageCount(message: "pause mode", count: 2)])
    }

    /// PgBouncer 1.21 and later add client/server parses and binds to the stats line.
    @Test func newerPgbouncerStatsLinesAreRead() throws {
        let r = try Self.analyse(text: """
            2025-03-01 10:00:00.000 UTC [77] LOG stats: 120 xacts/s, 480 queries/s, 30 client parses/s, 2 server parses/s, 450 binds/s, in 50000 B/s, out 90000 B/s, xact 2500 us, query 600 us, wait 150 us
            2025-03-01 10:01:00.000 UTC [77] LOG stats: 80 xacts/s, 320 queries/s, 10 client parses/s, 0 server parses/s, 300 binds/s, in 30000 B/s, out 60000 B/s, xact 1500 us, query 400 us, wait 50 us

            """)
        let b = try #require(r.pgbouncer)
        #expect(b.statsPeriods.count == 2)
        #expect(b.statsPeriods[0].clientParsesPerSecond == 30)
        #expect(b.statsPeriods[0].serverParsesPerSecond == 2)
        #expect(b.statsPeriods[0].bindsPerSecond == 450)
        #expect(b.statsPeriods[1].queryMicros == 400)
        #expect(b.meanXactMicros == Double(120 * 2500 + 80 * 1500) / 200)
        #expect(b.meanWaitMicros == 100)
    }

    /// A file of csvlog records with every field quoted is csvlog, whatever its name.
    @Test func fullyQuotedCSVIsDetectedByItsRecords() throws {
        let quoted = try String(contentsOf: RepositoryPaths.fixture("logs/csvlog-quoted.csv"), encoding: .utf8)
        let r = try Self.analyse(text: quoted)
        #expect(r.summary.files.first?.format == "csvlog")
        #expect(r.summary.statements == 96)
        #expect(r.summary.skippedLines == 0)
    }

    /// PostgreSQL 12 wrote 23 columns (no backend_type, leader_pid, query_id).
    @Test func postgres12CSVWithTwentyThreeColumnsIsRead() throws {
        let r = try Self.analyse(text: """
            2025-03-01 10:00:00.123 UTC,"app","shop",4242,"127.0.0.1:5000",5f1e.1092,1,"SELECT",2025-03-01 10:00:00 UTC,3/7,0,LOG,00000,"duration: 1.500 ms  statement: SELECT 1",,,,,,,,,"psql"
            2025-03-01 10:00:01.123 UTC,"app","shop",4242,"127.0.0.1:5000",5f1e.1092,2,"SELECT",2025-03-01 10:00:00 UTC,3/8,0,LOG,00000,"duration: 2.500 ms  statement: SELECT 2",,,,,,,,,"psql"

            """)
        #expect(r.summary.files.first?.format == "csvlog")
        #expect(r.summary.statements == 2)
        #expect(r.summary.durationTotalMs == 4.0)
        #expect(r.queries.first?.breakdown?["application"] == ["psql": 2])
    }

    @Test func nothingRecognisedIsStillAnInputError() throws {
        let error = try #require(throws: PGAdviseError.self) { try Self.analyse(text: "hello\nworld\n") }
        #expect(error.kind == .input)
        #expect(error.message.contains("nothing recognised"))
    }
}
