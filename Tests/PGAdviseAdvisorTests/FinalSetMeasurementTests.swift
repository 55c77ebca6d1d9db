@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseReport
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// `--measure` ends by building the whole recommended set in one rolled-back transaction and timing
/// every statement on its tables whose plan changes with it.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct FinalSetMeasurementTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE tickets (id int PRIMARY KEY, assignee int NOT NULL, queue int NOT NULL, subject text NOT NULL);
        INSERT INTO tickets SELECT i, i % 5000, i % 3000, 'subject ' || i FROM generate_series(1, 200000) i;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_final_set", schema: schema) }

    @Test func theChosenSetIsMeasuredTogetherOnEveryStatementWhosePlanChanges() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: false))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id, subject FROM tickets WHERE assignee = $1", calls: 2_000),
            statement("SELECT id, subject FROM tickets WHERE queue = $1", calls: 2_000),
            statement("SELECT count(*) FROM tickets", calls: 10),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(
            budgetBytes: 64 << 20, maxColumns: 1, measure: true, measureRuns: 3)).advise(workload)
        #expect(advice.recommendations.map(\.name).sorted() == ["tickets_assignee_idx", "tickets_queue_idx"])
        let set = try #require(advice.finalSet)
        #expect(set.indexes.sorted() == ["tickets_assignee_idx", "tickets_queue_idx"])
        // The count keeps its plan (a sequential scan is cheaper than any of the set), so it is not listed.
        #expect(set.statements.map(\.text).sorted() == ["SELECT id, subject FROM tickets WHERE assignee = $1",
                                                        "SELECT id, subject FROM tickets WHERE queue = $1"])
        #expect(set.statements.allSatisfy { $0.measured.afterMs < $0.measured.beforeMs && !$0.regression })
        #expect(set.statements.map { $0.indexesUsed.count } == [1, 1])
        #expect(set.afterMs < set.beforeMs)
        #expect(IndexAdviceRenderer.text(advice).contains("Measured together (2 indexes built in one rolled-back transaction): "
                                                          + "2 statements changed plan"))
        #expect(try connection.query("SELECT indexname FROM pg_indexes WHERE tablename = 'tickets'").rows.count == 1)
    }
}

/// What the final step withdraws: the indexes a plan that regressed with the set uses, nothing for
/// a plan that got faster or a regression whose plan uses none of the set.
@Suite struct FinalSetWithdrawalTests {
    static func measured(_ fingerprint: String, _ beforeMs: Double, _ afterMs: Double, using: [String]) -> SetStatementMeasurement {
        let m = StatementMeasurement(beforeMs: beforeMs, afterMs: afterMs, beforeBuffers: 100, afterBuffers: 100, runs: 5)
        return SetStatementMeasurement(fingerprint: fingerprint, text: "SELECT 1", calls: 10, measured: m, indexesUsed: using,
                                       regression: MeasurementVerdict.isRegression(m, thresholdMs: MeasurementVerdict.readRegressionMs))
    }

    @Test func theIndexesARegressedPlanUsesAreWithdrawn() {
        let set = SetMeasurement(indexes: ["a_idx", "b_idx"], statements: [
            Self.measured("q1", 100, 450, using: ["a_idx", "b_idx"]),
            Self.measured("q2", 100, 20, using: ["b_idx"]),
            Self.measured("q3", 10, 10.5, using: ["a_idx"]),
            Self.measured("q4", 100, 300, using: []),
        ], beforeMs: 3100, afterMs: 7800)
        let reasons = IndexAdvisor.setWithdrawals(set, runs: 5)
        #expect(reasons == [
            "a_idx": "measured together with the rest of the set, a plan that uses it was slower: q1 100.000 ms -> 450.000 ms "
                + "(median of 5 runs); withdrawn, and the rest of the set measured again without it",
            "b_idx": "measured together with the rest of the set, a plan that uses it was slower: q1 100.000 ms -> 450.000 ms "
                + "(median of 5 runs); withdrawn, and the rest of the set measured again without it",
        ])
    }

    @Test func withinNoiseNothingIsWithdrawn() {
        let set = SetMeasurement(indexes: ["a_idx"], statements: [Self.measured("q1", 0.2, 0.24, using: ["a_idx"])],
                                 beforeMs: 2, afterMs: 2.4)
        #expect(IndexAdvisor.setWithdrawals(set, runs: 5).isEmpty)
    }
}
