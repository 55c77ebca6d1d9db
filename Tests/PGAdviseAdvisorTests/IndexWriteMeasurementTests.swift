import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// `--measure` on the writes an index adds work to. `ledger` leaves half of each page free
/// (fillfactor 50), so an UPDATE that sets no indexed column is HOT; each of its 100 batches holds
/// 1,000 rows spread over the whole table. An index on `account` makes `UPDATE ledger SET account =
/// $1 WHERE batch = $2` lose HOT: every row it updates then gets a new entry in all three indexes.
/// The workload comes as a log would give it: calls without rows, so the estimate charges one row
/// per call and only measurement finds the thousand.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexWriteMeasurementTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE ledger (id int PRIMARY KEY, batch int NOT NULL, account int NOT NULL, amount int NOT NULL)
          WITH (fillfactor = 50);
        INSERT INTO ledger SELECT i, i % 100, i % 5000, i % 977 FROM generate_series(1, 100000) i;
        CREATE INDEX ledger_batch_idx ON ledger (batch);
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_write_measure", schema: schema) }

    static let lookup = "SELECT id, amount FROM ledger WHERE account = $1"
    static let rebalance = "UPDATE ledger SET account = $1 WHERE batch = $2"
    /// Sets a column no index mentions: stays HOT, so the index adds it nothing to measure.
    static let annotate = "UPDATE ledger SET amount = $1 WHERE batch = $2"

    func advise(lookups: Int, rebalances: Int) throws -> IndexAdvice {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: false))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .logs, queries: [
            statement(Self.lookup, calls: lookups),
            statement(Self.rebalance, calls: rebalances),
            statement(Self.annotate, calls: rebalances),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(maxColumns: 1, measure: true, measureRuns: 3)).advise(workload)
        if traceIndexTests { print(String(decoding: try JSONEncoder().encode(advice), as: UTF8.self)) }
        return advice
    }

    @Test func aWriteThatLosesHOTIsMeasuredAndWeighedAgainstTheReadGain() throws {
        let advice = try advise(lookups: 100_000, rebalances: 1)
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY ledger_account_idx ON public.ledger (account)"])
        let rec = try #require(advice.recommendations.first)
        let overhead = try #require(rec.writeOverhead)
        #expect(overhead.statements.map(\.text) == [Self.rebalance])
        #expect(overhead.losingHot.map(\.indexesMaintained) == [3])
        let write = try #require(overhead.statements.first?.measured)
        #expect(write.runs == 3)
        #expect(write.afterMs > write.beforeMs * 1.1, "\(write)")
        let measured = try #require(rec.measured)
        #expect(measured.writeRegressions == [try #require(overhead.statements.first?.fingerprint)])
        let saved = try #require(measured.readMsSaved), added = try #require(measured.writeMsAdded)
        #expect(added > 0)
        #expect(saved > added)
    }

    @Test func anIndexWhoseMeasuredWriteCostExceedsItsReadGainIsWithdrawn() throws {
        let advice = try advise(lookups: 1, rebalances: 40)
        #expect(advice.recommendations.isEmpty)
        #expect(advice.withdrawn.map(\.recommendation.name) == ["ledger_account_idx"])
        let withdrawn = try #require(advice.withdrawn.first)
        #expect(withdrawn.reason.hasPrefix("its write cost exceeds its read gain"), "\(withdrawn.reason)")
        let measured = try #require(withdrawn.recommendation.measured)
        let saved = try #require(measured.readMsSaved), added = try #require(measured.writeMsAdded)
        #expect(added > saved)
        // The read itself got faster: only the writes withdrew it.
        #expect(measured.afterMs < measured.beforeMs * 0.9)
        #expect(withdrawn.recommendation.writeOverhead?.losingHot.map(\.text) == [Self.rebalance])
    }
}

