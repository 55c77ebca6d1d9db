import PGAdviseCore
import PGAdviseSQL

/// Reads `EXPLAIN (FORMAT JSON)` output, with or without ANALYZE and BUFFERS, and the JSON plans
/// auto_explain logs (`auto_explain.log_format = json`), into `Plan`.
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
            throw PGAdviseError(.input, "not an EXPLAIN JSON plan: \(error)")
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
        if let root = document["Plan"] {
            return Plan(root: try node(root), planningTimeMs: document["Planning Time"]?.double,
                        executionTimeMs: document["Execution Time"]?.double)
        }
        if document["Node Type"] != nil { return Plan(root: try node(document)) }
        throw PGAdviseError(.input, "not an EXPLAIN JSON plan: an entry has neither \"Plan\" nor \"Node Type\"")
    }

    static func node(_ value: JSONValue) throws -> PlanNode {
        guard let type = value["Node Type"]?.string else {
            throw PGAdviseError(.input, "not an EXPLAIN JSON plan: a plan node has no \"Node Type\"")
        }
        func number(_ key: StaticString) -> Double? { value[key]?.double }
        func text(_ key: StaticString) -> String? { value[key]?.string }
        func blocks(_ key: StaticString) -> Int64? { value[key]?.int.map(Int64.init) }
        let children = try (value["Plans"]?.array ?? []).map(node)
        // Index, bitmap and join nodes each name their condition differently; one field keeps what
        // a rule needs to know: how rows were found.
        let condition = text("Index Cond") ?? text("Recheck Cond") ?? text("Hash Cond") ?? text("Merge Cond")
            ?? text("Join Filter")
        return PlanNode(
            nodeType: type, relationName: text("Relation Name"), schema: text("Schema"), alias: text("Alias"),
            indexName: text("Index Name"), joinType: text("Join Type"), startupCost: number("Startup Cost") ?? 0,
            totalCost: number("Total Cost") ?? 0, planRows: number("Plan Rows") ?? 0,
            planWidth: value["Plan Width"]?.int ?? 0, actualTotalTimeMs: number("Actual Total Time"),
            actualRows: number("Actual Rows"), actualLoops: number("Actual Loops"), filter: text("Filter"),
            indexCondition: condition, rowsRemovedByFilter: number("Rows Removed by Filter"),
            sortKeys: value["Sort Key"]?.array?.compactMap(\.string), sortMethod: text("Sort Method"),
            sharedHitBlocks: blocks("Shared Hit Blocks"), sharedReadBlocks: blocks("Shared Read Blocks"),
            children: children)
    }
}
