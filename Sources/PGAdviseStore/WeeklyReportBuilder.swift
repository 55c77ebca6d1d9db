import Foundation
import PGAdviseCore

/// Turns stored snapshots into a week-over-week report. pg_stat_statements counters are cumulative:
/// what a statement did between two snapshots is the later counters minus the earlier ones, counted
/// on the UTC day of the later snapshot. When the counters went back (stats_reset changed, or a
/// statement's calls went down) the later values are themselves the delta. A statement missing from
/// the later snapshot was evicted (or reset): nothing is counted for it in that interval. A log
/// snapshot already counts one period and is counted on the day its span ends.
public struct WeeklyReportBuilder {
    public var week: ISOWeek
    public var regressionThreshold: Double
    public var minimumTotalIncreaseMs: Double

    public init(week: ISOWeek, regressionThreshold: Double = 0.25, minimumTotalIncreaseMs: Double = 1_000) {
        self.week = week
        self.regressionThreshold = regressionThreshold
        self.minimumTotalIncreaseMs = minimumTotalIncreaseMs
    }

    /// The two weeks the report reads: snapshots from `range.start` (plus each cumulative series'
    /// last one before it) up to `range.end`.
    public var range: (start: Date, end: Date) { (week.previous.start, week.end) }

    /// `schemaVersion`: PGAdviseReport's jsonSchemaVersion (the store does not depend on the renderers).
    public func build(_ snapshots: [HistorySnapshot], schemaVersion: Int) -> WeeklyReport {
        var seriesOrder: [SeriesKey] = []
        var series: [SeriesKey: [HistorySnapshot]] = [:]
        for s in snapshots.sorted(by: { ($0.takenAt, $0.id ?? 0) < ($1.takenAt, $1.id ?? 0) }) {
            let key = SeriesKey(server: s.server, database: s.database, source: s.source)
            if series[key] == nil { seriesOrder.append(key) }
            series[key, default: []].append(s)
        }
        seriesOrder.sort { ($0.server, $0.database, $0.source.rawValue) < ($1.server, $1.database, $1.source.rawValue) }
        let servers = seriesOrder.compactMap { key in series[key].flatMap(report) }
        var notes: [String] = []
        if servers.isEmpty {
            notes.append("No snapshot was taken in \(week) or \(week.previous): run `pgadvise snapshot` daily (cron) to fill the history.")
        }
        return WeeklyReport(schemaVersion: schemaVersion, week: week, regressionThreshold: regressionThreshold,
                            minimumTotalIncreaseMs: minimumTotalIncreaseMs, servers: servers, notes: notes)
    }

    /// One server/database/source over the two weeks; nil when nothing of it falls in either week.
    private func report(_ snapshots: [HistorySnapshot]) -> ServerWeekReport? {
        guard let latest = snapshots.last, let (weeks, daily) = accumulate(snapshots) else { return nil }
        let previousWeek = week.previous
        let now = weeks[week] ?? WeekAccumulator(), before = weeks[previousWeek] ?? WeekAccumulator()
        let hasPrevious = before.measured
        let comparisons = Self.comparisons(now.statements, before.statements)
        let current = comparisons.filter { $0.thisWeek != nil }
        let both = comparisons.filter { $0.thisWeek != nil && $0.previousWeek != nil }
        let regressions = both.filter {
            ($0.meanChange ?? 0) > regressionThreshold && $0.totalMsDelta >= minimumTotalIncreaseMs
        }.sorted { ($0.totalMsDelta, $1.fingerprint) > ($1.totalMsDelta, $0.fingerprint) }
        let faster = both.filter {
            ($0.meanChange ?? 0) < -regressionThreshold && savedMs($0) >= minimumTotalIncreaseMs
        }.sorted { (savedMs($0), $1.fingerprint) > (savedMs($1), $0.fingerprint) }
        let newStatements = hasPrevious && now.measured ? current.filter { $0.previousWeek == nil } : []
        let gone = hasPrevious && now.measured
            ? comparisons.filter { $0.thisWeek == nil }.sorted { (($0.previousWeek?.totalMs ?? 0), $1.fingerprint) > (($1.previousWeek?.totalMs ?? 0), $0.fingerprint) }
            : []

        let days = (0..<14).map { offset -> DailyTotal in
            let label = Self.dayLabel(previousWeek.start.addingTimeInterval(Double(offset) * 86_400))
            return DailyTotal(day: label, totalMs: daily[label]?.ms ?? 0, calls: daily[label]?.calls ?? 0)
        }
        return ServerWeekReport(
            server: latest.server, serverLabel: latest.serverLabel, database: latest.database, source: latest.source,
            thisWeek: now.totals, previousWeek: hasPrevious ? before.totals : nil, daily: days, top: current,
            regressions: regressions, newStatements: newStatements, goneStatements: gone, faster: faster,
            notes: notes(now, before))
    }

