import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// An index-only aggregate on a repeated key: `(product_id, quantity)` deduplicates its repeated
/// pairs, `(product_id) INCLUDE (quantity)` cannot, and serves the same plan at several times the size.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct DeduplicatedKeyFormTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, product_id int NOT NULL,
            quantity int NOT NULL, note text NOT NULL);
        INSERT INTO order_items SELECT i, i / 4, i % 2000, 1 + i % 5, 'item ' || i FROM generate_series(1, 400000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_dedup", schema: schema) }

    @Test func theRepeatedKeyAggregateGetsTheDeduplicatedKeyForm() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT sum(quantity) FROM order_items WHERE product_id = $1", calls: 5_000),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(budgetBytes: 256 << 20, maxColumns: 2)).advise(workload)
        #expect(advice.recommendations.map(\.ddl) == [
            "CREATE INDEX CONCURRENTLY order_items_product_id_quantity_idx ON public.order_items (product_id, quantity)",
        ])
        // 10,000 distinct pairs over 400,000 rows: about 40 heap pointers per posting tuple.
        let size = try #require(advice.recommendations.first?.sizeBytes)
        #expect(size < 4 << 20)
    }
}
