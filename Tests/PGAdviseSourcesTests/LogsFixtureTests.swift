import Foundation
import Testing
import PGAdviseCore
import PGAdviseSources
import PGAdviseSQL
import PGAdviseTestSupport

/// The same small workload logged by a real PostgreSQL 15 in every format (fixtures/logs/README.md):
/// each reader must find the same statements, errors and events; totals are checked against sums
/// taken independently from the files with grep/awk.
@Suite struct LogsFixtureTests {
    static func analyse(_ name: String, _ configure: (inout LogAnalysisOptions) -> Void = { _ in }) throws -> LogReport {
        var options = LogAnalysisOptions()
        configure(&options)
        let analyzer = LogAnalyzer(options: options)
        try analyzer.add(path: RepositoryPaths.fixture("logs/\(name)").path)
        return try analyzer.report()
    }

    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var format: String
        var prefix: String?
        var totalMs: Double
        var hasSQLSTATE: Bool
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "stderr-default.log", format: "stderr", prefix: "%m [%p] ", totalMs: 1685.550, hasSQLSTATE: false),
        Case(file: "stderr-pgbadger.log", format: "stderr", prefix: "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
             totalMs: 1655.174, hasSQLSTATE: false),
        Case(file: "stderr-rds.log", format: "stderr", prefix: "%t:%r:%u@%d:[%p]:", totalMs: 1622.852, hasSQLSTATE: false),
        Case(file: "stderr-session.log", format: "stderr", prefix: "%m [%c] %u@%d xid=%x state=%e qid=%Q ", totalMs: 1628.150,
             hasSQLSTATE: true),
        Case(file: "stderr-cloudsql-prefix.log", format: "stderr", prefix: "%m [%p]: [%l-1] db=%d,user=%u ", totalMs: 1624.981,
             hasSQLSTATE: false),
        Case(file: "csvlog.csv", format: "csvlog", prefix: nil, totalMs: 1917.487, hasSQLSTATE: true),
        Case(file: "jsonlog.json", format: "jsonlog", prefix: nil, totalMs: 1682.834, hasSQLSTATE: true),
        Case(file: "syslog.log", format: "syslog", prefix: "%m [%p] user=%u,db=%d,app=%a,client=%h ", totalMs: 1655.174,
             hasSQLSTATE: false),
        Case(file: "heroku.log", format: "syslog", prefix: "%m [%p] sql_error_code = %e ", totalMs: 1917.487, hasSQLSTATE: true),
        Case(file: "csvlog-quoted.csv", format: "csvlog", prefix: nil, totalMs: 1917.487, hasSQLSTATE: true),
        Case(file: "heroku-mixed.log", format: "syslog", prefix: "%m [%p] sql_error_code = %e ", totalMs: 1917.487, hasSQLSTATE: true),
        Case(file: "cloudnativepg.json", format: "cloudnativepg", prefix: nil, totalMs: 1917.487, hasSQLSTATE: true),
        Case(file: "cloudsql.json", format: "cloudsql", prefix: "%m [%p]: [%l-1] db=%d,user=%u ", totalMs: 1624.981,
             hasSQLSTATE: false),
        Case(file: "stderr-auto-explain-text.log", format: "stderr", prefix: "%m [%p] ", totalMs: 1665.216, hasSQLSTATE: false),
        Case(file: "stderr-auto-explain-json.log", format: "stderr", prefix: "%m [%p] ", totalMs: 1878.059, hasSQLSTATE: false),
        // Fields without `user=` labels, named from the connection messages (the database before the
        // user in the second, with the command tag as %i).
        Case(file: "stderr-bare-fields.log", format: "stderr", prefix: "%m [%p] %u %d %a ", totalMs: 1464.685, hasSQLSTATE: false),
        Case(file: "stderr-bare-fields-tag.log", format: "stderr", prefix: "%t %d %u %h %i [%p]: ", totalMs: 1561.019, hasSQLSTATE: false),
        // Azure's default: the zone runs into the session id, the severity follows a dash.
        Case(file: "stderr-azure.log", format: "stderr", prefix: "%t-%c-", totalMs: 1731.005, hasSQLSTATE: false),
    ]

    @Test(arguments: cases) func everyFormatFindsTheSameWorkload(_ c: Case) throws {
        let r = try Self.analyse(c.file)
        let s = r.summary
        #expect(s.files.first?.format == c.format)
        #expect(s.files.first?.prefix == c.prefix)
        #expect(s.skippedLines == 0)
        #expect(s.statements == 96)
        #expect(s.timedStatements == 96)
        #expect(s.distinctQueries == 23)
        #expect(s.unparsedQueries == 0)
        #expect(abs(s.durationTotalMs - c.totalMs) < 0.0005)
        #expect(abs(r.queries.reduce(0) { $0 + $1.totalMs } - c.totalMs) < 0.0005)
        #expect(s.parseBindSteps == 92)
        #expect(s.errors == 4)
        #expect(r.errors.count == 4)
        #expect(Set(r.errors.compactMap(\.statement)) == ["SELECT * FROM missing_table WHERE id = 1;", "SELECT 1 / 0;",
                                                          "SELEC broken syntax;", "INSERT INTO customers VALUES (1, 'dup', NULL);"])
        if c.hasSQLSTATE {
            #expect(Set(r.errors.compactMap(\.sqlstate)) == ["42P01", "22012", "42601", "23505"])
        }
        #expect(r.tempFiles.count == 1)
        #expect(r.tempFiles.byStatement.map(\.normalized) == ["SELECT id FROM orders ORDER BY note, total DESC, id OFFSET $1"])
        #expect(r.lockWaits.waits == 1)
        #expect(r.lockWaits.acquired == 1)
        #expect(r.lockWaits.byStatement.map(\.normalized) == ["SELECT count(*) FROM customers WHERE id > $1"])
        #expect(r.lockWaits.byLockMode == ["AccessShareLock": 1])
        #expect(r.checkpoints.completed == 2)
        #expect(r.sessions.connectionsAuthorized == 15)
        #expect(r.sessions.disconnections == 15)
        #expect(r.autovacuum.vacuums >= 1)

        // The burst as data (NPlusOneRule turns it into the finding; see LogsPipelineTests).
        #expect(r.nPlusOne?.count == 1)
        let burst = try #require(r.nPlusOne?.first)
        #expect(burst.calls == 25)
        #expect(burst.bursts == 1)
        #expect(burst.largestBurst == 25)
        #expect(burst.sampleValues == ["7", "14", "21"])
        #expect(burst.normalized == "SELECT id, name, email FROM customers WHERE id = $1;")
        #expect(burst.file?.hasSuffix(c.file) == true)
        #expect(burst.line != nil)
        #expect(r.summary.nPlusOneBursts == 1)
        let query = try #require(r.queries.first { $0.fingerprint == burst.fingerprint })
        #expect(query.calls == 25)
    }

    @Test func stderrAggregatesMatchTheLog() throws {
        let r = try Self.analyse("stderr-default.log")
        #expect(r.summary.firstTimestamp == "2026-11-23 13:04:19.362 UTC")
        #expect(r.summary.lastTimestamp == "2026-11-23 13:04:24.783 UTC")
        #expect(abs(r.summary.parseBindMs - 6.204) < 0.0005)
        let burst = try #require(r.queries.first { $0.normalized == "SELECT id, name, email FROM customers WHERE id = $1;" })
        #expect(burst.calls == 25)
        #expect(abs(burst.totalMs - 1.444) < 0.0005)
        #expect(burst.maxMs == 0.255)
        #expect(burst.slowest?.durationMs == 0.255)
        #expect(burst.slowest?.file?.hasSuffix("stderr-default.log") == true)
        // Extended-protocol executions keep their bind values as the sample.
        let bound = try #require(r.queries.first { $0.normalized == "SELECT id, total FROM orders WHERE customer_id = $1;" })
        #expect(bound.calls == 25)
        #expect(bound.slowest?.parameters?.count == 1)
        #expect(bound.p50Ms != nil && bound.p95Ms != nil && bound.p99Ms != nil)
        #expect(bound.minMs! <= bound.p50Ms! && bound.p50Ms! <= bound.p95Ms! && bound.p95Ms! <= bound.maxMs!)
        // IN lists of different lengths are one query.
        let inList = try #require(r.queries.first { $0.normalized.hasPrefix("UPDATE orders SET note = $1 WHERE id IN") })
        #expect(inList.calls == 2)
        // A multi-line statement keeps its lines (without the log's continuation tabs).
        let report = try #require(r.queries.first { $0.normalized.hasPrefix("SELECT c.name,") })
        #expect(report.slowest?.text.contains("\n  FROM customers c\n") == true)
    }

    /// The pre-scan plus one libpg_query call per distinct key must group exactly as fingerprinting
    /// every statement one by one does.
    @Test func groupingEqualsFingerprintingEveryStatement() throws {
        let text = try String(contentsOf: RepositoryPaths.fixture("logs/stderr-default.log"), encoding: .utf8)
        var statements: [String] = []
        var continuesStatement = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("\t") {
                if continuesStatement, let last = statements.popLast() { statements.append(last + "\n" + line.dropFirst()) }
                continue
            }
            continuesStatement = false
            for marker in ["  statement: ", "  execute "] {
                guard line.contains("LOG:  duration: "), let r = line.range(of: marker) else { continue }
                var body = line[r.upperBound...]
                if marker == "  execute ", let colon = body.range(of: ": ") { body = body[colon.upperBound...] }
                statements.append(String(body))
                continuesStatement = true
            }
        }
        #expect(statements.count == 96)
        var expected: [String: Int] = [:]
        for statement in statements {
            guard case .success(let fp) = PgQuery.fingerprint(statement) else { Issue.record("\(statement)"); continue }
            expected[fp, default: 0] += 1
        }
        let r = try Self.analyse("stderr-default.log")
        #expect(Dictionary(uniqueKeysWithValues: r.queries.map { ($0.fingerprint, $0.calls) }) == expected)
    }

    @Test func csvAndJSONCarryDatabaseUserApplication() throws {
        for file in ["csvlog.csv", "jsonlog.json", "cloudnativepg.json", "stderr-pgbadger.log", "stderr-bare-fields.log", "stderr-bare-fields-tag.log"] {
            let r = try Self.analyse(file)
            let q = try #require(r.queries.first { $0.normalized == "SELECT id, total FROM orders WHERE customer_id = $1;" })
            #expect(q.breakdown?["database"] == ["shop": 25], "\(file)")
            #expect(q.breakdown?["user"] == ["postgres": 25], "\(file)")
            #expect(q.breakdown?["application"] == (file.hasSuffix("-tag.log") ? nil : ["pgbench": 25]), "\(file)")
        }
    }

    @Test func autoExplainPlansAreAttachedToTheirQuery() throws {
        let text = try Self.analyse("stderr-auto-explain-text.log")
        let t = try #require(text.queries.first { $0.normalized == "SELECT count(*) FROM customers WHERE id > $1" })
        #expect(t.slowest?.plan?.hasPrefix("Query Text: SELECT count(*) FROM customers WHERE id > 100") == true)
        #expect(t.slowest?.plan?.contains("Scan") == true)
        let json = try Self.analyse("stderr-auto-explain-json.log")
        let j = try #require(json.queries.first { $0.normalized == "SELECT count(*) FROM customers WHERE id > $1" })
        #expect(j.slowest?.plan?.hasPrefix("{") == true)
        #expect(j.slowest?.plan?.contains("\"Node Type\"") == true)
        // The plan lines are not statements.
        #expect(json.summary.statements == 96)
    }

    @Test func logStatementWithoutDurationsIsCountedNotTimed() throws {
        let r = try Self.analyse("stderr-log-statement.log")
        #expect(r.summary.statements == 99)
        #expect(r.summary.timedStatements == 0)
        #expect(r.summary.durationTotalMs == 0)
        #expect(r.summary.notes.contains { $0.contains("log_min_duration_statement") })
        #expect(r.nPlusOne?.count == 1)
    }

    /// log_statement = 'all' with log_duration: each bare `duration:` line times the statement its
    /// session logged before, and the slowest of them is the sample, with its own duration.
    @Test func logDurationLinesTimeTheirSessionsStatement() throws {
        let log = """
            2024-01-01 00:00:00.000 UTC [100] LOG:  statement: SELECT name FROM items WHERE id = 1
            2024-01-01 00:00:00.001 UTC [200] LOG:  statement: SELECT name FROM items WHERE id = 2
            2024-01-01 00:00:00.002 UTC [100] LOG:  duration: 2.000 ms
            2024-01-01 00:00:00.003 UTC [200] LOG:  duration: 7.500 ms
            2024-01-01 00:00:00.004 UTC [100] LOG:  statement: SELECT name FROM items WHERE id = 3
            2024-01-01 00:00:00.005 UTC [100] LOG:  duration: 1.250 ms

            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-log-duration-\(UUID().uuidString).log")
        try Data(log.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let analyzer = LogAnalyzer()
        try analyzer.add(path: url.path)
        let r = try analyzer.report()
        #expect(r.summary.statements == 3 && r.summary.timedStatements == 3 && r.summary.durationTotalMs == 10.75)
        let q = try #require(r.queries.first)
        #expect(r.queries.count == 1 && q.calls == 3 && q.totalMs == 10.75 && q.minMs == 1.25 && q.maxMs == 7.5)
        #expect(q.slowest?.text == "SELECT name FROM items WHERE id = 2")
        #expect(q.slowest?.durationMs == 7.5 && q.slowest?.line == 2)
    }

    @Test(arguments: ["gz", "bz2", "xz", "zst"]) func compressedFilesReadLikeThePlainOne(_ ext: String) throws {
        let plain = try Self.analyse("stderr-default.log")
        let packed = try Self.analyse("stderr-default.log.\(ext)")
        #expect(packed.summary.files.first?.compression == ["gz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd"][ext])
        #expect(packed.summary.statements == plain.summary.statements)
        #expect(packed.summary.durationTotalMs == plain.summary.durationTotalMs)
        #expect(packed.queries.map(\.fingerprint) == plain.queries.map(\.fingerprint))
        #expect(packed.summary.files.first?.bytes == 48652)
    }

    @Test func severalCompressedFilesInOneRun() throws {
        let analyzer = LogAnalyzer()
        for name in ["stderr-default.log.gz", "stderr-default.log.zst", "stderr-default.log.bz2", "csvlog.csv"] {
            try analyzer.add(path: RepositoryPaths.fixture("logs/\(name)").path)
        }
        let r = try analyzer.report()
        #expect(r.summary.statements == 4 * 96)
        #expect(r.summary.files.map(\.compression) == ["gzip", "zstd", "bzip2", nil])
        #expect(r.nPlusOne?.first?.bursts == 4)
    }

    @Test func statedPrefixIsUsed() throws {
        let r = try Self.analyse("stderr-rds.log") { $0.prefix = "%t:%r:%u@%d:[%p]:" }
        #expect(r.summary.files.first?.prefix == "%t:%r:%u@%d:[%p]:")
        #expect(r.summary.statements == 96)
        let q = try #require(r.queries.first { $0.normalized == "SELECT id, total FROM orders WHERE customer_id = $1;" })
        #expect(q.breakdown?["user"] == ["postgres": 25])
    }

    @Test func nPlusOneThresholdsAreRespected() throws {
        let strict = try Self.analyse("stderr-default.log") { $0.nPlusOneMinCalls = 26 }
        #expect(strict.nPlusOne?.isEmpty == true)
        let tight = try Self.analyse("stderr-default.log") { $0.nPlusOneMaxGapMs = 0 }
        #expect(tight.nPlusOne?.isEmpty == true)
    }
}