    /// Each of the two weeks' statements (the differences between cumulative snapshots, or log
    /// snapshots as they are) and the daily totals; nil when no snapshot falls in either week.
    private func accumulate(_ snapshots: [HistorySnapshot])
        -> (weeks: [ISOWeek: WeekAccumulator], daily: [String: (ms: Double, calls: Int64)])? {
        var weeks: [ISOWeek: WeekAccumulator] = [week: WeekAccumulator(), week.previous: WeekAccumulator()]
        var daily: [String: (ms: Double, calls: Int64)] = [:]
        for s in snapshots where weeks[ISOWeek(containing: s.takenAt)] != nil {
            weeks[ISOWeek(containing: s.takenAt)]?.snapshots += 1
        }
        guard weeks.values.contains(where: { $0.snapshots > 0 }) else { return nil }

        for (index, snapshot) in snapshots.enumerated() {
            let bucket = ISOWeek(containing: snapshot.takenAt)
            guard weeks[bucket] != nil else { continue }
            let interval: [SnapshotStatement]
            if snapshot.isCumulative {
                guard index > 0 else {
                    weeks[bucket]?.baselineOnly = true
                    continue
                }
                let (deltas, reset, evicted) = Self.delta(from: snapshots[index - 1], to: snapshot)
                interval = deltas
                if reset { weeks[bucket]?.counterReset = true }
                weeks[bucket]?.evicted.formUnion(evicted)
            } else {
                interval = snapshot.statements
                if let start = snapshot.periodStart, ISOWeek(containing: start) != bucket { weeks[bucket]?.spansWeeks = true }
            }
            let day = Self.dayLabel(snapshot.takenAt)
            for statement in interval {
                weeks[bucket]?.add(statement)
                daily[day, default: (0, 0)].ms += statement.totalMs
                daily[day, default: (0, 0)].calls += statement.calls
            }
            weeks[bucket]?.measured = true
        }
        return (weeks, daily)
    }

    /// What the reader must know to trust the figures: missing weeks, baselines, resets, evictions.
    private func notes(_ now: WeekAccumulator, _ before: WeekAccumulator) -> [String] {
        let previousWeek = week.previous
        var notes: [String] = []
        if now.snapshots == 0 {
            notes.append("No snapshot was taken in \(week): nothing to report for this week.")
        } else if !now.measured {
            notes.append("The only snapshot in \(week) is the first of this server: it is the baseline, so the week measures nothing yet.")
        }
        if !before.measured {
            notes.append("No previous week to compare with: nothing was measured in \(previousWeek), so there are no regressions, new or gone statements.")
        }
        if now.counterReset {
            notes.append("pg_stat_statements counters were reset in \(week): the time between the last snapshot before the reset and the reset itself is not counted.")
        }
        if before.counterReset {
            notes.append("pg_stat_statements counters were reset in \(previousWeek): its figures miss the time just before the reset.")
        }
        if !now.evicted.isEmpty {
            notes.append("\(now.evicted.count) statement(s) left pg_stat_statements between two snapshots in \(week) (evicted, or reset one by one): their time in that interval is not counted; raise pg_stat_statements.max if this recurs.")
        }
        if now.baselineOnly, now.measured {
            notes.append("This server's first snapshot is in \(week): only time after it is counted.")
        }
        if now.spansWeeks || before.spansWeeks {
            notes.append("A log snapshot spans a week boundary: all of it is counted in the week its last line falls in (snapshot one log per day to split weeks exactly).")
        }
        return notes
    }

    /// Time a faster statement saved this week: last week's mean minus this week's, times this week's calls.
    private func savedMs(_ c: StatementComparison) -> Double {
        guard let now = c.thisWeek, let before = c.previousWeek else { return 0 }
        return (before.meanMs - now.meanMs) * Double(now.calls)
    }

