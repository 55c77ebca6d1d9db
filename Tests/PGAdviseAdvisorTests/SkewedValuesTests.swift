import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Parameters on skewed columns, costed under custom plans for a frequent and a rare value too.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct SkewedValuesTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE jobs (id int PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);
        INSERT INTO jobs SELECT i, CASE WHEN i % 1000 = 0 THEN 'failed' WHEN i % 50 = 0 THEN 'pending' ELSE 'done' END,
            timestamptz '2026-01-01' + i * interval '1 minute', 'job ' || i FROM generate_series(1, 300000) i;
        CREATE TABLE purchases (id int PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL, total numeric NOT NULL);
        INSERT INTO purchases SELECT i, CASE WHEN i % 10 < 3 THEN i % 10 ELSE 1000 + i % 20000 END,
            timestamptz '2026-01-01' + i * interval '1 minute', i % 500 FROM generate_series(1, 300000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_skewed", schema: schema) }

    func advise(_ text: String) throws -> IndexAdvice {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [statement(text, calls: 10_000)])
        return try IndexAdvisor(connection: connection, catalog: catalog,
                                options: IndexAdvisorOptions(budgetBytes: 256 << 20, maxColumns: 2)).advise(workload)
    }

    /// 'done' is 98% of the rows, 'failed' 0.1%: for the rare status an index on created_at alone
    /// walks about a thousand entries per row returned.
    @Test func aRareStatusGetsTheStatusAndOrderIndex() throws {
        let advice = try advise("SELECT * FROM jobs WHERE status = $1 ORDER BY created_at LIMIT 20")
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY jobs_status_created_at_idx ON public.jobs (status, created_at)"])
        let plans = advice.recommendations.first?.statements.compactMap(\.customPlan) ?? []
        #expect(plans.contains { $0.hasPrefix("$1 = 'done' (frequent: ") })
        #expect(plans.contains { $0.hasPrefix("$1 = 'failed' (rare: ") })
        #expect(advice.notes.contains { $0.hasPrefix("1 statement with a parameter on a skewed column was also costed under custom plans") })
    }

    /// Three accounts hold 30% of the rows (30,000 each); the other 20,000 have about ten.
    @Test func largeAccountsGetTheCustomerAndOrderIndex() throws {
        let advice = try advise("SELECT * FROM purchases WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20")
        #expect(advice.recommendations.map(\.ddl) == [
            "CREATE INDEX CONCURRENTLY purchases_customer_id_created_at_idx ON public.purchases (customer_id, created_at DESC)",
        ])
        let plans = advice.recommendations.first?.statements.compactMap(\.customPlan) ?? []
        #expect(plans.contains { $0.contains("(frequent: ") })
    }
}
