import Foundation
import PGAdviseCore

/// Builds plans from EXPLAIN text lines, one line at a time (see `ExplainTextParser` for the layout).
/// Nodes are kept flat with their parent's position and assembled into a tree when a plan ends.
struct TextPlanBuilder {
    private struct OpenNode {
        var node: PlanNode
        var parent: Int?
        /// Column of the node's name: its details and children sit to the right of it.
        var nameColumn: Int
        /// Column of its first `Key: value` line; deeper lines belong to a worker or a sub-block.
        var detailColumn: Int?
    }

    private enum Block { case none, planning, jit }

    private var nodes: [OpenNode] = []
    private var stack: [Int] = []
    private var pendingLabel: (column: Int, name: String)?
    private var plan: Plan?
    private var block = Block.none
    private var queryText: String?
    private var plans: [Plan] = []
    /// True when the input has cost or actual figures: then only lines with them start a plan.
    let requireFigures: Bool

    init(requireFigures: Bool) { self.requireFigures = requireFigures }

    mutating func read(_ line: String, lineNumber: Int) throws {
        guard let column = line.firstIndex(where: { $0 != " " && $0 != "\t" }).map({ line.distance(from: line.startIndex, to: $0) }) else { return }
        let content = Substring(line).dropFirst(column)
        if content.hasPrefix("->") {
            try readArrow(content, column: column, lineNumber: lineNumber)
            return
        }
        if nodes.isEmpty {
            if ExplainTextParser.looksLikeNode(content, requireFigures: requireFigures) {
                try startPlan(content, column: column, lineNumber: lineNumber)
            } else if content.hasPrefix("Query Text: ") {
                queryText = String(content.dropFirst(12))
            }
            return
        }
        while let top = stack.last, nodes[top].nameColumn >= column { stack.removeLast() }
        if let top = stack.last {
            readDetail(content, column: column, of: top)
        } else {
            try readSummary(content, column: column, lineNumber: lineNumber)
        }
    }

    private mutating func startPlan(_ content: Substring, column: Int, lineNumber: Int) throws {
        let root = try ExplainTextParser.node(from: content, lineNumber: lineNumber)
        nodes = [OpenNode(node: root, parent: nil, nameColumn: column)]
        stack = [0]
        plan = Plan(root: root)
        plan?.queryText = queryText
        queryText = nil
        block = .none
    }

    private mutating func readArrow(_ content: Substring, column: Int, lineNumber: Int) throws {
        while let top = stack.last, nodes[top].nameColumn >= column { stack.removeLast() }
        guard let parent = stack.last else {
            let what = nodes.isEmpty ? "before any plan node" : "after the plan's summary lines"
            throw PGAdviseError(.input, "line \(lineNumber): a plan node `->` \(what): the plan is cut, mixed with other text, or its indentation was changed")
        }
        guard stack.count < ExplainParser.deepestLevel else { throw ExplainParser.tooDeep(where: "line \(lineNumber)") }
        let name = content.dropFirst(2).drop { $0 == " " }
        var node = try ExplainTextParser.node(from: name, lineNumber: lineNumber)
        if let label = pendingLabel, label.column < column {
            node.subplanName = label.name
            node.parentRelationship = label.name.hasPrefix("SubPlan") ? "SubPlan" : "InitPlan"
        }
        pendingLabel = nil
        nodes.append(OpenNode(node: node, parent: parent, nameColumn: column + (content.count - name.count)))
        stack.append(nodes.count - 1)
    }

    private mutating func readDetail(_ content: Substring, column: Int, of index: Int) {
        for label in ["InitPlan ", "SubPlan ", "CTE "] where content.hasPrefix(label) && !content.containsBytes(": ") {
            pendingLabel = (column, String(content))
            return
        }
        if nodes[index].detailColumn == nil { nodes[index].detailColumn = column }
        if column > nodes[index].detailColumn ?? column { return }
        nodes[index].node.applyTextProperty(content)
    }

