import Foundation
import PGAdviseCore

/// A Nested Loop whose inner side scans an index once per row of its outer side: its cost is the
/// outer rows times the cost of one probe, so it is only as right as the outer row estimate.
public struct IndexProbe: Sendable, Equatable {
    public var indexName: String
    /// The candidate the hypothetical index stands for; set by WhatIfSession, nil for an existing index.
    public var candidate: IndexCandidate?
    public var outerRows: Double
    /// The inner side's estimated cost for one outer row (EXPLAIN gives inner costs per loop).
    public var costPerProbe: Double
    /// Heap rows one probe reads when it reads more than one (a non-unique key, through an Index
    /// Scan or a Bitmap Heap Scan, with no Memoize in between); zero otherwise. The planner costs
    /// repeated probes as if the heap pages they share stayed cached from loop to loop (its index
    /// cost model, after Mackert and Lohman), about a tenth of a page per row on TPC-H's lineitem;
    /// when the table is larger than shared_buffers each of those rows is a buffer read of its own.
    public var heapRowsPerProbe: Double = 0
    /// The table the probe reads.
    public var relation: String?
    /// The heap pages those rows lie on, set by the session from the index's leading column's
    /// physical correlation as the planner weighs it (correlation squared between one page per row
    /// and the rows packed together): an order's four line items of a table loaded in order are
    /// one page, a supplier's 601 are 601. Nil when unknown: a page per row.
    public var heapPagesPerProbe: Double?
    public var outerTables: [String]
    /// The outer side joins tables.
    public var outerIsJoin: Bool
    /// The outer row estimate is a product of selectivities: a join, or a scan filtered by several
    /// conditions (which the planner takes as independent, whatever their correlation).
    public var outerEstimateIsFragile: Bool
}

/// A Limit that stops an index scan once enough rows have passed its Filter: `ORDER BY created_at
/// LIMIT 20` walking an index on created_at and filtering `customer_id = $1`. PostgreSQL charges the
/// share of the scan it expects to read, the limit over the rows it expects to pass, which assumes
/// those rows are spread evenly along the index order. They are not when the filtered column is
/// correlated with the order, or its value is rarer than the statistics say; then the walk reads many
/// times that share, up to the whole index ("LIMIT ... ORDER BY" plans that go wrong are a known
/// planner weakness: the planner assumes the columns are independent, PostgreSQL docs, "Row
/// Estimation Examples" and "Planner Statistics"). An index that serves the filter as well has no
/// such risk.
///
/// The share also hides a second error: the whole scan's cost charges each heap page once however
/// many of its rows the scan returns (its page estimate assumes the pages stay cached), so a short
/// walk is charged a share of those pages while it reads about one heap page per row it walks. A
/// plain index scan that walks the whole table's index (no Index Cond) is therefore costed, under
/// the underestimate, at least one random page read per row walked.
public struct OrderedWalk: Sendable, Equatable {
    public var indexName: String
    /// The table the scan reads, and whether it reads the heap (an Index Scan, not an Index Only
    /// Scan) from the start of the index (no Index Cond).
    public var relation: String?
    public var walksWholeHeapIndex: Bool
    public var scanStartupCost: Double
    public var scanTotalCost: Double
    /// The share of the scan the planner charges the Limit for.
    public var share: Double
    /// Rows the Limit expects the walk to read, filtered out or not (the share of the table's rows),
    /// when `walksWholeHeapIndex`; set by the session, which knows the table's size.
    public var rowsWalked: Double?

    /// What reading `factor` times the share adds to the plan, with at least `randomPageCost` per
    /// row walked, at most the whole scan.
    func addedCost(readingTimes factor: Double, randomPageCost: Double) -> Double {
        let span = scanTotalCost - scanStartupCost
        let planned = share * span
        let underestimated = max(factor * planned, (rowsWalked ?? 0) * randomPageCost)
        return max(0, min(span, underestimated) - planned)
    }
}

/// The robustness check on an index's estimated gain. PostgreSQL estimates a join's rows, and a
/// filter of several conditions, by multiplying selectivities as if independent; Leis et al.,
/// "How Good Are Query Optimizers, Really?" (VLDB 2015), found on the Join Order Benchmark that
/// these estimates are mostly underestimates whose error grows with the number of joins, and that
/// with primary-key indexes only and nested-loop joins disabled most queries ran close to their
/// plans under true cardinalities: the costly mistakes are nested loops chosen on underestimates.
/// A nested loop's cost grows with its outer rows while the hash join it replaces barely changes,
/// so a gain that rests on such a loop is kept only when it survives the outer side returning
/// more rows than planned.
enum FragileEstimates {
    /// How many times too low the outer row estimate is assumed to be: one order of magnitude, an
    /// error Leis et al. found routine for PostgreSQL's estimates of queries joining a few tables.
    static let underestimateFactor = 10.0

