import PGAdviseCore

// ORDER BY, LIMIT and OFFSET of a block.

extension ShapeBuilder {
    mutating func sortAndLimit(_ body: JSONValue, block: Int) {
        for item in body["sortClause"]?.array ?? [] {
            guard let sort = item["SortBy"], let node = sort["node"] else { continue }
            var key = SortKey(location: relative(firstLocation(node)))
            if let column = node["ColumnRef"], !isStar(column) {
                key.column = columnRef(column, block: block)
            } else if case let .integer(n)? = node["A_Const"].flatMap({ constant($0, source: source) }),
                      case let .column(c)? = projectionEntry(Int(n), block: block) {
                key.column = c
            } else {
                key.expressionText = canonical.print(node)
            }
            key.descending = sort["sortby_dir"]?.string == "SORTBY_DESC"
            switch sort["sortby_nulls"]?.string {
            case "SORTBY_NULLS_FIRST": key.nullsFirst = true
            case "SORTBY_NULLS_LAST": key.nullsFirst = false
            default: break
            }
            blocks[block].orderBy.append(key)
            walkSubLinks(node, block: block)
        }
        if let count = body["limitCount"] { blocks[block].limit = limitValue(count) }
        if let offset = body["limitOffset"] {
            blocks[block].offset = limitValue(offset)
            blocks[block].offsetLocation = relative(firstLocation(offset))
        }
    }

    func limitValue(_ node: JSONValue) -> LimitValue {
        if let c = node["A_Const"] {
            switch constant(c, source: source) {
            case .null?: return .all
            case let .integer(n)?: return .literal(n)
            default: break
            }
        }
        if let p = node["ParamRef"] { return .parameter(p["number"]?.int ?? 0) }
        if let cast = node["TypeCast"], let p = cast["arg"]?["ParamRef"] { return .parameter(p["number"]?.int ?? 0) }
        return .expression(evidence.print(node))
    }

    /// The n-th (1-based) SELECT-list entry, for `ORDER BY 2` / `GROUP BY 1`.
    func projectionEntry(_ n: Int, block: Int) -> ProjectionItem? {
        let items = blocks[block].projection
        return n >= 1 && n <= items.count ? items[n - 1] : nil
    }
}
