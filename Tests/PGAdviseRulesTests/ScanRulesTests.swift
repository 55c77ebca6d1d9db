import Foundation
import PGAdviseCore
@testable import PGAdviseRules
import Testing

/// Usage and plan rules on hand-built values: the boundaries a live database rarely hits on cue.
@Suite struct ScanRulesTests {
    static let orders = QualifiedName(schema: "public", "orders")

    func table(indexes: [Index], foreignKeys: [ForeignKey] = [], rows: Double = 100_000, usage: TableUsage? = TableUsage()) -> Table {
        Table(name: Self.orders, columns: ["id", "customer_id", "status", "created_at"].map { Column(name: $0, type: "bigint") },
              indexes: indexes, foreignKeys: foreignKeys, rowEstimate: rows, sizeBytes: 8_000_000, usage: usage)
    }

    /// What `pgadvise scan` reports for this rule alone: its findings, built from its violations.
    func findings(_ rule: any ScanRule, _ input: ScanRuleInput) -> [Finding] {
        RuleEngine.check(scan: input, rules: [rule])
    }

    func input(_ tables: [Table], queries: [ScannedQuery] = [],
               availability: StatementStatsAvailability = .available, preload: [String] = []) -> ScanRuleInput {
        ScanRuleInput(catalog: Catalog(tables: tables), queries: queries,
                      statementStats: StatementStatsStatus(availability: availability), statsReset: "2026-11-01T00:00:00+00:00",
                      database: "shop", user: "Monitor", preloadedLibraries: preload)
    }

    @Test func unusedIndexSkipsUniqueConstraintAndForeignKeyIndexes() {
        let fk = ForeignKey(name: "orders_customer_fk", columns: ["customer_id"], referencedTable: QualifiedName("customers"),
                            referencedColumns: ["id"])
        let indexes = [
            Index(name: "orders_pkey", table: Self.orders, keys: [Index.Key(column: "id")], unique: true, primary: true,
                  constraintName: "orders_pkey", scans: 0),
            Index(name: "orders_customer_created", table: Self.orders,
                  keys: [Index.Key(column: "customer_id"), Index.Key(column: "created_at")], scans: 0),
            Index(name: "orders_status", table: Self.orders, keys: [Index.Key(column: "status")], sizeBytes: 2_097_152, scans: 0),
            Index(name: "orders_created", table: Self.orders, keys: [Index.Key(column: "created_at")], scans: 12),
            Index(name: "orders_status_unknown", table: Self.orders, keys: [Index.Key(column: "status")], scans: nil),
        ]
        let findings = findings(UnusedIndexRule(), input([table(indexes: indexes, foreignKeys: [fk])]))
        #expect(findings.map(\.index) == ["public.orders_status"])
        #expect(findings.first?.message == "Index public.orders_status on public.orders (2.0 MB) has had no scans since the statistics were reset at 2026-11-01T00:00:00+00:00.")
        #expect(findings.first?.fix == "DROP INDEX CONCURRENTLY public.orders_status;")
    }

