import PGAdviseCore

/// A large table read mostly by sequential scans: each one reads every row, so a handful of
/// statements can dominate I/O. The finding names the statements whose generic plans scan it.
public struct SeqScanHeavyTableRule: ScanRule {
    public static let id = "seq-scan-heavy-table"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "A large table is read mostly by sequential scans."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        var findings: [Finding] = []
        for table in input.catalog.tables {
            guard let usage = table.usage, table.estimatedRows >= input.thresholds.largeTableRows,
                  usage.seqScans >= input.thresholds.minimumSequentialScans, usage.seqScans > usage.indexScans else { continue }
            let share = Double(usage.seqScans) / Double(usage.seqScans + usage.indexScans)
            let scanning = input.queries.filter { query in
                query.plan?.root.allNodes.contains { isSequentialScan($0) && input.table(of: $0)?.name == table.name } ?? false
            }
            let fingerprints = scanning.map(\.stats.fingerprint)
            let callers = fingerprints.isEmpty
                ? "" : " Statements whose plans scan it: \(fingerprints.prefix(5).joined(separator: ", "))."
            findings.append(Finding(
                rule: Self.id, severity: Self.severity, category: Self.category,
                message: "\(table.name) (\(formatRows(table.estimatedRows)) rows, \(formatSize(table.sizeBytes))) was read by "
                    + "\(formatRows(Double(usage.seqScans))) sequential scans (\(formatPercent(share)) of its scans), "
                    + "\(formatRows(Double(usage.seqTuplesRead))) rows in all.",
                table: table.name.description,
                solution: "Find the statements that filter or join this table without an index (see the plan findings "
                    + "and `pgadvise indexes`) and index their columns.\(callers)",
                calls: scanning.isEmpty ? nil : scanning.reduce(0) { $0 + $1.stats.calls },
                totalMs: scanning.isEmpty ? nil : scanning.reduce(0) { $0 + $1.stats.totalMs },
                details: ["seqScans": String(usage.seqScans), "indexScans": String(usage.indexScans),
                          "seqTuplesRead": String(usage.seqTuplesRead)]
                    .merging(fingerprints.isEmpty ? [:] : ["statements": fingerprints.joined(separator: ",")]) { a, _ in a }))
        }
        return findings
    }
}
