import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// TPC-H's statements as pg_stat_statements stores them (literals as `$n`) that PostgreSQL cannot
/// prepare are costed once their parameters are typed from their context.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct UnpreparableStatementsTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE orders (o_orderkey int PRIMARY KEY, o_orderdate date NOT NULL, o_orderpriority char(15) NOT NULL);
        INSERT INTO orders SELECT i, date '1992-01-01' + i % 2400, (ARRAY['1-URGENT','2-HIGH','3-MEDIUM'])[1 + i % 3]
            FROM generate_series(1, 100000) i;
        CREATE TABLE lineitem (l_orderkey int NOT NULL, l_linenumber int NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
            l_discount numeric(15,2) NOT NULL, l_shipmode char(10) NOT NULL, l_shipdate date NOT NULL);
        INSERT INTO lineitem SELECT i / 4 + 1, i % 4, i % 9000, (i % 11) / 100.0, (ARRAY['MAIL','SHIP','AIR'])[1 + i % 3],
            date '1992-01-01' + i % 2500 FROM generate_series(0, 399999) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_unpreparable", schema: schema) }

    @Test func extractFieldsUnknownArithmeticAndCaseBranchesArePlannedAfterInference() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let yearly = "select extract($1 from o_orderdate) as o_year, sum(l_extendedprice * ($2 - l_discount)) from orders, lineitem "
            + "where o_orderkey = l_orderkey and l_orderkey = $3 group by o_year"
        let shipmodes = "select l_shipmode, sum(case when o_orderpriority = $1 then $2 else $3 end) as high_line_count "
            + "from orders, lineitem where o_orderkey = l_orderkey and l_shipdate >= $4::date and l_shipdate < $5::date "
            + "group by l_shipmode"
        let workload = Workload(source: .pgStatStatements, queries: [statement(yearly, calls: 100), statement(shipmodes, calls: 10)])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(budgetBytes: 256 << 20, maxColumns: 2)).advise(workload)
        #expect(advice.skipped.isEmpty)
        #expect(advice.statementsAnalyzed == 2)
        let inferred = advice.notes.filter { $0.contains("typed from their context") }
        #expect(inferred.count == 2)
        #expect(inferred.contains { $0.hasSuffix(": $1 is an extract() field, costed as 'year', $2 as numeric, $3 as integer.") })
        #expect(inferred.contains { $0.hasSuffix(": $1 as bpchar, $2 as numeric, $3 as numeric.") })
        // Planned, so served: the lookup by l_orderkey gets its index.
        #expect(advice.recommendations.contains { $0.ddl.hasPrefix("CREATE INDEX CONCURRENTLY lineitem_l_orderkey") })
    }
}
