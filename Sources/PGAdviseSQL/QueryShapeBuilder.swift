import PGAdviseCore

extension QueryShape {
    /// Parses a script (one statement or many) and describes each statement. Locations in the shapes
    /// are byte offsets into each shape's own `text`; add `byteOffset` for a position in `sql`.
    public static func build(sql: String) -> Result<[QueryShape], SQLParseError> {
        switch PgQuery.parse(sql) {
        case let .failure(error): return .failure(error)
        case let .success(tree): return .success(build(tree: tree))
        }
    }

    /// The shapes of an already parsed script, one per statement (utility statements included, as
    /// `.utility` shapes without blocks).
    public static func build(tree: ParseTree) -> [QueryShape] {
        let bytes = Array(tree.source.utf8)
        var shapes: [QueryShape] = []
        for raw in tree.json["stmts"]?.array ?? [] {
            guard let node = raw["stmt"] else { continue }
            let location = raw["stmt_location"]?.int ?? 0
            let length = raw["stmt_len"]?.int ?? 0
            var start = Swift.min(Swift.max(location, 0), bytes.count)
            var end = length == 0 ? bytes.count : Swift.min(start + length, bytes.count)
            start = skipSpaceAndComments(bytes, from: start, to: end)
            while end > start, isSpaceByte(bytes[end - 1]) || bytes[end - 1] == UInt8(ascii: ";") { end -= 1 }
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            var builder = ShapeBuilder(source: bytes, base: start)
            shapes.append(builder.shape(of: node, text: text))
        }
        return shapes
    }
}

/// One FROM item as columns see it.
struct ScopeItem {
    var exposedName: String
    /// Set for tables (and views); nil for derived tables, CTE references, functions, VALUES.
    var relation: RelationRef?
    /// Cartesian by intent or harmless: CROSS JOIN, LATERAL, set-returning functions, VALUES,
    /// subqueries returning one row. Never reported as unjoined.
    var exemptFromJoinCheck: Bool
}

/// Per-block facts the builder needs while walking, kept beside the public QueryBlock values.
struct BlockState {
    var scope: [ScopeItem] = []
    /// Pairs of scope indices a condition links.
    var links: [(Int, Int)] = []
    /// An unqualified column in a condition over several FROM items: the links cannot be known.
    var linksUncertain = false
    /// CROSS JOINs' two sides (scope indices): intentional products, linked unless WHERE filters each
    /// side on its own without relating them.
    var crossJoins: [([Int], [Int])] = []
    /// Scope items that a condition of their own filters (`o.total > 100`).
    var filtered: Set<Int> = []
    /// Exists/IN/scalar subqueries and LATERAL may refer to outer columns, so an unqualified column
    /// in them is not certainly their own table's.
    var canCorrelate = false
}

/// Nodes that contain no expression (so no subquery and no aggregate): walks stop at them.
func isLeafNode(_ tree: JSONValue, at position: Int) -> Bool {
    tree.isNode(at: position, "ColumnRef") || tree.isNode(at: position, "A_Const") || tree.isNode(at: position, "ParamRef")
        || tree.isNode(at: position, "String") || tree.isNode(at: position, "A_Star") || tree.isNode(at: position, "TypeName")
}

let aggregateFunctions: Set<String> = [
    "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or", "every",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "bit_and", "bit_or", "xmlagg",
    "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "percentile_cont",
    "percentile_disc", "mode", "corr", "covar_pop", "covar_samp", "regr_count",
]

struct ShapeBuilder {
    let source: [UInt8]
    /// Absolute byte offset of the statement's text; parse-tree locations are absolute.
    let base: Int
    var blocks: [QueryBlock] = []
    var states: [BlockState] = []
    var cteNames: Set<String> = []
    let evidence: ExpressionPrinter
    let canonical: ExpressionPrinter

    init(source: [UInt8], base: Int) {
        self.source = source
        self.base = base
        evidence = ExpressionPrinter(keepQualifiers: true, source: source)
        canonical = ExpressionPrinter(keepQualifiers: false, source: source)
    }

    func relative(_ absolute: Int?) -> Int { Swift.max(0, (absolute ?? base) - base) }

