import Foundation
import PGAdviseCore

/// The decision on one measured index, apart from the measuring: given the per-statement medians
/// MeasuredVerifier timed, the call-weighted figures (`IndexMeasurement`), and whether the index is
/// kept (verified) or withdrawn, with the reason a DBA reads.
struct MeasurementVerdict {
    /// An index that does not save at least this share of the measured time is withdrawn: run-to-run
    /// noise on a quiet server is a few percent.
    static let requiredMeasuredGain = 0.1
    /// A statement got slower when its median grew by more than this share and ...
    static let regressionShare = 0.1
    /// ... by more than this many milliseconds per call: sub-millisecond statements move by a few
    /// hundredths of a millisecond between runs of the same plan. Reads, whose plans change, use the
    /// wider bound; writes, whose plan stays and whose change is index maintenance, the narrower.
    static let readRegressionMs = 0.05
    static let writeRegressionMs = 0.02

    static func isRegression(_ m: StatementMeasurement, thresholdMs: Double) -> Bool {
        m.afterMs > m.beforeMs * (1 + regressionShare) && m.afterMs - m.beforeMs > thresholdMs
    }

    /// The recommendation with its measured figures and notes.
    private(set) var recommendation: IndexRecommendation
    /// Set when the measurement withdraws the index.
    private(set) var withdrawal: WithdrawnRecommendation?

    /// An index none of whose statements could be run: kept as it was, with its notes.
    init(unmeasured rec: IndexRecommendation) {
        recommendation = rec
    }

    /// `measuredWrites`: whether any write statement maintaining the index was timed (else the
    /// write cost is unknown, not zero).
    init(_ rec: IndexRecommendation, outcome: MeasuredVerifier.Outcome, runs: Int, measuredWrites: Bool) {
        recommendation = rec
        var reads = ReadRegressions()
        var weighted = WeightedMedians()
        for i in recommendation.statements.indices {
            let served = recommendation.statements[i]
            guard let m = outcome.perStatement[served.fingerprint] else { continue }
            recommendation.statements[i].measured = m
            if m.beforeCutOff == true {
                recommendation.notes.append("Statement \(served.fingerprint) ran into the statement timeout without the index: its "
                                            + "time before is that timeout (\(Int(m.beforeMs)) ms), a lower bound, so the "
                                            + "measured gain is too.")
            }
            // A statement whose plan does not use the index runs the plan it had: its change is noise,
            // and would dilute the gain of those that use it (lineitem (l_shipdate) halves Q14 and
            // Q15 but leaves Q1, which reads nearly every row, as it was).
            guard outcome.usedBy.isEmpty || outcome.usedBy.contains(served.fingerprint) else { continue }
            let calls = Double(max(1, served.calls))
            weighted.add(m, calls: calls)
            reads.add(served.fingerprint, m, calls: calls)
        }
        guard weighted.weightSum > 0 else { return }
        let writes = judgeWrites(outcome)
        let measurement = IndexMeasurement(
            beforeMs: weighted.beforeMs, afterMs: weighted.afterMs, beforeBuffers: weighted.beforeBuffers,
            afterBuffers: weighted.afterBuffers, runs: runs, builtSizeBytes: outcome.builtSizeBytes,
            regressions: reads.regressed + writes.regressions, readMsSaved: weighted.readMsSaved,
            writeMsAdded: measuredWrites ? writes.msAdded : nil, writeRegressions: writes.regressions)
        recommendation.measured = measurement
        if let built = outcome.builtSizeBytes { recommendation.sizeBytes = built; recommendation.sizeSource = "measured" }
        decide(measurement, reads: reads, usedByAnyPlan: !outcome.usedBy.isEmpty, readMsSaved: weighted.readMsSaved,
               writeMsAdded: writes.msAdded, runs: runs)
    }

    /// The writes that maintain the index: one within noise adds nothing; one beyond it adds its
    /// whole measured change per call.
    private mutating func judgeWrites(_ outcome: MeasuredVerifier.Outcome) -> (msAdded: Double, regressions: [String]) {
        guard var overhead = recommendation.writeOverhead else { return (0, []) }
        var msAdded = 0.0
        var regressions: [String] = []
        for i in overhead.statements.indices {
            guard let m = outcome.perStatement[overhead.statements[i].fingerprint] else { continue }
            overhead.statements[i].measured = m
            guard Self.isRegression(m, thresholdMs: Self.writeRegressionMs) else { continue }
            regressions.append(overhead.statements[i].fingerprint)
            msAdded += Double(max(1, overhead.statements[i].calls)) * (m.afterMs - m.beforeMs)
        }
        recommendation.writeOverhead = overhead
        return (msAdded, regressions)
    }

