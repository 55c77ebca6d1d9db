import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseRules
import PGAdviseTestSupport
import Testing

/// Sessions from log_connections/log_disconnections: their rate, durations and peak concurrency, and
/// connection churn judged by the same ConnectionRule that `pool` and `scan` use.
@Suite struct LogsSessionsTests {
    static func run(_ name: String) throws -> LogReport {
        try LogsPipeline(paths: [RepositoryPaths.fixture("logs/\(name)").path]).run()
    }

    /// 15 psql and pgbench sessions over 5.422 s, whose logged session times sort to 2, 4, 10, 11, 15,
    /// 18, 19, 22, 29, 33, 71, 236, 260, 386 and 608 ms; at most two overlap.
    @Test func sessionFiguresOfAnOrdinaryLog() throws {
        let s = try Self.run("stderr-session.log").sessions
        #expect(s.connectionsAuthorized == 15 && s.disconnections == 15)
        #expect(s.observedSeconds == 5.422)
        #expect(abs((s.sessionsPerSecond ?? 0) - 15 / 5.422) < 1e-9)
        #expect(s.totalSessionMs == 1724 && s.maxSessionMs == 608)
        #expect(abs((s.medianSessionMs ?? 0) - 22) <= 22 * 0.008)
        #expect(s.p95SessionMs == 608)
        #expect(s.peakConcurrentSessions == 2)
        #expect(s.peakConcurrentAt == "2026-11-23 13:04:42.404 UTC")
    }

    @Test func fewSessionsAreNoChurn() throws {
        let r = try Self.run("stderr-session.log")
        #expect(!r.findings.contains { $0.rule == "connection-churn" })
    }

    /// pgbench -C: a new connection for each of 4 clients' 15 transactions, plus pgbench's first one.
    @Test func aConnectionPerTransactionIsChurn() throws {
        let r = try Self.run("stderr-churn.log")
        let s = r.sessions
        #expect(s.connectionsAuthorized == 61 && s.disconnections == 61)
        #expect(s.observedSeconds == 0.363)
        #expect(s.totalSessionMs == 540 && s.maxSessionMs == 25)
        #expect(abs((s.medianSessionMs ?? 0) - 8) <= 8 * 0.008)
        #expect(abs((s.p95SessionMs ?? 0) - 16) <= 16 * 0.008)
        #expect(s.peakConcurrentSessions == 4)
        #expect(s.peakConcurrentAt == "2026-12-06 01:38:21.984 UTC")

        let churn = r.findings.filter { $0.rule == "connection-churn" }
        #expect(churn.count == 1)
        #expect(churn.first?.message == "168.0 new sessions per second lasting 8.9 ms on average: connections are not pooled")
        #expect(churn.first?.evidence == "61 sessions in 363.0 ms")
        // The very finding the rule gives `pool` for the same counters.
        let counters = try #require(s.sessionCounters)
        #expect(counters.sessions == 61 && counters.seconds == 0.363)
        #expect(churn == applyConnectionRules(PoolObservation(sessionsInWindow: counters)))
    }
}
