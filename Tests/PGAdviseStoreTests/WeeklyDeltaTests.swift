import Foundation
import PGAdviseCore
import PGAdviseStore
import Testing

/// The week-over-week arithmetic on cumulative pg_stat_statements counters.
@Suite struct WeeklyDeltaTests {
    typealias T = TestSnapshots
    static let w47 = ISOWeek(year: 2026, week: 47)

    static func build(_ snapshots: [HistorySnapshot], week: ISOWeek = w47) -> ServerWeekReport? {
        WeeklyReportBuilder(week: week).build(snapshots, schemaVersion: 1).servers.first
    }

    static func figures(_ report: ServerWeekReport?, _ letter: String) -> StatementWeekFigures? {
        report?.top.first { $0.fingerprint == T.fingerprint(letter) }?.thisWeek
    }

    @Test func threeSnapshotsWithAResetInTheMiddle() throws {
        let snapshots = [
            T.pgss("2026-11-15T12:00:00Z", [T.statement("x", calls: 10, totalMs: 100), T.statement("y", calls: 5, totalMs: 50)]),
            T.pgss("2026-11-17T00:00:00Z", [T.statement("x", calls: 30, totalMs: 300), T.statement("y", calls: 8, totalMs: 80)]),
            // pg_stat_statements_reset(): the counters start again, the later values are the delta.
            T.pgss("2026-11-18T00:00:00Z", reset: "2026-11-17T12:00:00Z", [T.statement("x", calls: 4, totalMs: 40)]),
            T.pgss("2026-11-19T00:00:00Z", reset: "2026-11-17T12:00:00Z",
                   [T.statement("x", calls: 10, totalMs: 100), T.statement("y", calls: 2, totalMs: 30)]),
        ]
        let report = try #require(Self.build(snapshots))
        #expect(Self.figures(report, "x") == StatementWeekFigures(calls: 30, totalMs: 300, rows: 30, sharedBlocksHit: 300,
                                                                   sharedBlocksRead: 30, tempBlocksWritten: 0))
        #expect(Self.figures(report, "y")?.calls == 5)
        #expect(Self.figures(report, "y")?.totalMs == 60)
        #expect(Self.figures(report, "y")?.meanMs == 12)
        #expect(report.thisWeek == WeekTotals(totalMs: 360, calls: 35, statements: 2, snapshots: 3, counterReset: true))
        #expect(report.daily.map(\.day) == (9...22).map { String(format: "2026-11-%02d", $0) })
        #expect(report.daily[8...10].map(\.totalMs) == [230, 40, 90])
        #expect(report.daily[8...10].map(\.calls) == [23, 4, 8])
        #expect(report.daily.enumerated().allSatisfy { (8...10).contains($0.offset) || $0.element.totalMs == 0 })
        #expect(report.previousWeek == nil)
        #expect(report.notes.contains("pg_stat_statements counters were reset in 2026-W47: the time between the last snapshot before the reset and the reset itself is not counted."))
        #expect(report.notes.contains { $0.hasPrefix("No previous week to compare with") })
        // After a whole reset, a statement missing from the later snapshot is not an eviction.
        #expect(!report.notes.contains { $0.contains("left pg_stat_statements") })
    }

    @Test func callsGoingDownIsAResetOfThatStatement() {
        let before = T.pgss("2026-11-16T00:00:00Z", [T.statement("x", calls: 50, totalMs: 500), T.statement("y", calls: 5, totalMs: 5)])
        let after = T.pgss("2026-11-17T00:00:00Z", [T.statement("x", calls: 7, totalMs: 70), T.statement("y", calls: 9, totalMs: 13)])
        let delta = WeeklyReportBuilder.delta(from: before, to: after)
        #expect(delta.reset)
        #expect(delta.evicted.isEmpty)
        #expect(delta.statements.map(\.calls) == [7, 4])
        #expect(delta.statements.map(\.totalMs) == [70, 8])
    }

    @Test func anEvictedStatementCountsNothingUntilItReturns() throws {
        let snapshots = [
            T.pgss("2026-11-16T00:00:00Z", [T.statement("x", calls: 10, totalMs: 100), T.statement("z", calls: 100, totalMs: 1_000)]),
            T.pgss("2026-11-17T00:00:00Z", [T.statement("x", calls: 20, totalMs: 200)]),
            // Back in the view as a new entry: its counters started when it was re-added.
            T.pgss("2026-11-18T00:00:00Z", [T.statement("x", calls: 30, totalMs: 300), T.statement("z", calls: 3, totalMs: 45)]),
        ]
        let delta = WeeklyReportBuilder.delta(from: snapshots[0], to: snapshots[1])
        #expect(delta.evicted == [T.fingerprint("z")])
        #expect(!delta.reset)
        let report = try #require(Self.build(snapshots))
        #expect(Self.figures(report, "z")?.calls == 3)
        #expect(Self.figures(report, "z")?.totalMs == 45)
        #expect(Self.figures(report, "x")?.calls == 20)
        #expect(report.thisWeek.counterReset == false)
        #expect(report.notes.contains("1 statement(s) left pg_stat_statements between two snapshots in 2026-W47 (evicted, or reset one by one): their time in that interval is not counted; raise pg_stat_statements.max if this recurs."))
        #expect(report.notes.contains("This server's first snapshot is in 2026-W47: only time after it is counted."))
    }

    @Test func isoWeeksStartOnMondayMidnightUTC() throws {
        #expect(ISOWeek(containing: T.date("2026-11-22T23:59:59Z")) == Self.w47)
        #expect(ISOWeek(containing: T.date("2026-11-23T00:00:00Z")) == ISOWeek(year: 2026, week: 48))
        #expect(Self.w47.start == T.date("2026-11-16T00:00:00Z"))
        #expect(Self.w47.end == T.date("2026-11-23T00:00:00Z"))
        #expect(Self.w47.previous == ISOWeek(year: 2026, week: 46))
        #expect(ISOWeek(parsing: "2026-W47") == Self.w47)
        #expect(ISOWeek(parsing: "2026w47") == Self.w47)
        // 2026 starts on a Thursday, so it has a week 53, which holds 1 January 2027; 2027 has none.
        #expect(ISOWeek(containing: T.date("2027-01-01T12:00:00Z")) == ISOWeek(year: 2026, week: 53))
        #expect(ISOWeek(parsing: "2026-W53") != nil)
        #expect(ISOWeek(parsing: "2027-W53") == nil)
        #expect(ISOWeek(parsing: "2026-W54") == nil)
        #expect(ISOWeek(parsing: "2026-11-16") == nil)
        #expect(ISOWeek(year: 2027, week: 1).previous == ISOWeek(year: 2026, week: 53))
        #expect(ISOWeek.lastComplete(at: T.date("2026-11-23T06:00:00Z")) == Self.w47)
        #expect(ISOWeek.lastComplete(at: T.date("2026-11-22T23:59:59Z")) == ISOWeek(year: 2026, week: 46))
    }

    @Test func aSnapshotAtSundayMidnightBelongsToTheWeekItEnds() throws {
        let base = T.pgss("2026-11-22T00:00:00Z", [T.statement("x", calls: 0, totalMs: 0)])
        let sunday = T.pgss("2026-11-22T23:59:59Z", [T.statement("x", calls: 10, totalMs: 100)])
        let monday = T.pgss("2026-11-23T00:00:00Z", [T.statement("x", calls: 15, totalMs: 180)])
        let w47 = try #require(Self.build([base, sunday, monday]))
        #expect(w47.thisWeek.calls == 10)
        #expect(w47.thisWeek.totalMs == 100)
        let w48 = try #require(Self.build([base, sunday, monday], week: ISOWeek(year: 2026, week: 48)))
        #expect(w48.thisWeek.calls == 5)
        #expect(w48.thisWeek.totalMs == 80)
        #expect(w48.previousWeek?.calls == 10)
    }

    @Test func logSnapshotsAreAlreadyDeltasAndKeepTheHighestP95() throws {
        func log(_ start: String, _ end: String, _ statements: [SnapshotStatement]) -> HistorySnapshot {
            HistorySnapshot(takenAt: T.date(end), periodStart: T.date(start), source: .logs, server: "logs",
                            serverLabel: "logs", database: "", statements: statements)
        }
        let report = try #require(Self.build([
            log("2026-11-16T00:00:00Z", "2026-11-16T23:00:00Z", [T.statement("x", calls: 10, totalMs: 100, p95Ms: 20)]),
            log("2026-11-17T00:00:00Z", "2026-11-17T23:00:00Z", [T.statement("x", calls: 30, totalMs: 150, p95Ms: 12)]),
        ]))
        #expect(report.source == .logs)
        #expect(Self.figures(report, "x")?.calls == 40)
        #expect(Self.figures(report, "x")?.totalMs == 250)
        #expect(Self.figures(report, "x")?.p95Ms == 20)
        #expect(!report.notes.contains { $0.contains("first snapshot") })
    }

    @Test func aWeekWithoutSnapshotsSaysSo() throws {
        let report = WeeklyReportBuilder(week: Self.w47).build([], schemaVersion: 1)
        #expect(report.servers.isEmpty)
        #expect(report.notes == ["No snapshot was taken in 2026-W47 or 2026-W46: run `pgadvise snapshot` daily (cron) to fill the history."])
        let onlyLastWeek = try #require(Self.build(Array(T.twoWeeks.prefix(2))))
        #expect(onlyLastWeek.notes.first == "No snapshot was taken in 2026-W47: nothing to report for this week.")
        #expect(onlyLastWeek.newStatements.isEmpty && onlyLastWeek.goneStatements.isEmpty)
    }
}
