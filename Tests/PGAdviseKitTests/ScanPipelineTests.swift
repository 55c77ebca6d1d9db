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
    }
}
