import Foundation
import PGAdviseCore

/// A generic plan that sorts many rows of one table when no index delivers them in that order: the
/// sort reads and orders every matching row (spilling to disk beyond work_mem) even under a LIMIT.
/// An index counts as supporting when its keys, after leading columns the scan filters on, are the
/// sort columns in the same (or the entirely reversed) direction.
public struct SortWithoutIndexRule: ScanRule {
    public static let description = RuleDescription(
        id: "sort-without-index", severity: .warning, category: .performance,
        summary: "A statement's plan sorts a large input that no index provides in order.",
        rationale: """
        A Sort node must read every input row before it returns the first one, so an `ORDER BY ... \
        LIMIT 20` over 50,000 matching rows still reads and orders all 50,000 on every call, and \
        spills to disk once the rows exceed `work_mem`. A B-tree index whose keys are the sort columns \
        (after the columns the query fixes by equality) returns rows already in order, in either \
        direction, and lets the scan stop at the LIMIT (PostgreSQL documentation, "Indexes and ORDER \
        BY"). The rule reads each frequent statement's generic plan and reports a Sort of at least \
        10,000 rows of one table by plain columns when no valid, non-partial B-tree index supports \
        that order.
        """,
        solution: "Index the columns the statement filters by equality followed by the sort columns, in the "
            + "sort's order and directions, so PostgreSQL reads rows already sorted and stops at the LIMIT.",
        scope: .scan,
        triggering: [
            Example(caption: "The plan of `SELECT ... FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT 20` sorts "
                        + "about 50,000 rows of `public.orders`, which has no index on `(status, created_at)`.",
                    scan: ScanExample.input([ScanExample.table()], queries: [
                        ScanExample.query("SELECT id FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT $2",
                                          plan: ScanExample.sortedScan(keys: ["orders.created_at DESC"], filter: "(orders.status = $1)",
                                                                       rows: 50_000)),
                    ])),
        ],
        nonTriggering: [
            Example(caption: "The same plan when `public.orders` has an index on `(status, created_at)`: read backwards, it "
                        + "returns the rows in order.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_created_at_idx",
                                                                                           ["status", "created_at"], scans: 300)])],
                                            queries: [
                        ScanExample.query("SELECT id FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT $2",
                                          plan: ScanExample.sortedScan(keys: ["orders.created_at DESC"], filter: "(orders.status = $1)",
                                                                       rows: 50_000)),
                    ])),
            Example(caption: "A sort of 9,999 rows: small enough to sort in memory.",
                    scan: ScanExample.input([ScanExample.table()], queries: [
                        ScanExample.query("SELECT id FROM orders ORDER BY id LIMIT $1",
                                          plan: ScanExample.sortedScan(keys: ["orders.id"], filter: nil, rows: 9_999)),
                    ])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        var violations: [Violation] = []
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
                violations.append(query.weighted(Violation(
                    message: "The plan sorts about \(formatRows(inputRows)) rows of \(table.name) by \(order); no index "
                        + "returns them in that order.",
                    solution: "Index the equality-filtered columns followed by the sort columns in this order "
                        + "(e.g. (filter_column, \(columns.map { $0.column + ($0.descending ? " DESC" : "") }.joined(separator: ", ")))), "
                        + "so PostgreSQL reads rows already sorted and stops at the LIMIT.",
                    table: table.name.description,
                    details: ["sortKeys": order, "inputRows": String(format: "%.0f", inputRows)])))
                break
            }
        }
        return violations
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
