import PGAdviseCore
import PGAdviseSQL

/// An IN list of more than 100 values.
public struct LargeInListRule: QueryRule {
    public static let threshold = 100

    public static let description = RuleDescription(
        id: "large-in-list", severity: .warning, category: .performance,
        summary: "An IN list of more than 100 values: slow to parse and plan, and a new statement for every length.",
        rationale: """
        Each element of `IN (...)` is a separate expression to parse, bind and plan, and every distinct \
        list length is a distinct statement text: prepared-statement caches miss, pg_stat_statements and \
        log analysis see hundreds of variants of one query. Beyond a few thousand elements planning \
        alone can take longer than the query.
        """,
        solution: "Pass one array parameter: `WHERE id = ANY($1)` with `$1` bound to an array (`'{1,2,3}'::bigint[]`).",
        triggering: [
            Example("SELECT name FROM products WHERE id ↓IN (" + (1...101).map(String.init).joined(separator: ", ") + ")"),
            Example("DELETE FROM carts WHERE id ↓IN (" + (1...150).map { "$\($0)" }.joined(separator: ", ") + ")"),
        ],
        nonTriggering: [
            Example("SELECT name FROM products WHERE id IN (" + (1...100).map(String.init).joined(separator: ", ") + ")"),
            Example("SELECT name FROM products WHERE id = ANY($1)"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks {
            for list in block.inLists where list.count > Self.threshold {
                let column = list.column?.written ?? "the expression"
                out.append(Violation(
                    message: "IN list of \(formatThousands(list.count)) values on \(column): each value is parsed and "
                        + "planned, and each list length is a different statement.",
                    location: list.location, evidence: "\(column) IN (... \(list.count) values ...)",
                    fix: "WHERE \(column) = ANY($1)  -- $1: an array of the values"))
            }
        }
        return out
    }
}

func formatThousands(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}
