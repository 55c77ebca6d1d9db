import PGAdviseCore
import PGAdviseRules

/// Two plans of one statement side by side (`explain --compare`, and each statement `indexes
/// --measure` times before and after an index): execution and planning time, buffers, the nodes that
/// changed, and the insights that went away or appeared, with a one-line verdict.
public enum PlanComparer {
    /// Before/after plan → comparison: times, buffers, node changes, insights resolved and introduced.
    public static func compare(before: Plan, after: Plan, beforeSource: String = "before", afterSource: String = "after") -> PlanComparison {
        let oldAnalysis = AnalyzedPlan(before), newAnalysis = AnalyzedPlan(after)
        let oldFindings = insights(oldAnalysis, source: beforeSource), newFindings = insights(newAnalysis, source: afterSource)
        let changes = PlanMatcher(before: oldAnalysis.nodes, after: newAnalysis.nodes).changes()
        let key = { (f: Finding) in "\(f.rule)|\(f.node ?? "")" }
        let oldKeys = Set(oldFindings.map(key)), newKeys = Set(newFindings.map(key))
        let resolved = oldFindings.filter { !newKeys.contains(key($0)) }
        let introduced = newFindings.filter { !oldKeys.contains(key($0)) }
        let beforeSide = PlanSide(source: beforeSource, analysis: oldAnalysis, findings: oldFindings)
        let afterSide = PlanSide(source: afterSource, analysis: newAnalysis, findings: newFindings)
        return PlanComparison(schemaVersion: jsonSchemaVersion, before: beforeSide, after: afterSide, changes: changes,
                              findingsResolved: resolved, findingsIntroduced: introduced,
                              verdict: verdict(beforeSide, afterSide, changes: changes, resolved: resolved, introduced: introduced))
    }

    /// The plan insights of one side, each pointing at the side it came from.
    static func insights(_ analysis: AnalyzedPlan, source: String) -> [Finding] {
        PlanRuleEngine.check(analysis).findings.map { finding in
            var located = finding
            located.file = source
            return located
        }
    }

    static func verdict(_ before: PlanSide, _ after: PlanSide, changes: [NodeChange], resolved: [Finding], introduced: [Finding]) -> String {
        var parts: [String] = []
        if let old = before.executionTimeMs, let new = after.executionTimeMs, old > 0, new > 0 {
            let ratio = old / new
            let trend = ratio >= 1.1 ? "Faster" : ratio <= 1 / 1.1 ? "Slower" : "About the same"
            let factor = ratio >= 1 ? String(format: "%.1fx", ratio) : String(format: "%.1fx", 1 / ratio)
            parts.append("\(trend): \(formatDuration(ms: old)) → \(formatDuration(ms: new))" + (trend == "About the same" ? "" : " (\(factor))"))
        } else {
            let trend = after.totalCost < before.totalCost * 0.9 ? "Cheaper" : after.totalCost > before.totalCost * 1.1 ? "Costlier" : "Same cost"
            parts.append("\(trend) (estimates only): cost \(Int(before.totalCost.rounded())) → \(Int(after.totalCost.rounded()))")
        }
        if let main = changes.first(where: { $0.kind == "changed" }) { parts.append(main.summary) }
        if !resolved.isEmpty || !introduced.isEmpty {
            parts.append("\(resolved.count) insight(s) resolved, \(introduced.count) new")
        }
        return parts.joined(separator: "; ") + "."
    }
}

/// Pairs the nodes of two plans: first by the relation they read (and its alias), then the others
/// by node type in plan order, so `Seq Scan on t` and `Index Scan using t_status on t` pair up.
struct PlanMatcher {
    let before: [AnalyzedNode]
    let after: [AnalyzedNode]

    func changes() -> [NodeChange] {
        var pairs: [(Int, Int)] = []
        var usedAfter = Set<Int>(), usedBefore = Set<Int>()
        func pair(_ same: (AnalyzedNode, AnalyzedNode) -> Bool) {
            for old in before where !usedBefore.contains(old.index) {
                guard let new = after.first(where: { !usedAfter.contains($0.index) && same(old, $0) }) else { continue }
                pairs.append((old.index, new.index)); usedBefore.insert(old.index); usedAfter.insert(new.index)
            }
        }
        pair { $0.node.label == $1.node.label && $0.depth == $1.depth }
        pair { a, b in a.node.relationName != nil && a.node.relationName == b.node.relationName && a.node.alias == b.node.alias }
        pair { $0.node.label == $1.node.label }
        pair { $0.node.nodeType == $1.node.nodeType }
        var changes: [NodeChange] = pairs.sorted { $0.1 < $1.1 }.compactMap { change(before[$0.0], after[$0.1]) }
        changes += before.filter { !usedBefore.contains($0.index) }.map {
            NodeChange(kind: "removed", before: $0.node.label, relation: $0.node.relationName, summary: "\($0.node.label) is gone")
        }
        changes += after.filter { !usedAfter.contains($0.index) }.map {
            NodeChange(kind: "added", after: $0.node.label, relation: $0.node.relationName, summary: "new \($0.node.label)")
        }
        return changes
    }

    /// What differs between two paired nodes, or nil when nothing worth a line did.
    private func change(_ old: AnalyzedNode, _ new: AnalyzedNode) -> NodeChange? {
        let relabeled = old.node.label != new.node.label
        let oldRows = old.node.planRows, newRows = new.node.planRows
        let estimateMoved = max(oldRows, 1) / max(newRows, 1) >= 2 || max(newRows, 1) / max(oldRows, 1) >= 2
        guard relabeled || estimateMoved else { return nil }
        let summary = relabeled
            ? "\(old.node.label) → \(new.node.label)"
            : "\(new.node.label): estimated rows \(formatCount(Int(oldRows.rounded()))) → \(formatCount(Int(newRows.rounded())))"
        var change = NodeChange(kind: relabeled ? "changed" : "estimate", before: old.node.label, after: new.node.label,
                                relation: new.node.relationName ?? old.node.relationName, summary: summary)
        change.beforeExclusiveMs = old.metrics.exclusiveTimeMs; change.afterExclusiveMs = new.metrics.exclusiveTimeMs
        change.beforeEstimatedRows = oldRows; change.afterEstimatedRows = newRows
        change.beforeActualRows = old.node.actualRows; change.afterActualRows = new.node.actualRows
        return change
    }
}
