import PGAdviseCore

/// An index no query has scanned since the statistics were reset. Unique and constraint indexes
/// are left out (they enforce something), and so are indexes that lead with a foreign key's columns
/// (dropping one would bring back a `missing-fk-index`; deletes on the parent may simply not have
/// happened yet).
public struct UnusedIndexRule: ScanRule {
    public static let id = "unused-index"
    public static let severity = Severity.warning
    public static let category = RuleCategory.performance
    public static let summary = "An index never scanned costs disk, memory and write time for nothing."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        let since = input.statsReset.map { "since the statistics were reset at \($0)" } ?? "since statistics collection began (never reset)"
        var findings: [Finding] = []
        for table in input.catalog.tables {
            for index in table.indexes where index.scans == 0 && index.valid && !index.unique && !index.primary
                && index.constraintName == nil && !Self.backsForeignKey(index, in: table) {
                let name = QualifiedName(schema: table.name.schema, index.name).description
                var details = ["sizeBytes": String(index.sizeBytes ?? 0)]
                if let reset = input.statsReset { details["statsReset"] = reset }
                findings.append(Finding(
                    rule: Self.id, severity: Self.severity, category: Self.category,
                    message: "Index \(name) on \(table.name) (\(formatSize(index.sizeBytes))) has had no scans \(since).",
                    table: table.name.description, index: name, evidence: index.definition,
                    solution: "Drop it once you are sure nothing needs it: usage is counted per server, so check the "
                        + "replicas too, and make sure the statistics cover a full business cycle (month-end jobs).",
                    fix: "DROP INDEX CONCURRENTLY \(name);", details: details))
            }
        }
        return findings.sorted { ($0.details?["sizeBytes"].flatMap { Int64($0) } ?? 0) > ($1.details?["sizeBytes"].flatMap { Int64($0) } ?? 0) }
    }

    static func backsForeignKey(_ index: Index, in table: Table) -> Bool {
        let leading = index.leadingColumns
        return table.foreignKeys.contains { fk in
            fk.columns.count <= leading.count && Set(leading.prefix(fk.columns.count)) == Set(fk.columns)
        }
    }
}
