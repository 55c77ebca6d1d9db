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
