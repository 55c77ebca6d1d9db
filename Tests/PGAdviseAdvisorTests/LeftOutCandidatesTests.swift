import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// When nothing is recommended the advice says which gate stopped the best candidates, with figures.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct LeftOutCandidatesTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE meter_readings (id bigint PRIMARY KEY, meter int NOT NULL, value int NOT NULL);
        INSERT INTO meter_readings SELECT i, i % 50000, i % 1000 FROM generate_series(1, 200000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_left_out", schema: schema) }

    @Test func aSteadyWriteRateThatOutweighsTheReadsIsTheReasonGiven() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        var insert = statement("INSERT INTO meter_readings (id, meter, value) VALUES ($1, $2, $3)", calls: 2_000_000)
        insert.rows = 2_000_000
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT value FROM meter_readings WHERE meter = $1", calls: 10), insert,
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(budgetBytes: 64 << 20, maxColumns: 1)).advise(workload)
        #expect(advice.recommendations.isEmpty)
        #expect(advice.bulkLoads.isEmpty)
        let best = try #require(advice.rejected.first)
        #expect(best.definition == "CREATE INDEX ON public.meter_readings (meter) INCLUDE (value)")
        #expect(best.gate == "write penalty")
        #expect(best.writePenalty == 2_000_000)
        #expect(best.writePenaltySource == "from the workload's DML: 1 statement writing 2,000,000 rows")
        #expect((best.estimatedSaving ?? 0) > 10_000 && (best.estimatedSaving ?? 0) < 2_000_000)
        #expect(best.reason.hasPrefix("saves "))
        #expect(best.reason.hasSuffix("but adds 2,000,000 of index maintenance (from the workload's DML: 1 statement writing 2,000,000 rows)"))
    }

    @Test func anIndexOverTheBudgetSaysWhatItNeedsAndWhatIsLeft() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT value FROM meter_readings WHERE meter = $1", calls: 1_000),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(budgetBytes: 1 << 20, maxColumns: 1)).advise(workload)
        #expect(advice.recommendations.isEmpty)
        let best = try #require(advice.rejected.first)
        #expect(best.definition == "CREATE INDEX ON public.meter_readings (meter)")
        #expect(best.gate == "budget")
        #expect(best.budgetLeftBytes == 1 << 20)
        #expect(best.reason.hasSuffix("and 1.0 MB of the budget is left"))
    }
}
