import Foundation
import PGAdviseCore

/// Reads EXPLAIN's text format into the same `Plan` the JSON format gives. The tree comes from the
/// indentation: a node line is `->  Name  (cost=...) (actual ...)`, its `Key: value` lines sit two
/// columns right of its name, its children's arrows there too, and labels such as `InitPlan 1
/// (returns $0)` sit where an arrow would, with their node's arrow one level deeper. Only relative
/// columns matter, so a psql margin, a log's tab or a pasted indent all read the same.
enum ExplainTextParser {
    static func parseAll(_ lines: [String]) throws -> [Plan] {
        // With figures anywhere, only lines with figures start a plan, so a logged query's text
        // before its plan (`LIMIT 10` on a line of its own) cannot pass for a node.
        let hasFigures = lines.contains { $0.containsBytes("  (cost=") || $0.containsBytes(" (actual ") }
        var builder = TextPlanBuilder(requireFigures: hasFigures)
        for (number, line) in lines.enumerated() {
            try builder.read(line, lineNumber: number + 1)
        }
        let plans = try builder.finish()
        guard !plans.isEmpty else { throw PGAdviseError(.input, "not an EXPLAIN plan: no plan node line found") }
        return plans
    }

    /// Node names EXPLAIN's text format prints (after `Parallel `, `Partial ` or `Finalize `),
    /// longest first so `Index Only Scan` wins over `Index Scan`'s prefix tests.
    static let nodeNames: [String] = [
        "Result", "ProjectSet", "Insert", "Update", "Delete", "Merge", "LockRows", "Limit", "Append", "Merge Append",
        "Recursive Union", "BitmapAnd", "BitmapOr", "Nested Loop", "Merge Join", "Hash Join", "Seq Scan", "Sample Scan",
        "Gather", "Gather Merge", "Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan", "Tid Scan",
        "Tid Range Scan", "Subquery Scan", "Function Scan", "Table Function Scan", "Values Scan", "CTE Scan",
        "Named Tuplestore Scan", "WorkTable Scan", "Foreign Scan", "Custom Scan", "Materialize", "Memoize", "Sort",
        "Incremental Sort", "Group", "Aggregate", "GroupAggregate", "HashAggregate", "MixedAggregate", "WindowAgg",
        "Unique", "SetOp", "HashSetOp", "Hash", "Foreign Insert", "Foreign Update", "Foreign Delete",
    ].sorted { $0.count > $1.count }

    static let joinKinds = ["Left", "Right", "Full", "Semi", "Anti", "Right Anti", "Right Semi"]

    /// A line that starts a plan node: it carries costs or actual figures, or starts with a node name.
    static func looksLikeNode(_ content: Substring, requireFigures: Bool = false) -> Bool {
        var s = content
        if s.hasPrefix("->") { s = s.dropFirst(2).drop { $0 == " " } }
        if s.containsBytes("  (cost=") || s.containsBytes(" (actual ") || s.hasSuffix("(never executed)") { return true }
        return !requireFigures && nodeName(of: stripModifiers(s).rest) != nil && !s.containsBytes(": ")
    }

    static func stripModifiers(_ header: Substring) -> (rest: Substring, parallel: Bool, partial: String?) {
        var s = header, parallel = false, partial: String?
        if s.hasPrefix("Async ") { s = s.dropFirst(6) }
        if s.hasPrefix("Parallel ") { parallel = true; s = s.dropFirst(9) }
        for mode in ["Partial", "Finalize"] where s.hasPrefix(mode + " ") { partial = mode; s = s.dropFirst(mode.count + 1) }
        return (s, parallel, partial)
    }

    /// The node name `header` starts with (followed by its end or a space), or a join with its type.
    static func nodeName(of header: Substring) -> String? {
        for kind in ["Hash", "Merge"] {
            for join in joinKinds where header.hasPrefix("\(kind) \(join) Join") { return "\(kind) \(join) Join" }
        }
        for join in joinKinds where header.hasPrefix("Nested Loop \(join) Join") { return "Nested Loop \(join) Join" }
        return nodeNames.first { header.hasPrefix($0) && (header.count == $0.count || header.dropFirst($0.count).first == " ") }
    }

