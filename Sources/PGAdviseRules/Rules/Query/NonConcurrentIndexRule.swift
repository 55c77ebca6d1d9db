import PGAdviseCore
import PGAdviseSQL

/// `CREATE INDEX` without CONCURRENTLY on a table that already exists: writes wait for the whole build.
public struct NonConcurrentIndexRule: QueryRule {
    public static let description = RuleDescription(
        id: "non-concurrent-index", severity: .warning, category: .performance,
        summary: "CREATE INDEX without CONCURRENTLY blocks every write to the table until the index is built.",
        rationale: """
        A plain CREATE INDEX takes a SHARE lock on the table: reads go on, but every INSERT, UPDATE and \
        DELETE waits until the whole table has been read and sorted, minutes or hours on a large table, \
        and the queue of waiting writers stalls the application. CREATE INDEX CONCURRENTLY builds the \
        index without blocking writes. Checked in linted files (migrations), and not reported for a table \
        created earlier in the same file (a new table has no traffic yet).
        """,
        solution: """
        Use CREATE INDEX CONCURRENTLY, outside a transaction block (most migration tools have a switch \
        for that). If it fails it leaves an INVALID index: drop it and retry. A partitioned table needs \
        the index created concurrently on each partition, then on the parent with ON ONLY and ATTACH.
        """,
        triggering: [
            Example("↓CREATE INDEX orders_status_idx ON orders (status);"),
            Example("ALTER TABLE orders ADD COLUMN note text;\n↓CREATE UNIQUE INDEX orders_note_key ON orders (note);"),
        ],
        nonTriggering: [
            Example("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"),
            Example("CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz);\nCREATE INDEX audit_at_idx ON audit (at);"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        // Only in linted files (migrations): in a log, the table may be a session's temporary table.
        guard let creation = query.indexCreation, !creation.concurrently,
              let createdEarlier = context.tablesCreatedEarlierInFile else { return [] }
        let table = creation.table.name
        if createdEarlier.contains(QualifiedName(schema: table.schema ?? "public", table.name)) { return [] }
        let unique = creation.unique ? "UNIQUE " : ""
        let name = creation.name.map { quoteIdentifierIfNeeded($0) + " " } ?? ""
        return [Violation(
            message: "CREATE \(unique)INDEX \(name)on \(table) without CONCURRENTLY blocks every write to \(table) "
                + "until the index is built.",
            location: 0, evidence: query.text,
            fix: "CREATE \(unique)INDEX CONCURRENTLY \(name)ON \(table) ...;  -- outside a transaction block",
            table: table.description, index: creation.name)]
    }
}