    mutating func shape(of node: JSONValue, text: String) -> QueryShape {
        guard let (type, body) = node.node else { return QueryShape(kind: .utility, text: text, byteOffset: base) }
        var shape = QueryShape(kind: .utility, text: text, byteOffset: base)
        switch type {
        case "SelectStmt":
            shape.kind = .select
            _ = selectBlock(body, context: .top, parent: nil, location: 0)
        case "InsertStmt":
            shape.kind = .insert
            let top = writeTarget(body, shape: &shape)
            if let select = body["selectStmt"]?["SelectStmt"] {
                _ = selectBlock(select, context: .insertSource, parent: top, location: relative(selectLocation(select)))
            }
            if let conflict = body["onConflictClause"] {
                shape.assignments = assignments(conflict["OnConflictClause"]?["targetList"] ?? conflict["targetList"])
                walkSubLinks(conflict, block: top)
            }
            shape.returning = returningList(body, block: top)
        case "UpdateStmt", "DeleteStmt":
            shape.kind = type == "UpdateStmt" ? .update : .delete
            shape.assignments = assignments(body["targetList"])
            let top = newBlock(.top, parent: nil, location: 0)
            if let with = body["withClause"] { commonTableExpressions(with, parent: top) }
            dataModification(body, block: top, shape: &shape)
            shape.returning = returningList(body, block: top)
        case "ViewStmt", "CreateTableAsStmt":
            guard let defined = type == "ViewStmt" ? body["view"] : body["into"]?["rel"],
                  let select = body["query"]?["SelectStmt"] else { break }
            shape.definedRelation = relationRef(defined)
            _ = selectBlock(select, context: .top, parent: nil, location: relative(selectLocation(select)))
        case "CopyStmt":
            if body["is_from"]?.bool == true, let relation = body["relation"] { shape.copyTarget = relationRef(relation) }
        case "IndexStmt":
            if let relation = body["relation"] {
                shape.indexCreation = IndexCreation(table: relationRef(relation), name: body["idxname"]?.string,
                                                    concurrently: body["concurrent"]?.bool == true,
                                                    unique: body["unique"]?.bool == true)
            }
        case "MergeStmt":
            shape.kind = .merge
            let top = writeTarget(body, shape: &shape)
            if let sourceRelation = body["sourceRelation"] { _ = fromItem(sourceRelation, block: top) }
            for clause in body["mergeWhenClauses"]?.array ?? [] {
                guard let when = clause["MergeWhenClause"], when["commandType"]?.string == "CMD_UPDATE" else { continue }
                shape.assignments += assignments(when["targetList"])
            }
            if let on = body["joinCondition"] {
                conditions(on, block: top, clause: .joinOn, underOr: false, joinType: "inner")
                linkConjuncts(on, block: top)
            }
            finishBlock(top)
        default:
            break
        }
        shape.blocks = blocks
        if containsParameter(node) { shape.filteringParameters = filteringParameters(node) }
        return shape
    }

    mutating func returningList(_ body: JSONValue, block: Int) -> [ProjectionItem] {
        var items: [ProjectionItem] = []
        for target in body["returningList"]?.children ?? JSONValue.null.children {
            guard let value = target["ResTarget"]?["val"] else { continue }
            items.append(projectionItem(value, block: block))
        }
        return items
    }

    /// A SET list's assignments. `SET (a, b) = ROW($1, $2)` arrives as one target per column, each
    /// holding the whole source and its position in it.
    func assignments(_ targetList: JSONValue?) -> [Assignment] {
        (targetList?.array ?? []).compactMap { target in
            guard let res = target["ResTarget"], let column = res["name"]?.string else { return nil }
            var source = res["val"] ?? .null
            if let multi = source["MultiAssignRef"] {
                let position = (multi["colno"]?.int ?? 1) - 1
                let row = multi["source"]?["RowExpr"]?["args"]?.array ?? []
                guard row.indices.contains(position) else { return Assignment(column: column, value: .subquery) }
                source = row[position]
            }
            if let constant = constantValue(source) { return Assignment(column: column, value: .constant(constant)) }
            if let p = source["ParamRef"] ?? source["TypeCast"]?["arg"]?["ParamRef"] {
                return Assignment(column: column, value: .parameter(p["number"]?.int ?? 0))
            }
            return Assignment(column: column, value: .expression(evidence.print(source)))
        }
    }

    /// The top block of an INSERT or MERGE: its CTEs and its target table.
    mutating func writeTarget(_ body: JSONValue, shape: inout QueryShape) -> Int {
        let top = newBlock(.top, parent: nil, location: 0)
        if let with = body["withClause"] { commonTableExpressions(with, parent: top) }
        if let relation = body["relation"] {
            let ref = relationRef(relation)
            shape.target = ref
            addTable(ref, to: top, exempt: false)
        }
        return top
    }

    /// UPDATE/DELETE (and their writable-CTE forms): target, FROM/USING, WHERE, SET values.
    mutating func dataModification(_ body: JSONValue, block: Int, shape: inout QueryShape) {
        if let relation = body["relation"] {
            let ref = relationRef(relation)
            if shape.target == nil, blocks[block].context == .top { shape.target = ref }
            addTable(ref, to: block, exempt: false)
        }
        for item in (body["fromClause"]?.array ?? []) + (body["usingClause"]?.array ?? []) {
            _ = fromItem(item, block: block)
        }
        for target in body["targetList"]?.array ?? [] { walkSubLinks(target, block: block) }
        if let whereClause = body["whereClause"] {
            blocks[block].hasWhere = true
            conditions(whereClause, block: block, clause: .where, underOr: false, joinType: "inner")
            linkConjuncts(whereClause, block: block)
        }
        finishBlock(block)
    }