    /// What each statement did between two cumulative snapshots; whether the counters were reset; which
    /// statements of the earlier snapshot are missing from the later one.
    public static func delta(from earlier: HistorySnapshot, to later: HistorySnapshot)
        -> (statements: [SnapshotStatement], reset: Bool, evicted: Set<String>) {
        let wholeReset = earlier.statsReset != nil && later.statsReset != nil && earlier.statsReset != later.statsReset
        let before = Dictionary(earlier.statements.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        var reset = wholeReset
        var out: [SnapshotStatement] = []
        for s in later.statements {
            guard !wholeReset, let b = before[s.fingerprint] else {
                if s.calls > 0 { out.append(s) }
                continue
            }
            if s.calls < b.calls {
                reset = true
                if s.calls > 0 { out.append(s) }
                continue
            }
            guard s.calls > b.calls else { continue }
            var d = s
            d.calls = s.calls - b.calls
            d.totalMs = max(0, s.totalMs - b.totalMs)
            d.rows = difference(s.rows, b.rows)
            d.sharedBlocksHit = difference(s.sharedBlocksHit, b.sharedBlocksHit)
            d.sharedBlocksRead = difference(s.sharedBlocksRead, b.sharedBlocksRead)
            d.tempBlocksWritten = difference(s.tempBlocksWritten, b.tempBlocksWritten)
            d.p95Ms = nil
            out.append(d)
        }
        let laterFingerprints = Set(later.statements.map(\.fingerprint))
        let evicted = wholeReset ? [] : Set(earlier.statements.map(\.fingerprint)).subtracting(laterFingerprints)
        return (out, reset, evicted)
    }

    private static func comparisons(_ now: [String: Weekly], _ before: [String: Weekly]) -> [StatementComparison] {
        Set(now.keys).union(before.keys).compactMap { fp -> StatementComparison? in
            guard let any = now[fp] ?? before[fp] else { return nil }
            return StatementComparison(fingerprint: fp, normalized: any.normalized, queryId: now[fp]?.queryId ?? before[fp]?.queryId,
                                       thisWeek: now[fp]?.figures, previousWeek: before[fp]?.figures)
        }.sorted {
            let a = $0.thisWeek?.totalMs ?? -1, b = $1.thisWeek?.totalMs ?? -1
            return a != b ? a > b : $0.fingerprint < $1.fingerprint
        }
    }

    static func dayLabel(_ date: Date) -> String { String(ISOTimestamp.format(date).prefix(10)) }
}

private struct SeriesKey: Hashable {
    var server: String
    var database: String
    var source: WorkloadSource
}

/// One statement's sums over a week.
private struct Weekly {
    var normalized: String
    var queryId: Int64?
    var calls: Int64 = 0
    var totalMs: Double = 0
    var p95Ms: Double?
    var rows: Int64?
    var hit: Int64?
    var read: Int64?
    var temp: Int64?

    var figures: StatementWeekFigures {
        StatementWeekFigures(calls: calls, totalMs: totalMs, p95Ms: p95Ms, rows: rows, sharedBlocksHit: hit,
                             sharedBlocksRead: read, tempBlocksWritten: temp)
    }
}

private struct WeekAccumulator {
    var statements: [String: Weekly] = [:]
    var snapshots = 0
    var measured = false
    var counterReset = false
    var baselineOnly = false
    var spansWeeks = false
    var evicted: Set<String> = []

    mutating func add(_ s: SnapshotStatement) {
        var w = statements[s.fingerprint] ?? Weekly(normalized: s.normalized, queryId: s.queryId)
        w.calls += s.calls
        w.totalMs += s.totalMs
        // Percentiles do not add up: the highest of the periods' p95 bounds the week's from above.
        if let p = s.p95Ms { w.p95Ms = max(w.p95Ms ?? p, p) }
        w.rows = plus(w.rows, s.rows)
        w.hit = plus(w.hit, s.sharedBlocksHit)
        w.read = plus(w.read, s.sharedBlocksRead)
        w.temp = plus(w.temp, s.tempBlocksWritten)
        w.queryId = w.queryId ?? s.queryId
        statements[s.fingerprint] = w
    }

    var totals: WeekTotals {
        WeekTotals(totalMs: statements.values.reduce(0) { $0 + $1.totalMs },
                   calls: statements.values.reduce(0) { $0 + $1.calls }, statements: statements.count,
                   snapshots: snapshots, counterReset: counterReset)
    }
}

private func plus(_ a: Int64?, _ b: Int64?) -> Int64? {
    guard a != nil || b != nil else { return nil }
    return (a ?? 0) + (b ?? 0)
}

private func difference(_ later: Int64?, _ earlier: Int64?) -> Int64? {
    guard let later else { return nil }
    return max(0, later - (earlier ?? 0))
}
