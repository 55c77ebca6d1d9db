import PGAdviseCore
import PGAdviseSQL

/// `*` in a list that goes to the client: every column is read, sent and decoded, whatever the caller uses.
public struct SelectStarRule: QueryRule {
    public static let description = RuleDescription(
        id: "select-star", severity: .warning, category: .performance,
        summary: "SELECT * returns every column, whether the caller uses it or not.",
        rationale: """
        Every column is read, detoasted, sent and decoded, including large text and jsonb values the \
        caller ignores. It rules out index-only scans, and a column added later silently changes what \
        the application receives. A `*` over a CTE reaches the client just like one over a table. The same holds for `RETURNING *` on INSERT, UPDATE and DELETE. `*` \
        inside EXISTS, in count(*), in a CTE or subquery whose outer query names its columns, or in \
        the body of a view or CREATE TABLE AS (whose rows do not go to a client) is not reported.
        """,
        solution: "List the columns the caller uses.",
        triggering: [
            Example("SELECT ↓* FROM users WHERE id = $1"),
            Example("SELECT ↓u.*, o.total FROM users u JOIN orders o ON o.user_id = u.id"),
            Example("SELECT ↓* FROM events WHERE kind = 'a' UNION ALL SELECT ↓* FROM archived_events WHERE kind = 'a'"),
            Example("SELECT ↓* FROM users WHERE id = $1",
                    schema: "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);"),
            Example("UPDATE orders SET status = 'shipped' WHERE id = $1 RETURNING ↓*"),
            Example("INSERT INTO users (email) VALUES ($1) RETURNING ↓users.*"),
            Example("WITH recent AS (SELECT id, total FROM orders WHERE created_at > now() - interval '1 day') SELECT ↓* FROM recent"),
            Example("WITH recent AS (SELECT id, user_id FROM orders) SELECT ↓r.*, u.email FROM recent r JOIN users u ON u.id = r.user_id"),
        ],
        nonTriggering: [
            Example("SELECT id, email FROM users WHERE id = $1"),
            Example("SELECT count(*) FROM users"),
            Example("SELECT id FROM users u WHERE EXISTS (SELECT * FROM orders o WHERE o.user_id = u.id)"),
            Example("WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT id, total FROM recent"),
            Example("INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < $1"),
            Example("SELECT * FROM generate_series(1, 10)"),
            Example("DELETE FROM sessions WHERE expires_at < now() RETURNING id"),
            Example("CREATE VIEW active_users AS SELECT * FROM users WHERE deleted_at IS NULL"),
            Example("CREATE MATERIALIZED VIEW orders_2025 AS SELECT * FROM orders WHERE created_at < '2026-01-01'"),
            Example("WITH moved AS (DELETE FROM orders WHERE status = 'done' RETURNING *) INSERT INTO orders_archive SELECT * FROM moved"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for (index, block) in query.blocks.enumerated() where query.returnsRowsToClient(index) {
            for case let .star(qualifier, location) in block.projection {
                out += violation(qualifier: qualifier, location: location, block: block, returning: false, context: context)
            }
        }
        if let top = query.blocks.first {
            for case let .star(qualifier, location) in query.returning {
                out += violation(qualifier: qualifier, location: location, block: top, returning: true, context: context)
            }
        }
        return out
    }

    private func violation(qualifier: String?, location: Int?, block: QueryBlock, returning: Bool,
                           context: RuleContext) -> [Violation] {
        let covered: [RelationRef]
        if let qualifier {
            guard let relation = block.relation(named: qualifier) ?? block.cteReferences.first(where: { $0.exposedName == qualifier })
            else { return [] }
            covered = [relation]
        } else {
            covered = block.relations + block.cteReferences
            guard !covered.isEmpty else { return [] }
        }
        let isTable = { (relation: RelationRef) in !block.cteReferences.contains(relation) }
        let names = covered.map { $0.name.description }.joined(separator: ", ")
        let star = qualifier.map { "\($0).*" }
        var violation = Violation(
            message: returning
                ? "RETURNING \(star ?? "*") sends every column of \(names) back to the client, whether the caller uses it or not."
                : "\(star ?? "SELECT *") returns every column of \(names), whether the caller uses it or not, and rules out index-only scans.",
            location: location, evidence: star ?? "*",
            table: covered.count == 1 && isTable(covered[0]) ? covered[0].name.description : nil)
        if let catalog = context.catalog {
            let lists = covered.compactMap { relation -> String? in
                guard let table = catalog.table(relation.name) else { return nil }
                let prefix = covered.count > 1 || qualifier != nil ? quoteIdentifierIfNeeded(relation.exposedName) + "." : ""
                return table.columns.map { prefix + quoteIdentifierIfNeeded($0.name) }.joined(separator: ", ")
            }
            if lists.count == covered.count, !lists.isEmpty {
                violation.solution = "List the columns the caller uses; all of them are: \(lists.joined(separator: ", "))."
            }
        }
        return [violation]
    }
}
