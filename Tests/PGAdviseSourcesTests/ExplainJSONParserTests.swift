import PGAdviseCore
@testable import PGAdviseSources
import Testing

@Suite struct ExplainJSONParserTests {
    /// EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output of a top-N query, as PostgreSQL 15 prints it.
    static let analyzed = """
        [
          {
            "Plan": {
              "Node Type": "Limit", "Parallel Aware": false, "Async Capable": false,
              "Startup Cost": 1953.48, "Total Cost": 1953.51, "Plan Rows": 10, "Plan Width": 40,
              "Actual Startup Time": 12.1, "Actual Total Time": 12.2, "Actual Rows": 10, "Actual Loops": 1,
              "Shared Hit Blocks": 834, "Shared Read Blocks": 0,
              "Plans": [
                {
                  "Node Type": "Sort", "Parent Relationship": "Outer", "Startup Cost": 1953.48,
                  "Total Cost": 1955.98, "Plan Rows": 1000, "Plan Width": 40, "Actual Total Time": 12.19,
                  "Actual Rows": 10, "Actual Loops": 1, "Sort Key": ["placed_at DESC"],
                  "Sort Method": "top-N heapsort",
                  "Plans": [
                    {
                      "Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "orders",
                      "Schema": "public", "Alias": "o", "Startup Cost": 0.00, "Total Cost": 1834.00,
                      "Plan Rows": 1000, "Plan Width": 40, "Actual Total Time": 11.5, "Actual Rows": 1000,
                      "Actual Loops": 1, "Filter": "(status = 'open'::text)", "Rows Removed by Filter": 99000,
                      "Shared Hit Blocks": 834, "Shared Read Blocks": 0
                    }
                  ]
                }
              ]
            },
            "Planning Time": 0.15,
            "Triggers": [],
            "Execution Time": 12.31
          }
        ]
        """

    @Test func readsAnAnalyzedPlanTree() throws {
        let plan = try ExplainJSONParser.parse(Self.analyzed)
        #expect(plan.planningTimeMs == 0.15)
        #expect(plan.executionTimeMs == 12.31)
        #expect(plan.root.allNodes.map(\.nodeType) == ["Limit", "Sort", "Seq Scan"])
        let sort = plan.root.children[0]
        #expect(sort.sortKeys == ["placed_at DESC"])
        #expect(sort.sortMethod == "top-N heapsort")
        let scan = sort.children[0]
        #expect(scan.relationName == "orders" && scan.schema == "public" && scan.alias == "o")
        #expect(scan.filter == "(status = 'open'::text)")
        #expect(scan.rowsRemovedByFilter == 99000)
        #expect(scan.totalCost == 1834 && scan.planRows == 1000 && scan.planWidth == 40)
        #expect(scan.actualRows == 1000 && scan.actualLoops == 1 && scan.actualTotalTimeMs == 11.5)
        #expect(scan.sharedHitBlocks == 834 && scan.sharedReadBlocks == 0)
    }

    /// auto_explain with `log_format = json` logs one object (no array) after a duration prefix.
    @Test func readsAnAutoExplainLogEntry() throws {
        let logged = """
            duration: 1021.337 ms  plan:
            {
              "Query Text": "SELECT * FROM orders WHERE customer_id = 42",
              "Plan": {
                "Node Type": "Index Scan", "Scan Direction": "Forward", "Index Name": "orders_customer_id_idx",
                "Relation Name": "orders", "Alias": "orders", "Startup Cost": 0.42, "Total Cost": 8.44,
                "Plan Rows": 1, "Plan Width": 40, "Index Cond": "(customer_id = 42)"
              }
            }
            """
        let plan = try ExplainJSONParser.parse(logged)
        #expect(plan.root.nodeType == "Index Scan")
        #expect(plan.root.indexName == "orders_customer_id_idx")
        #expect(plan.root.indexCondition == "(customer_id = 42)")
        #expect(plan.executionTimeMs == nil)
    }

    @Test func oneEntryPerStatement() throws {
        let two = """
            [{"Plan": {"Node Type": "Result", "Total Cost": 0.01, "Plan Rows": 1, "Plan Width": 4}},
             {"Plan": {"Node Type": "Hash Join", "Join Type": "Inner", "Hash Cond": "(o.customer_id = c.id)",
                       "Plans": [{"Node Type": "Seq Scan", "Relation Name": "orders"},
                                 {"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "customers"}]}]}}]
            """
        let plans = try ExplainJSONParser.parseAll(two)
        #expect(plans.count == 2)
        #expect(plans[1].root.joinType == "Inner")
        #expect(plans[1].root.indexCondition == "(o.customer_id = c.id)")
        #expect(plans[1].root.allNodes.compactMap(\.relationName) == ["orders", "customers"])
    }

    @Test func textThatIsNotAJSONPlanIsAnInputError() {
        for bad in ["Seq Scan on orders  (cost=0.00..1834.00 rows=1000 width=40)", "[{\"Query\": 1}]",
                    "{\"Plan\": {\"Total Cost\": 3}}", "[{\"Plan\": {\"Node Type\": \"Result\""] {
            #expect(throws: PGAdviseError.self) { try ExplainJSONParser.parse(bad) }
        }
    }

    @Test func countsParametersOutsideLiteralsAndComments() {
        #expect(GenericPlanCollector.parameterCount("SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)") == 3)
        #expect(GenericPlanCollector.parameterCount("SELECT '$9', \"col$7\" FROM t -- $8\n WHERE a = $2 /* $5 */") == 2)
        #expect(GenericPlanCollector.parameterCount("SELECT $$ x $$, a$1 FROM t") == 0)
        #expect(GenericPlanCollector.parameterCount("SELECT 1") == 0)
    }

    @Test func onlySingleDMLStatementsArePlanned() {
        func typedReason(_ sql: String) -> PlanSkipReason? {
            GenericPlanCollector.reasonNotToPlan(QueryStats(fingerprint: "f", normalized: sql, calls: 1, totalMs: 1), text: sql)
        }
        func reason(_ sql: String) -> String? { typedReason(sql)?.message }
        #expect(reason("SELECT * FROM t WHERE id = $1") == nil)
        #expect(reason("UPDATE t SET a = $1 WHERE id = $2") == nil)
        #expect(reason("SET work_mem = '64MB'") == "utility statement (SET): nothing to plan")
        #expect(typedReason("SET work_mem = '64MB'") == .utilityStatement(keyword: "SET"))
        #expect(reason("/* nightly */ -- job\n ANALYZE t") == "utility statement (ANALYZE): nothing to plan")
        #expect(reason("SELECT 1; DROP TABLE t") == "not a single statement")
        #expect(typedReason("SELECT 1; DROP TABLE t") == .notSingleStatement)
        #expect(reason("SELECT * FROM t WHERE") == "pgadvise cannot parse the statement text (it may be cut at track_activity_query_size)")
    }
}
