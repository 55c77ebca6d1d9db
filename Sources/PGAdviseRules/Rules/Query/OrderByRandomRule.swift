import PGAdviseCore
import PGAdviseSQL

/// `ORDER BY random()`: the whole result is read and sorted to pick a few rows.
public struct OrderByRandomRule: QueryRule {
    public static let description = RuleDescription(
        id: "order-by-random", severity: .warning, category: .performance,
        summary: "ORDER BY random() reads and sorts every matching row to return a few.",
        rationale: """
        A random sort key cannot come from an index: PostgreSQL reads every row that matches, gives each \
        a random number and sorts them all, even with LIMIT 1. The cost grows with the table, not with \
        the number of rows wanted.
        """,
        solution: """
        Sample instead: `TABLESAMPLE SYSTEM (p)` or `BERNOULLI (p)` reads a fraction of the table \
        (`tsm_system_rows` gives a fixed row count), or pick random keys in the id range and fetch them \
        by index.
        """,
        triggering: [
            Example("SELECT id, question FROM quiz_questions ORDER BY ↓random() LIMIT 1"),
            Example("SELECT id FROM products WHERE category_id = $1 ORDER BY ↓RANDOM()"),
        ],
        nonTriggering: [
            Example("SELECT id, question FROM quiz_questions TABLESAMPLE SYSTEM (1) LIMIT 1"),
            Example("SELECT x FROM unnest($1::int[]) AS x ORDER BY random()"),
            Example("SELECT id FROM products ORDER BY created_at DESC LIMIT 10"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks where !block.relations.isEmpty {
            for key in block.orderBy where key.expressionText == "random()" {
                let tables = block.relations.map { $0.name.description }.joined(separator: ", ")
                out.append(Violation(
                    message: "ORDER BY random() reads and sorts every matching row of \(tables) to return "
                        + (block.limit == nil ? "them in random order." : "a few."),
                    location: key.location, evidence: "ORDER BY random()",
                    fix: "-- e.g. about 1% of the table's pages, then the rows wanted:\n"
                        + "SELECT ... FROM \(block.relations[0].name) TABLESAMPLE SYSTEM (1) LIMIT ..."))
            }
        }
        return out
    }
}
