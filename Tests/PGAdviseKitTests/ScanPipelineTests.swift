import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The scan pipeline called as a library, without the binary.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct ScanPipelineTests {
    @Test func scansADatabaseWithoutTheBinary() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_kit_scan", setupSQL: """
            CREATE TABLE parents (id int PRIMARY KEY);
            CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id));
            """)
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        var pipeline = ScanPipeline(connection: connection, top: 5, planStatements: false)
        let report = try pipeline.run()
        #expect(report.server.database == "pgadvise_kit_scan")
        #expect(report.tableCount == 2)
        let foreignKey = report.findings.filter { $0.rule == "missing-fk-index" }
        #expect(foreignKey.map(\.table) == ["public.children"])
        #expect(foreignKey.first?.fix == "CREATE INDEX CONCURRENTLY ON public.children (parent_id);")
        // Index advice comes with every scan; without HypoPG it says how to get it.
        let advice = try #require(report.recommendations)
        #expect(!advice.hypopg)
        #expect(advice.notes.contains { $0.hasPrefix("HypoPG is not installed, so no index could be costed") })
        // The catalog is judged, then left out of the report unless asked for.
        #expect(report.catalog == nil)
        var withCatalog = ScanPipeline(connection: connection, top: 5, planStatements: false, includeCatalog: true)
        #expect(try withCatalog.run().catalog?.tables.map(\.name.description).sorted() == ["public.children", "public.parents"])
    }
}

/// `scan --analyze`: the heaviest read-only statement runs under EXPLAIN ANALYZE with a value from
/// pg_stats, and its plan insight carries the statement's weight.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct ScanAnalyzeTests {
    static let lookup = "SELECT id FROM readings WHERE sensor = $1"

    @Test func theHeaviestStatementsPlanInsightsJoinTheScan() throws {
        let dsn = try TestDatabase.freshDatabase("pgadvise_kit_scan_analyze", setupSQL: """
            CREATE EXTENSION pg_stat_statements;
            CREATE TABLE readings (id bigint PRIMARY KEY, sensor int NOT NULL, value float8 NOT NULL)
              WITH (autovacuum_enabled = off);
            INSERT INTO readings SELECT g, g % 1000, random() FROM generate_series(1, 200000) g;
            ANALYZE readings;
            """)
        let admin = try TestDatabase.adminConnection(database: "pgadvise_kit_scan_analyze")
        // This database only: other suites run their workloads on the same server at the same time.
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        for sensor in 1...20 { try admin.query(Self.lookup, [String(sensor)]) }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        var plain = ScanPipeline(connection: connection, top: 5, planStatements: false)
        #expect(try plain.run().findings.allSatisfy { $0.rule != "filter-removes-most-rows" })

        var pipeline = ScanPipeline(connection: connection, top: 5, planStatements: false, analyzeCount: 3)
        let report = try pipeline.run()
        let statement = try #require(report.queries.first { $0.stats.normalized == Self.lookup }?.stats.fingerprint)
        let insight = report.findings.filter { $0.rule == "filter-removes-most-rows" }
        #expect(insight.count == 1)
        #expect(insight.first?.fingerprint == statement)
        #expect(insight.first?.calls == 20)
        #expect(insight.first?.fix == "CREATE INDEX CONCURRENTLY ON public.readings (sensor);")
        // The statement ran in a transaction that was rolled back: nothing is left open.
        let open = try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in%'",
                                   ["pgadvise_kit_scan_analyze"]).records.first?.int("n")
        #expect(open == 0)
    }
}
