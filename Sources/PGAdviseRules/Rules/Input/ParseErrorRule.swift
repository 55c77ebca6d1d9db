import PGAdviseCore

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
        scope: .input,
        triggering: [Example("SELECT id, ↓FROM orders"), Example("SELECT * FROM orders WHERE id = ↓{{ id }}")],
        nonTriggering: [Example("SELECT id FROM orders WHERE id = $1")])
}
