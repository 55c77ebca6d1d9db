import PGAdviseCore

/// One entry of the registry: a rule the engine applies, or the description of a rule applied
/// elsewhere (by `pgadvise logs` or `pgadvise scan`) so that it is listed and documented with the rest.
public enum RegisteredRule: Sendable {
    case query(any QueryRule)
    case catalog(any CatalogRule)
    case workload(any WorkloadRule)
    case described(RuleDescription)

    public var description: RuleDescription {
        switch self {
        case let .query(rule): return type(of: rule).description
        case let .catalog(rule): return type(of: rule).description
        case let .workload(rule): return type(of: rule).description
        case let .described(description): return description
        }
    }
}

/// Every rule pgadvise knows. To add one, write its file under Rules/<Category>/ and append a line.
public let ruleRegistry: [RegisteredRule] = [
    .query(SelectStarRule()),
    .query(FunctionOnIndexedColumnRule()),
    .query(ImplicitCastRule()),
    .query(LeadingWildcardLikeRule()),
    .query(OffsetPaginationRule()),
    .query(NotInSubqueryRule()),
    .query(NullComparisonRule()),
    .query(OrderByRandomRule()),
    .query(LargeInListRule()),
    .query(UnfilteredWriteRule()),
    .query(CartesianJoinRule()),
    .query(NonConcurrentIndexRule()),
    .catalog(MissingForeignKeyIndexRule()),
    .catalog(DuplicateIndexRule()),
    .workload(NPlusOneRule()),
    .described(ParseErrorRule.description),
]

public enum RuleRegistry {
    public static var queryRules: [any QueryRule] {
        ruleRegistry.compactMap { if case let .query(rule) = $0 { return rule } else { return nil } }
    }

    public static var catalogRules: [any CatalogRule] {
        ruleRegistry.compactMap { if case let .catalog(rule) = $0 { return rule } else { return nil } }
    }

    public static var workloadRules: [any WorkloadRule] {
        ruleRegistry.compactMap { if case let .workload(rule) = $0 { return rule } else { return nil } }
    }

    /// Every rule's description, the registry's and the live scan's, sorted by id.
    public static var descriptions: [RuleDescription] {
        var seen = Set<String>()
        return (ruleRegistry.map(\.description) + scanRuleDescriptions)
            .filter { seen.insert($0.id).inserted }
            .sorted { $0.id < $1.id }
    }

    public static func description(id: String) -> RuleDescription? { descriptions.first { $0.id == id } }
}

