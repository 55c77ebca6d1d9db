import PGAdviseCore
import Testing
@testable import PGAdviseReport

@Suite struct PoolReportRendererTests {
    func report() -> PoolReport {
        let observed = PoolObservation(durationSeconds: 30, intervalMs: 100, samples: 300, maxConnections: 200, connectionsPeak: 70,
                                       byState: ["active": 6, "idle": 64], activePeak: 6, activeP95: 5, activeMean: 3.2,
                                       waitEvents: ["CPU": 800, "LWLock": 200], cores: 4, coresSource: "--cores")
        let levels = [1, 2, 4, 8].map { LoadLevel(clients: $0, tps: Double(600 * min($0, 6)), p50Ms: 1, p95Ms: Double($0), p99Ms: Double($0) * 2,
                                                  statements: 100, seconds: 1) }
        let advice = PgBouncerAdvice(defaultPoolSize: 6, maxClientConn: 140, poolMode: "transaction", reasons: ["why"])
        let rec = PoolRecommendation(poolSize: 6, basis: "measured knee", formulaPoolSize: 8, spindles: 0, current: 64,
                                     currentSource: "--current", measuredKnee: 8, appInstances: 3, perInstance: 2, pgbouncer: advice,
                                     freeConnectionSlots: 126, workMemAtPoolBytes: 6 * 4_194_304, workMemAtMaxConnectionsBytes: 200 * 4_194_304,
                                     before: PoolFigure(clients: 64, tps: 1820, p95Ms: 41), after: PoolFigure(clients: 6, tps: 2050, p95Ms: 3.1))
        return PoolReport(schemaVersion: 1, target: "app@db:5432/shop", startedAt: "2026-12-06T00:00:00Z", serverVersion: "15.4",
                          observed: observed, loadCurve: levels,
                          measurement: LoadMeasurement(workloadSource: "pg_stat_statements", statements: [], stepSeconds: 1, warmupSeconds: 0,
                                                       maxClients: 8, knee: 8, peakTps: 3600),
                          recommendation: rec)
    }

    @Test func beforeAndAfterReadAsTheIssueAsks() {
        let text = renderPoolText(report())
        #expect(text.contains("current 64: 1,820 statements/s, p95 41.0 ms; recommended 6: 2,050 statements/s, p95 3.1 ms"))
        #expect(text.contains("Pool size 6 (measured knee), 2 per application instance × 3"))
        #expect(text.contains("Wait events of active backends: CPU 80%, LWLock 20%"))
        #expect(text.contains("Memory: work_mem × pool = 24.0 MB, × max_connections = 800.0 MB"))
    }

    @Test func aCurrentSizeAtTheKneeIsOneFigure() {
        var r = report()
        r.recommendation.before = PoolFigure(clients: 6, tps: 2050, p95Ms: 3.1)
        #expect(renderPoolText(r).contains("current and recommended 6: 2,050 statements/s, p95 3.1 ms (the current size is already the knee)"))
    }

    @Test func markdownHasTheCurveTableAndTheSideBySideSizes() {
        let markdown = renderPoolMarkdown(report())
        #expect(markdown.contains("| clients | statements/s | p50 | p95 | p99 | note |"))
        #expect(markdown.contains("| 8 | 3,600 | 1.0 ms | 8.0 ms | 16.0 ms | knee |"))
        #expect(markdown.contains("| formula cores × 2 + spindles | 8 |"))
        #expect(markdown.contains("| current (--current) | 64 |"))
    }

    @Test func chartHasOnePointPerLevelAndMarksTheKnee() {
        let svg = loadCurveChart(report().loadCurve, knee: 8)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 4)
        #expect(svg.contains("class=\"knee\"") && svg.contains(">knee</text>"))
    }
}
