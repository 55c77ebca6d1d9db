import Foundation
import PGAdviseCore

/// A generic plan that reads a whole large table to keep a few rows: the statement pays for every
/// row on every call, and an index on the filtered columns would read only the matches.
public struct SeqScanLargeTableRule: ScanRule {
    public static let description = RuleDescription(
        id: "seq-scan-large-table", severity: .warning, category: .performance,
        summary: "A statement's plan reads a whole large table to keep a few rows.",
        rationale: """
        A sequential scan reads every page of the table and tests each row against the filter; when \
        the filter keeps a small share of a large table, nearly all of that work is thrown away, on \
        every call. The rule reads each frequent statement's generic plan (EXPLAIN of the normalized \
        text) and reports a `Seq Scan` with a filter on a table of at least 10,000 rows that the \
        planner expects to keep at most 5% of the rows: the range where an index scan reads only the \
        matching pages (PostgreSQL documentation, "Using EXPLAIN" and "Indexes").
        """,
        solution: "Index the columns this filter compares with constants or parameters, most selective "
            + "equality first; `pgadvise indexes` proposes and verifies one.",
        scope: .scan,
        triggering: [
            Example(caption: "The plan of `SELECT ... FROM orders WHERE customer_id = $1` scans all 100,000 rows of `public.orders` to keep about 5.",
                    scan: ScanExample.input([ScanExample.table()], queries: [
                        ScanExample.query("SELECT id FROM orders WHERE customer_id = $1",
                                          plan: ScanExample.seqScan(rows: 5, filter: "(orders.customer_id = $1)")),
                    ])),
        ],
        nonTriggering: [
            Example(caption: "The same scan keeping 6,000 of 100,000 rows (6%): reading the table whole is reasonable.",
                    scan: ScanExample.input([ScanExample.table()], queries: [
                        ScanExample.query("SELECT id FROM orders WHERE status = $1",
                                          plan: ScanExample.seqScan(rows: 6_000, filter: "(orders.status = $1)")),
                    ])),
            Example(caption: "The same scan keeping 5 rows of a 5,000-row table: a few pages.",
                    scan: ScanExample.input([ScanExample.table(rows: 5_000)], queries: [
                        ScanExample.query("SELECT id FROM orders WHERE customer_id = $1",
                                          plan: ScanExample.seqScan(rows: 5, filter: "(orders.customer_id = $1)")),
                    ])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        var violations: [Violation] = []
        for query in input.queries {
            guard let plan = query.plan else { continue }
            var seen: Set<QualifiedName> = []
            for node in plan.root.allNodes where isSequentialScan(node) {
                guard let filter = node.filter, let table = input.table(of: node),
                      table.estimatedRows >= input.thresholds.largeTableRows, seen.insert(table.name).inserted else { continue }
                let fraction = node.planRows / table.estimatedRows
                guard fraction <= input.thresholds.selectiveFraction else { continue }
                violations.append(query.weighted(Violation(
                    message: "Sequential scan of \(table.name) (\(formatRows(table.estimatedRows)) rows) keeps about "
                        + "\(formatRows(max(node.planRows, 1))) rows (\(formatPercent(fraction))) that match \(filter).",
                    table: table.name.description,
                    details: ["filter": filter, "estimatedRows": String(format: "%.0f", node.planRows)])))
            }
        }
        return violations
    }
}
