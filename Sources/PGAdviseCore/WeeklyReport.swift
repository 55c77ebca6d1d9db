import Foundation

// MARK: - History snapshots

/// One statement's counters in a history snapshot. For pg_stat_statements they are cumulative since
/// the entry was created (or the statistics last reset); for a log they count what the log held.
public struct SnapshotStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    public var queryId: Int64?
    public var calls: Int64
    public var totalMs: Double
    /// The log's 95th percentile; pg_stat_statements has none.
    public var p95Ms: Double?
    public var rows: Int64?
    public var sharedBlocksHit: Int64?
    public var sharedBlocksRead: Int64?
    public var tempBlocksWritten: Int64?

    public init(fingerprint: String, normalized: String, queryId: Int64? = nil, calls: Int64, totalMs: Double,
                p95Ms: Double? = nil, rows: Int64? = nil, sharedBlocksHit: Int64? = nil,
                sharedBlocksRead: Int64? = nil, tempBlocksWritten: Int64? = nil) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.queryId = queryId; self.calls = calls
        self.totalMs = totalMs; self.p95Ms = p95Ms; self.rows = rows; self.sharedBlocksHit = sharedBlocksHit
        self.sharedBlocksRead = sharedBlocksRead; self.tempBlocksWritten = tempBlocksWritten
    }

    public init(_ q: QueryStats) {
        self.init(fingerprint: q.fingerprint, normalized: q.normalized, queryId: q.queryId, calls: Int64(q.calls),
                  totalMs: q.totalMs, p95Ms: q.p95Ms, rows: q.rows, sharedBlocksHit: q.sharedBlocksHit,
                  sharedBlocksRead: q.sharedBlocksRead, tempBlocksWritten: q.tempBlocksWritten)
    }
}

/// What one `pgadvise snapshot` stored: the statements of one database at one moment (cumulative
/// pg_stat_statements counters) or over one log's time span (counts that are already deltas).
public struct HistorySnapshot: Codable, Sendable, Equatable {
    /// The store's row id; nil before the snapshot is stored.
    public var id: Int64?
    /// When the counters were read; for a log, its last timestamp.
    public var takenAt: Date
    /// For a log: its first timestamp. Nil for pg_stat_statements.
    public var periodStart: Date?
    public var source: WorkloadSource
    /// The key that ties snapshots of one server together (system identifier, or host:port); never a password.
    public var server: String
    /// Host and port as the user reads them.
    public var serverLabel: String
    public var database: String
    /// pg_stat_statements_info.stats_reset (ISO 8601), when the extension reports it.
    public var statsReset: String?
    public var statements: [SnapshotStatement]

    public init(id: Int64? = nil, takenAt: Date, periodStart: Date? = nil, source: WorkloadSource, server: String,
                serverLabel: String, database: String, statsReset: String? = nil, statements: [SnapshotStatement]) {
        self.id = id; self.takenAt = takenAt; self.periodStart = periodStart; self.source = source
        self.server = server; self.serverLabel = serverLabel; self.database = database
        self.statsReset = statsReset; self.statements = statements
    }

    /// pg_stat_statements counters only grow until a reset: the report takes differences between
    /// snapshots. A log snapshot already counts one period.
    public var isCumulative: Bool { source == .pgStatStatements }
}

// MARK: - ISO weeks (UTC)

