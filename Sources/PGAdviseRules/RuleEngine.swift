import PGAdviseCore
import PGAdviseSQL

/// Applies the registry's rules to each kind of input. Every entry point returns Findings, so that
/// lint, logs and scan report alike.
public enum RuleEngine {
    /// The query rules' violations for one statement, with the rule that found each.
    public static func violations(in shape: QueryShape, catalog: Catalog?,
                                  rules: [any QueryRule] = RuleRegistry.queryRules) -> [(RuleDescription, Violation)] {
        violations(in: shape, context: RuleContext(catalog: catalog), rules: rules)
    }

    public static func violations(in shape: QueryShape, context: RuleContext,
                                  rules: [any QueryRule] = RuleRegistry.queryRules) -> [(RuleDescription, Violation)] {
        guard shape.kind != .utility || shape.indexCreation != nil || shape.definedRelation != nil else { return [] }
        let resolved = context.catalog.map { shape.hasUnresolvedColumns ? shape.resolved(with: $0) : shape } ?? shape
        var out: [(RuleDescription, Violation)] = []
        for rule in rules {
            let found = rule.check(resolved, in: context)
            guard !found.isEmpty else { continue }
            let description = type(of: rule).description
            for violation in found { out.append((description, violation)) }
        }
        return out
    }

    /// Every query rule on every statement of a workload (from logs or pg_stat_statements). Each
    /// finding carries the statement's fingerprint, calls and total time, so reports rank by impact.
    /// The slowest sample's text is checked when there is one: its literals show what `$n` hides
    /// (`LIKE '%x'`, `OFFSET 0`); otherwise the normalized text, where an `OFFSET $n` counts as a
    /// parameter.
    public static func check(workload: Workload, catalog: Catalog? = nil,
                             rules: [any QueryRule] = RuleRegistry.queryRules) -> [Finding] {
        var findings: [Finding] = []
        for query in workload.queries where query.parsed {
            var shapes: [QueryShape]?
            if let sample = query.slowest?.text, case let .success(s) = QueryShape.build(sql: sample) { shapes = s }
            if shapes == nil, case let .success(s) = QueryShape.build(sql: query.normalized) { shapes = s }
            for shape in shapes ?? [] {
                for (description, violation) in violations(in: shape, catalog: catalog, rules: rules) {
                    var finding = description.finding(violation)
                    finding.fingerprint = query.fingerprint
                    finding.calls = query.calls
                    finding.totalMs = query.totalMs
                    if finding.evidence == nil { finding.evidence = shape.text }
                    findings.append(finding)
                }
            }
        }
        return findings.sortedByImpact()
    }

    /// Every scan (usage and plan) rule on what a live scan read; highest impact first.
    public static func check(scan input: ScanRuleInput, rules: [any ScanRule] = RuleRegistry.scanRules) -> [Finding] {
        rules.flatMap { rule in rule.check(input).map(type(of: rule).description.finding) }.sortedByImpact()
    }

    /// Every catalog (schema) rule.
    public static func check(catalog: Catalog, rules: [any CatalogRule] = RuleRegistry.catalogRules) -> [Finding] {
        catalogViolations(catalog, rules: rules).map { $0.0.finding($0.1) }
    }

    public static func catalogViolations(_ catalog: Catalog, rules: [any CatalogRule] = RuleRegistry.catalogRules)
        -> [(RuleDescription, Violation)] {
        var out: [(RuleDescription, Violation)] = []
        for rule in rules {
            let description = type(of: rule).description
            for violation in rule.check(catalog) { out.append((description, violation)) }
        }
        return out
    }
}
