import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Each insight on plans captured from the real PostgreSQL 15 with its problem planted
/// (fixtures/plans/scenarios.sql, recaptured by fixtures/plans/capture.sh), in text and in JSON.
@Suite struct ExplainInsightFixtureTests {
    static func findings(_ file: String) throws -> [Finding] {
        try ExplainPipeline.run(inputs: [RepositoryPaths.fixture("plans/\(file)").path]).findings
    }

    static let expected: [(String, [String])] = [
        ("row-misestimate", ["filter-removes-most-rows", "row-misestimate"]),
        ("disk-spill", ["disk-spill"]),
        ("lossy-bitmap", ["lossy-bitmap"]),
        ("filter-removes-most-rows", ["filter-removes-most-rows"]),
        ("index-filter", ["index-filter"]),
        ("nested-loop-many-loops", ["nested-loop-many-loops", "row-misestimate"]),
        ("heap-fetches", ["heap-fetches"]),
        ("workers-not-launched", ["workers-not-launched"]),
        ("jit-overhead", ["jit-overhead"]),
        ("slow-planning", ["slow-planning"]),
        ("large-offset", ["large-offset"]),
        ("healthy", []),
    ]

    @Test(arguments: ["txt", "json"]) func eachPlantedProblemGivesItsInsightAndTheHealthyPlanNone(format: String) throws {
        for (scenario, rules) in Self.expected {
            let found = try Self.findings("\(scenario).\(format)")
            #expect(found.map(\.rule).sorted() == rules, "\(scenario).\(format): \(found.map(\.message))")
            for finding in found {
                #expect(finding.file?.hasSuffix("\(scenario).\(format)") == true)
                #expect(finding.exclusiveMs != nil && finding.shareOfExecution != nil, "\(finding.rule) has no time at stake")
            }
        }
    }

    @Test(arguments: ["txt", "json"]) func fixesNameTheColumnsAndSettings(format: String) throws {
        let misestimate = try Self.findings("row-misestimate.\(format)")
        #expect(misestimate.first { $0.rule == "row-misestimate" }?.fix == "CREATE STATISTICS ON city, zip FROM customers;\nANALYZE customers;")
        #expect(misestimate.first { $0.rule == "row-misestimate" }?.nodePath?.hasSuffix("Hash → Seq Scan on customers c") == true)
        #expect(misestimate.first { $0.rule == "filter-removes-most-rows" }?.fix == "CREATE INDEX CONCURRENTLY ON customers (city, zip);")
        let indexFilter = try #require(try Self.findings("index-filter.\(format)").first)
        #expect(indexFilter.fix == "CREATE INDEX CONCURRENTLY ON orders (status, created_at);")
        #expect(indexFilter.node == "Index Scan using orders_created_at on orders")
        let spill = try #require(try Self.findings("disk-spill.\(format)").first)
        #expect(spill.node == "Sort" && spill.message.contains("work_mem is 64kB") && spill.fix?.hasPrefix("SET LOCAL work_mem = '") == true)
        let heap = try #require(try Self.findings("heap-fetches.\(format)").first)
        #expect(heap.fix == "VACUUM (ANALYZE) events;" && heap.message.contains("50,000"))
        let workers = try #require(try Self.findings("workers-not-launched.\(format)").first)
        #expect(workers.message.contains("planned 2 parallel workers and launched 0"))
        let offset = try #require(try Self.findings("large-offset.\(format)").first)
        #expect(offset.message.contains("100,010 rows") && offset.node == "Limit")
    }

    @Test func aPlanWithoutAnalyzeIsReadAndItsInsightsSkipped() throws {
        let plan = """
             Seq Scan on orders  (cost=0.00..4667.00 rows=2000 width=14)
               Filter: (status = 'refunded'::text)
            """
        let report = try ExplainPipeline.explain(ExplainParser.parseAll(plan), source: "estimates.txt")
        #expect(report.first?.analyzed == false && report.first?.findings.isEmpty == true)
        #expect(report.first?.skipped.first?.contains("without ANALYZE") == true)
        #expect(report.first?.skipped.first?.contains("filter-removes-most-rows") == true)
    }
}