    static let joinNodeTypes: Set<String> = ["Nested Loop", "Hash Join", "Merge Join"]

    /// Every Nested Loop of the plan whose inner side (no join itself) reads an index.
    static func probes(in root: PlanNode) -> [IndexProbe] {
        root.allNodes.compactMap { node -> IndexProbe? in
            guard node.nodeType == "Nested Loop", node.children.count == 2 else { return nil }
            let outer = node.children[0], inner = node.children[1]
            let innerNodes = inner.allNodes
            guard !innerNodes.contains(where: { joinNodeTypes.contains($0.nodeType) }),
                  let indexName = innerNodes.lazy.compactMap(\.indexName).first else { return nil }
            let outerNodes = outer.allNodes
            let isJoin = outerNodes.contains { joinNodeTypes.contains($0.nodeType) }
            let conditions = outerNodes.reduce(0) { $0 + conditionCount($1.filter) + conditionCount($1.indexCond) }
            var tables: [String] = []
            for table in outerNodes.compactMap(\.relationName) where !tables.contains(table) { tables.append(table) }
            let heapRows = innerNodes.contains { $0.nodeType == "Memoize" } ? 0
                : innerNodes.filter { ["Index Scan", "Bitmap Heap Scan"].contains($0.nodeType) }.reduce(0) { $0 + $1.planRows }
            return IndexProbe(indexName: indexName, outerRows: outer.planRows, costPerProbe: inner.totalCost,
                              heapRowsPerProbe: heapRows > 1 ? heapRows : 0,
                              relation: innerNodes.lazy.compactMap(\.relationName).first,
                              outerTables: tables, outerIsJoin: isJoin, outerEstimateIsFragile: isJoin || conditions >= 2)
        }
    }

    /// The heap pages `rows` rows found through an index whose leading column has physical
    /// `correlation` lie on, in a table of `rowsPerPage` rows a page: the planner's interpolation
    /// (correlation squared) between a page per row and the rows packed together, at least one.
    static func heapPages(rows: Double, correlation: Double, rowsPerPage: Double) -> Double {
        let packed = max(1, rows / max(1, rowsPerPage))
        let weight = min(1, correlation * correlation)
        return max(1, rows * (1 - weight) + packed * weight)
    }

    /// `((a = $1) AND (b = $2))` holds two conditions; EXPLAIN prints a conjunction with ` AND `.
    private static func conditionCount(_ text: String?) -> Int {
        guard let text, !text.isEmpty else { return 0 }
        return text.components(separatedBy: " AND ").count
    }

    /// A plan's cost once the outer side of each of its nested loops probing an index from a fragile
    /// estimate returns `underestimateFactor` times the rows planned, each probe reading a random
    /// page per heap page its rows lie on (`IndexProbe.heapPagesPerProbe`, else one per row), and
    /// each index walk stopped by a Limit reads `underestimateFactor` times the share of the index
    /// planned (`OrderedWalk`).
    /// Only those nodes' own cost grows; what feeds them and what they feed is left as planned.
    /// Every such node counts, on an existing index too, so that two plans compare under the same
    /// underestimate: a node both share adds the same to both.
    static func underestimatedCost(_ plan: PlanSummary) -> Double {
        let loops = plan.probes.filter(\.outerEstimateIsFragile).reduce(0.0) { sum, probe in
            let perProbe = max(probe.costPerProbe, (probe.heapPagesPerProbe ?? probe.heapRowsPerProbe) * plan.randomPageCost)
            return sum + probe.outerRows * (underestimateFactor * perProbe - probe.costPerProbe)
        }
        let walks = plan.walks.reduce(0.0) { $0 + $1.addedCost(readingTimes: underestimateFactor, randomPageCost: plan.randomPageCost) }
        return plan.totalCost + loops + walks
    }

    /// Every Limit directly over an index scan that filters rows out: the planner charges the share
    /// of the scan it expects to read before the Limit has its rows.
    static func walks(in root: PlanNode) -> [OrderedWalk] {
        root.allNodes.compactMap { node -> OrderedWalk? in
            guard node.nodeType == "Limit", let scan = node.children.first,
                  ["Index Scan", "Index Only Scan"].contains(scan.nodeType), let index = scan.indexName,
                  let filter = scan.filter, !filter.isEmpty else { return nil }
            let span = scan.totalCost - scan.startupCost
            guard span > 0 else { return nil }
            let share = min(1, max(0, (node.totalCost - scan.startupCost) / span))
            guard share < 1 else { return nil }
            return OrderedWalk(indexName: index, relation: scan.relationName,
                               walksWholeHeapIndex: scan.nodeType == "Index Scan" && (scan.indexCond ?? "").isEmpty,
                               scanStartupCost: scan.startupCost, scanTotalCost: scan.totalCost, share: share)
        }
    }

