import Foundation
import PGAdviseCore

/// A generic plan that sorts many rows of one table when no index delivers them in that order: the
/// sort reads and orders every matching row (spilling to disk beyond work_mem) even under a LIMIT.
/// An index counts as supporting when its keys, after leading columns the scan filters on, are the
/// sort columns in the same (or the entirely reversed) direction.
public struct SortWithoutIndexRule: ScanRule {
    public static let id = "sort-without-index"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "A statement's plan sorts a large input that no index provides in order."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        var findings: [Finding] = []
        for query in input.queries {
            guard let plan = query.plan else { continue }
            for sort in plan.root.allNodes where sort.nodeType == "Sort" {
                guard let keys = sort.sortKeys, !keys.isEmpty,
                      let inputRows = sort.children.first?.planRows, inputRows >= input.thresholds.largeSortRows else { continue }
                let columns = keys.compactMap(sortColumn)
                guard columns.count == keys.count else { continue }
                let scans = sort.children.flatMap(\.allNodes).filter { $0.relationName != nil }
                guard scans.count == 1, let scan = scans.first, let table = input.table(of: scan),
                      columns.allSatisfy({ table.column($0.column) != nil }) else { continue }
                let filtered = [scan.filter, scan.indexCondition].compactMap { $0 }.joined(separator: " ")
                if Self.hasSupportingIndex(table, columns: columns, filterText: filtered) { continue }
                let order = keys.joined(separator: ", ")
                findings.append(query.weighted(Finding(
                    rule: Self.id, severity: Self.severity, category: Self.category,
                    message: "The plan sorts about \(formatRows(inputRows)) rows of \(table.name) by \(order); no index "
                        + "returns them in that order.",
                    table: table.name.description,
                    solution: "Index the equality-filtered columns followed by the sort columns in this order "
                        + "(e.g. (filter_column, \(columns.map { $0.column + ($0.descending ? " DESC" : "") }.joined(separator: ", ")))), "
                        + "so PostgreSQL reads rows already sorted and stops at the LIMIT.",
                    details: ["sortKeys": order, "inputRows": String(format: "%.0f", inputRows)])))
                break
            }
        }
        return findings
    }

    static func hasSupportingIndex(_ table: Table, columns: [(column: String, descending: Bool)], filterText: String) -> Bool {
        table.indexes.contains { index in
            guard index.valid, index.method == "btree", index.predicate == nil else { return false }
            let keys = index.keys
            // Skip leading keys the scan filters on (their values are fixed by equality), then match.
            var start = 0
            while start < keys.count, let column = keys[start].column, !columns.contains(where: { $0.column == column }),
                  filterText.contains(column) {
                start += 1
            }
            guard keys.count - start >= columns.count else { return false }
            let window = keys[start..<(start + columns.count)]
            guard zip(window, columns).allSatisfy({ $0.column == $1.column }) else { return false }
            let same = zip(window, columns).allSatisfy { $0.descending == $1.descending }
            let reversed = zip(window, columns).allSatisfy { $0.descending != $1.descending }
            return same || reversed
        }
    }
}
