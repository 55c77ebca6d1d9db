import Testing
@testable import PGAdviseCore

@Suite struct LoadCurveTests {
    func level(_ clients: Int, _ tps: Double, p95: Double = 1) -> LoadLevel {
        LoadLevel(clients: clients, tps: tps, p50Ms: p95 / 2, p95Ms: p95, p99Ms: p95 * 2, statements: Int(tps), seconds: 1)
    }

    @Test func levelsDoubleUpToTheMaximumAndIncludeIt() {
        #expect(LoadCurve.levels(upTo: 1) == [1])
        #expect(LoadCurve.levels(upTo: 8) == [1, 2, 4, 8])
        #expect(LoadCurve.levels(upTo: 12) == [1, 2, 4, 8, 12])
        #expect(LoadCurve.levels(upTo: 0).isEmpty)
    }

    @Test func kneeIsTheSmallestLevelWithinFivePercentOfThePeak() {
        let curve = [level(1, 1000), level(2, 1900), level(4, 3500), level(8, 3800), level(16, 3700), level(32, 3000)]
        #expect(LoadCurve.knee(curve) == 8)
        // 3,650 is 96% of 3,800: as good as the peak, with half the connections.
        let flat = [level(1, 1000), level(2, 1900), level(4, 3650), level(8, 3800)]
        #expect(LoadCurve.knee(flat) == 4)
    }

    @Test func anSLOExcludesLevelsWhoseP95IsAboveIt() {
        let curve = [level(1, 1000, p95: 2), level(2, 1900, p95: 3), level(4, 3500, p95: 8), level(8, 3800, p95: 40)]
        #expect(LoadCurve.knee(curve, sloP95Ms: 10) == 4)
        #expect(LoadCurve.knee(curve, sloP95Ms: 1) == nil)
    }

    @Test func uslFitRecoversItsParametersAndOptimum() throws {
        // X(N) = 1000 N / (1 + 0.05 (N-1) + 0.002 N (N-1)): optimum √(0.95/0.002) ≈ 21.8.
        let curve = [1, 2, 4, 8, 16, 32, 64].map { n -> LoadLevel in
            let x = Double(n)
            return level(n, 1000 * x / (1 + 0.05 * (x - 1) + 0.002 * x * (x - 1)))
        }
        let fit = try #require(LoadCurve.fitScalability(curve))
        #expect(abs(fit.sigma - 0.05) < 1e-6 && abs(fit.kappa - 0.002) < 1e-6)
        #expect(abs((fit.optimumClients ?? 0) - 21.79) < 0.01)
        #expect(LoadCurve.linearScalingClients(curve) == 4)
    }
}
