import PGAdviseCore

/// An index left invalid by a failed `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY`: every
/// write still maintains it, no query can use it, and a unique one enforces nothing.
public struct InvalidIndexRule: ScanRule {
    public static let id = "invalid-index"
    public static let severity = Severity.error
    public static let category = RuleCategory.schema
    public static let summary = "An invalid index slows every write and serves no query."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        input.catalog.tables.flatMap { table in
            table.indexes.filter { !$0.valid }.map { index in
                let name = QualifiedName(schema: table.name.schema, index.name).description
                return Finding(
                    rule: Self.id, severity: Self.severity, category: Self.category,
                    message: "Index \(name) on \(table.name) is invalid (\(formatSize(index.sizeBytes))): a CREATE INDEX "
                        + "CONCURRENTLY or REINDEX failed, so writes maintain it but no query can use it"
                        + (index.unique ? " and it enforces no uniqueness." : "."),
                    table: table.name.description, index: name, evidence: index.definition,
                    solution: "Rebuild it (after fixing what made the build fail, e.g. duplicate keys for a unique "
                        + "index), or drop it if it is not needed.",
                    fix: "REINDEX INDEX CONCURRENTLY \(name);\n-- or: DROP INDEX CONCURRENTLY \(name);")
            }
        }
    }
}