    @Test func staleStatisticsNeedManyChangesAfterAnAnalyze() {
        func usage(_ changed: Int64, analyzed: Bool = true) -> TableUsage {
            TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: changed,
                       lastAutoanalyze: analyzed ? "2026-11-20T10:00:00+00:00" : nil)
        }
        #expect(findings(StaleStatisticsRule(), input([table(indexes: [], usage: usage(19_999))])).isEmpty)
        let stale = findings(StaleStatisticsRule(), input([table(indexes: [], usage: usage(20_000))]))
        #expect(stale.map(\.fix) == ["ANALYZE public.orders;"])
        #expect(findings(StaleStatisticsRule(), input([table(indexes: [], usage: usage(50_000, analyzed: false))])).isEmpty)
        #expect(findings(NeverAnalyzedTableRule(), input([table(indexes: [], usage: usage(50_000, analyzed: false))])).count == 1)
        #expect(findings(NeverAnalyzedTableRule(), input([table(indexes: [], usage: TableUsage(liveTuples: 999))])).isEmpty)
    }

    /// Right after an ANALYZE, a table autovacuum looks after is left to autoanalyze; with autovacuum
    /// off (for the table or the server) nothing will analyze it, so it is reported at once.
    @Test func freshlyAnalyzedTablesAreLeftToAutoanalyze() throws {
        let analyzedAt = "2026-11-23T13:00:00.123456+00:00"
        let usage = TableUsage(liveTuples: 100_000, modificationsSinceAnalyze: 60_000, lastAnalyze: analyzedAt)
        let scanTime = try #require(ISOTimestamp.parse(analyzedAt)).addingTimeInterval(600)
        func check(_ table: Table, serverAutovacuum: Bool = true) -> [Finding] {
            var scan = input([table])
            scan.scanTime = scanTime
            scan.autovacuumEnabled = serverAutovacuum
            return findings(StaleStatisticsRule(), scan)
        }
        #expect(check(table(indexes: [], usage: usage)).isEmpty)
        var off = table(indexes: [], usage: usage)
        off.storageParameters = ["autovacuum_enabled": "false"]
        #expect(check(off).first?.solution?.hasPrefix("Analyze it now: autovacuum is off for this table") == true)
        #expect(check(table(indexes: [], usage: usage), serverAutovacuum: false).count == 1)
    }

    @Test func seqScanHeavyNeedsALargeTableAndMostlySequentialReads() {
        let heavy = TableUsage(seqScans: 500, seqTuplesRead: 50_000_000, indexScans: 100)
        #expect(findings(SeqScanHeavyTableRule(), input([table(indexes: [], usage: heavy)])).count == 1)
        #expect(findings(SeqScanHeavyTableRule(), input([table(indexes: [], rows: 9_000, usage: heavy)])).isEmpty)
        #expect(findings(SeqScanHeavyTableRule(), input([table(indexes: [], usage: TableUsage(seqScans: 500, indexScans: 600))])).isEmpty)
        #expect(findings(SeqScanHeavyTableRule(), input([table(indexes: [], usage: TableUsage(seqScans: 49))])).isEmpty)
    }

    func sortPlan(keys: [String], filter: String?, inputRows: Double = 50_000) -> ScannedQuery {
        let scan = PlanNode(nodeType: "Seq Scan", relationName: "orders", schema: "public", planRows: inputRows, filter: filter)
        let sort = PlanNode(nodeType: "Sort", planRows: inputRows, sortKeys: keys, children: [scan])
        return ScannedQuery(stats: QueryStats(fingerprint: "f1", normalized: "SELECT ...", calls: 10, totalMs: 900),
                            shareOfTotalTime: 0.5, plan: Plan(root: PlanNode(nodeType: "Limit", children: [sort])))
    }

    @Test func sortIsSupportedByAnIndexAfterFilteredColumnsInEitherDirection() {
        let byStatusCreated = Index(name: "i", table: Self.orders, keys: [Index.Key(column: "status"), Index.Key(column: "created_at")])
        let query = sortPlan(keys: ["orders.created_at DESC"], filter: "(orders.status = $1)")
        #expect(findings(SortWithoutIndexRule(), input([table(indexes: [byStatusCreated])], queries: [query])).isEmpty)
        let unsupported = findings(SortWithoutIndexRule(), input([table(indexes: [])], queries: [query]))
        #expect(unsupported.map(\.fingerprint) == ["f1"])
        #expect(unsupported.first?.calls == 10 && unsupported.first?.totalMs == 900)
        // An index on the sort column behind a column the scan does not filter on does not help.
        let query2 = sortPlan(keys: ["orders.created_at"], filter: "(orders.customer_id = $1)")
        #expect(findings(SortWithoutIndexRule(), input([table(indexes: [byStatusCreated])], queries: [query2])).count == 1)
        // Mixed directions need an index with the same mix (or its exact reverse).
        let mixed = Index(name: "m", table: Self.orders, keys: [Index.Key(column: "status"), Index.Key(column: "created_at", descending: true)])
        let asc = sortPlan(keys: ["orders.status", "orders.created_at"], filter: nil)
        #expect(findings(SortWithoutIndexRule(), input([table(indexes: [mixed])], queries: [asc])).count == 1)
        let reversed = sortPlan(keys: ["orders.status DESC", "orders.created_at"], filter: nil)
        #expect(findings(SortWithoutIndexRule(), input([table(indexes: [mixed])], queries: [reversed])).isEmpty)
        #expect(findings(SortWithoutIndexRule(), input([table(indexes: [])], queries: [sortPlan(keys: ["orders.id"], filter: nil, inputRows: 9_999)])).isEmpty)
    }

    @Test func sortKeysAreReadAsEXPLAINVerbosePrintsThem() {
        #expect(sortColumn("o.created_at DESC")?.column == "created_at")
        #expect(sortColumn("o.created_at DESC")?.descending == true)
        #expect(sortColumn("\"Sales Dept\".\"Order \"\"Lines\"\"\".\"Größe\" NULLS FIRST")?.column == "Größe")
        #expect(sortColumn("lower(o.email)") == nil)
        #expect(sortColumn("(o.total * 2)") == nil)
    }

    @Test func selectiveSeqScanNeedsALargeTableAndAFewRows() {
        func query(rows: Double) -> ScannedQuery {
            let scan = PlanNode(nodeType: "Seq Scan", relationName: "orders", schema: "public", planRows: rows,
                                filter: "(orders.customer_id = $1)")
            return ScannedQuery(stats: QueryStats(fingerprint: "f2", normalized: "SELECT ...", calls: 3, totalMs: 30),
                                shareOfTotalTime: 0.1, plan: Plan(root: scan))
        }
        let found = findings(SeqScanLargeTableRule(), input([table(indexes: [])], queries: [query(rows: 5)]))
        #expect(found.first?.message == "Sequential scan of public.orders (100,000 rows) keeps about 5 rows (0.005%) that match (orders.customer_id = $1).")
        #expect(findings(SeqScanLargeTableRule(), input([table(indexes: [])], queries: [query(rows: 6_000)])).isEmpty)
        #expect(findings(SeqScanLargeTableRule(), input([table(indexes: [], rows: 5_000)], queries: [query(rows: 5)])).isEmpty)
    }

    @Test func missingStatementStatsFixKeepsOtherPreloadedLibraries() {
        let notPreloaded = findings(PgStatStatementsMissingRule(), input([], availability: .notPreloaded, preload: ["auto_explain"]))
        #expect(notPreloaded.first?.fix == "ALTER SYSTEM SET shared_preload_libraries = 'auto_explain', 'pg_stat_statements';\n-- then restart the server")
        let denied = findings(PgStatStatementsMissingRule(), input([], availability: .permissionDenied))
        #expect(denied.first?.fix == "GRANT pg_read_all_stats TO \"Monitor\";")
        #expect(findings(PgStatStatementsMissingRule(), input([])).isEmpty)
    }
}
