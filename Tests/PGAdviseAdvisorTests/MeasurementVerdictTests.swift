@testable import PGAdviseAdvisor
import PGAdviseCore
import Testing

/// The decision on a measured index, on figures worked out by hand: call-weighted medians, and
/// each reason to withdraw, in the words the report prints.
struct MeasurementVerdictTests {
    func measured(_ before: Double, _ after: Double, buffers: (Double, Double) = (0, 0), cutOff: Bool? = nil) -> StatementMeasurement {
        StatementMeasurement(beforeMs: before, afterMs: after, beforeBuffers: buffers.0, afterBuffers: buffers.1, runs: 5,
                             beforeCutOff: cutOff)
    }

    func recommendation(serving calls: [String: Int], writes: [String: Int] = [:]) -> IndexRecommendation {
        let overhead = writes.isEmpty ? nil : WriteOverhead(
            rowsWritten: 1, estimatedCost: 1,
            statements: writes.sorted { $0.key < $1.key }.map {
                WriteStatement(fingerprint: $0.key, text: "UPDATE t SET a = $1", kind: "update", calls: $0.value, rows: 1,
                               losesHot: false, indexesMaintained: 1, estimatedCost: 1)
            })
        return IndexRecommendation(
            ddl: "CREATE INDEX CONCURRENTLY t_a_idx ON public.t (a)", name: "t_a_idx", kind: .btree, table: "public.t",
            method: "btree", columns: ["a"],
            statements: calls.sorted { $0.key < $1.key }.map { ServedStatement(fingerprint: $0.key, text: "SELECT", calls: $0.value) },
            sizeBytes: 1_000_000, writeOverhead: overhead, verified: false)
    }

    func outcome(_ perStatement: [String: StatementMeasurement], usedBy: Set<String>, built: Int64? = 8_192) -> MeasuredVerifier.Outcome {
        MeasuredVerifier.Outcome(perStatement: perStatement, builtSizeBytes: built, unmeasured: [:], usedBy: usedBy)
    }

