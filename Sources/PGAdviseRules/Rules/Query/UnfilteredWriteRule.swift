import PGAdviseCore
import PGAdviseSQL

/// UPDATE or DELETE without WHERE: every row of the table.
public struct UnfilteredWriteRule: QueryRule {
    public static let description = RuleDescription(
        id: "unfiltered-write", severity: .warning, category: .correctness,
        summary: "UPDATE or DELETE without WHERE changes every row of the table.",
        rationale: """
        Without WHERE the statement touches every row: it is either a bug (a lost condition) or a \
        full-table rewrite that locks every row, writes a new version of each (bloat, WAL volume, \
        replication lag) and runs as one long transaction. An UPDATE or DELETE inside a writable CTE \
        (`WITH d AS (DELETE FROM t RETURNING id) SELECT ...`) is reported the same way: it runs in \
        full whatever the outer query does with its rows.
        """,
        solution: """
        Add the missing condition. For an intended full-table change, do it in batches by key range; to \
        empty a table, TRUNCATE is faster (but takes an ACCESS EXCLUSIVE lock).
        """,
        triggering: [
            Example("↓UPDATE users SET newsletter = false"),
            Example("↓DELETE FROM sessions"),
            Example("WITH d AS (DELETE FROM ↓sessions RETURNING id) SELECT count(*) FROM d"),
            Example("WITH touched AS (UPDATE ↓users SET newsletter = false RETURNING id) INSERT INTO audit (user_id) SELECT id FROM touched"),
        ],
        nonTriggering: [
            Example("UPDATE users SET newsletter = false WHERE id = $1"),
            Example("DELETE FROM sessions WHERE expires_at < now()"),
            Example("UPDATE accounts a SET balance = b.balance FROM balances b WHERE b.account_id = a.id"),
            Example("WITH d AS (DELETE FROM sessions WHERE expires_at < now() RETURNING id) SELECT count(*) FROM d"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        if query.kind == .update || query.kind == .delete, let top = query.blocks.first, !top.hasWhere, let target = query.target {
            out.append(violation(kind: query.kind, target: target, location: 0))
        }
        // A writable CTE (`WITH d AS (DELETE FROM t RETURNING id) ...`) writes just as much.
        for block in query.blocks where !block.hasWhere {
            guard let kind = block.writeKind, let target = block.writeTarget else { continue }
            out.append(violation(kind: kind, target: target, location: target.location))
        }
        return out
    }

    func violation(kind: StatementKind, target: RelationRef, location: Int) -> Violation {
        let verb = kind == .update ? "UPDATE" : "DELETE"
        let effect = kind == .update ? "rewrites every row of" : "removes every row of"
        return Violation(message: "\(verb) without WHERE \(effect) \(target.name).", location: location,
                         evidence: "\(verb) \(target.name) (no WHERE)", table: target.name.description)
    }
}
