import PGAdviseCore
import Testing

/// `pgadvise indexes --logs`: the log and pg_stat_statements saw the same executions.
@Suite struct WorkloadMergeTests {
    let statements = Workload(source: .pgStatStatements, queries: [
        QueryStats(fingerprint: "a", normalized: "SELECT * FROM t WHERE id = $1", calls: 500, totalMs: 250, maxMs: 4),
        QueryStats(fingerprint: "b", normalized: "SELECT * FROM u WHERE k = $1", calls: 3, totalMs: 30),
    ])

    @Test func aStatementInBothKeepsTheLargerCountAndTheLoggedSample() throws {
        var workload = statements
        let logged = QuerySample(text: "SELECT * FROM t WHERE id = 42", durationMs: 9)
        workload.merge(overlapping: Workload(source: .logs, queries: [
            QueryStats(fingerprint: "a", normalized: "SELECT * FROM t WHERE id = $1", calls: 12, totalMs: 60, maxMs: 9, slowest: logged),
        ]))
        let a = try #require(workload.query(fingerprint: "a"))
        #expect(a.calls == 500)
        #expect(a.totalMs == 250)
        #expect(a.maxMs == 9)
        #expect(a.slowest == logged)
        #expect(workload.totalCalls == 503)
    }

    @Test func aLogThatSawMoreCallsThanTheStatisticsWins() throws {
        var workload = statements
        workload.merge(overlapping: Workload(source: .logs, queries: [
            QueryStats(fingerprint: "b", normalized: "SELECT * FROM u WHERE k = $1", calls: 40, totalMs: 800),
            QueryStats(fingerprint: "c", normalized: "DELETE FROM v WHERE id = $1", calls: 7, totalMs: 14),
        ]))
        let b = try #require(workload.query(fingerprint: "b"))
        #expect(b.calls == 40 && b.totalMs == 800 && b.meanMs == 20)
        #expect(workload.queries.map(\.fingerprint) == ["a", "b", "c"])
    }
}
