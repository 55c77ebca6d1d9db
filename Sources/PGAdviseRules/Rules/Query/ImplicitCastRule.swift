import PGAdviseCore
import PGAdviseSQL

/// A column compared with a value of a type that makes PostgreSQL cast the column, not the value.
public struct ImplicitCastRule: QueryRule {
    static let schema = """
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, code char(8), amount numeric(12,2));
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    CREATE INDEX orders_code_idx ON orders (code);
    """

    public static let description = RuleDescription(
        id: "implicit-cast", severity: .warning, category: .performance,
        summary: "A column is compared with a value of another type, so PostgreSQL casts the column for every row.",
        rationale: """
        PostgreSQL resolves `integer_column = 1.5` as numeric = numeric: the column is converted for each \
        row and its B-tree index (on the integer values) cannot be used. The same happens with a value \
        cast to numeric, real or double precision against an integer column, and with a char(n) column \
        against text. Needs the schema (`--schema` or a live scan) to know the column's type; untyped \
        literals and `$n` parameters take the column's type and are fine.
        """,
        solution: "Compare with a value of the column's own type: an integer literal, or `$1::bigint` instead of `$1::numeric`.",
        triggering: [
            Example("SELECT id FROM orders WHERE ↓customer_id = 42.0", schema: schema),
            Example("SELECT id FROM orders WHERE ↓id = $1::numeric", schema: schema),
            Example("SELECT id FROM orders WHERE ↓customer_id IN (1, 2.5)", schema: schema),
            Example("SELECT id FROM orders WHERE ↓code = $1::text", schema: schema),
        ],
        nonTriggering: [
            Example("SELECT id FROM orders WHERE customer_id = 42", schema: schema),
            Example("SELECT id FROM orders WHERE id = $1", schema: schema),
            Example("SELECT id FROM orders WHERE amount > 10", schema: schema),
            Example("SELECT id FROM orders WHERE id = $1::integer", schema: schema),
            Example("SELECT id FROM orders WHERE code = 'AB12CD34'", schema: schema),
            Example("SELECT id FROM orders WHERE customer_id = 42.0"),
        ])

    static let comparisonOperators: Set<PredicateOperator> = [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual,
                                                              .in, .notIn, .between]
    static let floatingTypes: Set<String> = ["numeric", "real", "double precision"]

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        guard let catalog = context.catalog else { return [] }
        var out: [Violation] = []
        for block in query.blocks {
            for p in block.predicates where !p.isWrapped && Self.comparisonOperators.contains(p.comparison) {
                guard let (table, column) = catalog.lookup(p.column),
                      let valueType = castingValueType(p, columnType: column.type) else { continue }
                let index = table.btreeIndexes(leadingWith: column.name).first
                let consequence = index.map { "its index \($0.name) cannot be used" } ?? "no index on it could be used"
                out.append(Violation(
                    message: "\(table.name).\(column.name) is \(column.type) but `\(p.conditionText)` compares it with "
                        + "a \(valueType) value, so PostgreSQL casts the column for every row and \(consequence).",
                    location: p.column.location, evidence: p.conditionText,
                    solution: "Compare with a \(column.type) value (cast the value, not the column), checking that "
                        + "the rounding is what you want.",
                    table: table.name.description, index: index?.name))
            }
        }
        return out
    }

    /// The value's type when it forces a cast of the column: numeric-like against an integer column,
    /// text against char(n).
    func castingValueType(_ p: Predicate, columnType: String) -> String? {
        if integerTypes.contains(columnType) {
            if let type = p.valueType, Self.floatingTypes.contains(type) || type.hasPrefix("numeric(") { return type }
            switch p.value {
            case .constant(.numeric): return "numeric"
            case let .list(_, constants) where constants.contains(where: { if case .numeric = $0 { return true }; return false }):
                return "numeric"
            default: return nil
            }
        }
        if columnType.hasPrefix("character(") || columnType == "character" {
            if let type = p.valueType, type == "text" || type.hasPrefix("character varying") { return type }
        }
        return nil
    }
}
