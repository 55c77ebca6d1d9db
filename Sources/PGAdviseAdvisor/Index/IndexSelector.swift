import Foundation
import PGAdviseCore
import PGAdviseSources

/// `PGADVISE_TRACE=index` prints every step of the search on stderr, for understanding a result.
let traceIndexSearch = ProcessInfo.processInfo.environment["PGADVISE_TRACE"] == "index"

func trace(_ message: @autoclosure () -> String) {
    guard traceIndexSearch else { return }
    FileHandle.standardError.write(Data(("index: " + message() + "\n").utf8))
}

/// Chooses indexes for the whole workload in the style of Extend (Schlosser, Kossmann, Boissier 2019):
/// each step adds the one index, or widens one already chosen, that gives the best estimated benefit
/// per byte, under the storage budget, until nothing pays. Benefits are HypoPG estimates weighted by
/// calls, minus what the step adds to index maintenance under the workload's writes (HOT-aware: a
/// step that makes an UPDATE lose HOT is charged every index of the table for its rows).
final class IndexSelector {
    let session: WhatIfSession
    let statements: [CostedStatement]
    let options: [IndexCandidate]
    let size: (IndexCandidate) -> Int64
    /// Index maintenance of the workload's writes to `table` under a set of chosen indexes.
    let writeCost: (_ configuration: [IndexCandidate], _ table: QualifiedName) -> Double
    let budget: Int64
    /// Leave out options whose gain rests on a fragile row estimate (`FragileEstimates`). Off under
    /// --measure, where the measurement decides.
    let robustnessCheck: Bool
    /// Keep an index only if some statement's estimated cost falls by at least this share ...
    static let requiredGain = 0.2
    /// ... and none rises by more than this share.
    static let toleratedRise = 0.1
    /// ... by at least this many cost units per call: about one random page read. Below that the
    /// planner's difference (an index-only scan of a one-row lookup) is not worth an index.
    static let minimumSavingPerCall = 5.0
    /// Ignore steps that save less than this share of what the workload would cost with the indexes
    /// chosen so far: what is left to gain is then small next to the whole. Anchored to the current
    /// choice, not to today's cost, because one statement that dominates today's estimate (a
    /// correlated subquery scanning a large table per outer row, as TPC-H's Q17 and Q20 do without
    /// an index) would otherwise hide every other statement's index until the advice is applied.
    static let minimumRemainingShare = 0.005
    /// ... and steps whose statements that gain take less than this share of the workload's real
    /// execution time: a statement that is negligible in the workload as it runs (a rare report) does
    /// not earn an index just because the large ones are served. Real time, not today's estimated
    /// cost, because one pathological estimate (TPC-H Q20 without an index: 1.9e9 units, 99.8% of
    /// the workload's cost but 1% of its time) would make every other statement look negligible.
    static let minimumTimeShare = 0.001

    /// Options HypoPG or the planner rejected, with the reason (e.g. a non-immutable expression).
    private(set) var rejected: [IndexCandidate: String] = [:]
    /// Why each option was left out the last time it was weighed (the final round, for those never
    /// chosen), to explain what the search did not recommend.
    private(set) var leftOut: [IndexCandidate: LeftOut] = [:]

    /// The gate that stopped an option, with the figures it was judged on.
    struct LeftOut {
        enum Gate: String {
            case budget, writePenalty = "write penalty", smallSaving = "small saving", noGain = "no statement gains"
            case rise = "raises a statement", fragile = "fragile estimate", negligibleTime = "negligible time"
        }
        var gate: Gate
        var saving: Double
        var writePenalty: Double
        var floor: Double
        var sizeDelta: Int64
        var budgetLeft: Int64
        var fragility: FragileEstimate?
    }

    init(session: WhatIfSession, statements: [CostedStatement], fullCandidates: [IndexCandidate],
         size: @escaping (IndexCandidate) -> Int64,
         writeCost: @escaping (_ configuration: [IndexCandidate], _ table: QualifiedName) -> Double, budget: Int64,
         robustnessCheck: Bool = true, excluding excluded: Set<IndexCandidate> = [],
         servedByExisting: (IndexCandidate) -> Bool = { _ in false }) {
        self.session = session
        self.robustnessCheck = robustnessCheck
        self.statements = statements
        self.size = size
        self.writeCost = writeCost
        self.budget = budget
        // Every leading prefix of a full candidate is a step the search may take; INCLUDE columns and
        // partial predicates ride only on the full key list they were generated for. A prefix an
        // existing index already leads with is no step: `(l_orderkey)` beside a primary key on
        // `(l_orderkey, l_linenumber)` is only smaller, which buys lookups nothing.
        var seen = Set<IndexCandidate>()
        var options: [IndexCandidate] = []
        for full in fullCandidates {
            for n in 1...max(1, full.keys.count) {
                var prefix = full
                prefix.keys = Array(full.keys.prefix(n))
                if n < full.keys.count { prefix.include = [] }
                if !excluded.contains(prefix) && !servedByExisting(prefix) && seen.insert(prefix).inserted { options.append(prefix) }
            }
        }
        self.options = options.sorted { $0.description < $1.description }
    }

