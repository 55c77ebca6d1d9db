import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The index pipeline on one table and one slow lookup, called as a library.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesPipelineTests {
    static let database = "pgadvise_kit_indexes"

    @Test func theLookupEarnsItsIndexAndNothingIsWritten() throws {
        let dsn = try TestDatabase.freshDatabase(Self.database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE EXTENSION hypopg;
            CREATE TABLE tickets (id int PRIMARY KEY, assignee int NOT NULL, subject text NOT NULL);
            INSERT INTO tickets SELECT g, g % 5000, 'subject ' || g FROM generate_series(1, 100000) g;
            ANALYZE tickets;
            """)
        let admin = try TestDatabase.adminConnection(database: Self.database)
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        for assignee in 1...20 {
            try admin.query("SELECT id, subject FROM tickets WHERE assignee = $1", [String(assignee)])
        }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        let advice = try IndexesPipeline(connection: connection, options: IndexAdvisorOptions(maxColumns: 1)).run()
        #expect(advice.hypopg)
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY tickets_assignee_idx ON public.tickets (assignee)"])
        let served = try #require(advice.recommendations.first?.statements.first)
        #expect(served.text == "SELECT id, subject FROM tickets WHERE assignee = $1")
        #expect(served.calls == 20)
        #expect(try admin.query("SELECT indexname FROM pg_indexes WHERE tablename = 'tickets'").rows.count == 1)
    }

    @Test func anUnreadableLogIsAnInputErrorBeforeAnyConnection() {
        #expect(throws: PGAdviseError(.input, "cannot read log file /nonexistent/postgresql.log")) {
            try IndexesPipeline.checkReadable(logs: ["/nonexistent/postgresql.log"])
        }
    }
}