/// An ISO 8601 week in UTC: Monday 00:00 to the next Monday 00:00.
public struct ISOWeek: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var week: Int

    public init(year: Int, week: Int) { self.year = year; self.week = week }

    static let calendar: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0)!
        return c
    }()

    /// The week that holds `date`.
    public init(containing date: Date) {
        let parts = Self.calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        self.init(year: parts.yearForWeekOfYear ?? 1970, week: parts.weekOfYear ?? 1)
    }

    /// `2026-W47` (also `2026W47`, `2026-w47`). Nil for anything else or a week the year does not have.
    public init?(parsing text: String) {
        let upper = text.uppercased().replacingOccurrences(of: "-W", with: "W")
        let parts = upper.split(separator: "W", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, (1...2).contains(parts[1].count),
              let year = Int(parts[0]), let week = Int(parts[1]), week >= 1, week <= 53 else { return nil }
        self.init(year: year, week: week)
        // Week 53 exists only in some years: it must round-trip.
        guard ISOWeek(containing: start) == self else { return nil }
    }

    public var start: Date {
        Self.calendar.date(from: DateComponents(weekday: 2, weekOfYear: week, yearForWeekOfYear: year))
            ?? Date(timeIntervalSince1970: 0)
    }

    public var end: Date { start.addingTimeInterval(7 * 86_400) }
    public var previous: ISOWeek { ISOWeek(containing: start.addingTimeInterval(-86_400)) }
    public func contains(_ date: Date) -> Bool { date >= start && date < end }
    public var description: String { String(format: "%04d-W%02d", year, week) }

    public static func < (a: ISOWeek, b: ISOWeek) -> Bool { (a.year, a.week) < (b.year, b.week) }

    /// The last week that has ended at `date`: what a report run from cron on Monday morning covers.
    public static func lastComplete(at date: Date) -> ISOWeek { ISOWeek(containing: date).previous }
}

// MARK: - The weekly report

/// `pgadvise report`: one ISO week against the week before, per server and database. The JSON field
/// names are a published contract: add fields, never rename them.
public struct WeeklyReport: Codable, Sendable {
    public var schemaVersion: Int
    public var week: String
    public var weekStart: String
    public var weekEnd: String
    public var previousWeek: String
    /// Mean time must grow by more than this share (0.25 = 25%) for a regression.
    public var regressionThreshold: Double
    /// ... and the week's total time of the statement by at least this many milliseconds.
    public var minimumTotalIncreaseMs: Double
    public var servers: [ServerWeekReport]
    /// Facts about the whole report (no snapshot at all in the week, ...).
    public var notes: [String]

    public init(schemaVersion: Int, week: ISOWeek, regressionThreshold: Double, minimumTotalIncreaseMs: Double,
                servers: [ServerWeekReport], notes: [String] = []) {
        self.schemaVersion = schemaVersion; self.week = week.description
        self.weekStart = ISOTimestamp.format(week.start); self.weekEnd = ISOTimestamp.format(week.end)
        self.previousWeek = week.previous.description; self.regressionThreshold = regressionThreshold
        self.minimumTotalIncreaseMs = minimumTotalIncreaseMs; self.servers = servers; self.notes = notes
    }

    public var regressionCount: Int { servers.reduce(0) { $0 + $1.regressions.count } }
}

/// One server's database (from one source) over the two weeks.
public struct ServerWeekReport: Codable, Sendable {
    public var server: String
    public var serverLabel: String
    public var database: String
    public var source: WorkloadSource
    public var thisWeek: WeekTotals
    /// Nil when no snapshot measured anything in the previous week.
    public var previousWeek: WeekTotals?
    /// Time per UTC day over the two weeks, oldest first (14 entries).
    public var daily: [DailyTotal]
    /// This week's statements by total time, heaviest first (`pgadvise report` keeps the `--top` first).
    public var top: [StatementComparison]
    public var regressions: [StatementComparison]
    public var newStatements: [StatementComparison]
    /// Statements that ran last week and not this week (or were evicted from pg_stat_statements).
    public var goneStatements: [StatementComparison]
    public var faster: [StatementComparison]
    /// Plain statements about gaps: no previous week, a counter reset in the week, evictions.
    public var notes: [String]

