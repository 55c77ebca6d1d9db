import Foundation
@testable import PGAdviseAdvisor
import PGAdviseCore
import Testing

/// A nested loop probing an index from a fragile outer estimate is costed, under the underestimate,
/// with ten times the outer rows and a random page read per heap page its rows lie on.
struct IndexProbeTests {
    /// The loop of TPC-H Q5 at SF1 with a hypothetical `lineitem (l_suppkey)`: 2,000 suppliers of
    /// one region (a join of supplier, nation and region) each probe 601 lineitem rows, which the
    /// planner prices at 60.83, a tenth of a page per row, as if the pages stayed cached from probe
    /// to probe. The real plan ran 0.7 s without the index and 5.0 s with it.
    static func q5(inner: String = probeScan(rows: 601, cost: 60.83)) -> String {
        """
        [{"Plan": {"Node Type": "Nested Loop", "Join Type": "Inner", "Startup Cost": 0.49, "Total Cost": 134576.17,
          "Plan Rows": 1200091, "Plan Width": 50,
          "Plans": [
            {"Node Type": "Nested Loop", "Parent Relationship": "Outer", "Join Type": "Inner", "Startup Cost": 0.43,
             "Total Cost": 895.00, "Plan Rows": 2000, "Plan Width": 38, "Join Filter": "(nation.n_regionkey = region.r_regionkey)",
             "Plans": [
               {"Node Type": "Index Scan", "Parent Relationship": "Outer", "Index Name": "supplier_pkey",
                "Relation Name": "supplier", "Alias": "supplier", "Startup Cost": 0.29, "Total Cost": 495.43,
                "Plan Rows": 10000, "Plan Width": 8},
               {"Node Type": "Seq Scan", "Parent Relationship": "Inner", "Relation Name": "region", "Alias": "region",
                "Startup Cost": 0.00, "Total Cost": 1.06, "Plan Rows": 1, "Plan Width": 4, "Filter": "(r_name = 'ASIA'::bpchar)"}]},
            \(inner)]}}]
        """
    }

    static func probeScan(rows: Int, cost: Double, type: String = "Index Scan") -> String {
        """
        {"Node Type": "\(type)", "Parent Relationship": "Inner", "Index Name": "<13556>btree_lineitem_l_suppkey",
         "Relation Name": "lineitem", "Alias": "lineitem", "Startup Cost": 0.06, "Total Cost": \(cost),
         "Plan Rows": \(rows), "Plan Width": 20, "Index Cond": "(l_suppkey = supplier.s_suppkey)"}
        """
    }

    @Test func eachHeapRowOfAProbeIsARandomPageUnderTheUnderestimate() throws {
        let plan = try #require(WhatIfSession.summarize(explainJSON: Self.q5()))
        let probe = try #require(plan.probes.first)
        #expect(plan.probes.count == 1 && probe.outerIsJoin && probe.outerEstimateIsFragile)
        #expect(probe.outerRows == 2000 && probe.costPerProbe == 60.83 && probe.heapRowsPerProbe == 601 && probe.relation == "lineitem")
        // 2,000 x (10 x 601 x 4 - 60.83) on top of the plan: 4.8 million heap reads, not 121,660 cost units.
        #expect(abs(FragileEstimates.underestimatedCost(plan) - (134576.17 + 47_958_340)) < 0.01)
    }

    /// Rows of a table loaded in the index's order lie together: an order's four line items in a
    /// table of 60 rows a page are one page read, a supplier's 601 scattered rows are 601.
    @Test func heapPagesFollowTheLeadingColumnsCorrelation() throws {
        #expect(FragileEstimates.heapPages(rows: 4, correlation: 1, rowsPerPage: 60) == 1)
        #expect(FragileEstimates.heapPages(rows: 601, correlation: 0, rowsPerPage: 60) == 601)
        #expect(abs(FragileEstimates.heapPages(rows: 601, correlation: -0.5, rowsPerPage: 60) - (601 * 0.75 + 601.0 / 60 * 0.25)) < 1e-9)
        var plan = try #require(WhatIfSession.summarize(explainJSON: Self.q5()))
        plan.probes[0].heapPagesPerProbe = 100
        // 2,000 x (10 x 100 pages x 4 - 60.83).
        #expect(abs(FragileEstimates.underestimatedCost(plan) - (134576.17 + 2000 * (4000 - 60.83))) < 0.01)
        // Fewer pages than the planner's own price per probe leave its price: 2,000 x 9 x 60.83.
        plan.probes[0].heapPagesPerProbe = 10
        #expect(abs(FragileEstimates.underestimatedCost(plan) - (134576.17 + 2000 * 9 * 60.83)) < 0.01)
    }

