import PGAdviseCore
import PGAdviseSQL

/// Reads `EXPLAIN (FORMAT JSON)` output, with or without ANALYZE and BUFFERS, and the JSON plans
/// auto_explain logs (`auto_explain.log_format = json`), into `Plan`. Callers go through
/// `ExplainParser.parseAll`, which also reads the text format and strips psql's decorations.
public enum ExplainJSONParser {
    /// Every plan in `text`. Accepts the array EXPLAIN prints (`[{"Plan": ...}]`), one object with
    /// a `"Plan"` key (auto_explain: `{"Query Text": ..., "Plan": ...}`), or a bare plan node. Text
    /// before the JSON (a log prefix such as `duration: 12.3 ms  plan:`) is ignored.
    public static func parseAll(_ text: String) throws -> [Plan] {
        guard let start = text.firstIndex(where: { $0 == "[" || $0 == "{" }) else {
            throw PGAdviseError(.input, "not an EXPLAIN JSON plan: no JSON object or array found (use EXPLAIN (FORMAT JSON))")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(String(text[start...]))
        } catch {
            throw PGAdviseError(.input, "EXPLAIN JSON that cannot be read (truncated, or mixed with other text?): \(error)")
        }
        let documents = json.array ?? [json]
        var plans: [Plan] = []
        for document in documents {
            plans.append(try plan(from: document))
        }
        guard !plans.isEmpty else { throw PGAdviseError(.input, "the EXPLAIN output holds no plan") }
        return plans
    }

    /// The first plan in `text` (EXPLAIN prints one per statement).
    public static func parse(_ text: String) throws -> Plan {
        let plans = try parseAll(text)
        guard let first = plans.first else { throw PGAdviseError(.input, "the EXPLAIN output holds no plan") }
        return first
    }

    static func plan(from document: JSONValue) throws -> Plan {
        guard let root = document["Plan"] else {
            if document["Node Type"] != nil { return Plan(root: try node(document)) }
            throw PGAdviseError(.input, "not an EXPLAIN JSON plan: an entry has neither \"Plan\" nor \"Node Type\"")
        }
        var plan = Plan(root: try node(root), planningTimeMs: document["Planning Time"]?.double,
                        executionTimeMs: document["Execution Time"]?.double ?? document["Total Runtime"]?.double)
        plan.queryText = document["Query Text"]?.string
        if let triggers = document["Triggers"]?.array, !triggers.isEmpty {
            plan.triggers = triggers.map {
                PlanTrigger(name: $0["Trigger Name"]?.string ?? "", constraintName: $0["Constraint Name"]?.string,
                            relation: $0["Relation"]?.string, timeMs: $0["Time"]?.double, calls: $0["Calls"]?.double)
            }
        }
        if let jit = document["JIT"] { plan.jit = self.jit(jit) }
        if let settings = document["Settings"]?.objectPairs, !settings.isEmpty {
            plan.settings = Dictionary(settings.map { ($0.0, $0.1.string ?? "") }, uniquingKeysWith: { first, _ in first })
        }
        return plan
    }

    static func jit(_ value: JSONValue) -> PlanJIT {
        let options = value["Options"], timing = value["Timing"]
        // PostgreSQL 17 nests Generation as {"Deform": ..., "Total": ...}.
        func ms(_ step: JSONValue?) -> Double? { step?.double ?? step?["Total"]?.double }
        return PlanJIT(functions: value["Functions"]?.int, inlining: options?["Inlining"]?.bool,
                       optimization: options?["Optimization"]?.bool, expressions: options?["Expressions"]?.bool,
                       deforming: options?["Deforming"]?.bool, generationMs: ms(timing?["Generation"]),
                       inliningMs: ms(timing?["Inlining"]), optimizationMs: ms(timing?["Optimization"]),
                       emissionMs: ms(timing?["Emission"]), totalMs: ms(timing?["Total"]))
    }

