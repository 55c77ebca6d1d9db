import PGAdviseCore

// The SELECT list and column references: what a block returns and which relation a column belongs to.

extension ShapeBuilder {
    mutating func projectionItem(_ value: JSONValue, block: Int) -> ProjectionItem {
        if let column = value["ColumnRef"] {
            let fields = column["fields"]?.array ?? []
            if fields.last?["A_Star"] != nil {
                let qualifier = fields.count > 1 ? stringValue(fields[fields.count - 2]) : nil
                return .star(qualifier: qualifier, location: relative(column["location"]?.int))
            }
            return .column(columnRef(column, block: block))
        }
        var columns: [ColumnRef] = []
        collectColumns(value, block: block, into: &columns)
        return .expression(text: evidence.print(value), columns: columns, location: relative(firstLocation(value)))
    }

    func collectColumns(_ node: JSONValue, block: Int, into columns: inout [ColumnRef]) {
        var i = node.index
        while i < node.end {
            if node.isNode(at: i, "ColumnRef") {
                let body = node.at(i + 2)
                if !isStar(body) { columns.append(columnRef(body, block: block)) }
                i = node.end(of: i)
            } else if node.isNode(at: i, "SubLink") {
                i = node.end(of: i)
            } else {
                i += 1
            }
        }
    }

    func containsAggregate(_ node: JSONValue) -> Bool {
        var i = node.index
        while i < node.end {
            if node.isNode(at: i, "SubLink") || isLeafNode(node, at: i) {
                i = node.end(of: i)
                continue
            }
            if node.isNode(at: i, "FuncCall") {
                let call = node.at(i + 2)
                if call["over"] == nil {
                    if call["agg_star"]?.bool == true || call["agg_filter"] != nil || call["agg_order"] != nil { return true }
                    if let name = call["funcname"]?.lastChild.flatMap(stringValue), aggregateFunctions.contains(name) { return true }
                }
            }
            i += 1
        }
        return false
    }

    // MARK: columns

    /// A ColumnRef's name parts as the walks need them, without collecting them into an array.
    struct ColumnRefFields {
        /// How many `String` parts (`a.b.c` has 3; `t.*` has 1).
        var names = 0
        var last: JSONValue?
        var previous: JSONValue?
        /// Ends in `*`.
        var star = false

        init(_ columnRef: JSONValue) {
            for field in columnRef["fields"]?.children ?? JSONValue.null.children {
                star = field["A_Star"] != nil
                if let name = field["String"]?["sval"], name.kind == .string { previous = last; last = name; names += 1 }
            }
        }
    }

    func isStar(_ columnRef: JSONValue) -> Bool { columnRef["fields"]?.lastChild?["A_Star"] != nil }

    func columnRef(_ body: JSONValue, block: Int) -> ColumnRef {
        let fields = ColumnRefFields(body)
        let name = fields.last?.string ?? ""
        let qualifier = fields.names >= 2 ? fields.previous?.string : nil
        return ColumnRef(qualifier: qualifier, name: name, relation: resolve(qualifier, block: block),
                         location: relative(body["location"]?.int))
    }

    /// The relation a column belongs to when the statement alone makes it certain.
    func resolve(_ qualifier: String?, block: Int) -> RelationRef? {
        if let qualifier {
            var current: Int? = block
            while let b = current {
                if let item = states[b].scope.first(where: { $0.exposedName == qualifier }) { return item.relation }
                current = blocks[b].parent
            }
            return nil
        }
        let scope = states[block].scope
        guard scope.count == 1, !states[block].canCorrelate else { return nil }
        return scope[0].relation
    }
}
