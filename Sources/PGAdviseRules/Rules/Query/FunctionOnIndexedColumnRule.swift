import PGAdviseCore
import PGAdviseSQL

/// A condition that wraps an indexed column (function, cast, arithmetic, COLLATE): the index on the
/// bare column cannot serve it, so the table is scanned and the expression computed for every row.
public struct FunctionOnIndexedColumnRule: QueryRule {
    static let schema = """
    CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255) NOT NULL, created_at timestamptz NOT NULL,
                        born date, score integer);
    CREATE INDEX users_email_idx ON users (email);
    CREATE INDEX users_created_at_idx ON users (created_at);
    CREATE INDEX users_born_idx ON users (born);
    CREATE INDEX users_score_idx ON users (score);
    """

    public static let description = RuleDescription(
        id: "function-on-indexed-column", severity: .warning, category: .performance,
        summary: "A condition wraps an indexed column in a function, cast, arithmetic or COLLATE, so its index cannot be used.",
        rationale: """
        A B-tree index orders the column's values, not the values of an expression over them. \
        `lower(email) = $1`, `created_at::date = $1`, `score + 1 > $1` or `extract(year FROM born) = $1` \
        make PostgreSQL compute the expression for every row instead of searching the index on the \
        column. The rule needs the schema (`--schema` or a live scan) and stays silent when an index on \
        the same expression exists.
        """,
        solution: """
        Rewrite the condition as a range on the bare column when the expression is monotonic (dates, \
        truncations, arithmetic), or create an index on the expression itself.
        """,
        triggering: [
            Example("SELECT id FROM users WHERE lower(↓email) = lower($1)", schema: schema),
            Example("SELECT id FROM users WHERE ↓created_at::date = $1", schema: schema),
            Example("SELECT id FROM users u WHERE date_trunc('day', ↓u.created_at) = $1", schema: schema),
            Example("SELECT id FROM users WHERE extract(year FROM ↓born) = 1990", schema: schema),
            Example("SELECT id FROM users WHERE ↓score + 1 > $1", schema: schema),
        ],
        nonTriggering: [
            Example("SELECT id FROM users WHERE email = $1", schema: schema),
            Example("SELECT id FROM users WHERE lower(email) = $1",
                    schema: schema + "\nCREATE INDEX users_lower_email_idx ON users (lower(email));"),
            Example("SELECT id FROM users WHERE email::text = $1", schema: schema),
            Example("SELECT id FROM users WHERE lower(name) = $1",
                    schema: "CREATE TABLE users (id bigint PRIMARY KEY, name text);"),
            Example("SELECT id FROM users WHERE lower(email) = $1"),
        ])

