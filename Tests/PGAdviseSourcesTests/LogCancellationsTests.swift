import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Cancellations by statement_timeout share one error message, yet each cancelled statement is its
/// own statement that never finished: they are kept one per fingerprint.
struct LogCancellationsTests {
    /// fixtures/logs/statement-timeout-cancelled.log: a real server with statement_timeout = 5ms
    /// cancelled two executions of one statement (two literals) and one of another.
    @Test func eachCancelledStatementIsCountedWithItsFirstSample() throws {
        let analyzer = LogAnalyzer()
        try analyzer.add(path: RepositoryPaths.fixture("logs/statement-timeout-cancelled.log").path)
        let report = try analyzer.report()
        #expect(report.errors.map(\.count) == [3])
        let cancelled = try #require(report.cancelledStatements)
        #expect(cancelled.map(\.count) == [2, 1])
        #expect(cancelled.map(\.sample) == [
            "SELECT status, count(*) FROM jobs WHERE created_at > '2026-01-05' GROUP BY status;",
            "SELECT id, payload FROM jobs WHERE payload LIKE '%9999%' ORDER BY created_at DESC LIMIT 10;",
        ])
        #expect(cancelled.map(\.normalized) == [
            "SELECT status, count(*) FROM jobs WHERE created_at > $1 GROUP BY status;",
            "SELECT id, payload FROM jobs WHERE payload LIKE $1 ORDER BY created_at DESC LIMIT $2;",
        ])
        #expect(cancelled.allSatisfy { $0.fingerprint.count == 16 })
    }

    @Test func aLogWithoutCancellationsHasNone() throws {
        let analyzer = LogAnalyzer()
        try analyzer.add(path: RepositoryPaths.fixture("logs/stderr-default.log").path)
        #expect(try analyzer.report().cancelledStatements == nil)
    }
}
