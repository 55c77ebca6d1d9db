import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The one EXPLAIN reader: the same plan in text and JSON gives the same model; every wrapping users
/// paste reads; everything else is refused with what was detected.
@Suite struct ExplainParserTests {
    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: RepositoryPaths.fixture("plans/\(name)"), encoding: .utf8)
    }

    /// Found by Benchmarks/fuzz (FuzzExplain): a counter beyond Int64 trapped the conversion.
    @Test func countersNoIntegerHoldsSaturateInsteadOfTrapping() throws {
        let text = "Seq Scan on t  (cost=0.00..42.00 rows=1111 width=17)\n\t    Planned Partitions: -26666666666666666666666666666666666666666666663\n"
        _ = try? ExplainParser.parseAll(text)   // the fuzzed input's shape: it must not trap
        let json = #"[{"Plan": {"Node Type": "Seq Scan", "Planned Partitions": -2.6e46, "Plan Width": 1e300, "Workers Planned": -1e300, "Shared Hit Blocks": 1e30}}]"#
        let node = try ExplainParser.parse(json).root
        #expect(node.plannedPartitions == Int64.min && node.planWidth == Int.max && node.workersPlanned == Int.min && node.sharedHitBlocks == Int64.max)
    }

    /// A text plan 1,500 levels deep (6.8 MB) overflowed the stack (signal 11) in the recursive
    /// readers of the tree, and a JSON one 990 deep did in a debug build: past 500 levels, text or
    /// JSON, a plan is refused like any unreadable input.
    @Test func aPlanNestedBeyondFiveHundredLevelsIsRefused() throws {
        func text(_ levels: Int) -> String {
            (0..<levels).map { level in
                (level == 0 ? "" : String(repeating: " ", count: 6 * level - 4) + "->  ") + "Nested Loop  (cost=0.00..1.00 rows=1 width=4)"
            }.joined(separator: "\n")
        }
        func json(_ levels: Int) -> String {
            "[{\"Plan\": " + String(repeating: #"{"Node Type": "Nested Loop", "Plans": ["#, count: levels - 1)
                + #"{"Node Type": "Seq Scan", "Relation Name": "t"}"# + String(repeating: "]}", count: levels - 1) + "}]"
        }
        let tooDeepText = try #require(throws: PGAdviseError.self) { try ExplainParser.parseAll(text(501)) }
        #expect(tooDeepText.kind == .input)
        #expect(tooDeepText.message == "line 501: the plan nests deeper than 500 levels, more than pgadvise reads")
        let tooDeepJSON = try #require(throws: PGAdviseError.self) { try ExplainParser.parseAll(json(990)) }
        #expect(tooDeepJSON.message == "EXPLAIN JSON: the plan nests deeper than 500 levels, more than pgadvise reads")
        for plan in [try ExplainParser.parse(text(500)), try ExplainParser.parse(json(500))] {
            var node = plan.root
            var depth = 1
            while let child = node.children.first { node = child; depth += 1 }
            #expect(depth == 500)
        }
    }

    @Test func readsPsqlWrappedTextWithItsFiguresAndSummary() throws {
        let plan = try ExplainParser.parse(try Self.fixture("disk-spill.txt"))
        let sort = try #require(plan.root.allNodes.first { $0.nodeType == "Sort" })
        #expect(sort.sortMethod == "external merge" && sort.sortSpaceType == "Disk" && (sort.sortSpaceUsedKB ?? 0) > 0)
        #expect(sort.sortKeys == ["note", "customer_id"])
        #expect((sort.tempWrittenBlocks ?? 0) > 0 && (sort.tempReadBlocks ?? 0) > 0)
        #expect(plan.root.nodeType == "Gather Merge" && plan.root.workersPlanned == 1)
        let scan = try #require(sort.children.first)
        #expect(scan.nodeType == "Seq Scan" && scan.parallelAware == true && scan.relationName == "orders" && scan.actualLoops == 2)
        #expect(plan.settings == ["work_mem": "64kB"])
        #expect(plan.planningTimeMs != nil && plan.executionTimeMs != nil)
    }

    @Test func textAndJSONCapturesOfEachFixtureAgreeOnTheTree() throws {
        for name in ["row-misestimate", "disk-spill", "lossy-bitmap", "index-filter", "heap-fetches", "workers-not-launched",
                     "jit-overhead", "nested-loop-many-loops", "large-offset", "healthy"] {
            let text = try ExplainParser.parse(try Self.fixture("\(name).txt"))
            let json = try ExplainParser.parse(try Self.fixture("\(name).json"))
            // Two runs: the tree and the plan's shape agree, timings differ.
            #expect(text.root.allNodes.map(\.label) == json.root.allNodes.map(\.label), "\(name)")
            #expect(text.root.allNodes.map(\.planRows) == json.root.allNodes.map(\.planRows), "\(name)")
            #expect(text.settings == json.settings, "\(name)")
            #expect((text.jit == nil) == (json.jit == nil), "\(name)")
        }
    }

    @Test func unwrapsWhatUsersPaste() throws {
        let raw = #"""
            Limit  (cost=0.42..0.81 rows=10 width=23) (actual time=0.033..0.037 rows=10 loops=1)
              ->  Index Scan using "Orders Idx" on "Order ""Lines""" ol  (cost=0.42..7874.42 rows=200000 width=23) (actual time=0.021..0.030 rows=10 loops=1)
                    Index Cond: (id > 5)
            Planning Time: 0.337 ms
            Execution Time: 0.071 ms
            """#
        let quoted = raw.split(separator: "\n").map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: "\n")
        let logged = "2024-05-01 10:00:00 UTC [42] LOG:  duration: 0.071 ms  plan:\n\tQuery Text: SELECT *\n\t  FROM t\n\tLIMIT 10\n"
            + raw.split(separator: "\n").filter { !$0.hasPrefix("Planning") && !$0.hasPrefix("Execution") }.map { "\t" + $0 }.joined(separator: "\n")
        let indented = raw.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        // Copied on Windows: "\r\n" is one Character, so a split on "\n" once left it all one line.
        let crlf = raw.split(separator: "\n").joined(separator: "\r\n") + "\r\n"
        #expect(try ExplainParser.parse(crlf).executionTimeMs == 0.071)
        for text in [raw, quoted, logged, indented, crlf, "                QUERY PLAN\n---------------\n" + raw.split(separator: "\n").map { " " + $0 }.joined(separator: "\n") + "\n(5 rows)\n"] {
            let plan = try ExplainParser.parse(text)
            let scan = try #require(plan.root.children.first, "\(text)")
            #expect(scan.indexName == "Orders Idx" && scan.relationName == "Order \"Lines\"" && scan.alias == "ol", "\(text)")
            #expect(scan.indexCond == "(id > 5)" && scan.indexCondition == "(id > 5)")
        }
        #expect(try ExplainParser.parse(logged).queryText == "SELECT *")
    }

    @Test func readsEveryPlanOfAnAutoExplainLog() throws {
        let log = try String(contentsOf: RepositoryPaths.fixture("logs/stderr-auto-explain-text.log"), encoding: .utf8)
        let plans = try ExplainParser.parseAll(log)
        #expect(plans.count == log.components(separatedBy: "  plan:\n").count - 1)
        #expect(plans.first?.queryText?.hasPrefix("INSERT INTO customers SELECT g") == true)
        #expect(plans.first?.root.operation == "Insert" && plans.first?.root.children.first?.functionName == "generate_series")
        let json = try String(contentsOf: RepositoryPaths.fixture("logs/stderr-auto-explain-json.log"), encoding: .utf8)
        let entry = try #require(json.components(separatedBy: "  plan:\n").dropFirst().first?.components(separatedBy: "\n2026-").first)
        #expect(try ExplainParser.parse(entry).root.operation == "Insert")
    }

    @Test func readsSubplanLabelsAndNeverExecutedNodes() throws {
        let text = """
             Seq Scan on t  (cost=0.00..10.00 rows=5 width=4) (actual time=0.010..0.020 rows=3 loops=1)
               Filter: (a > $0)
               Rows Removed by Filter: 2
               InitPlan 1 (returns $0)
                 ->  Aggregate  (cost=1.00..1.01 rows=1 width=4) (actual time=0.005..0.005 rows=1 loops=1)
                       ->  Seq Scan on u  (cost=0.00..1.00 rows=10 width=4) (actual time=0.001..0.002 rows=10 loops=1)
               SubPlan 2
                 ->  Index Scan using v_pkey on v  (cost=0.15..8.17 rows=1 width=4) (never executed)
                       Index Cond: (id = t.a)
             Trigger audit_t on t: time=1.250 calls=3
             Execution Time: 0.100 ms
            """
        let plan = try ExplainParser.parse(text)
        #expect(plan.root.children.map(\.subplanName) == ["InitPlan 1 (returns $0)", "SubPlan 2"])
        #expect(plan.root.children.map(\.parentRelationship) == ["InitPlan", "SubPlan"])
        #expect(plan.root.children[0].children.first?.relationName == "u")
        #expect(plan.root.children[1].executed == false && plan.root.children[1].indexCond == "(id = t.a)")
        #expect(plan.triggers == [PlanTrigger(name: "audit_t", relation: "t", timeMs: 1.25, calls: 3)])
        #expect(plan.root.rowsRemovedByFilter == 2)
    }

    @Test func readsJSONArraysOfSeveralPlansAndAutoExplainObjects() throws {
        let one = #"{"Plan": {"Node Type": "Result", "Startup Cost": 0, "Total Cost": 0.01, "Plan Rows": 1, "Plan Width": 4}}"#
        #expect(try ExplainParser.parseAll("[\(one), \(one)]").count == 2)
        let logged = "LOG:  duration: 0.010 ms  plan:\n{\"Query Text\": \"SELECT 1\", \"Plan\": {\"Node Type\": \"Result\", \"Actual Rows\": 1, \"Actual Loops\": 1}}"
        let plan = try ExplainParser.parse(logged)
        #expect(plan.queryText == "SELECT 1" && plan.root.actualRows == 1 && plan.isAnalyzed)
    }

    @Test func refusesWhatIsNotAReadablePlanSayingWhatItFound() {
        let cases: [(String, String)] = [
            ("- Plan: \n    Node Type: \"Seq Scan\"\n", "YAML"),
            ("<explain xmlns=\"http://www.postgresql.org/2009/explain\">\n  <Query>\n", "XML"),
            ("[\n  {\n    \"Plan\": {\n      \"Node Type\": \"Seq Scan\",\n      \"Startup Cost\": 0.0", "truncated"),
            (" Seq Scan on t  (cost=0.00..35.50 rows=2550 wid", "cut off"),
            ("hello, this is not a plan\n", "not an EXPLAIN plan"),
            ("", "not an EXPLAIN plan"),
            (" Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)\n Execution Time: 0.1 ms\n   ->  Seq Scan on u  (cost=0.00..1.00 rows=1 width=4)\n", "after the plan"),
            (" Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)\n{\"Plan\": {}}\n", "mixed formats"),
        ]
        for (text, said) in cases {
            do {
                _ = try ExplainParser.parseAll(text)
                Issue.record("accepted: \(text)")
            } catch let error as PGAdviseError {
                #expect(error.exitCode == 2 && error.message.contains(said), "\(said): \(error.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}

/// The same plan captured from the real PostgreSQL 15 in text and in JSON reads into the same model.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ExplainFormatsAgreeTests {
    /// Timing off, no parallel workers (which share rows differently on each run) and caches warm:
    /// two runs give the same rows, loops and buffers. Parallel plans are read in the fixture tests.
    static let statements = [
        """
        WITH recent AS MATERIALIZED (SELECT id, customer_id FROM orders WHERE created_at > timestamptz '2024-05-01 00:00:00+00')
        SELECT c.city, count(*), (SELECT max(amount) FROM orders WHERE id < 100)
        FROM recent r JOIN customers c ON c.id = r.customer_id
        WHERE c.zip <> 'zip 3' AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.id = r.id + 1)
        GROUP BY c.city ORDER BY 2 DESC LIMIT 5
        """,
        "SELECT count(*) FROM orders WHERE created_at < timestamptz '2024-03-01 00:00:00+00' AND status = 'open'",
        "SELECT id FROM events WHERE id <= 5000",
        "SELECT customer_id, note FROM orders ORDER BY note, customer_id LIMIT 100000",
        "UPDATE customers SET name = name || '' WHERE id <= 10",
    ]

    @Test(arguments: [false, true]) func textAndJSONCapturesGiveTheSameModel(verbose: Bool) throws {
        let setup = try String(contentsOf: RepositoryPaths.fixture("plans/setup.sql"), encoding: .utf8)
        let dsn = try TestDatabase.freshDatabase("pgadvise_explain_formats_\(verbose ? "v" : "t")", setupSQL: setup)
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 60_000, readOnly: false))
        // Autovacuum or analyze between the two captures would change buffers and estimates.
        try connection.execute("ALTER TABLE customers SET (autovacuum_enabled = off); ALTER TABLE orders SET (autovacuum_enabled = off)")
        for statement in try String(contentsOf: RepositoryPaths.fixture("plans/vacuum.sql"), encoding: .utf8).split(separator: "\n") {
            try connection.execute(String(statement))
        }
        try connection.execute("SET jit = off; SET work_mem = '256kB'; SET max_parallel_workers_per_gather = 0")
        for statement in Self.statements {
            let options = "ANALYZE, BUFFERS, TIMING OFF, SETTINGS, WAL" + (verbose ? ", VERBOSE" : "")
            try connection.execute("BEGIN")
            for _ in 0..<2 { _ = try connection.query("EXPLAIN (\(options)) \(statement)") }
            let textLines = try connection.query("EXPLAIN (\(options)) \(statement)").rows.compactMap { $0.first ?? nil }
            let json = try connection.query("EXPLAIN (\(options), FORMAT JSON) \(statement)").rows.first?.first ?? nil
            try connection.execute("ROLLBACK")
            let fromText = try ExplainParser.parse(textLines.joined(separator: "\n"))
            let fromJSON = try ExplainParser.parse(try #require(json))
            let differences = try difference(comparable(fromText), comparable(fromJSON))
            #expect(comparable(fromText) == comparable(fromJSON), "\(statement)\n\(textLines.joined(separator: "\n"))\n\(differences)")
            if statement == Self.statements[0] {
                // The CTE, the InitPlan and the hash join all made it through both readers.
                #expect(fromText.root.allNodes.filter { $0.subplanName != nil }.count >= 2)
                #expect(fromText.root.allNodes.contains { $0.cteName == "recent" })
            }
            if statement.hasPrefix("UPDATE") { #expect(fromText.root.walRecords != nil && fromText.root.operation == "Update") }
        }
    }

    /// The JSON lines of one model missing from the other's, to say what differs.
    func difference(_ a: Plan, _ b: Plan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let left = String(decoding: try encoder.encode(a), as: UTF8.self).split(separator: "\n")
        let right = String(decoding: try encoder.encode(b), as: UTF8.self).split(separator: "\n")
        return "text only: \(Set(left).subtracting(right).sorted())\njson only: \(Set(right).subtracting(left).sorted())"
    }

    /// What both formats carry: everything but the timings (two runs) and the parent relationships
    /// text prints only for subplans.
    func comparable(_ plan: Plan) -> Plan {
        var plan = plan
        plan.planningTimeMs = nil
        plan.executionTimeMs = nil
        func normalize(_ node: PlanNode) -> PlanNode {
            var node = node
            if node.parentRelationship != "SubPlan" && node.parentRelationship != "InitPlan" { node.parentRelationship = nil }
            // Setting hint bits dirties pages (and may write WAL) in whichever capture first reads
            // them once no other transaction keeps the rows' fate open: under a busy suite that can
            // be the second capture, so these counters differ between two runs, not two readers.
            node.sharedDirtiedBlocks = nil; node.sharedWrittenBlocks = nil
            node.walRecords = nil; node.walFPI = nil; node.walBytes = nil
            node.children = node.children.map(normalize)
            return node
        }
        plan.root = normalize(plan.root)
        return plan
    }
}
