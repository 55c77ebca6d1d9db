import PGAdviseCore

/// The same statement run once per row of a previous result, found in a log's session order by
/// `pgadvise logs` (the statements are each fine; their sequence is the problem).
public enum NPlusOneRule {
    public static let description = RuleDescription(
        id: "n-plus-one", severity: .warning, category: .workload,
        summary: "One session runs the same statement many times in a burst, once per row of an earlier result.",
        rationale: """
        An application that loads a list and then fetches each item's related rows one query at a time \
        pays a network round trip, a parse/bind and an executor start-up per row. Each statement is fast \
        and invisible in a slow-query ranking; together they dominate the request. `pgadvise logs` finds \
        these bursts from the order of statements within each session (the same fingerprint repeated \
        with different parameters, close together), so the rule works on a log, not on one statement.
        """,
        solution: """
        Fetch the related rows in one statement: a join, or `WHERE parent_id = ANY($1)` with the list of \
        ids, or the ORM's eager loading (`includes`, `select_related`, `joinedload`).
        """,
        scope: .workload)
}

/// A file that does not parse, reported by `pgadvise lint` instead of its statements.
public enum ParseErrorRule {
    public static let description = RuleDescription(
        id: "parse-error", severity: .error, category: .correctness,
        summary: "The file does not parse as PostgreSQL 15 SQL, so none of its statements were checked.",
        rationale: """
        pgadvise parses with PostgreSQL's own parser (libpg_query). A syntax error, a statement in another \
        dialect, or a template placeholder (`{{ table }}`, `:name`) stops the whole file; the finding \
        gives the parser's message and the position it points at. Other files are still linted.
        """,
        solution: "Fix the syntax at the reported position, or keep non-SQL templates out of the linted paths.",
        scope: .input)
}
