import Foundation
import PGAdviseCore

/// A generic plan that reads a whole large table to keep a few rows: the statement pays for every
/// row on every call, and an index on the filtered columns would read only the matches.
public struct SeqScanLargeTableRule: ScanRule {
    public static let id = "seq-scan-large-table"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "A statement's plan reads a whole large table to keep a few rows."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        var findings: [Finding] = []
        for query in input.queries {
            guard let plan = query.plan else { continue }
            var seen: Set<QualifiedName> = []
            for node in plan.root.allNodes where isSequentialScan(node) {
                guard let filter = node.filter, let table = input.table(of: node),
                      table.estimatedRows >= input.thresholds.largeTableRows, seen.insert(table.name).inserted else { continue }
                let fraction = node.planRows / table.estimatedRows
                guard fraction <= input.thresholds.selectiveFraction else { continue }
                findings.append(query.weighted(Finding(
                    rule: Self.id, severity: Self.severity, category: Self.category,
                    message: "Sequential scan of \(table.name) (\(formatRows(table.estimatedRows)) rows) keeps about "
                        + "\(formatRows(max(node.planRows, 1))) rows (\(formatPercent(fraction))) that match \(filter).",
                    table: table.name.description,
                    solution: "Index the columns this filter compares with constants or parameters, most selective "
                        + "equality first; `pgadvise indexes` proposes and verifies one.",
                    details: ["filter": filter, "estimatedRows": String(format: "%.0f", node.planRows)])))
            }
        }
        return findings
    }
}
