import Foundation
import PGAdviseCore

/// A table with rows that was never analyzed: the planner guesses its size and value distribution,
/// so joins and filters on it get arbitrary plans.
public struct NeverAnalyzedTableRule: ScanRule {
    public static let id = "never-analyzed-table"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "A table with rows has never been analyzed, so the planner guesses."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        input.catalog.tables.compactMap { table in
            guard let usage = table.usage, usage.lastAnalyze == nil, usage.lastAutoanalyze == nil,
                  usage.liveTuples >= input.thresholds.staleMinimumRows else { return nil }
            return Finding(
                rule: Self.id, severity: Self.severity, category: Self.category,
                message: "\(table.name) holds about \(formatRows(Double(usage.liveTuples))) rows but has never been analyzed: "
                    + "the planner has no row count or column statistics for it.",
                table: table.name.description,
                solution: "Analyze it now; if autovacuum is off for the table or cannot keep up, fix that too "
                    + "(ALTER TABLE ... RESET (autovacuum_enabled)).",
                fix: "ANALYZE \(table.name);")
        }
    }
}

/// A table changed a lot since its last analyze: estimates drift, and plans chosen on old
/// statistics (a sequential scan on a "small" table that has grown tenfold) stay wrong.
public struct StaleStatisticsRule: ScanRule {
    public static let id = "stale-statistics"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "Many rows changed since the last ANALYZE, so the planner's statistics are stale."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
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
            return Finding(
                rule: Self.id, severity: Self.severity, category: Self.category,
                message: "\(table.name): \(formatRows(Double(changed))) rows changed since it was last analyzed at \(last) "
                    + "(\(formatPercent(Double(changed) / rows)) of \(formatRows(rows)) rows); its statistics are stale.",
                table: table.name.description,
                solution: autovacuum
                    ? "Analyze it now, and check why autoanalyze has not (workers busy elsewhere, or a scale factor "
                        + "too high for its size)."
                    : "Analyze it now: autovacuum is off for this table, so nothing else will. Turn it back on "
                        + "(ALTER TABLE ... RESET (autovacuum_enabled)) or analyze after every bulk change.",
                fix: "ANALYZE \(table.name);",
                details: ["modificationsSinceAnalyze": String(changed), "lastAnalyze": last])
        }
    }
}