    /// One node line (without its arrow): the header's names, then the cost and actual groups.
    static func node(from content: Substring, lineNumber: Int) throws -> PlanNode {
        let costRange = content.firstRange(ofBytes: "  (cost=")
        let actualRange = content.firstRange(ofBytes: " (actual ")
        let neverRange = content.firstRange(ofBytes: " (never executed)")
        let headerEnd = [costRange?.lowerBound, actualRange?.lowerBound, neverRange?.lowerBound].compactMap { $0 }.min() ?? content.endIndex
        var node = try header(content[..<headerEnd], lineNumber: lineNumber)
        if let costRange {
            let figures = try group("cost=" + content[costRange.upperBound...], lineNumber: lineNumber)
            let costs = (figures["cost"] ?? "").components(separatedBy: "..")
            node.startupCost = Double(costs.first ?? "") ?? 0
            node.totalCost = Double(costs.last ?? "") ?? 0
            node.planRows = Double(figures["rows"] ?? "") ?? 0
            node.planWidth = Int(figures["width"] ?? "") ?? 0
        }
        if let actualRange {
            let figures = try group(content[actualRange.upperBound...], lineNumber: lineNumber)
            if let time = figures["time"]?.components(separatedBy: ".."), time.count == 2 {
                node.actualStartupTimeMs = Double(time[0]); node.actualTotalTimeMs = Double(time[1])
            }
            node.actualRows = figures["rows"].flatMap(Double.init)
            node.actualLoops = figures["loops"].flatMap(Double.init)
            if node.actualLoops == 0 { node.executed = false }
        } else if neverRange != nil {
            node.executed = false; node.actualRows = 0; node.actualLoops = 0
        }
        return node
    }

    /// `key=value` pairs of a parenthesised group up to its closing parenthesis.
    static func group(_ text: Substring, lineNumber: Int) throws -> [String: String] {
        guard let close = text.firstIndex(of: ")") else {
            throw PGAdviseError(.input, "line \(lineNumber): a plan node's figures are cut off (truncated plan?): \(text.prefix(60))")
        }
        var pairs: [String: String] = [:]
        for token in text[..<close].split(separator: " ") {
            let parts = token.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { pairs[String(parts[0])] = String(parts[1]) }
        }
        return pairs
    }

    /// The node's type and what it reads: `Index Scan Backward using t_a on public.t x`.
    static func header(_ header: Substring, lineNumber: Int) throws -> PlanNode {
        let (rest, parallel, partial) = stripModifiers(header)
        guard let name = nodeName(of: rest) else {
            // An unknown node (a custom scan provider's, a future version's) keeps its printed name.
            var node = PlanNode(nodeType: String(rest))
            if parallel { node.parallelAware = true }
            return node
        }
        var node = PlanNode(nodeType: name)
        if parallel { node.parallelAware = true }
        node.partialMode = partial
        applyTypeSpelling(name, to: &node)
        var words = identifierWords(rest.dropFirst(name.count))
        if words.first == "Backward" { node.scanDirection = "Backward"; words.removeFirst() }
        if words.count >= 2, words[0] == "using" { node.indexName = unquote(words[1]); words.removeFirst(2) }
        if words.count >= 2, words[0] == "on" {
            let target = qualifiedName(words[1])
            let alias = words.count >= 3 ? unquote(words[2]) : target.name
            switch node.nodeType {
            case "Bitmap Index Scan": node.indexName = target.name
            case "CTE Scan", "WorkTable Scan": node.cteName = target.name; node.alias = alias
            case "Function Scan": node.functionName = target.name; node.schema = target.schema; node.alias = alias
            case "Subquery Scan", "Values Scan", "Table Function Scan", "Named Tuplestore Scan": node.alias = target.name
            default: node.relationName = target.name; node.schema = target.schema; node.alias = alias
            }
        }
        return node
    }

