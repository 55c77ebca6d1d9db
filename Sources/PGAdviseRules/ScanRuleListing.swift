import PGAdviseCore

/// The live scan's usage and plan rules (Rules/Usage, Rules/Plan), described for listing and docs.
var scanRuleDescriptions: [RuleDescription] {
    scanRules.map { rule in
        let type = type(of: rule)
        return RuleDescription(id: type.id, severity: type.severity, category: type.category, summary: type.summary,
                               solution: "Reported by `pgadvise scan` with the fix for the table or index it names.",
                               scope: .scan)
    }
}
