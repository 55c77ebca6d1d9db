import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A session the server ends (pg_terminate_backend, a restart) fails every later statement with the
/// same one-line connection error (exit 3), so a step that skips failed queries cannot go on as if
/// it still had a session; the statements that undo work are recognised for after a signal.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct ConnectionLossTests {
    @Test func aTerminatedSessionFailsEveryLaterStatementWithOneLine() throws {
        let conn = try PostgresConnection(conninfo: TestDatabase.dsn ?? "")
        let pid = try #require(try conn.query("SELECT pg_backend_pid()::text AS pid").records.first?["pid"])
        let admin = try TestDatabase.adminConnection()
        try admin.query("SELECT pg_terminate_backend($1::int)", [pid])
        var first: PGAdviseError?
        // The server ends the backend asynchronously: the next statement or the one after fails.
        for _ in 0..<50 where first == nil {
            do { try conn.query("SELECT 1") } catch let error as PGAdviseError { first = error }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let error = try #require(first)
        #expect(error.kind == .connection && error.exitCode == 3)
        #expect(!error.message.contains("\n"), "\(error.message)")
        #expect(error.message.hasPrefix("lost the connection to the server (terminating connection due to administrator command)")
                || error.message.hasPrefix("lost the connection to the server (server closed the connection unexpectedly)"), "\(error.message)")
        #expect(throws: error) { try conn.query("SELECT 2") }
        #expect(throws: error) { try conn.execute("ROLLBACK") }
        #expect(PostgresConnection.lostConnection != nil)
    }
}
