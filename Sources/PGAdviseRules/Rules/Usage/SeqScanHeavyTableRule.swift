import PGAdviseCore

/// A large table read mostly by sequential scans: each one reads every row, so a handful of
/// statements can dominate I/O. The finding names the statements whose generic plans scan it.
public struct SeqScanHeavyTableRule: ScanRule {
    static let generalSolution = "Find the statements that filter or join this table without an index (see the plan "
        + "findings and `pgadvise indexes`) and index their columns."

    public static let description = RuleDescription(
        id: "seq-scan-heavy-table", severity: .warning, category: .performance,
        summary: "A large table is read mostly by sequential scans.",
        rationale: """
        A sequential scan reads every page of the table, however few rows the statement keeps; on a \
        large table that is real I/O and cache churn on every call. `pg_stat_user_tables` counts how the \
        table has been read since the statistics were reset: when most of its scans (`seq_scan` against \
        `idx_scan`) are sequential, some frequent statement filters or joins it on columns no index \
        serves. Small tables (under 10,000 rows) and tables with fewer than 50 sequential scans are \
        left out: reading a few pages whole is often the best plan, and a handful of scans (a nightly \
        report, a backup) says nothing about the workload.
        """,
        solution: generalSolution,
        scope: .scan,
        triggering: [
            Example(caption: "`public.orders` (100,000 rows) has had 500 sequential scans and 100 index scans.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(seqScans: 500, seqTuplesRead: 50_000_000, indexScans: 100))])),
        ],
        nonTriggering: [
            Example(caption: "The same scans on a table of 9,000 rows: cheap to read whole.",
                    scan: ScanExample.input([ScanExample.table(rows: 9_000, usage: TableUsage(seqScans: 500, indexScans: 100))])),
            Example(caption: "500 sequential scans against 600 index scans: mostly read through indexes.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(seqScans: 500, indexScans: 600))])),
            Example(caption: "49 sequential scans: too few to judge.",
                    scan: ScanExample.input([ScanExample.table(usage: TableUsage(seqScans: 49))])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        var violations: [Violation] = []
        for table in input.catalog.tables {
            guard let usage = table.usage, table.estimatedRows >= input.thresholds.largeTableRows,
                  usage.seqScans >= input.thresholds.minimumSequentialScans, usage.seqScans > usage.indexScans else { continue }
            let share = Double(usage.seqScans) / Double(usage.seqScans + usage.indexScans)
            let scanning = input.queries.filter { query in
                query.plan?.root.allNodes.contains { isSequentialScan($0) && input.table(of: $0)?.name == table.name } ?? false
            }
            let fingerprints = scanning.map(\.stats.fingerprint)
            var details = ["seqScans": String(usage.seqScans), "indexScans": String(usage.indexScans),
                           "seqTuplesRead": String(usage.seqTuplesRead)]
            if !fingerprints.isEmpty { details["statements"] = fingerprints.joined(separator: ",") }
            var violation = Violation(
                message: "\(table.name) (\(formatRows(table.estimatedRows)) rows, \(formatSize(table.sizeBytes))) was read by "
                    + "\(formatRows(Double(usage.seqScans))) sequential scans (\(formatPercent(share)) of its scans), "
                    + "\(formatRows(Double(usage.seqTuplesRead))) rows in all.",
                solution: fingerprints.isEmpty ? nil
                    : Self.generalSolution + " Statements whose plans scan it: \(fingerprints.prefix(5).joined(separator: ", ")).",
                table: table.name.description, details: details)
            if !scanning.isEmpty {
                violation.calls = scanning.reduce(0) { $0 + $1.stats.calls }
                violation.totalMs = scanning.reduce(0) { $0 + $1.stats.totalMs }
            }
            violations.append(violation)
        }
        return violations
    }
}
