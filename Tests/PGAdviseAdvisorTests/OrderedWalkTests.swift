import Foundation
@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseTestSupport
import Testing

/// A Limit that stops a filtered index walk is costed by the planner as the share of the walk it
/// expects to read; under the underestimate it reads ten times that share, at most the whole scan.
struct OrderedWalkTests {
    /// The plan PostgreSQL 15 gave `SELECT * FROM orders WHERE customer_id = 6 ORDER BY created_at DESC
    /// LIMIT 20` with only `orders (created_at) INCLUDE (customer_id, total)`: 4,072 rows were filtered
    /// out before the 20th match (28.6 ms) where the planner expected about 3,700.
    static let walk = """
        [{"Plan": {"Node Type": "Limit", "Startup Cost": 0.42, "Total Cost": 321.79, "Plan Rows": 20, "Plan Width": 71,
          "Plans": [{"Node Type": "Index Scan", "Parent Relationship": "Outer", "Scan Direction": "Backward",
                     "Index Name": "orders_created_at_incl_idx", "Relation Name": "orders", "Alias": "orders",
                     "Startup Cost": 0.42, "Total Cost": 87300.28, "Plan Rows": 5433, "Plan Width": 71,
                     "Filter": "(customer_id = 6)"}]}}]
        """

    /// The same statement served by `orders (customer_id, created_at DESC)`: no filter, no risk.
    static let served = """
        [{"Plan": {"Node Type": "Limit", "Startup Cost": 0.42, "Total Cost": 66.81, "Plan Rows": 20, "Plan Width": 71,
          "Plans": [{"Node Type": "Index Scan", "Parent Relationship": "Outer", "Scan Direction": "Forward",
                     "Index Name": "orders_customer_id_created_at_idx", "Relation Name": "orders", "Alias": "orders",
                     "Startup Cost": 0.42, "Total Cost": 18035.26, "Plan Rows": 5433, "Plan Width": 71,
                     "Index Cond": "(customer_id = 6)"}]}}]
        """

    @Test func aFilteredWalkUnderALimitCostsTenTimesItsShareUnderTheUnderestimate() throws {
        let plan = try #require(WhatIfSession.summarize(explainJSON: Self.walk))
        let walk = try #require(plan.walks.first)
        #expect(walk.indexName == "orders_created_at_incl_idx")
        #expect(abs(walk.share - 321.37 / 87299.86) < 1e-9)
        // 0.42 + 10 x 321.37: the walk's share read ten times over.
        #expect(abs(FragileEstimates.underestimatedCost(plan) - 3214.12) < 0.01)
    }

    @Test func anIndexThatServesTheFilterHasNoWalk() throws {
        let plan = try #require(WhatIfSession.summarize(explainJSON: Self.served))
        #expect(plan.walks.isEmpty)
        #expect(FragileEstimates.underestimatedCost(plan) == plan.totalCost)
    }

    @Test func theWalkNeverCostsMoreThanTheWholeScan() throws {
        let plan = try #require(WhatIfSession.summarize(explainJSON: Self.walk.replacingOccurrences(of: "321.79", with: "43650.35")))
        #expect(abs(FragileEstimates.underestimatedCost(plan) - 87300.28) < 0.01)
    }
}