    /// One node. Members are read in one pass (a 50 MB plan has millions of them), each key routed
    /// to its field by the same table the text parser uses for its `Key: value` lines.
    static func node(_ value: JSONValue, level: Int = 0) throws -> PlanNode {
        guard value.kind == .object else { throw PGAdviseError(.input, "not an EXPLAIN JSON plan: a plan node is not an object") }
        guard level < ExplainParser.deepestLevel else { throw ExplainParser.tooDeep(where: "EXPLAIN JSON") }
        var node = PlanNode(nodeType: "")
        var sawType = false
        for (key, member) in value.objectPairs ?? [] {
            switch key {
            case "Node Type": node.nodeType = member.string ?? ""; sawType = true
            case "Plans": node.children = try (member.array ?? []).map { try self.node($0, level: level + 1) }
            // Per-worker timing only (VERBOSE); sort or hash details per worker are not kept.
            case "Workers":
                let timed = (member.array ?? []).filter { $0["Actual Loops"] != nil }.map(worker)
                node.workers = timed.isEmpty ? nil : timed
            case "Parallel Aware": node.parallelAware = member.bool == true ? true : nil
            case "Output", "Sort Key", "Group Key":
                let items = member.array?.compactMap(\.string)
                if key == "Output" { node.output = items } else if key == "Sort Key" { node.sortKeys = items } else { node.groupKey = items }
            default:
                if let number = member.double {
                    // JSON prints these counters even when zero; text prints them only when not:
                    // one model means zero reads as absent in both. Shared hit and read blocks are
                    // the exception (0 when BUFFERS was on), which the text reader fills in.
                    if number == 0 && zeroMeansAbsent.contains(key) { continue }
                    node.setNumber(key, number)
                } else if let text = member.string {
                    node.setText(key, text)
                }
            }
        }
        guard sawType else { throw PGAdviseError(.input, "not an EXPLAIN JSON plan: a plan node has no \"Node Type\"") }
        // JSON says `Actual Loops: 0` where text says `(never executed)`.
        if node.actualLoops == 0 { node.executed = false }
        return node
    }

    static let zeroMeansAbsent: Set<String> = [
        "Shared Dirtied Blocks", "Shared Written Blocks", "Local Hit Blocks",
        "Local Read Blocks", "Local Dirtied Blocks", "Local Written Blocks", "Temp Read Blocks", "Temp Written Blocks",
        "I/O Read Time", "I/O Write Time", "Shared I/O Read Time", "Shared I/O Write Time", "Local I/O Read Time",
        "Local I/O Write Time", "Temp I/O Read Time", "Temp I/O Write Time", "WAL Records", "WAL FPI", "WAL Bytes",
        "Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck",
        "Exact Heap Blocks", "Lossy Heap Blocks", "Planned Partitions", "Disk Usage",
    ]

    static func worker(_ value: JSONValue) -> PlanWorker {
        PlanWorker(workerNumber: value["Worker Number"]?.int ?? 0, actualStartupTimeMs: value["Actual Startup Time"]?.double,
                   actualTotalTimeMs: value["Actual Total Time"]?.double, actualRows: value["Actual Rows"]?.double,
                   actualLoops: value["Actual Loops"]?.double)
    }
}

extension PlanNode {
    /// A counter as an integer. A figure no Int64 holds (a damaged or hand-edited plan: `-2.6e62`,
    /// `inf`, `nan`) saturates instead of trapping the conversion (found by Benchmarks/fuzz, FuzzExplain).
    static func saturatingInteger(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        let rounded = value.rounded()
        if rounded >= 9.2e18 { return .max }
        if rounded <= -9.2e18 { return .min }
        return Int64(rounded)
    }