    /// Text spellings that JSON splits into a node type and a property.
    static func applyTypeSpelling(_ name: String, to node: inout PlanNode) {
        switch name {
        case "HashAggregate": node.nodeType = "Aggregate"; node.strategy = "Hashed"
        case "GroupAggregate": node.nodeType = "Aggregate"; node.strategy = "Sorted"
        case "MixedAggregate": node.nodeType = "Aggregate"; node.strategy = "Mixed"
        case "Aggregate": node.strategy = "Plain"
        case "HashSetOp": node.nodeType = "SetOp"; node.strategy = "Hashed"
        case "SetOp": node.strategy = "Sorted"
        case "Insert", "Update", "Delete", "Merge", "Foreign Insert", "Foreign Update", "Foreign Delete":
            node.nodeType = "ModifyTable"; node.operation = String(name.split(separator: " ").last ?? "")
        case "Nested Loop", "Hash Join", "Merge Join": node.joinType = "Inner"
        default:
            for kind in ["Hash", "Merge", "Nested Loop"] where name.hasPrefix(kind + " ") && name.hasSuffix(" Join") {
                node.nodeType = kind == "Nested Loop" ? kind : "\(kind) Join"
                node.joinType = String(name.dropFirst(kind.count + 1).dropLast(5))
            }
        }
    }

    /// Words separated by spaces outside double quotes (identifiers may hold spaces when quoted).
    static func identifierWords(_ text: Substring) -> [String] {
        var words: [String] = [], current = "", quoted = false
        for ch in text {
            if ch == "\"" { quoted.toggle() }
            if ch == " " && !quoted {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    static func unquote(_ word: String) -> String {
        guard word.count >= 2, word.hasPrefix("\""), word.hasSuffix("\"") else { return word }
        return String(word.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }

    /// `schema.name` (VERBOSE) or `name`, each part possibly quoted.
    static func qualifiedName(_ word: String) -> (schema: String?, name: String) {
        var parts: [String] = [], current = "", quoted = false
        for ch in word {
            if ch == "\"" { quoted.toggle() }
            if ch == "." && !quoted { parts.append(current); current = "" } else { current.append(ch) }
        }
        parts.append(current)
        let name = unquote(parts.last ?? word)
        return (parts.count > 1 ? unquote(parts[parts.count - 2]) : nil, name)
    }

    /// Splits at commas outside parentheses, brackets and quotes (sort keys, output lists, settings).
    static func splitTopLevel(_ text: Substring) -> [String] {
        var items: [String] = [], current = "", depth = 0, quote: Character?
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "(" || ch == "[" {
                depth += 1
            } else if ch == ")" || ch == "]" {
                depth -= 1
            } else if ch == ",", depth == 0 {
                items.append(current.trimmingCharacters(in: .whitespaces)); current = ""; continue
            }
            current.append(ch)
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { items.append(last) }
        return items
    }

    /// `25kB` → 25.
    static func kilobytes(_ text: Substring) -> Int64? {
        Int64(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "kB", with: ""))
    }
}

extension StringProtocol {
    /// Where `needle` first occurs, compared byte for byte in UTF-8. Foundation's `range(of:)` and
    /// `contains(_:)` bridge each line to an NSString first, and the standard library's generic
    /// `firstRange(of:)` looks up type metadata per call: either was most of the time spent reading a
    /// text plan. The needles are ASCII markers, so bytes say the same.
    func firstRange(ofBytes needle: StaticString) -> Range<Index>? {
        let count = needle.utf8CodeUnitCount
        let found: Int?? = utf8.withContiguousStorageIfAvailable { haystack in
            guard let base = haystack.baseAddress, count > 0 else { return nil }
            // memchr to each candidate first byte, memcmp for the rest (Glibc does not export memmem).
            var at = 0
            while haystack.count - at >= count, let hit = memchr(base + at, Int32(needle.utf8Start.pointee), haystack.count - count + 1 - at) {
                let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + offset, needle.utf8Start, count) == 0 { return offset }
                at = offset + 1
            }
            return nil
        }
        guard let offset = found ?? slowOffset(of: needle) else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: offset)
        return start..<utf8.index(start, offsetBy: count)
    }

    func containsBytes(_ needle: StaticString) -> Bool { firstRange(ofBytes: needle) != nil }

    /// For a string without contiguous UTF-8 (bridged from Objective-C, never on Linux).
    private func slowOffset(of needle: StaticString) -> Int? {
        let bytes = Array(UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
        let haystack = Array(utf8)
        guard haystack.count >= bytes.count else { return nil }
        return (0...(haystack.count - bytes.count)).first { haystack[$0..<($0 + bytes.count)].elementsEqual(bytes) }
    }
}