    /// Withdrawn when no plan used it, when its read regressions outweigh (ReadRegressions), when it
    /// is not `requiredMeasuredGain` faster, or when its writes cost more than its reads save.
    private mutating func decide(_ m: IndexMeasurement, reads: ReadRegressions, usedByAnyPlan: Bool, readMsSaved: Double,
                                 writeMsAdded: Double, runs: Int) {
        let figures = "\(String(format: "%.3f", m.beforeMs)) ms before, \(String(format: "%.3f", m.afterMs)) ms after "
            + "(call-weighted median of \(runs) runs)"
        let regressions = reads.regressed
        if !usedByAnyPlan {
            return withdraw("not used: once built and analysed, no plan of its statements used it (\(figures))")
        }
        if reads.withdraws {
            return withdraw("measured regression on \(regressions.joined(separator: ", ")): \(figures)")
        }
        if !regressions.isEmpty {
            recommendation.notes.append(
                "Measured regression on \(regressions.joined(separator: ", ")), kept: over the workload's calls those statements "
                + "lose \(String(format: "%.1f", reads.lostMs)) ms while the faster ones save \(String(format: "%.1f", reads.savedMs)) ms "
                + "(median of \(runs) runs each); none got \(ReadRegressions.severeFactor)x slower.")
        }
        if m.afterMs > m.beforeMs * (1 - Self.requiredMeasuredGain) {
            return withdraw("not measurably faster: \(figures)")
        }
        if readMsSaved - writeMsAdded <= 0 {
            return withdraw("its write cost exceeds its read gain: over the workload's calls its reads save "
                            + "\(String(format: "%.1f", readMsSaved)) ms and its writes "
                            + "(\(m.writeRegressions.joined(separator: ", "))) add \(String(format: "%.1f", writeMsAdded)) ms "
                            + "(median of \(runs) runs each)")
        }
        recommendation.verified = true
    }

    private mutating func withdraw(_ reason: String) {
        withdrawal = WithdrawnRecommendation(recommendation: recommendation, reason: reason)
    }
}

/// Call-weighted means of the served statements' medians, and the read time saved over their calls.
struct WeightedMedians {
    private(set) var weightSum = 0.0
    private var before = 0.0, after = 0.0, beforeBuffersSum = 0.0, afterBuffersSum = 0.0
    private(set) var readMsSaved = 0.0

    mutating func add(_ m: StatementMeasurement, calls w: Double) {
        weightSum += w; before += w * m.beforeMs; after += w * m.afterMs
        beforeBuffersSum += w * m.beforeBuffers; afterBuffersSum += w * m.afterBuffers
        readMsSaved += w * (m.beforeMs - m.afterMs)
    }

    var beforeMs: Double { before / weightSum }
    var afterMs: Double { after / weightSum }
    var beforeBuffers: Double { beforeBuffersSum / weightSum }
    var afterBuffers: Double { afterBuffersSum / weightSum }
}

/// The statements an index made slower, and whether that withdraws it: when one got
/// `severeFactor` times slower (a plan the planner misjudged, which another index may avoid: the
/// search then runs without this one), or when what the slower ones lose over their calls exceeds
/// `toleratedShare` of what the faster ones save. A smaller regression is the price of a large gain:
/// the index is kept and the regression reported with it.
struct ReadRegressions {
    static let severeFactor = 1.5
    static let toleratedShare = 0.1

    private(set) var regressed: [String] = []
    private(set) var severe: [String] = []
    private(set) var lostMs = 0.0
    private(set) var savedMs = 0.0

    mutating func add(_ fingerprint: String, _ m: StatementMeasurement, calls: Double) {
        if MeasurementVerdict.isRegression(m, thresholdMs: MeasurementVerdict.readRegressionMs) {
            regressed.append(fingerprint)
            lostMs += calls * (m.afterMs - m.beforeMs)
            if m.afterMs > m.beforeMs * Self.severeFactor { severe.append(fingerprint) }
        } else if m.afterMs < m.beforeMs {
            savedMs += calls * (m.beforeMs - m.afterMs)
        }
    }

    var withdraws: Bool { !severe.isEmpty || lostMs > Self.toleratedShare * savedMs }
}
