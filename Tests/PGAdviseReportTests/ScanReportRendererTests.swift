import PGAdviseCore
import PGAdviseReport
import Testing

@Suite struct ScanReportRendererTests {
    static let report = ScanReport(
        schemaVersion: 1, target: "monitor@db1:5432/shop", startedAt: "2026-11-23T12:00:00Z", durationMs: 812.5,
        roundTrips: 41,
        server: ServerInfo(version: "PostgreSQL 15.4", versionNumber: 150004, database: "shop", user: "monitor",
                           canReadAllStats: true,
                           settings: [ServerSetting(name: "shared_buffers", setting: "16384", unit: "8kB", display: "128MB", source: "default"),
                                      ServerSetting(name: "work_mem", setting: "4096", unit: "kB", display: "4MB", source: "default")]),
        database: DatabaseStats(blocksRead: 10, blocksHit: 990, tempFiles: 2, tempBytes: 2_097_152, sizeBytes: 104_857_600),
        activity: ActivitySnapshot(sessionsByState: ["active": 2, "idle": 5], waitingOnLock: 1),
        statementStats: StatementStatsStatus(availability: .available, statementCount: 120, totalMs: 65_000, totalCalls: 9_000),
        tableCount: 7, indexCount: 13,
        skipped: [ScanSkip(step: "column statistics of 2 table(s) (public.a, public.b)", reason: "pg_stats shows only columns the role may SELECT")],
        findings: [
            Finding(rule: "unused-index", severity: .warning, message: "Index public.i has had no scans.", table: "public.t",
                    index: "public.i", fix: "DROP INDEX CONCURRENTLY public.i;"),
            Finding(rule: "invalid-index", severity: .error, message: "Index public.j is invalid.", table: "public.t", index: "public.j"),
        ],
        queries: [ScannedQuery(stats: QueryStats(fingerprint: "a1b2c3d4e5f60718", normalized: "SELECT * FROM t WHERE id = $1",
                                                 calls: 3_000, totalMs: 13_000),
                               shareOfTotalTime: 0.2)],
        topPerRanking: 10)

    @Test func textStartsWithWhatWasScannedThenFindingsByImpact() {
        let expected = """
            pgadvise scan of monitor@db1:5432/shop: 7 tables, 13 indexes, 120 statements in pg_stat_statements
            (9,000 calls, 1m 05s); took 812.5 ms in 41 round trips.

            Server: PostgreSQL 15.4, connected as monitor
            Settings: shared_buffers=128MB, work_mem=4MB
            Database: 100.0 MB, cache hit 99.0%, 2 temp files (2.0 MB), 0 deadlocks, statistics never reset
            Sessions: 2 active, 5 idle, 1 waiting on a lock

            Skipped:
              - column statistics of 2 table(s) (public.a, public.b): pg_stats shows only columns the role may
                SELECT

            Findings (2: 1 error, 1 warning), highest impact first

            [ERROR] invalid-index: Index public.j is invalid.
                table public.t, index public.j

            [WARNING] unused-index: Index public.i has had no scans.
                table public.t, index public.i
                  DROP INDEX CONCURRENTLY public.i;

            Statements considered (the top 10 by total time, by calls and by mean time; heaviest first)
            Fingerprint       Calls    Total    Mean  Share  Plan  Statement
            ----------------  -----  -------  ------  -----  ----  -----------------------------
            a1b2c3d4e5f60718  3,000  13.00 s  4.3 ms  20.0%  -     SELECT * FROM t WHERE id = $1

            """
        #expect(renderScanText(Self.report) == expected)
    }

    @Test func markdownHasTheSameSections() {
        let markdown = renderScanMarkdown(Self.report)
        #expect(markdown.hasPrefix("# pgadvise scan\n\npgadvise scan of monitor@db1:5432/shop: 7 tables"))
        #expect(markdown.contains("## Skipped\n\n- **column statistics of 2 table(s) (public.a, public.b)**"))
        #expect(markdown.contains("### error: `invalid-index`"))
        #expect(markdown.contains("| `a1b2c3d4e5f60718` | 3,000 | 13.00 s | 4.3 ms | 20.0% | `SELECT * FROM t WHERE id = $1` |"))
    }
}