    public init(server: String, serverLabel: String, database: String, source: WorkloadSource, thisWeek: WeekTotals,
                previousWeek: WeekTotals?, daily: [DailyTotal], top: [StatementComparison],
                regressions: [StatementComparison], newStatements: [StatementComparison],
                goneStatements: [StatementComparison], faster: [StatementComparison], notes: [String]) {
        self.server = server; self.serverLabel = serverLabel; self.database = database; self.source = source
        self.thisWeek = thisWeek; self.previousWeek = previousWeek; self.daily = daily; self.top = top
        self.regressions = regressions; self.newStatements = newStatements; self.goneStatements = goneStatements
        self.faster = faster; self.notes = notes
    }
}

public struct WeekTotals: Codable, Sendable, Equatable {
    public var totalMs: Double
    public var calls: Int64
    public var statements: Int
    /// Snapshots taken in the week (a cumulative one also needs an earlier one to measure anything).
    public var snapshots: Int
    /// A pg_stat_statements reset (or a statement's counters going down) fell in the week.
    public var counterReset: Bool

    public init(totalMs: Double, calls: Int64, statements: Int, snapshots: Int, counterReset: Bool) {
        self.totalMs = totalMs; self.calls = calls; self.statements = statements; self.snapshots = snapshots
        self.counterReset = counterReset
    }
}

public struct DailyTotal: Codable, Sendable, Equatable {
    /// `2026-11-16` (UTC).
    public var day: String
    public var totalMs: Double
    public var calls: Int64

    public init(day: String, totalMs: Double, calls: Int64) { self.day = day; self.totalMs = totalMs; self.calls = calls }
}

/// One statement's figures for a week.
public struct StatementWeekFigures: Codable, Sendable, Equatable {
    public var calls: Int64
    public var totalMs: Double
    public var meanMs: Double
    /// From logs only: exact when one log snapshot covers the week, otherwise the highest of the
    /// snapshots' p95 (an upper bound of the week's p95).
    public var p95Ms: Double?
    public var rows: Int64?
    public var sharedBlocksHit: Int64?
    public var sharedBlocksRead: Int64?
    public var tempBlocksWritten: Int64?

    public init(calls: Int64, totalMs: Double, p95Ms: Double? = nil, rows: Int64? = nil, sharedBlocksHit: Int64? = nil,
                sharedBlocksRead: Int64? = nil, tempBlocksWritten: Int64? = nil) {
        self.calls = calls; self.totalMs = totalMs; self.meanMs = calls > 0 ? totalMs / Double(calls) : 0
        self.p95Ms = p95Ms; self.rows = rows; self.sharedBlocksHit = sharedBlocksHit
        self.sharedBlocksRead = sharedBlocksRead; self.tempBlocksWritten = tempBlocksWritten
    }
}

/// A statement this week against last week.
public struct StatementComparison: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    public var queryId: Int64?
    public var thisWeek: StatementWeekFigures?
    public var previousWeek: StatementWeekFigures?
    public var callsDelta: Int64
    public var totalMsDelta: Double
    public var meanMsDelta: Double?
    /// Mean time change as a share of last week's mean (0.5 = 50% slower); nil without both weeks.
    public var meanChange: Double?
    public var p95MsDelta: Double?
    /// The query rules' findings on this statement.
    public var findings: [Finding]

    public init(fingerprint: String, normalized: String, queryId: Int64?, thisWeek: StatementWeekFigures?,
                previousWeek: StatementWeekFigures?, findings: [Finding] = []) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.queryId = queryId
        self.thisWeek = thisWeek; self.previousWeek = previousWeek
        callsDelta = (thisWeek?.calls ?? 0) - (previousWeek?.calls ?? 0)
        totalMsDelta = (thisWeek?.totalMs ?? 0) - (previousWeek?.totalMs ?? 0)
        if let now = thisWeek, let before = previousWeek, now.calls > 0, before.calls > 0 {
            meanMsDelta = now.meanMs - before.meanMs
            meanChange = before.meanMs > 0 ? (now.meanMs - before.meanMs) / before.meanMs : nil
        }
        if let a = thisWeek?.p95Ms, let b = previousWeek?.p95Ms { p95MsDelta = a - b }
        self.findings = findings
    }
}