    /// Comparisons an index on the column could otherwise serve.
    static let indexableOperators: Set<PredicateOperator> = [.equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .between,
                                                             .in, .like, .isNull, .isNotDistinctFrom]
    /// Functions that are not IMMUTABLE, so no index can be built on an expression using them.
    static let notImmutableFunctions: Set<String> = ["unaccent", "to_char", "age", "now", "timeofday", "random"]
    /// Functions and casts that depend on the TimeZone setting when applied to timestamptz.
    static let zoneDependentFunctions: Set<String> = ["date_trunc", "extract", "date_part", "date", "date_bin"]
    static let zoneDependentCasts: Set<String> = ["date", "time without time zone", "timestamp without time zone", "text",
                                                  "character varying"]

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        guard let catalog = context.catalog else { return [] }
        var out: [Violation] = []
        for block in query.blocks {
            for p in block.predicates where p.isWrapped && p.clause != .having && Self.indexableOperators.contains(p.comparison) {
                guard let (table, column) = catalog.lookup(p.column), let expression = p.expressionText else { continue }
                if p.wrappers.allSatisfy({ isNoOpCast($0, of: column) }) { continue }
                let indexes = table.btreeIndexes(leadingWith: column.name)
                guard let index = indexes.first, !table.hasIndex(onExpression: expression) else { continue }
                out.append(violation(p, expression: expression, table: table, column: column, index: index))
            }
        }
        return out
    }

    func violation(_ p: Predicate, expression: String, table: Table, column: Column, index: Index) -> Violation {
        let wrapper = p.wrappers.first.map(describe) ?? "an expression"
        var fix: [String] = []
        if let range = rangeRewrite(p, column: p.column.written) {
            fix.append("-- compare the bare column with a range:")
            fix.append("WHERE " + range)
        }
        var solution: String?
        if let reason = reasonExpressionIndexImpossible(p.wrappers, column: column) {
            solution = "Rewrite the condition as a range on the bare \(column.name) column; an expression index is "
                + "not possible here because \(reason)."
        } else {
            fix.append(fix.isEmpty ? "-- index the expression:" : "-- or index the expression:")
            fix.append(createIndexSQL(on: table.name, keys: indexKey(forExpression: expression, wrappers: p.wrappers)))
        }
        return Violation(
            message: "`\(p.conditionText)` applies \(wrapper) to \(table.name).\(column.name), so the index "
                + "\(index.name) on that column cannot be used for it.",
            location: p.column.location, evidence: p.conditionText, solution: solution,
            fix: fix.isEmpty ? nil : fix.joined(separator: "\n"), table: table.name.description, index: index.name)
    }

    func describe(_ wrapper: ColumnWrapper) -> String {
        switch wrapper {
        case let .function(name): return "\(name)()"
        case let .cast(type): return "a cast to \(type)"
        case let .arithmetic(op): return "the operator \(op)"
        case let .collate(name): return "COLLATE \(quoteIdentifier(name))"
        }
    }

    /// A cast PostgreSQL sees through: to the column's own type, or between text and varchar.
    func isNoOpCast(_ wrapper: ColumnWrapper, of column: Column) -> Bool {
        guard case let .cast(type) = wrapper else { return false }
        func textLike(_ t: String) -> Bool { t == "text" || t.hasPrefix("character varying") }
        return type == column.type || (textLike(type) && textLike(column.type))
    }

    func reasonExpressionIndexImpossible(_ wrappers: [ColumnWrapper], column: Column) -> String? {
        for wrapper in wrappers {
            if case let .function(name) = wrapper, Self.notImmutableFunctions.contains(name) {
                return "\(name)() is not IMMUTABLE"
            }
        }
        guard column.type.hasPrefix("timestamp with time zone") else { return nil }
        for wrapper in wrappers {
            switch wrapper {
            case let .function(name) where Self.zoneDependentFunctions.contains(name):
                return "\(name)() on a timestamp with time zone depends on the TimeZone setting (not IMMUTABLE)"
            case let .cast(type) where Self.zoneDependentCasts.contains(type):
                return "a cast of timestamp with time zone to \(type) depends on the TimeZone setting (not IMMUTABLE)"
            default: continue
            }
        }
        return nil
    }

    /// The same condition as a range on the bare column, for the shapes where that is exact.
    func rangeRewrite(_ p: Predicate, column: String) -> String? {
        guard p.comparison == .equal, p.wrappers.count == 1 else { return nil }
        let value: String
        switch p.value {
        case let .parameter(n): value = "$\(n)"
        case let .constant(c): value = literalText(c)
        default: return nil
        }
        switch p.wrappers[0] {
        case .cast(type: "date"):
            let day = value + "::date"
            return "\(column) >= \(day) AND \(column) < \(day) + 1"
        case .function(name: "date_trunc"):
            guard let unit = truncationUnit(p.expressionText ?? "") else { return nil }
            return "\(column) >= \(value) AND \(column) < \(value) + interval '1 \(unit)'"
        case .function(name: "extract"):
            guard (p.expressionText ?? "").hasPrefix("EXTRACT(year FROM"), case let .constant(.integer(year)) = p.value else {
                return nil
            }
            return "\(column) >= '\(year)-01-01' AND \(column) < '\(year + 1)-01-01'"
        default:
            return nil
        }
    }

    func truncationUnit(_ expression: String) -> String? {
        let units = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year"]
        for unit in units where expression.hasPrefix("date_trunc('\(unit)', ") { return unit }
        return nil
    }
}
