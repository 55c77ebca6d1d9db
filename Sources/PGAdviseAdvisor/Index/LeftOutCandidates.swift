import Foundation
import PGAdviseCore

/// Why the search left candidates out, in the report's terms: an empty list of recommendations must
/// say which gate stopped the best candidates, with the figures it weighed.
extension IndexAdvisor {
    /// How many left-out candidates the report lists: enough to show the runners-up of each table
    /// of a small workload without burying the recommendations.
    static let leftOutListed = 5

    func leftOutCandidates(_ selector: IndexSelector, chosen: [IndexCandidate]) -> [RejectedCandidate] {
        var out: [(RejectedCandidate, Double)] = []
        var fragile: [(option: IndexCandidate, rejected: RejectedCandidate)] = []
        for (option, verdict) in selector.leftOut {
            if chosen.contains(where: { option.isPrefix(of: $0) || option.hasSameKeys(as: $0) || $0 == option }) { continue }
            let source = verdict.gate == .writePenalty || verdict.writePenalty > 0 ? writePenaltySource(option, chosen: chosen) : nil
            let rejected = RejectedCandidate(
                definition: option.definition(), table: option.table.description, gate: verdict.gate.rawValue,
                reason: reason(verdict, source: source), estimatedSaving: verdict.gate == .budget ? nil : verdict.saving,
                writePenalty: verdict.writePenalty, writePenaltySource: source, sizeBytes: verdict.sizeDelta,
                budgetLeftBytes: verdict.budgetLeft, fragileEstimate: verdict.fragility)
            if verdict.gate == .fragile { fragile.append((option, rejected)) } else { out.append((rejected, verdict.saving)) }
        }
        for (option, message) in selector.rejected {
            out.append((RejectedCandidate(definition: option.definition(), table: option.table.description, gate: "not costable",
                                          reason: "HypoPG or the planner rejected it: \(message)", sizeBytes: estimatedSize(option),
                                          budgetLeftBytes: budget), 0))
        }
        return narrowestFragile(fragile) + out.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.definition < $1.0.definition }
            .prefix(Self.leftOutListed).map(\.0)
    }

    /// A GIN proposal, which HypoPG cannot cost and so is not in the search, that did not fit in what
    /// the search left of the budget.
    func invertedOverBudget(_ candidate: IndexCandidate, size: Int64, budgetLeft: Int64) -> RejectedCandidate {
        let verdict = IndexSelector.LeftOut(gate: .budget, saving: 0, writePenalty: 0, floor: 0, sizeDelta: size, budgetLeft: budgetLeft)
        return RejectedCandidate(definition: candidate.definition(), table: candidate.table.description, gate: verdict.gate.rawValue,
                                 reason: reason(verdict, source: nil) + " (a GIN index: HypoPG cannot cost it, so it gets what "
                                     + "the costed indexes leave, after at most half the budget set aside for GIN)",
                                 sizeBytes: size, budgetLeftBytes: budgetLeft)
    }

    /// Every fragile candidate is listed, first and outside the cap: its estimate alone would have
    /// recommended it. Its wider forms probe the same nested loop: the narrowest of each table and
    /// leading key stands for them.
    private func narrowestFragile(_ fragile: [(option: IndexCandidate, rejected: RejectedCandidate)]) -> [RejectedCandidate] {
        let byLeadingKey = Dictionary(grouping: fragile) { "\($0.option.table) \($0.option.keys.first?.sql ?? "")" }
        return byLeadingKey.values.compactMap { forms in
            forms.min { a, b in
                let (widthA, widthB) = (a.option.keys.count + a.option.include.count, b.option.keys.count + b.option.include.count)
                return widthA != widthB ? widthA < widthB : a.rejected.definition < b.rejected.definition
            }?.rejected
        }.sorted { $0.definition < $1.definition }
    }

    private func reason(_ verdict: IndexSelector.LeftOut, source: String?) -> String {
        let saving = formatCost(verdict.saving)
        switch verdict.gate {
        case .budget:
            return "needs \(formatSize(verdict.sizeDelta)) and \(formatSize(max(0, verdict.budgetLeft))) of the budget is left"
        case .writePenalty:
            return "saves \(saving) (calls x planner cost) on reads, but adds \(formatCost(verdict.writePenalty)) of index "
                + "maintenance" + (source.map { " (\($0))" } ?? "")
        case .smallSaving:
            return "saves \(saving) net of \(formatCost(verdict.writePenalty)) of writes, under the \(formatCost(verdict.floor)) "
                + "(\(IndexSelector.minimumRemainingShare * 100)% of the workload's remaining estimated cost) a step must save"
        case .noGain:
            return "no statement gets \(Int(IndexSelector.requiredGain * 100))% and \(Int(IndexSelector.minimumSavingPerCall)) "
                + "cost units per call cheaper with it"
        case .rise:
            return "makes a statement more than \(Int(IndexSelector.toleratedRise * 100))% dearer than today's plan"
        case .fragile:
            return verdict.fragility.map(FragileEstimates.reason) ?? "its gain rests on a fragile row estimate"
        case .negligibleTime:
            return "the statements it speeds up take under \(IndexSelector.minimumTimeShare * 100)% of the workload's time"
        }
    }

    /// `1 statement, 300,000 rows, of which 1 bulk load charged as an index build`, or the counters'
    /// extrapolation.
    func writePenaltySource(_ candidate: IndexCandidate, chosen: [IndexCandidate]) -> String {
        let overhead = writes.overhead(of: candidate, chosen: chosen)
        if let extrapolation = overhead.extrapolation { return "from pg_stat_user_tables: " + extrapolation }
        let statements = overhead.statements
        let bulk = statements.filter { $0.bulkLoad == true }.count
        var text = "from the workload's DML: \(statements.count) statement\(statements.count == 1 ? "" : "s") writing "
            + "\(formatCount(overhead.rowsWritten)) rows"
        if bulk > 0 { text += ", of which \(bulk) bulk load\(bulk == 1 ? "" : "s") charged at most as rebuilding the index" }
        return text
    }

    private func formatCost(_ value: Double) -> String { formatCount(Int64(value.rounded())) }

    private func formatCount(_ value: Int64) -> String { value.formatted(.number.locale(Locale(identifier: "en_US"))) }

    /// Megabytes, as the budget is usually given (`--budget 250MB`).
    private func formatSize(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}
