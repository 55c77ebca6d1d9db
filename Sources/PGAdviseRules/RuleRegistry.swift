import PGAdviseCore

/// One entry of the registry: a rule the engine applies (to a statement, the catalog, or what a live
/// scan read), or the description of a rule applied elsewhere (by `pgadvise logs`) so that it is
/// listed and documented with the rest.
public enum RegisteredRule: Sendable {
    case query(any QueryRule)
    case catalog(any CatalogRule)
    case scan(any ScanRule)
    case workload(any WorkloadRule)
    case described(RuleDescription)
    case connection(any ConnectionRule)
    case plan(any PlanRule)

    public var description: RuleDescription {
        switch self {
        case let .query(rule): return type(of: rule).description
        case let .catalog(rule): return type(of: rule).description
        case let .scan(rule): return type(of: rule).description
        case let .workload(rule): return type(of: rule).description
        case let .described(description): return description
        case let .connection(rule): return type(of: rule).description
        case let .plan(rule): return type(of: rule).description
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
    .scan(InvalidIndexRule()),
    .scan(UnusedIndexRule()),
    .scan(SeqScanHeavyTableRule()),
    .scan(NeverAnalyzedTableRule()),
    .scan(StaleStatisticsRule()),
    .scan(PgStatStatementsMissingRule()),
    .scan(SeqScanLargeTableRule()),
    .scan(SortWithoutIndexRule()),
    .workload(NPlusOneRule()),
    .described(ParseErrorRule.description),
    .connection(IdleInTransactionRule()),
    .connection(OversizedMaxConnectionsRule()),
    .connection(ConnectionChurnRule()),
    .connection(ManyIdleConnectionsRule()),
    .plan(RowMisestimateRule()),
    .plan(DiskSpillRule()),
    .plan(LossyBitmapRule()),
    .plan(FilterRemovesMostRowsRule()),
    .plan(IndexFilterRule()),
    .plan(NestedLoopManyLoopsRule()),
    .plan(HeapFetchesRule()),
    .plan(WorkersNotLaunchedRule()),
    .plan(JITOverheadRule()),
    .plan(SlowPlanningRule()),
    .plan(LargeOffsetRule()),
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


    public static var planRules: [any PlanRule] {
        ruleRegistry.compactMap { if case let .plan(rule) = $0 { return rule } else { return nil } }
    }

    public static var connectionRules: [any ConnectionRule] {
        ruleRegistry.compactMap { if case let .connection(rule) = $0 { return rule } else { return nil } }
    }

    /// The usage and plan rules `pgadvise scan` applies, in registry order.
    public static var scanRules: [any ScanRule] {
        ruleRegistry.compactMap { if case let .scan(rule) = $0 { return rule } else { return nil } }
    }

    /// Every rule's description, sorted by id.
    public static var descriptions: [RuleDescription] {
        ruleRegistry.map(\.description).sorted { $0.id < $1.id }
    }

    public static func description(id: String) -> RuleDescription? { descriptions.first { $0.id == id } }
}

