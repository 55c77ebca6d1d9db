import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The search weighs every leading prefix of a candidate; a prefix the primary key already leads
/// with is no index to build. `(grp)` beside `PRIMARY KEY (grp, seq)` is a third of the size (its
/// repeated keys deduplicate), so an index-only count over it is estimated cheaper, yet it serves
/// no lookup the key does not.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ExistingPrefixTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE readings (grp int NOT NULL, seq int NOT NULL, qty int NOT NULL, PRIMARY KEY (grp, seq));
        INSERT INTO readings SELECT i / 50, i % 50, i % 7 FROM generate_series(1, 500000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_existing_prefix", schema: schema) }

    @Test func aPrefixThePrimaryKeyLeadsWithIsNeverRecommended() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: true))
        let catalog = try CatalogCollector(connection: connection).collect()
        let advice = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(
            budgetBytes: 64 << 20, maxColumns: 2)).advise(Workload(source: .pgStatStatements, queries: [
                statement("SELECT count(*) FROM readings WHERE grp BETWEEN $1 AND $2", calls: 50_000),
                statement("SELECT sum(qty) FROM readings WHERE grp BETWEEN $1 AND $2", calls: 100),
            ]))
        let definitions = advice.recommendations.map(\.ddl) + advice.rejected.map(\.definition)
        #expect(!definitions.contains { $0.hasSuffix(" ON public.readings (grp)") }, "\(definitions)")
        #expect(advice.recommendations.allSatisfy { $0.columns.first == "grp" && ($0.columns.count > 1 || !$0.include.isEmpty) },
                "\(advice.recommendations.map(\.ddl))")
    }
}
