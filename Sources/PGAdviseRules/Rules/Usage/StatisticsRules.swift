import Foundation
import PGAdviseCore

/// A table with rows that was never analyzed: the planner guesses its size and value distribution,
/// so joins and filters on it get arbitrary plans.
public struct NeverAnalyzedTableRule: ScanRule {
    public static let description = RuleDescription(
        id: "never-analyzed-table", severity: .warning, category: .performance,
        summary: "A table with rows has never been analyzed, so the planner guesses.",
        rationale: """
        The planner estimates how many rows each step returns from the statistics ANALYZE gathers \
        (`pg_statistic`: most common values, histograms, distinct counts). A table that was never \
        analyzed, by hand or by autovacuum, has none: the planner falls back to fixed guesses for \
        selectivity, so joins and filters on it get nested loops over far more rows than expected, or \
        sequential scans where an index would do. This happens after a bulk load into a new table, a \
        restore without ANALYZE, or with autovacuum off for the table. Tables under 1,000 live rows are \
        left out.
        """,
        solution: "Analyze it now; if autovacuum is off for the table or cannot keep up, fix that too "
            + "(ALTER TABLE ... RESET (autovacuum_enabled)).",
        scope: .scan,
        triggering: [
            Example(caption: "`public.orders` holds 50,000 live rows and has no last analyze or autoanalyze time.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 50_000))])),
        ],
        nonTriggering: [
            Example(caption: "999 live rows never analyzed: too small for guesses to matter.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 999))])),
            Example(caption: "50,000 live rows, autoanalyzed on 2026-11-20.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 50_000,
                                                                                 lastAutoanalyze: "2026-11-20T10:00:00+00:00"))])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        input.catalog.tables.compactMap { table in
            guard let usage = table.usage, usage.lastAnalyze == nil, usage.lastAutoanalyze == nil,
                  usage.liveTuples >= input.thresholds.staleMinimumRows else { return nil }
            return Violation(
                message: "\(table.name) holds about \(formatRows(Double(usage.liveTuples))) rows but has never been analyzed: "
                    + "the planner has no row count or column statistics for it.",
                fix: "ANALYZE \(table.name);", table: table.name.description)
        }
    }
}

/// A table changed a lot since its last analyze: estimates drift, and plans chosen on old
/// statistics (a sequential scan on a "small" table that has grown tenfold) stay wrong.
public struct StaleStatisticsRule: ScanRule {
    public static let description = RuleDescription(
        id: "stale-statistics", severity: .warning, category: .performance,
        summary: "Many rows changed since the last ANALYZE, so the planner's statistics are stale.",
        rationale: """
        Row estimates come from the statistics of the last ANALYZE. Once a large share of the table has \
        changed since (`n_mod_since_analyze` in `pg_stat_user_tables`), the estimates drift: a table \
        that grew tenfold still looks small, new values are missing from the most-common-values list, \
        and plans chosen on those numbers stay wrong. Autoanalyze triggers at 10% changed rows by \
        default (`autovacuum_analyze_scale_factor`); the rule reports at 20% (and at least 1,000 rows), \
        so that only tables autoanalyze has fallen behind on are reported. Within an hour of an ANALYZE, \
        a table autovacuum looks after is left to autoanalyze (a load that just finished is not stale \
        yet); with autovacuum off, nothing will analyze it, so it is reported at once.
        """,
        solution: "Analyze it now, and check why autoanalyze has not (workers busy elsewhere, or a scale factor "
            + "too high for its size).",
        scope: .scan,
        triggering: [
            Example(caption: "20,000 of 100,000 rows changed since an autoanalyze three days before the scan.",
                    scan: changedSinceAutoanalyze(20_000)),
            Example(caption: "60,000 rows changed ten minutes after an ANALYZE, on a table with `autovacuum_enabled = off`.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: 60_000,
                                                                                 lastAnalyze: "2026-11-23T13:00:00+00:00"),
                                                               storageParameters: ["autovacuum_enabled": "off"])])),
        ],
        nonTriggering: [
            Example(caption: "19,999 of 100,000 rows changed: under a fifth of the table.",
                    scan: changedSinceAutoanalyze(19_999)),
            Example(caption: "60,000 rows changed ten minutes after an ANALYZE, autovacuum on: left to autoanalyze.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: 60_000,
                                                                                 lastAnalyze: "2026-11-23T13:00:00+00:00"))])),
            Example(caption: "50,000 rows changed on a table never analyzed (`never-analyzed-table` reports it).",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: 50_000))])),
        ])

    /// `public.orders` (100,000 rows) with `rows` changed since an autoanalyze three days before the scan.
    static func changedSinceAutoanalyze(_ rows: Int64) -> ScanRuleInput {
        ScanExample.input([ScanExample.table(usage: TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: rows,
                                                               lastAutoanalyze: "2026-11-20T10:00:00+00:00"))])
    }

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        input.catalog.tables.compactMap { table in
            guard let usage = table.usage, let last = [usage.lastAnalyze, usage.lastAutoanalyze].compactMap({ $0 }).max()
            else { return nil }
            let rows = max(table.estimatedRows, Double(usage.liveTuples), 1)
            let changed = usage.modificationsSinceAnalyze
            guard changed >= input.thresholds.staleMinimumRows, Double(changed) >= input.thresholds.staleFraction * rows
            else { return nil }
            let autovacuum = input.autovacuumCovers(table)
            if autovacuum, let analyzed = ISOTimestamp.parse(last),
               input.scanTime.timeIntervalSince(analyzed) < input.thresholds.staleGraceSeconds {
                return nil
            }
            return Violation(
                message: "\(table.name): \(formatRows(Double(changed))) rows changed since it was last analyzed at \(last) "
                    + "(\(formatPercent(Double(changed) / rows)) of \(formatRows(rows)) rows); its statistics are stale.",
                solution: autovacuum ? nil
                    : "Analyze it now: autovacuum is off for this table, so nothing else will. Turn it back on "
                        + "(ALTER TABLE ... RESET (autovacuum_enabled)) or analyze after every bulk change.",
                fix: "ANALYZE \(table.name);", table: table.name.description,
                details: ["modificationsSinceAnalyze": String(changed), "lastAnalyze": last])
        }
    }
}
