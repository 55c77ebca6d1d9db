import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A shop with one of each problem `pgadvise scan` reports, at sizes where each one matters.
let scanProblemsSchemaSQL = #"""
    CREATE EXTENSION pg_stat_statements;
    CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, country text NOT NULL);
    CREATE INDEX customers_name_idx ON customers (name);
    CREATE TABLE products (id int PRIMARY KEY, category text NOT NULL);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                         status text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE inventory (product_id int PRIMARY KEY, on_hand int NOT NULL) WITH (autovacuum_enabled = off);
    CREATE TABLE audit (id bigint PRIMARY KEY, action text NOT NULL) WITH (autovacuum_enabled = off);
    CREATE SCHEMA "Sales Dept";
    CREATE TABLE "Sales Dept"."Order ""Lines""" ("select" int PRIMARY KEY, "Größe" text);
    CREATE INDEX "Größe idx" ON "Sales Dept"."Order ""Lines""" ("Größe");
    INSERT INTO customers SELECT g, 'name ' || g, 'C' || (g % 20) FROM generate_series(1, 20000) g;
    INSERT INTO products SELECT g, 'cat' || (g % 3) FROM generate_series(1, 300) g;
    INSERT INTO orders SELECT g, 1 + (g * 7) % 20000, 'done', now() - g * interval '1 minute' FROM generate_series(1, 30000) g;
    INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN 'view' ELSE 'click' END, now() - g * interval '1 second'
      FROM generate_series(1, 40000) g;
    INSERT INTO inventory SELECT g, g FROM generate_series(1, 5000) g;
    INSERT INTO "Sales Dept"."Order ""Lines""" SELECT g, 'x' || g FROM generate_series(1, 100) g;
    """#

/// Creates the shop, then (each in its own transaction, as an application would) analyzes it,
/// changes every inventory row and bulk-loads the audit table after the analyze.
@discardableResult
func seedScanProblems(_ database: String) throws -> String {
    let dsn = try TestDatabase.freshDatabase(database, setupSQL: scanProblemsSchemaSQL)
    let admin = try TestDatabase.adminConnection(database: database)
    // The setup session reports its row counts when its backend exits, which can be after the client
    // has moved on; an ANALYZE before that would see those rows as changed after it.
    for _ in 0..<100 {
        let others = try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                                     [database]).records.first?.int("n") ?? 0
        if others == 0 { break }
        usleep(50_000)
    }
    try admin.execute(#"ANALYZE customers, products, orders, events, inventory, "Sales Dept"."Order ""Lines""""#)
    try admin.execute("UPDATE inventory SET on_hand = on_hand + 1")
    try admin.execute("INSERT INTO audit SELECT g, 'login' FROM generate_series(1, 3000) g")
    return dsn
}

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ScanCommandTests {
    static let database = "pgadvise_scan_cli"
    static let orderLookup = "SELECT id, status FROM orders WHERE customer_id = $1"
    static let latestEvents = "SELECT id, created_at FROM events WHERE kind = $1 ORDER BY created_at DESC LIMIT $2"

    /// The schema, an invalid index left by a failed CREATE INDEX CONCURRENTLY, and a workload.
    static let prepared: Result<String, Error> = Result {
        let dsn = try seedScanProblems(database)
        let admin = try TestDatabase.adminConnection(database: database)
        _ = try? admin.execute("CREATE UNIQUE INDEX CONCURRENTLY products_category_key ON products (category)")
        for i in 1...60 {
            try admin.query(orderLookup, [String(i * 13)])
            try admin.query(latestEvents, [i % 2 == 0 ? "view" : "click", "10"])
        }
        try admin.query("SELECT pg_stat_force_next_flush()")
        try admin.query("SELECT 1")
        return dsn
    }

    func scanJSON(_ extra: [String] = [], dsn: String? = nil) throws -> (CommandOutput, ScanReport?) {
        let target = try dsn ?? Self.prepared.get()
        let result = try runPGAdvise(["scan", target, "--format", "json"] + extra)
        let report = try? JSONDecoder().decode(ScanReport.self, from: Data(result.stdout.utf8))
        return (result, report)
    }

    @Test func reportsExactlyTheSeededProblems() throws {
        let (result, decoded) = try scanJSON()
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let report = try #require(decoded)
        // Every finding, the query and schema rules' included: a scan must not invent problems.
        let found = report.findings.map { "\($0.rule) \($0.index ?? $0.table ?? "")" }.sorted()
        #expect(found == [
            "invalid-index public.products_category_key",
            "missing-fk-index public.orders",
            "never-analyzed-table public.audit",
            "seq-scan-heavy-table public.events",
            "seq-scan-heavy-table public.orders",
            "seq-scan-large-table public.orders",
            "sort-without-index public.events",
            "stale-statistics public.inventory",
            "unfiltered-write inventory",
            "unused-index \"Sales Dept\".\"Größe idx\"",
            "unused-index public.customers_name_idx",
        ])
        let lookup = try #require(report.queries.first { $0.stats.normalized == Self.orderLookup })
        #expect(lookup.stats.calls == 60)
        #expect(lookup.plan?.root.allNodes.contains { $0.nodeType == "Seq Scan" && $0.relationName == "orders" } == true)
        let seqScan = try #require(report.findings.first { $0.rule == "seq-scan-large-table" })
        #expect(seqScan.fingerprint == lookup.stats.fingerprint)
        #expect(seqScan.calls == 60)
        #expect(seqScan.details?["shareOfTotalTime"] == String(format: "%.4f", lookup.shareOfTotalTime))
        #expect(lookup.shareOfTotalTime > 0 && lookup.shareOfTotalTime < 1)
        #expect(seqScan.message.hasPrefix("Sequential scan of public.orders (30,000 rows) keeps about 2 rows"))
        let sort = try #require(report.findings.first { $0.rule == "sort-without-index" })
        #expect(sort.message == "The plan sorts about 20,000 rows of public.events by events.created_at DESC; no index returns them in that order.")
        let unused = try #require(report.findings.first { $0.index == "\"Sales Dept\".\"Größe idx\"" })
        #expect(unused.fix == "DROP INDEX CONCURRENTLY \"Sales Dept\".\"Größe idx\";")
        #expect(report.findings.first { $0.rule == "stale-statistics" }?.fix == "ANALYZE public.inventory;")
        #expect(report.findings.first { $0.rule == "invalid-index" }?.severity == .error)
        #expect(report.schemaVersion == 1)
        #expect(report.statementStats.availability == .available)
        #expect(report.server.setting("work_mem") != nil)
        #expect(report.tableCount == 7)
        #expect(!report.target.contains("password"))
    }

    /// The published JSON contract: the keys other tools read, and findings with their usual fields.
    @Test func jsonHasTheDocumentedTopLevelKeys() throws {
        let result = try runPGAdvise(["scan", try Self.prepared.get(), "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys).isSuperset(of: ["schemaVersion", "server", "findings", "queries", "skipped", "statementStats"]))
        #expect(object["catalog"] == nil)
        let server = try #require(object["server"] as? [String: Any])
        #expect(server["versionNumber"] as? Int ?? 0 >= 150000)
        #expect((server["settings"] as? [[String: Any]])?.contains { $0["name"] as? String == "shared_buffers" } == true)
        let finding = try #require((object["findings"] as? [[String: Any]])?.first { $0["rule"] as? String == "seq-scan-large-table" })
        #expect(Set(finding.keys).isSuperset(of: ["rule", "severity", "message", "table", "fingerprint", "calls", "totalMs"]))
        let query = try #require((object["queries"] as? [[String: Any]])?.first)
        #expect(Set((query["stats"] as? [String: Any] ?? [:]).keys).isSuperset(of: ["fingerprint", "normalized", "calls", "totalMs", "meanMs"]))
    }

    @Test func textReportStartsWithWhatWasScanned() throws {
        let result = try runPGAdvise(["scan", try Self.prepared.get()])
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix("pgadvise scan of postgres@") == true)
        #expect(result.stdout.contains("[ERROR] invalid-index: Index public.products_category_key on public.products is invalid"))
        #expect(result.stdout.contains("Statements considered (the top 10 by total time, by calls and by mean time; heaviest first)"))
        #expect(lines.allSatisfy { $0.count <= 100 })
    }

    @Test func sarifNamesEveryRuleItReports() throws {
        let result = try runPGAdvise(["scan", try Self.prepared.get(), "--format", "sarif", "--no-plans"])
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let sarif = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let run = try #require((sarif["runs"] as? [[String: Any]])?.first)
        let ruleIds = Set((run["results"] as? [[String: Any]] ?? []).compactMap { $0["ruleId"] as? String })
        #expect(ruleIds.isSuperset(of: ["invalid-index", "unused-index", "never-analyzed-table", "stale-statistics"]))
    }

    @Test func failOnTurnsFindingsIntoExitCodeOne() throws {
        let result = try runPGAdvise(["scan", try Self.prepared.get(), "--fail-on", "error", "--no-plans"])
        #expect(result.exitCode == 1)
    }

    @Test func lockAndStatementTimeoutsExitThreeWithAnActionableMessage() throws {
        let dsn = try Self.prepared.get()
        let locker = try TestDatabase.adminConnection(database: Self.database)
        try locker.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? locker.execute("ROLLBACK") }
        let lock = try runPGAdvise(["scan", dsn, "--lock-timeout", "200"])
        #expect(lock.exitCode == 3)
        #expect(lock.stderr == "pgadvise: reading the catalog waited longer than the lock timeout (200 ms) for a lock held by "
                + "another session (ALTER TABLE, VACUUM FULL, REINDEX): retry later or raise --lock-timeout\n")
        let timeout = try runPGAdvise(["scan", dsn, "--lock-timeout", "60000", "--statement-timeout", "300"])
        #expect(timeout.exitCode == 3)
        #expect(timeout.stderr == "pgadvise: reading the catalog took longer than the statement timeout (300 ms): "
                + "raise --statement-timeout or scan when the server is less busy\n")
    }

    @Test func connectionFailuresExitThreeWithoutThePassword() throws {
        let result = try runPGAdvise(["scan", "host=127.0.0.1 port=1 user=nobody password=s3cret-value dbname=x connect_timeout=2"])
        #expect(result.exitCode == 3)
        #expect(result.stderr.hasPrefix("pgadvise: cannot connect:"))
        #expect(!result.stderr.contains("s3cret-value") && !result.stdout.contains("s3cret-value"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}

@Suite(.enabled(if: TestDatabase.isAvailable))
struct ScanWithoutStatementStatsTests {
    @Test func missingExtensionIsAFindingAndTheRestStillRuns() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_scan_cli_no_pgss", setupSQL: "CREATE TABLE t (id int PRIMARY KEY)")
        let result = try runPGAdvise(["scan", dsn, "--format", "json"])
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let report = try JSONDecoder().decode(ScanReport.self, from: Data(result.stdout.utf8))
        #expect(report.findings.map(\.rule) == ["pg-stat-statements-missing"])
        #expect(report.findings.first?.fix == "CREATE EXTENSION pg_stat_statements;")
        #expect(report.statementStats.availability == .notCreated)
        #expect(report.skipped.map(\.step) == ["pg_stat_statements"])
        #expect(report.tableCount == 1)
    }
}

