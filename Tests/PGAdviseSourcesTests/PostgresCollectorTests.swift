import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A small schema with one of each catalog feature the collectors must read exactly: composite and
/// cross-schema foreign keys, partial, expression, descending and covering indexes, names that need
/// quoting, an invalid index and a table the monitoring role may not read.
let collectorSchemaSQL = #"""
    CREATE EXTENSION pg_stat_statements;
    CREATE SCHEMA "Sales Dept";
    CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, region text,
                            created_at timestamptz DEFAULT now());
    CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                         status text, total numeric(10,2), placed_at timestamptz);
    CREATE INDEX orders_open_status ON orders (status) WHERE status <> 'done';
    CREATE INDEX orders_lower_status_placed ON orders (lower(status), placed_at DESC) INCLUDE (total);
    CREATE TABLE "Sales Dept"."Order ""Lines""" ("select" int, "Größe" text, order_id bigint NOT NULL,
                                                  line int NOT NULL, PRIMARY KEY (order_id, line),
                                                  FOREIGN KEY (order_id) REFERENCES orders (id));
    CREATE TABLE shipments (id int PRIMARY KEY, order_id bigint, line int,
                            FOREIGN KEY (order_id, line) REFERENCES "Sales Dept"."Order ""Lines""" (order_id, line))
      WITH (fillfactor = 90, autovacuum_enabled = off);
    CREATE INDEX "Shipments By Line" ON shipments (line);
    INSERT INTO customers SELECT g, 'c' || g || '@example.com', CASE WHEN g % 10 = 0 THEN 'eu' ELSE 'us' END
      FROM generate_series(1, 2000) g;
    INSERT INTO orders (customer_id, status, total, placed_at)
      SELECT 1 + g % 2000, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END, g % 100, now() - g * interval '1 minute'
      FROM generate_series(1, 5000) g;
    ANALYZE;
    """#

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct PostgresCollectorTests {
    static let database = "pgadvise_scan_collectors"
    static let prepared: Result<String, Error> = Result { try TestDatabase.freshDatabase(database, setupSQL: collectorSchemaSQL) }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: try Self.prepared.get())
    }

    @Test func catalogHasEveryTableColumnIndexAndConstraint() throws {
        let catalog = try CatalogCollector(connection: connect()).collect()
        #expect(catalog.tables.map(\.name.description) == ["\"Sales Dept\".\"Order \"\"Lines\"\"\"", "public.customers",
                                                          "public.orders", "public.shipments"])
        let customers = try #require(catalog.table(QualifiedName("customers")))
        #expect(customers.columns.map(\.name) == ["id", "email", "region", "created_at"])
        #expect(customers.columns.map(\.type) == ["bigint", "text", "text", "timestamp with time zone"])
        #expect(customers.column("email")?.notNull == true)
        #expect(customers.column("created_at")?.defaultExpression == "now()")
        #expect(customers.primaryKey == ["id"])
        #expect(customers.uniqueConstraints == [["email"]])
        #expect(customers.rowEstimate == 2000)
        #expect(customers.storageParameters == [:])
        #expect(customers.indexes.map(\.name) == ["customers_email_key", "customers_pkey"])
        #expect(customers.indexes.first?.constraintName == "customers_email_key")

        let orders = try #require(catalog.table(QualifiedName(schema: "public", "orders")))
        #expect(orders.foreignKeys == [ForeignKey(name: "orders_customer_id_fkey", columns: ["customer_id"],
                                                  referencedTable: QualifiedName(schema: "public", "customers"),
                                                  referencedColumns: ["id"])])
        let partial = try #require(orders.indexes.first { $0.name == "orders_open_status" })
        #expect(partial.keys == [Index.Key(column: "status")])
        #expect(partial.predicate == "status <> 'done'::text")
        #expect(partial.constraintName == nil && !partial.unique && partial.valid)
        let expression = try #require(orders.indexes.first { $0.name == "orders_lower_status_placed" })
        #expect(expression.keys == [Index.Key(expression: "lower(status)"), Index.Key(column: "placed_at", descending: true)])
        #expect(expression.include == ["total"])
        #expect(expression.definition == "CREATE INDEX orders_lower_status_placed ON public.orders USING btree (lower(status), placed_at DESC) INCLUDE (total)")
        #expect((expression.sizeBytes ?? 0) > 0)

        let lines = try #require(catalog.table(QualifiedName(schema: "Sales Dept", "Order \"Lines\"")))
        #expect(lines.columns.map(\.name) == ["select", "Größe", "order_id", "line"])
        #expect(lines.primaryKey == ["order_id", "line"])
        let shipments = try #require(catalog.table(QualifiedName("shipments")))
        #expect(shipments.foreignKeys.first?.columns == ["order_id", "line"])
        #expect(shipments.foreignKeys.first?.referencedTable == QualifiedName(schema: "Sales Dept", "Order \"Lines\""))
        #expect(shipments.foreignKeys.first?.referencedColumns == ["order_id", "line"])
        #expect(shipments.indexes.map(\.name).contains("Shipments By Line"))
        #expect(shipments.storageParameters == ["fillfactor": "90", "autovacuum_enabled": "off"])
        #expect(catalog.extensions["pg_stat_statements"] != nil)
        #expect(catalog.availableExtensions["hypopg"] != nil)
        #expect(catalog.searchPath == ["public"])
    }

    @Test func columnStatisticsComeFromPgStats() throws {
        let catalog = try CatalogCollector(connection: connect()).collect()
        let region = try #require(catalog.table(QualifiedName("customers"))?.column("region")?.stats)
        #expect(region.mostCommonValues == ["us", "eu"])
        #expect(region.mostCommonFrequencies == [0.9, 0.1])
        #expect(region.nDistinct == 2)
        #expect(region.nullFraction == 0)
        let id = try #require(catalog.table(QualifiedName("customers"))?.column("id")?.stats)
        #expect(id.nDistinct == -1)
        #expect(id.correlation == 1)
    }

    @Test func usageCountsScansAndWrites() throws {
        _ = try Self.prepared.get()
        let admin = try TestDatabase.adminConnection(database: Self.database)
        let before = try CatalogCollector(connection: connect()).collect().table(QualifiedName("customers"))?.usage
        try admin.execute("SELECT count(*) FROM customers")
        try admin.execute("SELECT pg_stat_force_next_flush()")
        let after = try CatalogCollector(connection: connect()).collect().table(QualifiedName("customers"))?.usage
        #expect(after?.inserts == 2000)
        #expect((after?.seqScans ?? 0) == (before?.seqScans ?? 0) + 1)
        #expect(after?.lastAnalyze != nil)
    }

    @Test func statementStatisticsAreThisDatabasesOnly() throws {
        _ = try Self.prepared.get()
        let admin = try TestDatabase.adminConnection(database: Self.database)
        for id in 1...7 { try admin.query("SELECT email FROM customers WHERE id = $1", [String(id)]) }
        let collection = try PgStatStatementsCollector(connection: connect()).collect(limit: 50)
        #expect(collection.status.availability == .available)
        let lookup = try #require(collection.workload.queries.first { $0.normalized == "SELECT email FROM customers WHERE id = $1" })
        #expect(lookup.calls == 7)
        #expect(lookup.rows == 7)
        #expect(lookup.fingerprint.count == 16 && lookup.parsed)
        #expect(lookup.queryId != nil)
        #expect(collection.status.totalCalls >= 7)
        #expect(collection.status.statementCount >= collection.workload.queries.count)
        // Statements of other databases (the server is shared by every suite) never appear.
        let other = try TestDatabase.adminConnection()
        try other.query("SELECT 'only in postgres' AS marker_for_scan_tests")
        let again = try PgStatStatementsCollector(connection: connect()).collect(limit: 500)
        #expect(!again.workload.queries.contains { $0.normalized.contains("marker_for_scan_tests") })
    }

    @Test func genericPlansForStatementsWithParameters() throws {
        let connection = try connect()
        let lookup = QueryStats(fingerprint: "a", normalized: "SELECT * FROM orders WHERE customer_id = $1 ORDER BY placed_at LIMIT $2",
                                calls: 1, totalMs: 1)
        let utility = QueryStats(fingerprint: "b", normalized: "VACUUM orders", calls: 1, totalMs: 1)
        let missing = QueryStats(fingerprint: "c", normalized: "SELECT * FROM no_such_table WHERE id = $1", calls: 1, totalMs: 1)
        let quoted = QueryStats(fingerprint: "d", normalized: "SELECT \"Größe\" FROM \"Sales Dept\".\"Order \"\"Lines\"\"\" WHERE \"select\" = $1",
                                calls: 1, totalMs: 1)
        // As pg_stat_statements stores `placed_at > timestamptz '2024-01-01' - interval '7' day`.
        let typed = QueryStats(fingerprint: "e", normalized: "SELECT id FROM orders WHERE placed_at > timestamptz $1 - interval $2 day",
                               calls: 1, totalMs: 1)
        let outcomes = try GenericPlanCollector(connection: connection).plans(for: [lookup, utility, missing, quoted, typed])
        let plan = try #require(outcomes["a"]?.plan)
        #expect(plan.root.nodeType == "Limit")
        #expect(plan.root.allNodes.contains { $0.relationName == "orders" && $0.schema == "public" })
        #expect(outcomes["b"]?.skipReason == .utilityStatement(keyword: "VACUUM"))
        #expect(outcomes["b"]?.skipReason?.message == "utility statement (VACUUM): nothing to plan")
        #expect(outcomes["c"]?.skipReason?.message.contains("relation \"no_such_table\" does not exist") == true)
        #expect(outcomes["d"]?.plan?.root.relationName == "Order \"Lines\"")
        #expect(outcomes["e"]?.plan?.root.allNodes.contains { $0.relationName == "orders" } == true, "\(String(describing: outcomes["e"]?.skipReason))")
        // Nothing is left behind in the session, and the plan cache mode is back to what it was.
        #expect(try connection.query("SELECT count(*) AS n FROM pg_prepared_statements").records.first?.int("n") == 0)
        #expect(try connection.query("SELECT current_setting('plan_cache_mode') AS m").records.first?["m"] == "auto")
    }

    @Test func serverInfoSettingsAndDatabaseStatistics() throws {
        let connection = try connect()
        let collector = ServerInfoCollector(connection: connection)
        let info = try collector.collect()
        #expect(info.versionNumber / 10000 == 15)
        #expect(info.database == Self.database)
        #expect(info.isSuperuser && info.canReadAllStats)
        #expect(info.preloadedLibraries == ["pg_stat_statements", "auto_explain", "pg_qualstats"])
        #expect(info.setting("shared_buffers")?.display == "256MB")
        #expect(info.setting("max_connections")?.setting == "200")
        #expect(info.extensions["plpgsql"] != nil)
        let stats = try #require(try collector.databaseStats())
        #expect(stats.commits > 0 && (stats.sizeBytes ?? 0) > 0)
        let other = try connect()
        try other.execute("BEGIN; SELECT 1")
        let activity = try collector.activity()
        #expect((activity.sessionsByState["idle in transaction"] ?? 0) >= 1)
        #expect(activity.longestIdleInTransactionMs != nil)
    }

    @Test func catalogReusesTheExtensionsTheServerInfoRead() throws {
        let connection = try connect()
        let server = try ServerInfoCollector(connection: connection).collect()
        let start = connection.roundTrips
        let reading = try CatalogCollector(connection: connection).collect()
        let readingTrips = connection.roundTrips - start
        let reusing = try CatalogCollector(connection: connection, server: server).collect()
        let reusingTrips = connection.roundTrips - start - readingTrips
        #expect(reusingTrips == readingTrips - 1)
        #expect(reusing.extensions == reading.extensions)
        #expect(reusing.extensions["pg_stat_statements"] != nil)
        #expect(reusing.availableExtensions == reading.availableExtensions)
    }

    @Test func readOnlySessionsRefuseWrites() throws {
        let connection = try connect()
        #expect(throws: PostgresError.self) { try connection.execute("CREATE TABLE scan_should_fail (id int)") }
        #expect(connection.roundTrips >= 2)
    }
}

/// A database where pg_stat_statements was never created: the scan must say how to enable it.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct PostgresWithoutStatementStatsTests {
    @Test func missingExtensionSaysWhatToRun() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_scan_no_pgss", setupSQL: "CREATE TABLE t (id int)")
        let collection = try PgStatStatementsCollector(connection: PostgresConnection(conninfo: dsn)).collect()
        #expect(collection.status.availability == .notCreated)
        #expect(collection.status.remedy == "run CREATE EXTENSION pg_stat_statements; in pgadvise_scan_no_pgss (as a superuser or the database owner)")
        #expect(collection.workload.queries.isEmpty)
    }
}

/// pg_monitor alone, as a monitoring tool would get in production: no superuser, no SELECT on tables.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct PostgresMonitoringRoleTests {
    @Test func monitoringRoleReadsStatisticsAndSaysWhatItCouldNotSee() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_scan_monitor", setupSQL: collectorSchemaSQL)
        let admin = try TestDatabase.adminConnection(database: "pgadvise_scan_monitor")
        try TestDatabase.ensureMonitoringRole("pgadvise_scan_monitor_role")
        try admin.query("SELECT email FROM customers WHERE id = $1", ["3"])
        let monitor = try PostgresConnection(conninfo: dsn + " user=pgadvise_scan_monitor_role")
        let info = try ServerInfoCollector(connection: monitor).collect()
        #expect(!info.isSuperuser && info.canReadAllStats)
        let collection = try CatalogCollector(connection: monitor).collectWithNotes()
        #expect(collection.catalog.tables.count == 4)
        #expect(collection.catalog.table(QualifiedName("orders"))?.indexes.count == 3)
        #expect(collection.catalog.table(QualifiedName("customers"))?.column("region")?.stats == nil)
        #expect(collection.skipped.first?.step.hasPrefix("column statistics of 4 table(s)") == true)
        let statements = try PgStatStatementsCollector(connection: monitor).collect()
        #expect(statements.status.availability == .available)
        #expect(statements.status.hiddenStatements == 0)
        #expect(statements.workload.queries.contains { $0.normalized == "SELECT email FROM customers WHERE id = $1" })
    }
}
