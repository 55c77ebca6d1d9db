import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseReport
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A correlated subquery that scans a large table once per outer row runs far longer than any
/// statement timeout without its index (TPC-H's Q17 and Q20 run for hours at SF1). `--measure` must
/// still show the gain: the run the timeout cancels counts as the timeout, a lower bound.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexMeasureCutOffTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE parts (id int PRIMARY KEY, qty int NOT NULL);
        INSERT INTO parts SELECT i, i % 50 FROM generate_series(1, 3000) i;
        CREATE TABLE items (id int PRIMARY KEY, part int NOT NULL, qty int NOT NULL);
        INSERT INTO items SELECT i, 1 + i % 3000, i % 97 FROM generate_series(1, 300000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_cutoff", schema: schema) }

    @Test func aBeforeRunCutOffByTheTimeoutCountsAsTheTimeout() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 1_500, readOnly: false))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT count(*) FROM parts p WHERE p.qty < (SELECT avg(i.qty) FROM items i WHERE i.part = p.id)", calls: 50),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(maxColumns: 1, measure: true, measureRuns: 3)).advise(workload)

        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY items_part_incl_idx ON public.items (part) INCLUDE (qty)"])
        let measured = try #require(advice.recommendations.first?.statements.first?.measured)
        #expect(measured.beforeCutOff == true)
        #expect(measured.beforeMs == 1_500)
        #expect(measured.afterMs < 1_500 * 0.9)
        #expect(advice.recommendations.first?.verified == true)
        #expect(advice.recommendations.first?.notes.contains { $0.contains("ran into the statement timeout without the index") } == true)
        #expect(advice.withdrawn.isEmpty)
        #expect(IndexAdviceRenderer.text(advice).contains(", over \(formatDuration(ms: 1_500)) -> "))
        #expect(try connection.query("SELECT count(*) AS n FROM pg_indexes WHERE tablename = 'items'").records.first?.int("n") == 1)
    }

    /// `--measure-timeout` caps the timed runs only: the session's longer limit still lets the index build.
    @Test func theMeasureTimeoutCapsTheRunsAndNotTheBuild() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 60_000, readOnly: false))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT count(*) FROM parts p WHERE p.qty < (SELECT avg(i.qty) FROM items i WHERE i.part = p.id)", calls: 50),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(
            maxColumns: 1, measure: true, measureRuns: 1, measureTimeoutMs: 400)).advise(workload)
        let measured = try #require(advice.recommendations.first?.statements.first?.measured)
        #expect(measured.beforeCutOff == true)
        #expect(measured.beforeMs == 400)
        #expect(measured.afterCutOff == nil)
        #expect(measured.afterMs < 400 * 0.9)
        #expect(try connection.query("SELECT current_setting('statement_timeout') AS t").records.first?["t"] == "1min")
    }
}