/// Exclusive time, share, estimate factor and exclusive buffers on a hand-made plan whose figures
/// are easy to follow: loops multiply, a Gather's workers divide.
@Suite struct PlanMetricsTests {
    @Test func exclusiveTimeAccountsForLoopsAndParallelWorkers() {
        var scan = PlanNode(nodeType: "Seq Scan", relationName: "t", planRows: 100, actualTotalTimeMs: 30, actualRows: 1000,
                            actualLoops: 3, sharedHitBlocks: 90, sharedReadBlocks: 30)
        scan.parallelAware = true
        var gather = PlanNode(nodeType: "Gather", planRows: 300, actualTotalTimeMs: 40, actualRows: 3000, actualLoops: 1,
                              sharedHitBlocks: 100, sharedReadBlocks: 30, children: [scan])
        gather.workersPlanned = 2
        gather.workersLaunched = 2
        let inner = PlanNode(nodeType: "Index Scan", relationName: "u", indexName: "u_pkey", planRows: 1, actualTotalTimeMs: 0.5,
                             actualRows: 1, actualLoops: 60, sharedHitBlocks: 9000, sharedReadBlocks: 0)
        let loop = PlanNode(nodeType: "Nested Loop", planRows: 300, actualTotalTimeMs: 80, actualRows: 3000, actualLoops: 1,
                            sharedHitBlocks: 9100, sharedReadBlocks: 30, children: [gather, inner])
        var plan = Plan(root: loop, executionTimeMs: 80)
        plan.planningTimeMs = 1
        let analysis = AnalyzedPlan(plan)
        let byLabel = Dictionary(uniqueKeysWithValues: analysis.nodes.map { ($0.node.label, $0.metrics) })
        // The scan ran in 3 processes (leader + 2 workers) at once: 30 ms × 3 loops / 3 processes.
        #expect(byLabel["Parallel Seq Scan on t"]?.inclusiveTimeMs == 30)
        #expect(byLabel["Gather"]?.exclusiveTimeMs == 10)
        // 60 loops of 0.5 ms.
        #expect(byLabel["Index Scan using u_pkey on u"]?.inclusiveTimeMs == 30)
        #expect(byLabel["Nested Loop"]?.exclusiveTimeMs == 10)
        #expect(byLabel["Nested Loop"]?.shareOfExecution == 0.125)
        #expect(byLabel["Parallel Seq Scan on t"]?.estimateFactor == 10 && byLabel["Parallel Seq Scan on t"]?.estimateDirection == "under")
        #expect(byLabel["Gather"]?.exclusiveBlocks?.sharedHit == 10 && byLabel["Gather"]?.exclusiveBlocks?.sharedRead == 0)
        #expect(analysis.nodes.map(\.depth) == [0, 1, 2, 1])
        #expect(analysis.nodes[2].path == "Nested Loop → Gather → Parallel Seq Scan on t")
    }
}

