import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Statements that statement_timeout cancelled never reach pg_stat_statements' timings: they are
/// counted from the log's cancellations and from rows planned but never executed.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct CancelledStatementsTests {
    static let database = "pgadvise_kit_cancelled"
    static let slow = "SELECT count(*) FROM events a WHERE a.val > (SELECT avg(val) FROM events b WHERE b.grp = a.grp)"

    static func seeded() throws -> String {
        let dsn = try TestDatabase.freshDatabase(database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE EXTENSION hypopg;
            CREATE TABLE events (id int PRIMARY KEY, grp int NOT NULL, val int NOT NULL);
            INSERT INTO events SELECT g, g % 40000, g % 997 FROM generate_series(1, 200000) g;
            -- Every row sampled (300 x the target): the distinct-key estimates that decide between
            -- (grp) and (grp) INCLUDE (val) are the same on every run.
            ALTER TABLE events ALTER COLUMN grp SET STATISTICS 1000, ALTER COLUMN val SET STATISTICS 1000;
            ANALYZE events;
            ALTER DATABASE \(database) SET statement_timeout = '200ms';
            """)
        let admin = try TestDatabase.adminConnection(database: database)
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        return dsn
    }

    @Test func aLogOfOnlyCancellationsIsAcceptedAndTheStatementIsCountedAtTheTimeout() throws {
        let dsn = try Self.seeded()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-cancelled-\(getpid()).log")
        try """
            2026-12-06 01:00:00.000 UTC [4242] ERROR:  canceling statement due to statement timeout
            2026-12-06 01:00:00.000 UTC [4242] STATEMENT:  \(Self.slow) AND a.grp < 20000
            2026-12-06 01:10:00.000 UTC [4243] ERROR:  canceling statement due to statement timeout
            2026-12-06 01:10:00.000 UTC [4243] STATEMENT:  \(Self.slow) AND a.grp < 30000

            """.write(to: log, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: log) }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        let advice = try IndexesPipeline(connection: connection, options: IndexAdvisorOptions(maxColumns: 1), logs: [log.path]).run()
        #expect(advice.cancelled.map(\.source) == ["log"])
        #expect(advice.cancelled.map(\.cancellations) == [2])
        #expect(advice.cancelled.map(\.countedMs) == [200])
        #expect(advice.cancelled.map(\.countedFrom) == ["statement_timeout of this database and role (200 ms)"])
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY events_grp_idx ON public.events (grp)"])
    }

    @Test func aStatementPlannedButNeverExecutedIsFlaggedAsLikelyCancelled() throws {
        let dsn = try Self.seeded()
        let admin = try TestDatabase.adminConnection(database: Self.database)
        try admin.execute("SET pg_stat_statements.track_planning = on")
        try admin.execute("SET statement_timeout = '100ms'")
        #expect(throws: PostgresError.self) { try admin.query(Self.slow) }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        let advice = try IndexesPipeline(connection: connection, options: IndexAdvisorOptions(maxColumns: 1)).run()
        #expect(advice.cancelled.map(\.source) == ["pg_stat_statements"])
        #expect(advice.cancelled.map(\.cancellations) == [1])
        #expect(advice.cancelled.first?.text == Self.slow)
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY events_grp_idx ON public.events (grp)"])
    }

    /// Two different statements cancelled (fixtures/logs/statement-timeout-cancelled.log, from a real
    /// server with statement_timeout = 5ms): each is counted, not only the error message's one sample.
    @Test func differentCancelledStatementsAreCountedOneByOne() throws {
        let name = "pgadvise_kit_cancelled_two"
        let dsn = try TestDatabase.freshDatabase(name, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE EXTENSION hypopg;
            CREATE TABLE jobs (id int PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);
            INSERT INTO jobs SELECT i, CASE WHEN i % 50 = 0 THEN 'pending' ELSE 'done' END,
                timestamptz '2026-01-01' + i * interval '1 minute', 'job ' || i FROM generate_series(1, 100000) i;
            ANALYZE jobs;
            ALTER DATABASE \(name) SET statement_timeout = '5ms';
            """)
        let admin = try TestDatabase.adminConnection(database: name)
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        let log = RepositoryPaths.fixture("logs/statement-timeout-cancelled.log").path
        let advice = try IndexesPipeline(connection: connection, options: IndexAdvisorOptions(maxColumns: 1), logs: [log]).run()
        #expect(advice.cancelled.map(\.text) == [
            "SELECT status, count(*) FROM jobs WHERE created_at > $1 GROUP BY status;",
            "SELECT id, payload FROM jobs WHERE payload LIKE $1 ORDER BY created_at DESC LIMIT $2;",
        ])
        #expect(advice.cancelled.map(\.cancellations) == [2, 1])
        #expect(advice.cancelled.map(\.countedMs) == [5, 5])
        #expect(advice.cancelled.map(\.source) == ["log", "log"])
    }
}
