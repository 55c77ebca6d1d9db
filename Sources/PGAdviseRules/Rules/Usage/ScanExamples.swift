import Foundation
import PGAdviseCore

/// The small live database the scan rules' examples describe: one `public.orders` table whose
/// size, counters, indexes and plans each example sets. Examples are values, so the documentation
/// and the generic example test read the same thing.
enum ScanExample {
    static let orders = QualifiedName(schema: "public", "orders")
    /// When the example scans ran: fixed, so "analyzed ten minutes ago" stays ten minutes ago.
    static let scanTime = ISOTimestamp.parse("2026-11-23T13:10:00Z") ?? Date(timeIntervalSince1970: 0)

    static func table(rows: Double = 100_000, indexes: [Index] = [], foreignKeys: [ForeignKey] = [],
                      usage: TableUsage? = TableUsage(), storageParameters: [String: String]? = nil) -> Table {
        Table(name: orders, columns: ["id", "customer_id", "status", "created_at"].map { Column(name: $0, type: "bigint") },
              indexes: indexes, foreignKeys: foreignKeys, rowEstimate: rows, sizeBytes: 8_192_000, usage: usage,
              storageParameters: storageParameters)
    }

    static func index(_ name: String, _ columns: [String], scans: Int64? = 0, valid: Bool = true, unique: Bool = false) -> Index {
        Index(name: name, table: orders, keys: columns.map { Index.Key(column: $0) }, unique: unique, valid: valid,
              definition: "CREATE \(unique ? "UNIQUE " : "")INDEX \(name) ON public.orders USING btree (\(columns.joined(separator: ", ")))",
              sizeBytes: 2_097_152, scans: scans)
    }

    static let customerForeignKey = ForeignKey(name: "orders_customer_id_fkey", columns: ["customer_id"],
                                               referencedTable: QualifiedName(schema: "public", "customers"),
                                               referencedColumns: ["id"])

    static func input(_ tables: [Table] = [], queries: [ScannedQuery] = [],
                      statementStats: StatementStatsAvailability = .available, preload: [String] = ["pg_stat_statements"],
                      autovacuum: Bool = true) -> ScanRuleInput {
        ScanRuleInput(catalog: Catalog(tables: tables), queries: queries,
                      statementStats: StatementStatsStatus(availability: statementStats),
                      statsReset: "2026-11-01T00:00:00+00:00", database: "shop", user: "monitor",
                      preloadedLibraries: preload, autovacuumEnabled: autovacuum, scanTime: scanTime)
    }

    /// A statement whose generic plan is `root`, weighing 40 calls and 1.2 s in all.
    static func query(_ normalized: String, plan root: PlanNode) -> ScannedQuery {
        ScannedQuery(stats: QueryStats(fingerprint: "5f2c1e0a9b7d4c11", normalized: normalized, calls: 40, totalMs: 1_200),
                     shareOfTotalTime: 0.3, plan: Plan(root: root))
    }

    /// `Seq Scan on public.orders` keeping `rows` rows that match `filter`.
    static func seqScan(rows: Double, filter: String?) -> PlanNode {
        PlanNode(nodeType: "Seq Scan", relationName: "orders", schema: "public", alias: "orders", planRows: rows, filter: filter)
    }

    /// `Limit → Sort (keys) → Seq Scan on public.orders`, sorting `rows` rows.
    static func sortedScan(keys: [String], filter: String?, rows: Double) -> PlanNode {
        let sort = PlanNode(nodeType: "Sort", planRows: rows, sortKeys: keys, children: [seqScan(rows: rows, filter: filter)])
        return PlanNode(nodeType: "Limit", planRows: 20, children: [sort])
    }
}