@Suite(.enabled(if: TestDatabase.isAvailable))
struct ScanAsMonitoringRoleTests {
    @Test func pgMonitorIsEnoughAndTheReportSaysWhatWasHidden() throws {
        let dsn = try seedScanProblems("pgadvise_scan_cli_monitor")
        try TestDatabase.ensureMonitoringRole("pgadvise_scan_cli_monitor")
        let result = try runPGAdvise(["scan", dsn + " user=pgadvise_scan_cli_monitor", "--format", "json"])
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let report = try JSONDecoder().decode(ScanReport.self, from: Data(result.stdout.utf8))
        #expect(report.server.user == "pgadvise_scan_cli_monitor" && !report.server.isSuperuser)
        #expect(report.statementStats.availability == .available)
        #expect(report.skipped.first?.step.hasPrefix("column statistics of 7 table(s)") == true)
        #expect(report.findings.contains { $0.rule == "never-analyzed-table" && $0.table == "public.audit" })
        #expect(report.skipped.contains { $0.reason.contains("permission denied for table") && $0.reason.contains("GRANT SELECT") })
    }
}

@Suite(.enabled(if: TestDatabase.isAvailable))
struct ScanManyTablesTests {
    /// Round trips must not grow with the catalog: 400 tables cost the same statements as 2.
    @Test func roundTripsDoNotGrowWithTables() throws {
        func create(_ name: String, tables: Int) throws -> String {
            try TestDatabase.freshDatabase(name, setupSQL: """
                CREATE EXTENSION pg_stat_statements;
                DO $$ BEGIN
                  FOR i IN 1..\(tables) LOOP
                    EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, ref int, note text)', 'T ' || i);
                    EXECUTE format('CREATE INDEX %I ON %I (ref)', 'T ' || i || ' ref', 'T ' || i);
                  END LOOP;
                END $$;
                """)
        }
        let small = try create("pgadvise_scan_cli_two_tables", tables: 2)
        let large = try create("pgadvise_scan_cli_many_tables", tables: 400)
        let smallRun = try runPGAdvise(["scan", small, "--format", "json", "--no-plans"])
        let largeRun = try runPGAdvise(["scan", large, "--format", "json", "--no-plans"])
        let smallReport = try JSONDecoder().decode(ScanReport.self, from: Data(smallRun.stdout.utf8))
        let largeReport = try JSONDecoder().decode(ScanReport.self, from: Data(largeRun.stdout.utf8))
        #expect(smallReport.tableCount == 2 && largeReport.tableCount == 400)
        #expect(largeReport.indexCount == 800)
        #expect(largeReport.roundTrips == smallReport.roundTrips)
    }
}
