import PGAdviseCore
import PGAdviseSQL

/// Paging with OFFSET: every page reads and throws away all the rows of the pages before it.
public struct OffsetPaginationRule: QueryRule {
    /// Literal offsets below this are first pages or small skips, not pagination worth changing.
    public static let largeOffset: Int64 = 1000

    public static let description = RuleDescription(
        id: "offset-pagination", severity: .warning, category: .performance,
        summary: "OFFSET pagination reads and discards every row before the requested page.",
        rationale: """
        `LIMIT 20 OFFSET 100000` makes PostgreSQL produce 100,020 rows in order and throw away 100,000 \
        of them, so each page is slower than the one before, and rows inserted meanwhile shift pages \
        (duplicates or gaps). Reported for OFFSET with a parameter, or a literal of at least 1,000, after \
        ORDER BY or LIMIT. `OFFSET 0` and small literal skips are not pagination. In statements taken \
        from pg_stat_statements every literal is a parameter, so any OFFSET there counts.
        """,
        solution: """
        Use keyset pagination: remember the sort key of the last row sent and ask for the rows after it \
        (`WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT 20`), with a unique \
        column last in the sort and an index on the sort columns.
        """,
        triggering: [
            Example("SELECT id, title FROM posts ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET ↓$1"),
            Example("SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET ↓10000"),
            Example("SELECT id FROM posts WHERE author_id = $1 ORDER BY id OFFSET ↓$2 ROWS FETCH NEXT 20 ROWS ONLY"),
        ],
        nonTriggering: [
            Example("SELECT id FROM posts ORDER BY id LIMIT 20 OFFSET 0"),
            Example("SELECT id FROM posts ORDER BY id LIMIT 20 OFFSET 40"),
            Example("SELECT id FROM posts WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT 20"),
            Example("SELECT x FROM (SELECT id AS x FROM posts ORDER BY id OFFSET 0) s"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks {
            guard let offset = block.offset, !block.orderBy.isEmpty || block.limit != nil else { continue }
            let text: String
            switch offset {
            case let .literal(n) where n >= Self.largeOffset: text = String(n)
            case let .parameter(n): text = "$\(n)"
            case let .expression(e): text = e
            default: continue
            }
            out.append(Violation(
                message: "OFFSET \(text) makes PostgreSQL read and discard every row before the page it returns, "
                    + "so each deeper page is slower; rows added meanwhile shift the pages.",
                location: block.offsetLocation, evidence: "OFFSET \(text)", fix: keysetFix(block)))
        }
        return out
    }

    /// The keyset form of the same page, when the sort is on plain columns in one direction.
    func keysetFix(_ block: QueryBlock) -> String? {
        let keys = block.orderBy.compactMap(\.column)
        guard !keys.isEmpty, keys.count == block.orderBy.count else { return nil }
        let descending = block.orderBy[0].descending
        guard block.orderBy.allSatisfy({ $0.descending == descending }) else { return nil }
        let columns = keys.map(\.written)
        let last = keys.map { ":last_" + $0.name }
        let comparison = descending ? "<" : ">"
        let condition = keys.count == 1
            ? "\(columns[0]) \(comparison) \(last[0])"
            : "(\(columns.joined(separator: ", "))) \(comparison) (\(last.joined(separator: ", ")))"
        let order = columns.map { $0 + (descending ? " DESC" : "") }.joined(separator: ", ")
        var limit = ""
        switch block.limit {
        case let .literal(n)?: limit = "\nLIMIT \(n)"
        case let .parameter(n)?: limit = "\nLIMIT $\(n)"
        default: break
        }
        return "-- keyset pagination: pass the sort key of the last row of the previous page\n"
            + "WHERE \(condition)\nORDER BY \(order)\(limit)"
    }
}