/// The pipeline against the real PostgreSQL 15: live capture, the planted problems, a comparison
/// before and after an index.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct ExplainLiveTests {
    static let dsn: Result<String, Error> = Result {
        let setup = try String(contentsOf: RepositoryPaths.fixture("plans/setup.sql"), encoding: .utf8)
        let dsn = try TestDatabase.freshDatabase("pgadvise_explain_live", setupSQL: setup)
        let admin = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: false))
        for statement in try String(contentsOf: RepositoryPaths.fixture("plans/vacuum.sql"), encoding: .utf8).split(separator: "\n") {
            try admin.execute(String(statement))
        }
        return dsn
    }

    func capture(_ sql: String, settings: String = "", allowWrites: Bool = false) throws -> ExplainedPlan {
        let connection = try PostgresConnection(conninfo: try Self.dsn.get(), options: SessionOptions(statementTimeoutMs: 60_000, readOnly: !allowWrites))
        if !settings.isEmpty { try connection.execute(settings) }
        let plan = try ExplainPipeline.capture(connection: connection, sql: sql, allowWrites: allowWrites)
        return ExplainPipeline.explain([plan], source: "live")[0]
    }

    /// The scenarios whose insight does not depend on timing, captured live.
    @Test func plantedProblemsGiveTheirInsightsLive() throws {
        let scenarios = try String(contentsOf: RepositoryPaths.fixture("plans/scenarios.sql"), encoding: .utf8)
        var blocks: [(name: String, settings: String, sql: String)] = []
        for block in scenarios.components(separatedBy: "-- name: ").dropFirst() {
            let lines = block.split(separator: "\n")
            let name = String(lines[0])
            let settings = lines.dropFirst().filter { $0.hasPrefix("SET ") }.joined(separator: " ")
            let sql = lines.dropFirst().filter { !$0.hasPrefix("SET ") && !$0.hasPrefix("--") }.joined(separator: "\n")
            blocks.append((name, settings, sql))
        }
        #expect(blocks.count == 12)
        for block in blocks {
            let explained = try capture(block.sql, settings: block.settings)
            let rules = Set(explained.findings.map(\.rule))
            #expect(explained.analyzed && explained.nodes.allSatisfy { $0.metrics.inclusiveTimeMs != nil }, "\(block.name)")
            switch block.name {
            case "healthy": #expect(rules.isEmpty, "\(explained.findings.map(\.message))")
            // Timing-dependent: JIT's and the planner's own time vary with the machine; the
            // fixtures test the insight, live asserts what the server reported.
            case "jit-overhead": #expect((explained.jit?.functions ?? 0) > 0 && explained.jit?.totalMs != nil)
            case "slow-planning": #expect((explained.planningTimeMs ?? 0) > 0 && Set(explained.nodes.compactMap(\.node.relationName)).count == 10)
            default: #expect(rules.contains(block.name), "\(block.name): \(explained.findings.map(\.message))")
            }
        }
    }

    @Test func comparesAStatementBeforeAndAfterAnIndex() throws {
        let sql = "SELECT id, amount FROM orders WHERE status = 'refunded' AND customer_id < 5000"
        // Each side's second run, caches warm.
        _ = try capture(sql, settings: "SET max_parallel_workers_per_gather = 0")
        let before = try capture(sql, settings: "SET max_parallel_workers_per_gather = 0")
        let admin = try PostgresConnection(conninfo: try Self.dsn.get(), options: SessionOptions(statementTimeoutMs: 60_000, readOnly: false))
        try admin.execute("CREATE INDEX orders_status_customer ON orders (status, customer_id)")
        defer { _ = try? admin.execute("DROP INDEX orders_status_customer") }
        _ = try capture(sql, settings: "SET max_parallel_workers_per_gather = 0")
        let after = try capture(sql, settings: "SET max_parallel_workers_per_gather = 0")
        let comparison = ExplainPipeline.compare(before: planOf(before), after: planOf(after))
        // `Seq Scan on orders` → `Index Scan using orders_status_customer on orders` or a bitmap scan with it.
        let summaries = comparison.changes.map(\.summary)
        #expect(comparison.changes.contains { $0.kind == "changed" && $0.before == "Seq Scan on orders" && $0.relation == "orders" }, "\(summaries)")
        #expect(comparison.changes.contains { ($0.after ?? "").contains("orders_status_customer") }, "\(summaries)")
        #expect(comparison.findingsResolved.map(\.rule) == ["filter-removes-most-rows"])
        #expect(comparison.findingsIntroduced.isEmpty)
        #expect(comparison.verdict.hasPrefix("Faster"), "\(comparison.verdict)")
        #expect((comparison.before.executionTimeMs ?? 0) > (comparison.after.executionTimeMs ?? 0))
        #expect(comparison.before.sharedHitBlocks != nil && comparison.after.planningTimeMs != nil)
    }

    /// The captured plan back as a Plan (the report keeps its nodes flat).
    func planOf(_ explained: ExplainedPlan) -> Plan {
        func build(_ index: Int) -> PlanNode {
            var node = explained.nodes[index].node
            node.children = explained.nodes.filter { $0.parent == index }.map { build($0.index) }
            return node
        }
        var plan = Plan(root: build(0), planningTimeMs: explained.planningTimeMs, executionTimeMs: explained.executionTimeMs)
        plan.settings = explained.settings
        return plan
    }

    @Test func writesNeedPermissionAndAreRolledBack() throws {
        let update = "UPDATE customers SET name = 'changed' WHERE id <= 5"
        #expect(throws: PGAdviseError.self) { try capture(update) }
        // A SELECT that writes after all is refused by the read-only transaction.
        #expect(throws: PGAdviseError.self) { try capture("WITH d AS (DELETE FROM customers WHERE id = 1 RETURNING id) SELECT * FROM d") }
        let explained = try capture(update, allowWrites: true)
        #expect(explained.nodes.first?.node.operation == "Update" && explained.nodes.first?.node.walRecords != nil)
        let check = try PostgresConnection(conninfo: try Self.dsn.get())
        #expect(try check.query("SELECT count(*) FROM customers WHERE name = 'changed'").rows.first?.first == "0")
        #expect(try check.query("SELECT count(*) FROM customers WHERE id = 1").rows.first?.first == "1")
    }
}
