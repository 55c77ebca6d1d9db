import PGAdviseCore

/// An index left invalid by a failed `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY`: every
/// write still maintains it, no query can use it, and a unique one enforces nothing.
public struct InvalidIndexRule: ScanRule {
    public static let description = RuleDescription(
        id: "invalid-index", severity: .error, category: .schema,
        summary: "An invalid index slows every write and serves no query.",
        rationale: """
        When `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY` fails (a duplicate key for a unique \
        index, a deadlock, a cancelled session), PostgreSQL leaves the index behind marked invalid \
        (`pg_index.indisvalid = false`). Every INSERT and UPDATE still maintains it, so it costs write \
        time and disk like any index, but the planner never uses it, and an invalid unique index \
        enforces no uniqueness. Nothing cleans it up by itself (PostgreSQL documentation, CREATE INDEX, \
        "Building Indexes Concurrently").
        """,
        solution: "Rebuild it (after fixing what made the build fail, e.g. duplicate keys for a unique "
            + "index), or drop it if it is not needed.",
        scope: .scan,
        triggering: [
            Example(caption: "`orders_status_idx` on `public.orders` is marked invalid after a failed CREATE INDEX CONCURRENTLY.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_idx", ["status"], valid: false)])])),
        ],
        nonTriggering: [
            Example(caption: "The same index once the build succeeded (valid), even if never scanned.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_idx", ["status"])])])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        input.catalog.tables.flatMap { table in
            table.indexes.filter { !$0.valid }.map { index in
                let name = QualifiedName(schema: table.name.schema, index.name).description
                return Violation(
                    message: "Index \(name) on \(table.name) is invalid (\(formatSize(index.sizeBytes))): a CREATE INDEX "
                        + "CONCURRENTLY or REINDEX failed, so writes maintain it but no query can use it"
                        + (index.unique ? " and it enforces no uniqueness." : "."),
                    evidence: index.definition,
                    fix: "REINDEX INDEX CONCURRENTLY \(name);\n-- or: DROP INDEX CONCURRENTLY \(name);",
                    table: table.name.description, index: name)
            }
        }
    }
}
