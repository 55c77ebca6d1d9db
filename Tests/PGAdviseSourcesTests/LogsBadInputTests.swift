import Foundation
import Testing
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport

/// Damaged and hostile input: counted and reported, never a crash; and the parallel, streamed path
/// must agree with the serial one.
@Suite struct LogsBadInputTests {
    static let original: Data = (try? Data(contentsOf: RepositoryPaths.fixture("logs/stderr-default.log"))) ?? Data()

    static func analyse(_ data: Data, _ configure: (inout LogAnalysisOptions) -> Void = { _ in }) throws -> LogReport {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-logs-\(UUID().uuidString).log")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var options = LogAnalysisOptions()
        configure(&options)
        let analyzer = LogAnalyzer(options: options)
        try analyzer.add(path: url.path)
        return try analyzer.report()
    }

    @Test func crlfLineEndingsChangeNothing() throws {
        let crlf = Data(String(decoding: Self.original, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let plain = try Self.analyse(Self.original)
        let r = try Self.analyse(crlf)
        #expect(r.summary.statements == plain.summary.statements)
        #expect(r.summary.skippedLines == 0)
        #expect(r.queries.map(\.fingerprint) == plain.queries.map(\.fingerprint))
        #expect(abs(r.summary.durationTotalMs - plain.summary.durationTotalMs) < 1e-9)
    }

    @Test func invalidUTF8IsKept() throws {
        var data = Self.original
        data.append(Data("2026-11-23 13:04:25.000 UTC [999] LOG:  duration: 1.000 ms  statement: SELECT 'caf".utf8))
        data.append(contentsOf: [0xE9, 0xFF, 0xFE])
        data.append(Data("'\n".utf8))
        let r = try Self.analyse(data)
        #expect(r.summary.statements == 97)
        #expect(r.queries.contains { $0.slowest?.text.hasPrefix("SELECT 'caf\u{FFFD}") == true })
    }

    @Test func truncatedLastLineIsReadAsFarAsItGoes() throws {
        var data = Self.original
        data.append(Data("2026-11-23 13:04:25.000 UTC [999] LOG:  duration: 2.500 ms  statement: SELECT * FROM orders WHERE id = 1".utf8))
        let r = try Self.analyse(data)
        #expect(r.summary.statements == 97)
        #expect(r.summary.lines == 502)
        let cut = try Self.analyse(Self.original.prefix(Self.original.count - 40))
        #expect(cut.summary.statements <= 96)
    }

    /// A statement of 20,000 continuation lines (a generated IN list, a pasted script) at the end of
    /// what was read: finding where the block's last complete record starts once walked forward
    /// over the rest of that record from each of its lines (14 s for these 145 kB in a debug build).
    @Test func aStatementOfManyLinesIsCutInLinearTime() throws {
        var data = Self.original
        data.append(Data("2026-11-23 13:04:25.000 UTC [999] LOG:  duration: 3.000 ms  statement: SELECT 1\n".utf8))
        data.append(Data(String(repeating: "\t, 1\n", count: 20_000).utf8))
        let r = try Self.analyse(data)
        #expect(r.summary.statements == 97)
        #expect(r.summary.lines == 502 + 20_000)
        #expect(r.summary.skippedLines == 0)
        // The statement whole, its continuation lines without their tab; the slowest of its fingerprint.
        let long = try #require(r.queries.first { $0.slowest?.text.hasPrefix("SELECT 1\n, 1\n") == true })
        #expect(long.slowest?.text == "SELECT 1" + String(repeating: "\n, 1", count: 20_000))
        #expect(long.slowest?.durationMs == 3)
    }

    /// Session times that `Double` reads but PostgreSQL never prints (an exponent, inf) are not
    /// times; one of 20 digits is read but not placed on the time line. Each once trapped where the
    /// session's start became an integer instant.
    @Test(arguments: ["1e300:00:00.000", "inf:00:00.000", "99999999999999999999:00:00.000"])
    func anImpossibleSessionTimeIsNotATrap(_ sessionTime: String) throws {
        let log = """
            2024-01-01 00:00:00.000 UTC [1] LOG:  disconnection: session time: \(sessionTime) user=a database=b host=c port=1
            2024-01-01 00:00:01.000 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 1

            """
        let r = try Self.analyse(Data(log.utf8))
        #expect(r.summary.statements == 1)
        #expect(r.sessions.disconnections == 1)
        #expect(r.sessions.peakConcurrentSessions == nil)
        #expect(sessionTime.hasPrefix("9") ? r.sessions.maxSessionMs > 3e26 : r.sessions.maxSessionMs == 0)
    }

    /// Temporary file sizes are whatever digits the line holds: two near Int64's limit overflowed the
    /// total and trapped (FuzzLogs, crash-7f25d047...). The totals now stop at the limit.
    @Test func temporaryFileSizesNearTheLimitSaturate() throws {
        let log = """
            2024-01-01 00:00:00.000 UTC [1] LOG:  temporary file: path "base/pgsql_tmp/pgsql_tmp1.0", size 4784100000000000000
            2024-01-01 00:00:00.000 UTC [1] STATEMENT:  SELECT * FROM t ORDER BY a
            2024-01-01 00:00:01.000 UTC [1] LOG:  temporary file: path "base/pgsql_tmp/pgsql_tmp1.1", size 4784100000000000000
            2024-01-01 00:00:01.000 UTC [1] STATEMENT:  SELECT * FROM t ORDER BY a
            2024-01-01 00:00:02.000 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 1

            """
        let r = try Self.analyse(Data(log.utf8))
        #expect(r.tempFiles.count == 2)
        #expect(r.tempFiles.totalBytes == Int64.max && r.tempFiles.maxBytes == 4_784_100_000_000_000_000)
        #expect(r.tempFiles.byStatement.first?.totalBytes == Int64.max)
    }

    /// A PgBouncer stats line holds whatever digits it holds: the mean transaction time multiplied rates
    /// by times in integers and trapped on overflow.
    @Test func pgbouncerStatsNearTheLimitAreNotATrap() throws {
        let log = """
            2026-12-06 00:23:39.047 UTC [24035] LOG stats: 9223372036854775807 xacts/s, 2 queries/s, in 1 B/s, out 1 B/s, xact 9 us, query 4 us, wait 9223372036854775807 us
            2026-12-06 00:23:41.047 UTC [24035] LOG stats: 9223372036854775807 xacts/s, 2 queries/s, in 1 B/s, out 1 B/s, xact 9 us, query 6 us, wait 9223372036854775807 us

            """
        let r = try Self.analyse(Data(log.utf8)) { $0.format = .pgbouncer }
        let pgbouncer = try #require(r.pgbouncer)
        #expect(pgbouncer.statsPeriods.count == 2 && pgbouncer.peakXactsPerSecond == Int.max)
        #expect(pgbouncer.meanXactMicros == 9 && pgbouncer.meanQueryMicros == 5)
    }

    /// `%n` is seconds since the epoch; 23 digits of them lie past year 9999, which no other
    /// timestamp form reaches, and trapped where the instant became integer minutes.
    @Test func anEpochTimestampPastYear9999IsNoTime() throws {
        let log = """
            1700000000.123 [12] LOG:  duration: 2.000 ms  statement: SELECT 1
            99999999999999999999999.123 [12] LOG:  duration: 1.000 ms  statement: SELECT 1

            """
        let r = try Self.analyse(Data(log.utf8)) { $0.prefix = "%n [%p] " }
        #expect(r.summary.statements == 2)
        #expect(r.summary.durationTotalMs == 3)
        #expect(r.summary.firstTimestamp == "2023-11-14 22:13:20.123")
        #expect(r.summary.lastTimestamp == "2023-11-14 22:13:20.123")
    }

    @Test func unknownLinesAreCountedAsSkipped() throws {
        var data = Data("this is not a log line\n<garbage> 12345\n".utf8)
        data.append(Self.original)
        data.append(Data("another stray line\n".utf8))
        let r = try Self.analyse(data)
        #expect(r.summary.statements == 96)
        #expect(r.summary.skippedLines == 3)
    }

    @Test func binaryGarbageIsAnInputErrorNotACrash() throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = Data((0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let error = try #require(throws: PGAdviseError.self) { try Self.analyse(garbage) }
        #expect(error.kind == .input)
        #expect(error.message.contains("no SQL statement"))
        #expect(error.message.contains("%p or %c"))
    }

    @Test func emptyFileSaysWhatWasDetected() throws {
        let error = try #require(throws: PGAdviseError.self) { try Self.analyse(Data()) }
        #expect(error.message.contains("stderr"))
        #expect(error.message.contains("log_min_duration_statement"))
    }

    @Test func missingFileIsAnInputError() throws {
        let analyzer = LogAnalyzer()
        let error = try #require(throws: PGAdviseError.self) { try analyzer.add(path: "/nonexistent/pg.log") }
        #expect(error.exitCode == 2)
    }

    /// Many copies of the fixture, read in small blocks by two workers: block cuts and piece splits
    /// land everywhere, and bursts that straddle them must still be whole.
    @Test func parallelStreamingMatchesSerial() throws {
        var big = Data()
        for _ in 0..<40 { big.append(Self.original) }
        let serial = try Self.analyse(big) { $0.jobs = 1 }
        let parallel = try Self.analyse(big) { $0.jobs = 2; $0.blockSize = 1 << 20 }
        let tiny = try Self.analyse(big) { $0.jobs = 2; $0.blockSize = 4096 }
        for r in [parallel, tiny] {
            #expect(r.summary.statements == 96 * 40)
            #expect(r.summary.lines == serial.summary.lines)
            #expect(r.summary.skippedLines == 0)
            #expect(Dictionary(uniqueKeysWithValues: r.queries.map { ($0.fingerprint, $0.calls) })
                    == Dictionary(uniqueKeysWithValues: serial.queries.map { ($0.fingerprint, $0.calls) }))
            #expect(r.nPlusOne?.map(\.calls) == serial.nPlusOne?.map(\.calls))
            #expect(r.nPlusOne?.first?.bursts == 40)
            #expect(r.errors.map(\.count) == [40, 40, 40, 40])
        }
        #expect(serial.nPlusOne?.first?.calls == 25 * 40)
    }
}
