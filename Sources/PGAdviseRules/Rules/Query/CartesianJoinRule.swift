import PGAdviseCore
import PGAdviseSQL

/// Two FROM items with no condition linking them: every row of one paired with every row of the other.
public struct CartesianJoinRule: QueryRule {
    public static let description = RuleDescription(
        id: "cartesian-join", severity: .warning, category: .correctness,
        summary: "Two relations in FROM have no join condition between them: every row is paired with every row.",
        rationale: """
        Without a condition linking them, `FROM a, b` returns |a| × |b| rows: usually a forgotten join \
        condition, which shows up as duplicated results and a query that slows down with the square of \
        the data. Written-out CROSS JOIN, `JOIN ... ON true`, LATERAL, set-returning functions, VALUES, \
        subqueries without FROM (`(SELECT 1.2 AS rate) r`) and subqueries that return one row are \
        intentional and not reported; nor is a FROM list whose links the rule cannot see (an unqualified \
        column in a condition over several tables). A CROSS JOIN whose WHERE then filters each side on \
        its own and never relates them is reported like a comma join: it still pairs every kept row of \
        one side with every kept row of the other.
        """,
        solution: "Add the join condition (`JOIN b ON b.a_id = a.id`); if every combination is really wanted, write CROSS JOIN.",
        triggering: [
            Example("SELECT o.id, c.name FROM orders o, ↓customers c WHERE o.total > 100"),
            Example("SELECT o.id FROM orders o JOIN ↓customers c ON o.total > 100 JOIN items i ON i.order_id = o.id"),
            Example("UPDATE orders o SET region = r.name FROM ↓regions r WHERE o.total > 0"),
            Example("SELECT o.id, c.name FROM orders o, ↓customers c WHERE o.total > 100 AND c.region = 'EU'"),
            Example("SELECT o.id, c.name FROM orders o CROSS JOIN ↓customers c WHERE o.total > 100 AND c.region = 'EU'"),
        ],
        nonTriggering: [
            Example("SELECT o.id, c.name FROM orders o, customers c WHERE c.id = o.customer_id"),
            Example("SELECT o.id, c.name FROM orders o JOIN customers c USING (customer_id)"),
            Example("SELECT s.size, c.color FROM sizes s CROSS JOIN colors c"),
            Example("SELECT d.day, count(o.id) FROM generate_series($1::date, $2::date, '1 day') d(day) LEFT JOIN orders o ON o.created_on = d.day GROUP BY d.day"),
            Example("SELECT o.id, o.total / t.total FROM orders o, (SELECT sum(total) AS total FROM orders) t"),
            Example("SELECT u.id, l.id FROM users u, LATERAL (SELECT id FROM logins WHERE user_id = u.id ORDER BY at DESC LIMIT 1) l"),
            Example("SELECT a.id FROM a, b WHERE x = y"),
            Example("SELECT o.id, o.total * r.rate FROM orders o, (SELECT 1.2 AS rate) r"),
            Example("SELECT o.id, o.total * r.rate FROM orders o CROSS JOIN (VALUES (1.2)) r(rate)"),
            Example("SELECT s.size, c.color FROM sizes s CROSS JOIN colors c WHERE s.active"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks {
            for (first, second) in block.unjoinedRelationPairs {
                let location = block.relations.first { $0.exposedName == second }?.location
                out.append(Violation(
                    message: "\(describe(second, in: block)) is joined to \(describe(first, in: block)) without any condition "
                        + "linking them: every row of one is paired with every row of the other.",
                    location: location, evidence: "FROM \(describe(first, in: block)), \(describe(second, in: block)) (no join condition)",
                    table: block.relation(named: second)?.name.description))
            }
        }
        return out
    }

    /// `customers c`, or the name alone when there is no alias.
    func describe(_ exposedName: String, in block: QueryBlock) -> String {
        guard let relation = block.relation(named: exposedName) else { return exposedName }
        return relation.alias.map { "\(relation.name) \($0)" } ?? relation.name.description
    }
}