/// The partial index the seeded `orders` needs (`WHERE status = 'pending'`) against the workload's
/// UPDATEs: the one that sets `status` loses HOT with it, the one that sets `note` stays HOT.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexHotLossIntegrationTests {
    static let shipping = "UPDATE orders SET status = $1 WHERE id = $2"
    static let annotating = "UPDATE orders SET note = $1 WHERE id = $2"

    @Test func theUpdateOfTheStatusLosesHOTWithThePartialIndexAndTheOtherStaysHOT() throws {
        let dsn = try IndexAdvisorIntegrationTests.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .logs, queries: [
            statement("SELECT * FROM orders WHERE status = $1 ORDER BY created_at LIMIT 50", calls: 5000,
                      sample: "SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50"),
            statement(Self.shipping, calls: 1000),
            statement(Self.annotating, calls: 3000),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(budgetBytes: 64 << 20))
            .advise(workload)
        #expect(advice.recommendations.map(\.ddl)
                == ["CREATE INDEX CONCURRENTLY orders_created_at_partial_idx ON public.orders (created_at) WHERE status = 'pending'"])
        let overhead = try #require(advice.recommendations.first?.writeOverhead)
        #expect(overhead.statements.map(\.text) == [Self.shipping])
        #expect(overhead.losingHot.map(\.text) == [Self.shipping])
        // The primary key, orders_customer_id_idx and the new index.
        #expect(overhead.losingHot.map(\.indexesMaintained) == [3])
        #expect(overhead.rowsWritten == 4000)
        #expect(overhead.hotNote == nil)
    }
}

/// A table the workload only reads, whose pg_stat_user_tables counters show inserts since this
/// database's statistics were reset: the index is charged those inserts scaled to the workload's
/// window (pg_stat_statements' stats_reset), and says so.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexWriteCountersIntegrationTests {
    static let schema = """
        CREATE EXTENSION pg_stat_statements;
        CREATE EXTENSION hypopg;
        CREATE TABLE audit (id int PRIMARY KEY, actor int NOT NULL, body text NOT NULL);
        INSERT INTO audit SELECT i, i % 3000, repeat('b', 50) FROM generate_series(1, 100000) i;
        """

    @Test func countersOfATableTheWorkloadDoesNotWriteAreScaledAndSaidSo() throws {
        let dsn = try seededDatabase("pgadvise_index_write_counters", schema: Self.schema)
        do {
            let writer = try TestDatabase.adminConnection(database: "pgadvise_index_write_counters")
            try writer.execute("INSERT INTO audit SELECT i, i % 3000, 'late' FROM generate_series(100001, 105000) i")
        }
        // The writer's counters reach pg_stat_user_tables when its backend exits.
        let monitor = try TestDatabase.adminConnection(database: "pgadvise_index_write_counters")
        for _ in 0..<50 {
            let inserted = try monitor.query("SELECT n_tup_ins AS n FROM pg_stat_user_tables WHERE relname = 'audit'").records.first?.int("n")
            if inserted == 5000 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        // Calls enough that the lookup pays whatever the server's uptime makes of the scale.
        let window = try PgStatStatementsCollector(connection: connection).collect().workload.windowSeconds
        let workload = Workload(source: .pgStatStatements, queries: [statement("SELECT id, body FROM audit WHERE actor = $1", calls: 10_000_000)],
                                windowSeconds: window)
        let advice = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(maxColumns: 1)).advise(workload)
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY audit_actor_idx ON public.audit (actor)"])
        let overhead = try #require(advice.recommendations.first?.writeOverhead)
        #expect(overhead.source == "pg_stat_user_tables")
        #expect(overhead.statements.isEmpty)
        #expect(overhead.estimatedCost > 0)
        let extrapolation = try #require(overhead.extrapolation)
        #expect(extrapolation.hasPrefix("no statement of the workload writes public.audit; pg_stat_user_tables counted 5000 inserts, "
                                        + "0 updates (0 HOT) and 0 deletes in "), "\(extrapolation)")
        #expect(extrapolation.contains(", scaled to the workload's "))
    }
}