    /// Lines after the tree: planning and execution time, triggers, JIT, settings, or a next plan.
    private mutating func readSummary(_ content: Substring, column: Int, lineNumber: Int) throws {
        let rootColumn = nodes.first?.nameColumn ?? 0
        if column > rootColumn {
            if block == .jit { plan?.applyJITLine(content) }
            return
        }
        block = .none
        let (key, value) = splitProperty(content)
        switch key {
        case "Planning Time": plan?.planningTimeMs = milliseconds(value)
        case "Execution Time", "Total runtime": plan?.executionTimeMs = milliseconds(value)
        case "Planning": block = .planning
        case "JIT": block = .jit; plan?.jit = PlanJIT()
        case "Settings":
            var settings: [String: String] = [:]
            for item in ExplainTextParser.splitTopLevel(value) {
                let parts = item.components(separatedBy: " = ")
                guard parts.count == 2 else { continue }
                settings[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
            plan?.settings = settings
        case "Query Identifier": break
        default:
            if content.hasPrefix("Trigger ") {
                let parsed = trigger(content)
                let earlier = plan?.triggers ?? []
                plan?.triggers = earlier + [parsed]
            } else if ExplainTextParser.looksLikeNode(content, requireFigures: requireFigures) {
                try finishPlan()
                try startPlan(content, column: column, lineNumber: lineNumber)
            } else if content.hasPrefix("Query Text: ") {
                queryText = String(content.dropFirst(12))
            } else if content.containsBytes("LOG:  ") {
                // The next entry of a server log pasted with its auto_explain plans: this plan ends.
                try finishPlan()
            } else {
                throw PGAdviseError(.input, "line \(lineNumber): not part of an EXPLAIN text plan (mixed formats or pasted text?): \(content.prefix(60))")
            }
        }
    }

    /// `Trigger RI_ConstraintTrigger_c_1 for constraint fk on t: time=0.123 calls=1`.
    private func trigger(_ content: Substring) -> PlanTrigger {
        let colon = content.range(of: ": ", options: .backwards)
        var head = String(content[..<(colon?.lowerBound ?? content.endIndex)].dropFirst(8))
        let figures = colon.map { content[$0.upperBound...] } ?? ""
        var relation: String?, constraint: String?
        if let on = head.range(of: " on ", options: .backwards) { relation = String(head[on.upperBound...]); head = String(head[..<on.lowerBound]) }
        if let forConstraint = head.range(of: " for constraint ") {
            constraint = String(head[forConstraint.upperBound...]); head = String(head[..<forConstraint.lowerBound])
        }
        var trigger = PlanTrigger(name: head, constraintName: constraint, relation: relation)
        for token in figures.split(separator: " ") {
            let parts = token.split(separator: "=")
            guard parts.count == 2 else { continue }
            if parts[0] == "time" { trigger.timeMs = Double(parts[1]) }
            if parts[0] == "calls" { trigger.calls = Double(parts[1]) }
        }
        return trigger
    }

    private mutating func finishPlan() throws {
        guard var plan else { return }
        // With BUFFERS, text omits a node's Buffers line when it touched nothing; JSON says 0.
        if nodes.contains(where: { $0.node.sharedHitBlocks != nil || $0.node.sharedReadBlocks != nil }) {
            for i in nodes.indices {
                nodes[i].node.sharedHitBlocks = nodes[i].node.sharedHitBlocks ?? 0
                nodes[i].node.sharedReadBlocks = nodes[i].node.sharedReadBlocks ?? 0
            }
        }
        plan.root = assemble(0)
        plans.append(plan)
        self.plan = nil
        nodes = []
        stack = []
        pendingLabel = nil
    }

    /// The tree under node `index`, children in the order their lines appeared.
    private func assemble(_ index: Int) -> PlanNode {
        var childrenOf: [[Int]] = Array(repeating: [], count: nodes.count)
        for (i, open) in nodes.enumerated() { if let parent = open.parent { childrenOf[parent].append(i) } }
        func build(_ i: Int) -> PlanNode {
            var node = nodes[i].node
            node.children = childrenOf[i].map(build)
            return node
        }
        return build(index)
    }

    mutating func finish() throws -> [Plan] {
        try finishPlan()
        return plans
    }
}

/// `Key: value` → (key, value); a line without `: ` is all key.
func splitProperty(_ content: Substring) -> (key: String, value: Substring) {
    if content.hasSuffix(":") { return (String(content.dropLast()), "") }
    guard let range = content.firstRange(ofBytes: ": ") else { return (String(content), "") }
    return (String(content[..<range.lowerBound]), content[range.upperBound...])
}

/// `0.123 ms` → 0.123.
func milliseconds(_ value: Substring) -> Double? {
    Double(value.replacingOccurrences(of: " ms", with: "").trimmingCharacters(in: .whitespaces))
}

extension Plan {
    /// One line of the JIT block: `Functions: 3`, `Options: Inlining false, ...`, `Timing: Generation 1.2 ms, ...`.
    mutating func applyJITLine(_ content: Substring) {
        var jit = self.jit ?? PlanJIT()
        let (key, value) = splitProperty(content)
        let items = ExplainTextParser.splitTopLevel(value).map { $0.split(separator: " ") }
        func item(_ name: String) -> Substring? { items.first { $0.first.map(String.init) == name }.flatMap { $0.count > 1 ? $0[1] : nil } }
        switch key {
        case "Functions": jit.functions = Int(value)
        case "Options":
            jit.inlining = item("Inlining").map { $0 == "true" }; jit.optimization = item("Optimization").map { $0 == "true" }
            jit.expressions = item("Expressions").map { $0 == "true" }; jit.deforming = item("Deforming").map { $0 == "true" }
        case "Timing":
            jit.generationMs = item("Generation").flatMap { Double($0) }; jit.inliningMs = item("Inlining").flatMap { Double($0) }
            jit.optimizationMs = item("Optimization").flatMap { Double($0) }; jit.emissionMs = item("Emission").flatMap { Double($0) }
            jit.totalMs = item("Total").flatMap { Double($0) }
        default: break
        }
        self.jit = jit
    }
}

extension PlanNode {
    /// One `Key: value` line under a node. Keys EXPLAIN shares with JSON go through the same setters.
    mutating func applyTextProperty(_ content: Substring) {
        if content.hasPrefix("Worker ") {
            applyWorkerLine(content)
            return
        }
        let (key, value) = splitProperty(content)
        switch key {
        case "Sort Key", "Presorted Key", "Group Key", "Output":
            let items = ExplainTextParser.splitTopLevel(value)
            if key == "Sort Key" { sortKeys = items } else if key == "Group Key" { groupKey = items } else if key == "Output" { output = items }
        case "Sort Method", "Buckets", "Batches", "Planned Partitions", "Hits":
            applySegments(content)
        case "Heap Blocks":
            for (name, figure) in keyValues(value) {
                if name == "exact" { exactHeapBlocks = figure } else if name == "lossy" { lossyHeapBlocks = figure }
            }
        case "Buffers": applyBuffers(value)
        case "I/O Timings": applyIOTimings(value)
        case "WAL":
            for (name, figure) in keyValues(value) {
                let n = Int64(figure)
                if name == "records" { walRecords = n } else if name == "fpi" { walFPI = n } else if name == "bytes" { walBytes = n }
            }
        default:
            if let number = Double(value) { setNumber(key, number) } else { setText(key, String(value)) }
        }
    }

    /// `Worker 0:  actual time=0.1..0.2 rows=3 loops=1` (VERBOSE); a worker's other lines are its own.
    private mutating func applyWorkerLine(_ content: Substring) {
        let (key, value) = splitProperty(content)
        guard let number = Int(key.dropFirst(7)) else { return }
        let figures = value.trimmingCharacters(in: .whitespaces)
        guard figures.hasPrefix("actual ") else { return }
        var worker = PlanWorker(workerNumber: number)
        for token in figures.dropFirst(7).split(separator: " ") {
            let parts = token.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "time":
                let times = parts[1].components(separatedBy: "..")
                if times.count == 2 { worker.actualStartupTimeMs = Double(times[0]); worker.actualTotalTimeMs = Double(times[1]) }
            case "rows": worker.actualRows = Double(parts[1])
            case "loops": worker.actualLoops = Double(parts[1])
            default: break
            }
        }
        workers = (workers ?? []) + [worker]
    }

    /// Lines of several `Key: value` separated by two spaces: sort, hash and hash-aggregate figures.
    /// EXPLAIN's text omits `(originally N)` when nothing changed, where JSON repeats the value.
    private mutating func applySegments(_ content: Substring) {
        let segments = content.components(separatedBy: "  ").map { splitProperty(Substring($0)) }
        let isHash = segments.contains { $0.key == "Buckets" }
        for (key, value) in segments {
            let first = value.split(separator: " ").first.map(String.init) ?? ""
            let original = value.range(of: "(originally ").map { Int64(value[$0.upperBound...].prefix { $0.isNumber }) } ?? nil
            switch key {
            case "Sort Method": sortMethod = String(value)
            case "Memory", "Disk": sortSpaceType = key == "Memory" ? "Memory" : "Disk"; sortSpaceUsedKB = ExplainTextParser.kilobytes(value)
            case "Buckets": hashBuckets = Int64(first); originalHashBuckets = original ?? hashBuckets
            case "Batches":
                if isHash { hashBatches = Int64(first); originalHashBatches = original ?? hashBatches } else { hashAggBatches = Int64(first) }
            case "Memory Usage": peakMemoryUsageKB = ExplainTextParser.kilobytes(value)
            case "Disk Usage": diskUsageKB = ExplainTextParser.kilobytes(value)
            case "Planned Partitions": plannedPartitions = Int64(first)
            default: break
            }
        }
    }

    /// `shared hit=1 read=2 dirtied=3 written=4, local hit=5, temp read=6 written=7`.
    private mutating func applyBuffers(_ value: Substring) {
        for part in value.components(separatedBy: ", ") {
            let words = part.split(separator: " ", maxSplits: 1)
            guard words.count == 2 else { continue }
            for (name, figure) in keyValues(words[1]) {
                setNumber("\(words[0].capitalized) \(name.capitalized) Blocks", figure)
            }
        }
    }

    /// `shared/local read=0.1 write=0.2, temp read=0.3` (PostgreSQL 15), `shared read=...` (16),
    /// `read=0.1 write=0.2` (14 and earlier).
    private mutating func applyIOTimings(_ value: Substring) {
        for part in value.components(separatedBy: ", ") {
            let words = part.split(separator: " ")
            let isTemp = words.first == "temp"
            for (name, figure) in keyValues(Substring(part)) {
                switch (isTemp, name) {
                case (true, "read"): tempIOReadTimeMs = figure
                case (true, "write"): tempIOWriteTimeMs = figure
                case (false, "read"): ioReadTimeMs = (ioReadTimeMs ?? 0) + figure
                case (false, "write"): ioWriteTimeMs = (ioWriteTimeMs ?? 0) + figure
                default: break
                }
            }
        }
    }

    private func keyValues(_ text: Substring) -> [(String, Double)] {
        text.split(separator: " ").compactMap { token in
            let parts = token.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let figure = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: ","))) else { return nil }
            return (String(parts[0]), figure)
        }
    }
}