    /// A probe that returns one row is what the planner costs well: only the outer rows grow.
    @Test func aUniqueLookupGrowsWithTheOuterRowsOnly() throws {
        let plan = try #require(WhatIfSession.summarize(explainJSON: Self.q5(inner: Self.probeScan(rows: 1, cost: 0.43))))
        #expect(plan.probes.first?.heapRowsPerProbe == 0)
        #expect(abs(FragileEstimates.underestimatedCost(plan) - (134576.17 + 9 * 2000 * 0.43)) < 0.01)
    }

    /// An index-only probe reads no heap rows, and a Memoize in front of the probe answers repeated
    /// keys from its cache: neither is charged per row.
    @Test func indexOnlyAndMemoizedProbesAreNotChargedPerRow() throws {
        let indexOnly = try #require(WhatIfSession.summarize(explainJSON: Self.q5(inner: Self.probeScan(rows: 601, cost: 20.5, type: "Index Only Scan"))))
        #expect(indexOnly.probes.first?.heapRowsPerProbe == 0)
        let memoize = """
            {"Node Type": "Memoize", "Parent Relationship": "Inner", "Startup Cost": 0.07, "Total Cost": 61.0, "Plan Rows": 601,
             "Plan Width": 20, "Plans": [\(Self.probeScan(rows: 601, cost: 60.83).replacingOccurrences(of: "\"Inner\"", with: "\"Outer\""))]}
            """
        let memoized = try #require(WhatIfSession.summarize(explainJSON: Self.q5(inner: memoize)))
        #expect(memoized.probes.first?.heapRowsPerProbe == 0 && memoized.probes.first?.costPerProbe == 61.0)
    }

    /// Saving and loss are weighed in real time when every statement was timed: a gain of a billion
    /// cost units on a statement that ran for a minute does not buy a loss that multiplies a 0.7 s
    /// statement's time by 240; in cost units alone it would.
    @Test func savingAndLossAreWeighedInRealTime() {
        var timed = IndexSelector.Robustness()
        timed.add(nil, weight: 1, milliseconds: 60_000, before: 1.9e9, after: 95_000)
        timed.add(Self.fragile, weight: 1, milliseconds: 700, before: 200_000, after: 48_200_000)
        #expect(!timed.survives)
        var untimed = IndexSelector.Robustness()
        untimed.add(nil, weight: 1, milliseconds: 0, before: 1.9e9, after: 95_000)
        untimed.add(Self.fragile, weight: 1, milliseconds: 700, before: 200_000, after: 48_200_000)
        #expect(untimed.survives)
        // A loss that real time says is small next to the gain is still traded.
        var small = IndexSelector.Robustness()
        small.add(nil, weight: 1, milliseconds: 60_000, before: 1.9e9, after: 95_000)
        small.add(Self.fragile, weight: 1, milliseconds: 700, before: 200_000, after: 300_000)
        #expect(small.survives)
    }

    /// The reason speaks of the pages a probe's rows lie on, which the underestimate is charged for,
    /// not of its rows, when the index's order packs them together.
    @Test func theReasonCountsThePagesAProbeReads() {
        var scattered = Self.fragile
        scattered.heapRowsPerProbe = 601
        scattered.heapPagesPerProbe = 601
        #expect(FragileEstimates.reason(scattered).contains(
            "as such estimates often are, and each of the 601 table rows a probe returns is a page read of its own (the planner "))
        var packed = scattered
        packed.heapPagesPerProbe = 40.2
        #expect(FragileEstimates.reason(packed).contains(
            "as such estimates often are, and the 601 table rows a probe returns lie on about 40 pages, each a page read of its own (the planner "))
        packed.heapPagesPerProbe = 1
        #expect(FragileEstimates.reason(packed).contains("returns lie on about 1 page, a page read (the planner assumes"))
    }

    static let fragile = FragileEstimate(fingerprint: "q5", outerRows: 2000, outerTables: ["supplier", "region"], outerIsJoin: true,
                                         costPerProbe: 60.83, errorFactor: 10, costWithout: 200_000, costWith: 190_000,
                                         costWithUnderestimate: 48_200_000)
}