    mutating func newBlock(_ context: BlockContext, parent: Int?, location: Int) -> Int {
        var block = QueryBlock(context: context)
        block.location = location
        block.parent = parent
        blocks.append(block)
        var state = BlockState()
        switch context {
        case .exists, .inSubquery, .scalarSubquery: state.canCorrelate = true
        case .setOperationArm, .insertSource: state.canCorrelate = parent.map { states[$0].canCorrelate } ?? false
        case .top, .cte, .derivedTable: state.canCorrelate = false
        }
        states.append(state)
        return blocks.count - 1
    }

    mutating func commonTableExpressions(_ with: JSONValue, parent: Int) {
        let ctes = (with["ctes"]?.array ?? []).compactMap { $0["CommonTableExpr"] }
        for cte in ctes { if let name = cte["ctename"]?.string { cteNames.insert(name) } }
        for cte in ctes {
            let name = cte["ctename"]?.string ?? ""
            guard let (type, body) = cte["ctequery"]?.node else { continue }
            let location = relative(cte["location"]?.int)
            if type == "SelectStmt" {
                _ = selectBlock(body, context: .cte(name: name), parent: parent, location: location)
            } else if type == "UpdateStmt" || type == "DeleteStmt" || type == "InsertStmt" {
                let block = newBlock(.cte(name: name), parent: parent, location: location)
                if type == "InsertStmt" {
                    if let relation = body["relation"] { addTable(relationRef(relation), to: block, exempt: false) }
                    if let select = body["selectStmt"]?["SelectStmt"] {
                        _ = selectBlock(select, context: .insertSource, parent: block, location: relative(selectLocation(select)))
                    }
                } else {
                    var ignored = QueryShape(kind: .utility, text: "")
                    dataModification(body, block: block, shape: &ignored)
                    blocks[block].hasWhere = body["whereClause"] != nil
                    blocks[block].writeKind = type == "UpdateStmt" ? .update : .delete
                    blocks[block].writeTarget = body["relation"].map(relationRef)
                }
            }
        }
    }

    @discardableResult
    mutating func selectBlock(_ body: JSONValue, context: BlockContext, parent: Int?, location: Int) -> Int {
        let block = newBlock(context, parent: parent, location: location)
        if let with = body["withClause"] { commonTableExpressions(with, parent: block) }
        if let op = body["op"]?.string, op != "SETOP_NONE" {
            for arm in [body["larg"], body["rarg"]] {
                guard let arm else { continue }
                selectBlock(arm, context: .setOperationArm, parent: block, location: relative(selectLocation(arm)))
            }
            sortAndLimit(body, block: block)
            return block
        }
        if let values = body["valuesLists"] {
            walkSubLinks(values, block: block)
            return block
        }
        for item in body["fromClause"]?.array ?? [] { _ = fromItem(item, block: block) }
        for target in body["targetList"]?.array ?? [] {
            guard let res = target["ResTarget"], let value = res["val"] else { continue }
            blocks[block].projection.append(projectionItem(value, block: block))
            if containsAggregate(value) { blocks[block].hasAggregates = true }
            walkSubLinks(value, block: block)
        }
        if let whereClause = body["whereClause"] {
            blocks[block].hasWhere = true
            conditions(whereClause, block: block, clause: .where, underOr: false, joinType: "inner")
            linkConjuncts(whereClause, block: block)
        }
        for item in body["groupClause"]?.array ?? [] {
            if let column = item["ColumnRef"], !isStar(column) {
                blocks[block].groupBy.append(columnRef(column, block: block))
            } else if case let .integer(n)? = item["A_Const"].flatMap({ constant($0, source: source) }),
                      case let .column(c)? = projectionEntry(Int(n), block: block) {
                blocks[block].groupBy.append(c)
            }
        }
        if let having = body["havingClause"] {
            conditions(having, block: block, clause: .having, underOr: false, joinType: "inner")
        }
        if body["distinctClause"] != nil { blocks[block].distinct = true }
        sortAndLimit(body, block: block)
        let groups = !(body["groupClause"]?.array ?? []).isEmpty
        if blocks[block].hasAggregates && !groups { blocks[block].returnsOneRow = true }
        if case .literal(let n)? = blocks[block].limit, n <= 1 { blocks[block].returnsOneRow = true }
        finishBlock(block)
        return block
    }
}

/// Where a SELECT's text starts, near enough for a finding: its first SELECT-list entry, found
/// without walking the whole subquery (this runs for every CTE, derived table and set-operation arm).
func selectLocation(_ select: JSONValue) -> Int? {
    if let first = select["targetList"]?.array?.first?["ResTarget"]?["location"]?.int { return first }
    return firstLocation(select)
}

/// The smallest `location` inside a node: where its text starts, near enough for a finding.
func firstLocation(_ node: JSONValue) -> Int? {
    var best: Int?
    var i = node.index
    while i < node.end {
        if node.isKey(at: i, "location"), let v = node.at(i + 1).int, v >= 0 { best = Swift.min(best ?? v, v) }
        i += 1
    }
    return best
}
