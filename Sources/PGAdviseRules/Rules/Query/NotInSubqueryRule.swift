import PGAdviseCore
import PGAdviseSQL

/// `NOT IN (SELECT ...)`: wrong answers when the subquery yields a NULL, and no anti-join plan.
public struct NotInSubqueryRule: QueryRule {
    public static let description = RuleDescription(
        id: "not-in-subquery", severity: .warning, category: .correctness,
        summary: "NOT IN (SELECT ...) returns no rows when the subquery yields a NULL, and cannot be planned as an anti-join.",
        rationale: """
        `x NOT IN (SELECT y ...)` is true only if x differs from every y; one NULL among the y makes it \
        NULL for every row, so the query silently returns nothing. PostgreSQL also cannot turn NOT IN into \
        an anti-join: it runs a hashed subplan if the result fits in work_mem, and otherwise re-scans the \
        subquery for every outer row. `<> ALL (SELECT ...)` is the same construct.
        """,
        solution: "Use NOT EXISTS with the correlation written out, which has the expected NULL behaviour and plans as an anti-join.",
        triggering: [
            Example("SELECT id FROM users WHERE id ↓NOT IN (SELECT user_id FROM banned_users)"),
            Example("DELETE FROM sessions WHERE user_id ↓NOT IN (SELECT id FROM users WHERE active)"),
            Example("CREATE TABLE orphan_orders AS SELECT id FROM orders WHERE customer_id ↓NOT IN (SELECT id FROM customers)"),
            Example("SELECT id FROM users WHERE id ↓<> ALL (SELECT user_id FROM banned_users)"),
        ],
        nonTriggering: [
            Example("SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM banned_users b WHERE b.user_id = u.id)"),
            Example("SELECT id FROM users WHERE id IN (SELECT user_id FROM banned_users)"),
            Example("SELECT id FROM users WHERE status NOT IN ('banned', 'deleted')"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for (index, block) in query.blocks.enumerated() {
            guard case .inSubquery(negated: true) = block.context, let parent = block.parent else { continue }
            let predicate = query.blocks[parent].predicates.first { $0.comparison == .notIn && $0.value == .subquery && $0.location == block.location }
            out.append(Violation(
                message: "`\(predicate?.conditionText ?? "NOT IN (SELECT ...)")` is never true when the subquery returns a NULL, "
                    + "and PostgreSQL cannot plan it as an anti-join.",
                location: block.location, evidence: predicate?.conditionText,
                fix: predicate.flatMap { notExistsFix(outer: $0, subquery: query.blocks[index]) }))
        }
        return out
    }

    /// `NOT EXISTS (SELECT 1 FROM t WHERE t.y = x)` when the subquery reads one table and selects a column.
    func notExistsFix(outer: Predicate, subquery: QueryBlock) -> String? {
        guard !outer.isWrapped, subquery.relations.count == 1, subquery.nonTableItems.isEmpty,
              case let .column(selected)? = subquery.projection.first else { return nil }
        let relation = subquery.relations[0]
        let alias = relation.alias ?? relation.name.name
        let from = relation.name.description + (relation.alias.map { " " + quoteIdentifierIfNeeded($0) } ?? "")
        let inner = quoteIdentifierIfNeeded(alias) + "." + quoteIdentifierIfNeeded(selected.name)
        // The outer column must be qualified, or inside the subquery it could name the inner table's column.
        guard let outerQualifier = outer.column.qualifier ?? outer.column.relation?.exposedName,
              outerQualifier != alias else { return nil }
        let outerColumn = quoteIdentifierIfNeeded(outerQualifier) + "." + quoteIdentifierIfNeeded(outer.column.name)
        let rest = subquery.hasWhere ? " AND <the subquery's own conditions>" : ""
        return "NOT EXISTS (SELECT 1 FROM \(from) WHERE \(inner) = \(outerColumn)\(rest))"
    }
}
