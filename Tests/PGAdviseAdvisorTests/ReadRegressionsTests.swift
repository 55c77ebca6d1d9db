@testable import PGAdviseAdvisor
import PGAdviseCore
import Testing

/// Figures from the TPC-H runs: one timed run a side, ms per call, one call each.
struct ReadRegressionsTests {
    func measured(_ before: Double, _ after: Double) -> StatementMeasurement {
        StatementMeasurement(beforeMs: before, afterMs: after, beforeBuffers: 0, afterBuffers: 0, runs: 1)
    }

    /// lineitem (l_partkey, l_suppkey): Q9 15% slower while Q17 and Q20 leave the 60 s timeout.
    @Test func aSmallRegressionNextToALargeGainKeepsTheIndex() {
        var reads = ReadRegressions()
        reads.add("q9", measured(4_481, 5_150), calls: 1)
        reads.add("q17", measured(60_000, 1_730), calls: 1)
        reads.add("q20", measured(60_000, 390), calls: 1)
        #expect(reads.regressed == ["q9"])
        #expect(reads.lostMs == 669)
        #expect(reads.savedMs == 117_880)
        #expect(!reads.withdraws)
    }

    /// lineitem (l_suppkey): Q5 2.4 times slower withdraws it, however much Q20 gains.
    @Test func aSevereRegressionWithdrawsTheIndex() {
        var reads = ReadRegressions()
        reads.add("q5", measured(1_209, 2_938), calls: 1)
        reads.add("q20", measured(60_000, 900), calls: 1)
        #expect(reads.withdraws)
    }

    @Test func regressionsThatLoseMoreThanATenthOfTheGainWithdrawTheIndex() {
        var reads = ReadRegressions()
        reads.add("a", measured(10, 13), calls: 100)     // +30%, 300 ms lost
        reads.add("b", measured(10, 2), calls: 300)      // 2,400 ms saved
        #expect(reads.lostMs == 300)
        #expect(reads.withdraws)
        var smaller = ReadRegressions()
        smaller.add("a", measured(10, 12), calls: 100)   // +20%, 200 ms lost
        smaller.add("b", measured(10, 2), calls: 300)
        #expect(!smaller.withdraws)
        // Within noise (under 10%, or under 0.05 ms) is no regression at all.
        var noise = ReadRegressions()
        noise.add("c", measured(0.2, 0.24), calls: 1_000_000)
        noise.add("d", measured(100, 109), calls: 1)
        #expect(noise.regressed.isEmpty)
    }
}