    func affected(by candidate: IndexCandidate) -> [CostedStatement] {
        statements.filter { $0.tables.contains(candidate.table) }
    }

    func cost(_ statement: CostedStatement, _ configuration: [IndexCandidate]) throws -> Double {
        try session.plan(statement, with: configuration).totalCost
    }

    func select() throws -> [IndexCandidate] {
        var chosen: [IndexCandidate] = []
        var used: Int64 = 0
        for _ in 0..<64 {
            let floor = Self.minimumRemainingShare * (try workloadCost(with: chosen))
            var best: (option: IndexCandidate, replaced: [IndexCandidate], ratio: Double)?
            for option in options where rejected[option] == nil && !chosen.contains(option) {
                if chosen.contains(where: { option.isPrefix(of: $0) }) { continue }
                // Two indexes with the same keys that differ only in INCLUDE are one too many: the
                // later choice replaces the earlier.
                let replaced = chosen.filter { $0.isPrefix(of: option) || $0.hasSameKeys(as: option) }
                let next = chosen.filter { !replaced.contains($0) } + [option]
                let sizeDelta = size(option) - replaced.reduce(0) { $0 + size($1) }
                let penalty = writePenalty(from: chosen, to: next, table: option.table)
                var verdict = LeftOut(gate: .budget, saving: 0, writePenalty: penalty, floor: floor, sizeDelta: sizeDelta,
                                      budgetLeft: budget - used)
                guard used + sizeDelta <= budget else {
                    trace("over budget: \(option) \(sizeDelta)")
                    // Left out earlier, while it still fitted, as a risk: that is why it was not chosen.
                    if let earlier = leftOut[option]?.gate, earlier == .fragile || earlier == .rise { continue }
                    leftOut[option] = verdict
                    continue
                }
                guard let step = try evaluate(from: chosen, to: next, option: option) else { continue }
                let benefit = step.robustSaving - penalty
                trace("option \(option) saving \(Int(step.saving)) robust \(Int(step.robustSaving)) benefit \(Int(benefit)) size \(sizeDelta) gate \(step.failedGate?.rawValue ?? "passed")")
                verdict.saving = step.saving
                verdict.fragility = step.fragility
                if let gate = step.failedGate ?? (benefit > floor ? nil : step.robustSaving > floor ? .writePenalty : .smallSaving) {
                    verdict.gate = gate
                    leftOut[option] = verdict
                    continue
                }
                leftOut[option] = nil
                let ratio = benefit / Double(max(sizeDelta, 8192))
                if best == nil || ratio > best!.ratio { best = (option, replaced, ratio) }
            }
            guard let step = best else { break }
            trace("chose \(step.option) replacing \(step.replaced)")
            chosen.removeAll { step.replaced.contains($0) }
            chosen.append(step.option)
            used = chosen.reduce(0) { $0 + size($1) }
        }
        return try pruned(chosen)
    }

    func workloadCost(with configuration: [IndexCandidate]) throws -> Double {
        try statements.reduce(0.0) { $0 + $1.weight * (try cost($1, configuration)) }
    }

    /// What going from `current` to `next` adds to the maintenance of `table`'s indexes.
    func writePenalty(from current: [IndexCandidate], to next: [IndexCandidate], table: QualifiedName) -> Double {
        writeCost(next, table) - writeCost(current, table)
    }

    struct Step {
        var saving: Double
        /// The saving the search ranks and gates the step by: under the underestimate of
        /// `FragileEstimates` when the robustness check is on, so that of two indexes serving a
        /// statement the one whose plan does not rest on a fragile estimate is preferred.
        var robustSaving: Double
        /// The first gate that does not hold, nil when all hold.
        var failedGate: LeftOut.Gate?
        var fragility: FragileEstimate?
        var passesGates: Bool { failedGate == nil }
    }

    /// The workload's real execution time (pg_stat_statements or logs), for `minimumTimeShare`.
    private lazy var workloadMs = statements.reduce(0.0) { $0 + $1.query.totalMs }

