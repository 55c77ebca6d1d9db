import PGAdviseCore

/// An index no query has scanned since the statistics were reset. Unique and constraint indexes
/// are left out (they enforce something), and so are indexes that lead with a foreign key's columns
/// (dropping one would bring back a `missing-fk-index`; deletes on the parent may simply not have
/// happened yet).
public struct UnusedIndexRule: ScanRule {
    public static let description = RuleDescription(
        id: "unused-index", severity: .warning, category: .performance,
        summary: "An index never scanned costs disk, memory and write time for nothing.",
        rationale: """
        Every index is updated by every INSERT, by every UPDATE that is not HOT, and by VACUUM; it takes \
        disk, shared buffers and backup time, and it may keep an UPDATE from being HOT at all. An index \
        whose `pg_stat_user_indexes.idx_scan` is still 0 since the statistics were reset has paid all \
        of that without serving a single query. Unique, primary-key and other constraint indexes are \
        not reported (they enforce something even when unscanned), nor are indexes that lead with a \
        foreign key's columns: they serve deletes and key updates on the referenced table, which may \
        simply not have happened yet.
        """,
        solution: "Drop it once you are sure nothing needs it: usage is counted per server, so check the "
            + "replicas too, and make sure the statistics cover a full business cycle (month-end jobs).",
        scope: .scan,
        triggering: [
            Example(caption: "`orders_status_idx` (2 MB, not unique, backing no constraint) has had 0 scans since the statistics were reset.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_idx", ["status"])])])),
        ],
        nonTriggering: [
            Example(caption: "The same index with 12 scans.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_idx", ["status"], scans: 12)])])),
            Example(caption: "A unique index with 0 scans: it enforces uniqueness.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_number_key", ["status", "id"], unique: true)])])),
            Example(caption: "An index leading with the foreign key `customer_id` with 0 scans: deletes of customers need it.",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_customer_created_idx", ["customer_id", "created_at"])],
                                                               foreignKeys: [ScanExample.customerForeignKey])])),
            Example(caption: "An index whose scan count is unknown (no usage statistics).",
                    scan: ScanExample.input([ScanExample.table(indexes: [ScanExample.index("orders_status_idx", ["status"], scans: nil)])])),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        let since = input.statsReset.map { "since the statistics were reset at \($0)" } ?? "since statistics collection began (never reset)"
        var found: [(size: Int64, violation: Violation)] = []
        for table in input.catalog.tables {
            for index in table.indexes where index.scans == 0 && index.valid && !index.unique && !index.primary
                && index.constraintName == nil && !Self.backsForeignKey(index, in: table) {
                let name = QualifiedName(schema: table.name.schema, index.name).description
                var details = ["sizeBytes": String(index.sizeBytes ?? 0)]
                if let reset = input.statsReset { details["statsReset"] = reset }
                found.append((index.sizeBytes ?? 0, Violation(
                    message: "Index \(name) on \(table.name) (\(formatSize(index.sizeBytes))) has had no scans \(since).",
                    evidence: index.definition, fix: "DROP INDEX CONCURRENTLY \(name);",
                    table: table.name.description, index: name, details: details)))
            }
        }
        return found.sorted { $0.size > $1.size }.map(\.violation)
    }

    static func backsForeignKey(_ index: Index, in table: Table) -> Bool {
        let leading = index.leadingColumns
        return table.foreignKeys.contains { fk in
            fk.columns.count <= leading.count && Set(leading.prefix(fk.columns.count)) == Set(fk.columns)
        }
    }
}