    @Test func aFasterIndexIsKeptWithCallWeightedFigures() {
        let verdict = MeasurementVerdict(
            recommendation(serving: ["a": 100, "b": 300]),
            outcome: outcome(["a": measured(10, 1, buffers: (100, 4)), "b": measured(2, 2, buffers: (20, 20))], usedBy: ["a", "b"]),
            runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal == nil)
        let rec = verdict.recommendation
        #expect(rec.verified)
        #expect(rec.measured == IndexMeasurement(beforeMs: 4, afterMs: 1.75, beforeBuffers: 40, afterBuffers: 16, runs: 5,
                                                 builtSizeBytes: 8_192, regressions: [], readMsSaved: 900,
                                                 writeMsAdded: nil, writeRegressions: []))
        #expect(rec.sizeBytes == 8_192)
        #expect(rec.sizeSource == "measured")
        #expect(rec.statements.map { $0.measured?.afterMs } == [1, 2])
        #expect(rec.notes.isEmpty)
    }

    /// Statement b's plan does not use the index: it ran the plan it had, and its 10% more is noise
    /// that neither counts as a regression nor dilutes a's gain.
    @Test func aStatementWhosePlanDoesNotUseTheIndexIsLeftOutOfTheFigures() {
        let verdict = MeasurementVerdict(
            recommendation(serving: ["a": 1, "b": 1]),
            outcome: outcome(["a": measured(800, 400), "b": measured(4_600, 5_100)], usedBy: ["a"]),
            runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal == nil)
        #expect(verdict.recommendation.measured?.beforeMs == 800 && verdict.recommendation.measured?.afterMs == 400)
        #expect(verdict.recommendation.measured?.regressions == [])
        #expect(verdict.recommendation.statements.map { $0.measured?.afterMs } == [400, 5_100])
    }

    @Test func anIndexNoPlanUsedIsWithdrawn() {
        let verdict = MeasurementVerdict(recommendation(serving: ["a": 100, "b": 300]),
                                         outcome: outcome(["a": measured(10, 1), "b": measured(2, 2)], usedBy: []),
                                         runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal?.reason == "not used: once built and analysed, no plan of its statements used it "
                + "(4.000 ms before, 1.750 ms after (call-weighted median of 5 runs))")
        #expect(verdict.withdrawal?.recommendation.verified == false)
    }

    @Test func lessThanATenthFasterIsWithdrawn() {
        let verdict = MeasurementVerdict(recommendation(serving: ["a": 1]), outcome: outcome(["a": measured(10, 9.5)], usedBy: ["a"]),
                                         runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal?.reason == "not measurably faster: 10.000 ms before, 9.500 ms after (call-weighted median of 5 runs)")
    }

    /// 10 calls save 4 ms each (40 ms); 1,000 updates pay 0.25 ms each (250 ms) to maintain it.
    @Test func writesThatCostMoreThanTheReadsSaveWithdrawIt() {
        let verdict = MeasurementVerdict(recommendation(serving: ["r": 10], writes: ["w": 1_000]),
                                         outcome: outcome(["r": measured(5, 1), "w": measured(0.25, 0.5)], usedBy: ["r"]),
                                         runs: 5, measuredWrites: true)
        #expect(verdict.withdrawal?.reason == "its write cost exceeds its read gain: over the workload's calls its reads save "
                + "40.0 ms and its writes (w) add 250.0 ms (median of 5 runs each)")
        let measurement = verdict.withdrawal?.recommendation.measured
        #expect(measurement?.writeMsAdded == 250)
        #expect(measurement?.writeRegressions == ["w"])
        #expect(measurement?.regressions == ["w"])
        #expect(verdict.withdrawal?.recommendation.writeOverhead?.statements.first?.measured?.afterMs == 0.5)
    }

    /// The ReadRegressions figures: 200 ms lost against 2,400 ms saved is the price of the gain.
    @Test func aSmallReadRegressionIsKeptAndNamed() {
        let verdict = MeasurementVerdict(recommendation(serving: ["a": 100, "b": 300]),
                                         outcome: outcome(["a": measured(10, 12), "b": measured(10, 2)], usedBy: ["a", "b"]),
                                         runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal == nil)
        #expect(verdict.recommendation.measured?.regressions == ["a"])
        #expect(verdict.recommendation.measured?.afterMs == 4.5)
        #expect(verdict.recommendation.notes == [
            "Measured regression on a, kept: over the workload's calls those statements lose 200.0 ms while the faster ones "
            + "save 2400.0 ms (median of 5 runs each); none got 1.5x slower.",
        ])
    }

    @Test func aSevereReadRegressionWithdrawsIt() {
        let verdict = MeasurementVerdict(recommendation(serving: ["q5": 1, "q20": 1]),
                                         outcome: outcome(["q5": measured(1_209, 2_938), "q20": measured(60_000, 900)], usedBy: ["q5", "q20"]),
                                         runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal?.reason == "measured regression on q5: 30604.500 ms before, 1919.000 ms after "
                + "(call-weighted median of 5 runs)")
    }

    @Test func aRunCutOffByTheTimeoutIsALowerBound() {
        let verdict = MeasurementVerdict(recommendation(serving: ["a": 1]), outcome: outcome(["a": measured(60_000, 5, cutOff: true)], usedBy: ["a"]),
                                         runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal == nil)
        #expect(verdict.recommendation.notes == [
            "Statement a ran into the statement timeout without the index: its time before is that timeout (60000 ms), "
            + "a lower bound, so the measured gain is too.",
        ])
    }

    @Test func withoutAnyMeasuredStatementNothingIsDecided() {
        let rec = recommendation(serving: ["a": 1])
        let verdict = MeasurementVerdict(rec, outcome: outcome([:], usedBy: []), runs: 5, measuredWrites: false)
        #expect(verdict.withdrawal == nil)
        #expect(verdict.recommendation == rec)
    }
}