    /// The call-weighted saving of going from `current` to `next`, and whether the gates hold: some
    /// statement at least 20% cheaper than with `current`, none more than 10% dearer than with no new
    /// index, its gain not resting on a fragile row estimate (`robustnessCheck`), and the statements
    /// that gain not negligible in real time. Nil when HypoPG rejects the option.
    func evaluate(from current: [IndexCandidate], to next: [IndexCandidate], option: IndexCandidate) throws -> Step? {
        var saving = 0.0
        var gainedMs = 0.0
        var gained = false
        var rose = false
        // The same under an underestimated outer side of each nested loop probing the option.
        var robust = Robustness()
        for statement in affected(by: option) {
            let planBefore = try session.plan(statement, with: current)
            let before = planBefore.totalCost
            let plan: PlanSummary
            do {
                plan = try session.plan(statement, with: next)
            } catch let error as PostgresError {
                rejected[option] = error.message
                return nil
            }
            let after = plan.totalCost
            saving += statement.weight * (before - after)
            if Self.gains(before: before, after: after) {
                gained = true
                gainedMs += statement.query.totalMs
            }
            if robustnessCheck {
                robust.add(FragileEstimates.underestimated(option, statement: statement, planWith: plan, planWithout: planBefore),
                           weight: statement.weight, milliseconds: statement.query.totalMs,
                           before: FragileEstimates.underestimatedCost(planBefore), after: FragileEstimates.underestimatedCost(plan))
            }
            // A rise is judged against today's plan (no new index), not against the search's
            // intermediate set: widening an index may cost one statement a little of what an
            // earlier step gave it, which the summed saving already weighs.
            if after > (try cost(statement, [])) * (1 + Self.toleratedRise) { rose = true }
        }
        let relevant = workloadMs <= 0 || gainedMs >= Self.minimumTimeShare * workloadMs
        let gate: LeftOut.Gate? = !gained ? .noGain : rose ? .rise : !robust.survives ? .fragile : !relevant ? .negligibleTime : nil
        return Step(saving: saving, robustSaving: robustnessCheck ? robust.netSaving : saving, failedGate: gate,
                    fragility: gate == .fragile ? robust.worst : nil)
    }

    /// At least `requiredGain` cheaper, and by `minimumSavingPerCall`.
    static func gains(before: Double, after: Double) -> Bool {
        after <= before * (1 - requiredGain) && before - after >= minimumSavingPerCall
    }

    /// The gain of an option recomputed with the statements whose plans probe it from a fragile
    /// estimate costed under the underestimate (`FragileEstimates`). It survives when some statement
    /// still gains and what the gaining statements save exceeds `underestimateFactor` times what the
    /// others lose: an index whose gain is robust and large (a correlated subquery probed once per
    /// row of a plain scan, TPC-H's Q17 and Q20) is not given up for another statement's fragile
    /// loop, but a loss is not traded for a gain of the same order, because the loss at this factor
    /// is itself a lower bound: a loop's cost grows with the error, and errors beyond 10x are common
    /// in queries of several joins (on TPC-H SF1, `lineitem (l_suppkey)` kept on a summed gain made
    /// Q5 ten times slower: 2.6 s to 26.6 s).
    ///
    /// Saving and loss are weighed in each statement's real time, scaled by how much cheaper or
    /// dearer its plan gets, when every statement the option touches was timed: estimated costs
    /// are not comparable across statements when one estimate is pathological (TPC-H's Q20 without
    /// an index: 1.9e9 cost units for a minute's run, which outweighed Q5's sevenfold loss).
    struct Robustness {
        private var saving = 0.0
        private var loss = 0.0
        private var savingMs = 0.0
        private var lossMs = 0.0
        private var untimed = false
        private var gained = false
        private var fragileFound = false
        /// The statement the underestimate hurts most, for the reason.
        private(set) var worst: FragileEstimate?

        /// `before` and `after` are the statement's costs without and with the option under the
        /// underestimate; `milliseconds` its real time in the workload (zero when not timed).
        mutating func add(_ underestimate: FragileEstimate?, weight: Double, milliseconds: Double, before without: Double,
                          after with: Double) {
            if with <= without { saving += weight * (without - with) } else { loss += weight * (with - without) }
            if milliseconds > 0, without > 0 {
                let change = milliseconds * (without - with) / without
                if change >= 0 { savingMs += change } else { lossMs -= change }
            } else {
                untimed = true
            }
            if IndexSelector.gains(before: without, after: with) { gained = true }
            guard let underestimate else { return }
            fragileFound = true
            let rise = { (f: FragileEstimate) in f.costWithUnderestimate - f.costWithout }
            if worst.map({ rise(underestimate) > rise($0) }) ?? true { worst = underestimate }
        }

        var survives: Bool {
            guard fragileFound else { return true }
            guard gained else { return false }
            return untimed ? saving > FragileEstimates.underestimateFactor * loss
                : savingMs > FragileEstimates.underestimateFactor * lossMs
        }

        /// The call-weighted saving under the underestimate.
        var netSaving: Double { saving - loss }
    }

    /// Drops chosen indexes that a later, wider or complementary choice made pointless: each kept
    /// index must still pass the gates against the final set without it.
    func pruned(_ chosen: [IndexCandidate]) throws -> [IndexCandidate] {
        var kept = chosen
        for index in chosen.reversed() {
            let without = kept.filter { $0 != index }
            if let step = try evaluate(from: without, to: kept, option: index),
               step.passesGates, step.robustSaving > writePenalty(from: without, to: kept, table: index.table) { continue }
            trace("pruned \(index)")
            kept = without
        }
        return kept
    }
}
