import PGAdviseCore
import PGAdviseSQL

/// `LIKE '%term'`: a B-tree index can only serve patterns with a fixed prefix.
public struct LeadingWildcardLikeRule: QueryRule {
    public static let description = RuleDescription(
        id: "leading-wildcard-like", severity: .warning, category: .performance,
        summary: "LIKE or ILIKE with a pattern that starts with a wildcard cannot use a B-tree index.",
        rationale: """
        A B-tree index finds `LIKE 'abc%'` by its prefix; a pattern starting with `%` or `_` has no \
        prefix, so every row is read and matched. A trigram index (pg_trgm) serves any pattern of three \
        or more characters, for LIKE and ILIKE alike. The rule stays silent when the schema has a \
        trigram index on the column.
        """,
        solution: """
        Create a trigram GIN index on the column with the pg_trgm extension, or use full-text search \
        when the search is for words.
        """,
        triggering: [
            Example("SELECT id FROM products WHERE name ↓LIKE '%phone%'"),
            Example("SELECT id FROM products WHERE name ↓ILIKE '_pad'"),
            Example("CREATE VIEW gmail_users AS SELECT id FROM users WHERE email ↓LIKE '%@gmail.com'"),
            Example("SELECT id FROM products WHERE name ↓ILIKE '%' || $1 || '%'"),
            Example("SELECT id FROM products WHERE name ↓LIKE '%phone'",
                    schema: "CREATE TABLE products (id bigint PRIMARY KEY, name text);"),
        ],
        nonTriggering: [
            Example("SELECT id FROM products WHERE name LIKE 'phone%'"),
            Example("SELECT id FROM products WHERE name LIKE $1"),
            Example("SELECT id FROM products WHERE name NOT LIKE '%test%'"),
            Example("SELECT id FROM products WHERE name ILIKE '%phone%'", schema: """
            CREATE EXTENSION pg_trgm;
            CREATE TABLE products (id bigint PRIMARY KEY, name text);
            CREATE INDEX products_name_trgm ON products USING gin (name gin_trgm_ops);
            """),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks {
            for p in block.predicates where p.comparison == .like || p.comparison == .ilike {
                guard let pattern = leadingWildcardPattern(p.value) else { continue }
                let table = context.catalog?.lookup(p.column)?.table
                if let table, hasTrigramIndex(table, on: p) { continue }
                var fix: String?
                if let table {
                    let key = p.expressionText.map { indexKey(forExpression: $0, wrappers: p.wrappers) } ?? quoteIdentifierIfNeeded(p.column.name)
                    fix = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
                        + createIndexSQL(on: table.name, keys: key + " gin_trgm_ops", method: "gin")
                }
                out.append(Violation(
                    message: "`\(p.conditionText)` starts its pattern \(pattern) with a wildcard, so no B-tree index "
                        + "on \(p.column.written) can serve it and every row is matched.",
                    location: p.location, evidence: p.conditionText, fix: fix, table: table?.name.description))
            }
        }
        return out
    }

    /// The pattern as written when it starts with `%` or `_`: a literal, or `'%' || ...`.
    func leadingWildcardPattern(_ value: PredicateValue) -> String? {
        switch value {
        case let .constant(.string(s)) where s.hasPrefix("%") || s.hasPrefix("_"):
            return quoteLiteral(s)
        case let .expression(text):
            // `'%' || $1 || '%'` prints with its concatenations parenthesised: `('%' || $1) || '%'`.
            let start = text.drop { $0 == "(" }
            return start.hasPrefix("'%'") || start.hasPrefix("'_'") ? text : nil
        default:
            return nil
        }
    }

    func hasTrigramIndex(_ table: Table, on p: Predicate) -> Bool {
        let wanted = p.expressionText.flatMap(canonicalExpressionKey)
        return table.indexes.contains { index in
            guard index.valid, index.method == "gin" || index.method == "gist" else { return false }
            return index.keys.contains { key in
                guard key.opclass?.contains("trgm") == true else { return false }
                if let wanted { return key.expression.flatMap(canonicalExpressionKey) == wanted }
                return key.column == p.column.name
            }
        }
    }
}