    /// Sets the field EXPLAIN names `key` (its JSON key, which the text format also uses for
    /// most `Key: value` lines) to a number. Unknown keys are ignored: EXPLAIN grows new ones.
    mutating func setNumber(_ key: String, _ value: Double) {
        let blocks = PlanNode.saturatingInteger(value)
        switch key {
        case "Startup Cost": startupCost = value
        case "Total Cost": totalCost = value
        case "Plan Rows": planRows = value
        case "Plan Width": planWidth = Int(PlanNode.saturatingInteger(value))
        case "Actual Startup Time": actualStartupTimeMs = value
        case "Actual Total Time": actualTotalTimeMs = value
        case "Actual Rows": actualRows = value
        case "Actual Loops": actualLoops = value
        case "Rows Removed by Filter": rowsRemovedByFilter = value
        case "Rows Removed by Join Filter": rowsRemovedByJoinFilter = value
        case "Rows Removed by Index Recheck": rowsRemovedByIndexRecheck = value
        case "Heap Fetches": heapFetches = value
        case "Exact Heap Blocks": exactHeapBlocks = value
        case "Lossy Heap Blocks": lossyHeapBlocks = value
        case "Sort Space Used": sortSpaceUsedKB = blocks
        case "Hash Buckets": hashBuckets = blocks
        case "Original Hash Buckets": originalHashBuckets = blocks
        case "Hash Batches": hashBatches = blocks
        case "Original Hash Batches": originalHashBatches = blocks
        case "Peak Memory Usage": peakMemoryUsageKB = blocks
        case "Planned Partitions": plannedPartitions = blocks
        case "HashAgg Batches": hashAggBatches = blocks
        case "Disk Usage": diskUsageKB = blocks
        case "Workers Planned": workersPlanned = Int(PlanNode.saturatingInteger(value))
        case "Workers Launched": workersLaunched = Int(PlanNode.saturatingInteger(value))
        case "Shared Hit Blocks": sharedHitBlocks = blocks
        case "Shared Read Blocks": sharedReadBlocks = blocks
        case "Shared Dirtied Blocks": sharedDirtiedBlocks = blocks
        case "Shared Written Blocks": sharedWrittenBlocks = blocks
        case "Local Hit Blocks": localHitBlocks = blocks
        case "Local Read Blocks": localReadBlocks = blocks
        case "Local Dirtied Blocks": localDirtiedBlocks = blocks
        case "Local Written Blocks": localWrittenBlocks = blocks
        case "Temp Read Blocks": tempReadBlocks = blocks
        case "Temp Written Blocks": tempWrittenBlocks = blocks
        // PostgreSQL 15 and earlier: one shared/local figure; 16 splits shared and local.
        case "I/O Read Time", "Shared I/O Read Time", "Local I/O Read Time": ioReadTimeMs = (ioReadTimeMs ?? 0) + value
        case "I/O Write Time", "Shared I/O Write Time", "Local I/O Write Time": ioWriteTimeMs = (ioWriteTimeMs ?? 0) + value
        case "Temp I/O Read Time": tempIOReadTimeMs = value
        case "Temp I/O Write Time": tempIOWriteTimeMs = value
        case "WAL Records": walRecords = blocks
        case "WAL FPI": walFPI = blocks
        case "WAL Bytes": walBytes = blocks
        default: break
        }
    }

    /// Sets the text field EXPLAIN names `key`.
    mutating func setText(_ key: String, _ value: String) {
        switch key {
        case "Relation Name": relationName = value
        case "Schema": schema = value
        case "Alias": alias = value
        case "Index Name": indexName = value
        case "Join Type": joinType = value
        case "Parent Relationship": parentRelationship = value
        case "Subplan Name": subplanName = value
        case "CTE Name": cteName = value
        case "Function Name": functionName = value
        case "Strategy": strategy = value
        case "Partial Mode": partialMode = value == "Simple" ? nil : value
        case "Operation": operation = value
        // Text plans print only `Backward`; keeping only it makes both formats agree.
        case "Scan Direction": scanDirection = value == "Backward" ? value : nil
        case "Sort Method": sortMethod = value
        case "Sort Space Type": sortSpaceType = value
        case "Filter": filter = value
        case "Index Cond": indexCond = value
        case "Recheck Cond": recheckCond = value
        case "Hash Cond": hashCond = value
        case "Merge Cond": mergeCond = value
        case "Join Filter": joinFilter = value
        case "One-Time Filter": oneTimeFilter = value
        default: break
        }
    }
}