    /// `statement`'s costs with and without `candidate` under the underestimate, when the plan with
    /// it probes it from a fragile estimate. Nil when no such loop probes it: its gain does not
    /// rest on a fragile estimate.
    static func underestimated(_ candidate: IndexCandidate, statement: CostedStatement, planWith: PlanSummary,
                               planWithout: PlanSummary) -> FragileEstimate? {
        let probes = planWith.probes.filter { $0.candidate == candidate && $0.outerEstimateIsFragile }
        guard let main = probes.max(by: { $0.outerRows * $0.costPerProbe < $1.outerRows * $1.costPerProbe }) else { return nil }
        return FragileEstimate(fingerprint: statement.query.fingerprint, outerRows: main.outerRows, outerTables: main.outerTables,
                               outerIsJoin: main.outerIsJoin, costPerProbe: main.costPerProbe,
                               heapRowsPerProbe: main.heapRowsPerProbe > 0 ? main.heapRowsPerProbe : nil,
                               heapPagesPerProbe: main.heapRowsPerProbe > 0 ? (main.heapPagesPerProbe ?? main.heapRowsPerProbe) : nil,
                               errorFactor: underestimateFactor,
                               costWithout: underestimatedCost(planWithout), costWith: planWith.totalCost,
                               costWithUnderestimate: underestimatedCost(planWith))
    }

    /// The reason a DBA reads.
    static func reason(_ fragile: FragileEstimate) -> String {
        let rows = grouped(fragile.outerRows)
        let source = fragile.outerIsJoin ? "a join of \(listed(fragile.outerTables))"
            : "several conditions on \(listed(fragile.outerTables)) taken as independent"
        let factor = Int(fragile.errorFactor)
        var heapRows = ""
        if let rows = fragile.heapRowsPerProbe {
            let pages = fragile.heapPagesPerProbe ?? rows
            let spread = pages.rounded() >= rows.rounded() ? "each of the \(grouped(rows)) table rows a probe returns is a page read of its own"
                : "the \(grouped(rows)) table rows a probe returns lie on about \(grouped(pages)) \(pages < 1.5 ? "page" : "pages"), "
                    + "\(pages < 1.5 ? "a page read" : "each a page read of its own")"
            heapRows = ", and \(spread) (the planner assumes them cached from probe to probe)"
        }
        return "its gain on statement \(fragile.fingerprint) depends on the planner's estimate of \(rows) rows from \(source), "
            + "each probing the index once (a nested loop); if that estimate is \(factor)x too low, as such estimates often "
            + "are\(heapRows), the plan with the index costs \(grouped(fragile.costWithUnderestimate)) against \(grouped(fragile.costWithout)) "
            + "without it (\(grouped(fragile.costWith)) as estimated with it). Run with --measure to decide"
    }

    private static func listed(_ tables: [String]) -> String {
        tables.count <= 1 ? (tables.first ?? "its outer side") : tables.dropLast().joined(separator: ", ") + " and " + tables[tables.count - 1]
    }

    /// A whole number with thousands separators: 1,200,091.
    private static func grouped(_ value: Double) -> String {
        Int64(value.rounded()).formatted(.number.locale(Locale(identifier: "en_US")))
    }
}

extension IndexAdvisor {
    /// For a kept index whose gain survived the check as a whole: each statement whose own plan
    /// with it would cost more than without it under the underestimate, said on the recommendation,
    /// since after CREATE INDEX the planner may choose that plan.
    func fragileEstimateNotes(for index: IndexCandidate, chosen: [IndexCandidate], selector: IndexSelector) throws -> [String] {
        let without = chosen.filter { $0 != index }
        var notes: [String] = []
        for statement in selector.affected(by: index) {
            let plan = try selector.session.plan(statement, with: chosen)
            guard let fragile = FragileEstimates.underestimated(index, statement: statement, planWith: plan,
                                                                planWithout: try selector.session.plan(statement, with: without)),
                  fragile.costWithUnderestimate > fragile.costWithout else { continue }
            notes.append("Kept for its gain elsewhere, which survives the check; but " + FragileEstimates.reason(fragile) + ".")
        }
        return notes
    }
}
