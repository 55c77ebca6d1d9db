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

    // MARK: FROM

    /// Adds a FROM item (and everything joined inside it); returns the scope indices it produced.
    mutating func fromItem(_ node: JSONValue, block: Int) -> [Int] {
        guard let (type, body) = node.node else { return [] }
        switch type {
        case "RangeVar":
            let ref = relationRef(body)
            if ref.name.schema == nil, cteNames.contains(ref.name.name) {
                blocks[block].cteReferences.append(ref)
                return [addNonTable(ref.alias ?? ref.name.name, to: block, exempt: false)]
            }
            return [addTable(ref, to: block, exempt: false)]
        case "RangeSubselect":
            let alias = body["alias"]?["aliasname"]?.string
            let lateral = body["lateral"]?.bool == true
            var exempt = lateral
            if let sub = body["subquery"]?["SelectStmt"] {
                let child = selectBlock(sub, context: .derivedTable(alias: alias), parent: block,
                                        location: relative(selectLocation(sub)))
                if lateral { states[child].canCorrelate = true }
                // VALUES and a SELECT without FROM (`(SELECT 1.2 AS rate) r`) compute values rather than
                // read a table: pairing every row with them is what the author asked for.
                let computed = sub["valuesLists"] != nil || (sub["fromClause"] == nil && (sub["op"]?.string ?? "SETOP_NONE") == "SETOP_NONE")
                if computed || blocks[child].returnsOneRow { exempt = true }
            }
            return [addNonTable(alias ?? "", to: block, exempt: exempt)]
        case "RangeTableSample":
            return body["relation"].map { fromItem($0, block: block) } ?? []
        case "RangeFunction":
            let alias = body["alias"]?["aliasname"]?.string
            walkSubLinks(body["functions"] ?? .null, block: block)
            let name = alias ?? firstFunctionName(body["functions"] ?? .null) ?? ""
            return [addNonTable(name, to: block, exempt: true)]
        case "JoinExpr":
            let left = body["larg"].map { fromItem($0, block: block) } ?? []
            let right = body["rarg"].map { fromItem($0, block: block) } ?? []
            let joinType = joinTypeName(body["jointype"]?.string)
            let natural = body["isNatural"]?.bool == true
            let using = (body["usingClause"]?.array ?? []).compactMap(stringValue)
            if let quals = body["quals"] {
                if case .boolean(true)? = quals["A_Const"].flatMap({ constant($0, source: source) }) {
                    link(left, right, block: block)   // `ON true`: cartesian as written
                }
                conditions(quals, block: block, clause: .joinOn, underOr: false, joinType: joinType)
                linkConjuncts(quals, block: block)
            } else if natural || !using.isEmpty {
                link(left, right, block: block)
                if left.count == 1, right.count == 1 {
                    let l = states[block].scope[left[0]], r = states[block].scope[right[0]]
                    for column in using {
                        let lc = ColumnRef(qualifier: l.exposedName, name: column, relation: l.relation)
                        let rc = ColumnRef(qualifier: r.exposedName, name: column, relation: r.relation)
                        blocks[block].joins.append(JoinCondition(left: lc, right: rc, op: "=", joinType: joinType))
                    }
                }
            } else {
                // CROSS JOIN: the author asked for every combination, unless WHERE then filters each side
                // on its own and never relates them (decided in `finishBlock`).
                states[block].crossJoins.append((left, right))
            }
            return left + right
        default:
            walkSubLinks(node, block: block)
            return []
        }
    }

    func joinTypeName(_ raw: String?) -> String {
        switch raw {
        case "JOIN_LEFT": return "left"
        case "JOIN_RIGHT": return "right"
        case "JOIN_FULL": return "full"
        default: return "inner"
        }
    }

    func firstFunctionName(_ functions: JSONValue) -> String? {
        for entry in functions.array ?? [] {
            for item in entry["List"]?["items"]?.array ?? [] {
                if let name = item["FuncCall"]?["funcname"]?.lastChild.flatMap(stringValue) { return name }
            }
        }
        return nil
    }

    @discardableResult
    mutating func addTable(_ ref: RelationRef, to block: Int, exempt: Bool) -> Int {
        blocks[block].relations.append(ref)
        states[block].scope.append(ScopeItem(exposedName: ref.exposedName, relation: ref, exemptFromJoinCheck: exempt))
        return states[block].scope.count - 1
    }

    mutating func addNonTable(_ name: String, to block: Int, exempt: Bool) -> Int {
        if !name.isEmpty { blocks[block].nonTableItems.append(name) }
        states[block].scope.append(ScopeItem(exposedName: name, relation: nil, exemptFromJoinCheck: exempt))
        return states[block].scope.count - 1
    }

    func relationRef(_ body: JSONValue) -> RelationRef {
        let name = QualifiedName(schema: body["schemaname"]?.string, body["relname"]?.string ?? "")
        return RelationRef(name: name, alias: body["alias"]?["aliasname"]?.string, location: relative(body["location"]?.int))
    }

    mutating func link(_ left: [Int], _ right: [Int], block: Int) {
        for l in left { for r in right { states[block].links.append((l, r)) } }
    }

    /// Links the FROM items each top-level conjunct of a condition mentions.
    mutating func linkConjuncts(_ condition: JSONValue, block: Int) {
        if let bool = condition["BoolExpr"], bool["boolop"]?.string == "AND_EXPR" {
            for arg in bool["args"]?.array ?? [] { linkConjuncts(arg, block: block) }
            return
        }
        var qualifiers: [String] = []
        var unqualified = 0
        collectQualifiers(condition, qualifiers: &qualifiers, unqualified: &unqualified)
        let scope = states[block].scope
        guard scope.count > 1 else { return }
        let items = Set(qualifiers.compactMap { q in scope.firstIndex { $0.exposedName == q } })
        if unqualified > 0 && (unqualified + qualifiers.count) > 1 {
            states[block].linksUncertain = true
        }
        if items.count == 1, unqualified == 0, let item = items.first { states[block].filtered.insert(item) }
        let sorted = items.sorted()
        for other in sorted.dropFirst() { states[block].links.append((sorted[0], other)) }
    }

    /// Qualifiers of every column a condition reads, including those inside its subqueries (which is
    /// how a correlated EXISTS links two outer tables). Unqualified columns inside a subquery are
    /// taken to be the subquery's own.
    func collectQualifiers(_ node: JSONValue, qualifiers: inout [String], unqualified: inout Int) {
        // Everything before this position, from the last SubLink seen, is inside a subquery.
        var subqueryEnd = node.index
        var i = node.index
        while i < node.end {
            if node.isNode(at: i, "ColumnRef") {
                let fields = ColumnRefFields(node.at(i + 2))
                if fields.names >= 2 || (fields.star && fields.names >= 1) {
                    if let qualifier = (fields.names >= 2 && !fields.star ? fields.previous : fields.last)?.string {
                        qualifiers.append(qualifier)
                    }
                } else if i >= subqueryEnd {
                    unqualified += 1
                }
                i = node.end(of: i)
                continue
            }
            if node.isNode(at: i, "SubLink") { subqueryEnd = Swift.max(subqueryEnd, node.end(of: i)) }
            i += 1
        }
    }

    /// Computes `unjoinedRelationPairs` from the links gathered while walking FROM and WHERE.
    mutating func finishBlock(_ block: Int) {
        let state = states[block]
        let scope = state.scope
        guard scope.count > 1, !state.linksUncertain else { return }
        var parent = Array(0..<scope.count)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        var links = state.links
        for (left, right) in state.crossJoins
        where !(left.contains(where: state.filtered.contains) && right.contains(where: state.filtered.contains)) {
            for l in left { for r in right { links.append((l, r)) } }
        }
        for (a, b) in links {
            let ra = root(a), rb = root(b)
            if ra != rb { parent[ra] = rb }
        }
        var firstOfComponent: [Int: Int] = [:]
        var order: [Int] = []
        for i in scope.indices where !scope[i].exemptFromJoinCheck && !scope[i].exposedName.isEmpty {
            let r = root(i)
            if firstOfComponent[r] == nil { firstOfComponent[r] = i; order.append(r) }
        }
        guard order.count > 1, let first = firstOfComponent[order[0]] else { return }
        for r in order.dropFirst() {
            guard let other = firstOfComponent[r] else { continue }
            blocks[block].unjoinedRelationPairs.append((scope[first].exposedName, scope[other].exposedName))
        }
    }

    // MARK: SELECT list

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

    // MARK: conditions

    mutating func conditions(_ node: JSONValue, block: Int, clause: Predicate.Clause, underOr: Bool, joinType: String) {
        guard let (type, body) = node.node else { return }
        switch type {
        case "BoolExpr":
            let args = body["args"]?.array ?? []
            switch body["boolop"]?.string {
            case "AND_EXPR":
                for arg in args { conditions(arg, block: block, clause: clause, underOr: underOr, joinType: joinType) }
            case "OR_EXPR":
                for arg in args { conditions(arg, block: block, clause: clause, underOr: true, joinType: joinType) }
            default:
                guard let arg = args.first else { return }
                if let column = arg["ColumnRef"], !isStar(column) {
                    var p = Predicate(column: columnRef(column, block: block), op: "=", value: .constant(.boolean(false)),
                                      underOr: underOr, location: relative(body["location"]?.int), clause: clause)
                    p.condition = ConditionText(node: node, printer: evidence)
                    blocks[block].predicates.append(p)
                } else if let sub = arg["SubLink"] {
                    subLinkCondition(sub, node: arg, negated: true, block: block, clause: clause, underOr: underOr,
                                     location: relative(body["location"]?.int))
                } else {
                    conditions(arg, block: block, clause: clause, underOr: true, joinType: joinType)
                }
            }
        case "A_Expr":
            comparison(body, node: node, block: block, clause: clause, underOr: underOr, joinType: joinType)
        case "NullTest", "BooleanTest":
            let arg = body["arg"] ?? .null
            if let (column, wrappers) = columnSide(arg, block: block) {
                let op: String
                if type == "NullTest" { op = body["nulltesttype"]?.string == "IS_NOT_NULL" ? "IS NOT NULL" : "IS NULL" }
                else { op = (body["booltesttype"]?.string ?? "IS_TRUE").replacingUnderscores() }
                var p = Predicate(column: column, op: op, value: .none, wrappers: wrappers,
                                  expressionText: wrappers.isEmpty ? nil : canonical.print(arg), underOr: underOr,
                                  location: relative(body["location"]?.int), clause: clause)
                p.condition = ConditionText(node: node, printer: evidence)
                blocks[block].predicates.append(p)
            }
            walkSubLinks(arg, block: block)
        case "SubLink":
            subLinkCondition(body, node: node, negated: false, block: block, clause: clause, underOr: underOr,
                             location: relative(body["location"]?.int))
        case "ColumnRef":
            guard !isStar(body) else { return }
            var p = Predicate(column: columnRef(body, block: block), op: "=", value: .constant(.boolean(true)),
                              underOr: underOr, location: relative(body["location"]?.int), clause: clause)
            p.condition = ConditionText(node: node, printer: evidence)
            blocks[block].predicates.append(p)
        default:
            walkSubLinks(node, block: block)
        }
    }

    /// `node` is the SubLink node itself (`{"SubLink": body}`), which the condition's evidence prints.
    mutating func subLinkCondition(_ body: JSONValue, node: JSONValue, negated: Bool, block: Int, clause: Predicate.Clause,
                                   underOr: Bool, location: Int) {
        let select = body["subselect"]?["SelectStmt"]
        let operatorName = lastName(body["operName"]) ?? "="
        switch body["subLinkType"]?.string {
        case "EXISTS_SUBLINK":
            if let select { selectBlock(select, context: .exists(negated: negated), parent: block, location: location) }
        case "ANY_SUBLINK", "ALL_SUBLINK":
            let isAll = body["subLinkType"]?.string == "ALL_SUBLINK"
            // `x <> ALL (SELECT ...)` is `NOT IN` spelled differently, NULL behaviour included.
            let membership = (!isAll && operatorName == "=") || (isAll && operatorName == "<>")
            let negatedMembership = isAll ? !negated : negated
            let test = body["testexpr"] ?? .null
            if let (column, wrappers) = columnSide(test, block: block) {
                let op = membership ? (negatedMembership ? "NOT IN" : "IN") : operatorName + (isAll ? " ALL" : " ANY")
                var p = Predicate(column: column, op: op, value: .subquery, wrappers: wrappers,
                                  expressionText: wrappers.isEmpty ? nil : canonical.print(test),
                                  underOr: underOr || (negated && !membership), location: location, clause: clause)
                p.condition = ConditionText(node: node, printer: evidence,
                                            negatedMembership: negated && !isAll)
                blocks[block].predicates.append(p)
            }
            walkSubLinks(test, block: block)
            if let select {
                let context: BlockContext = membership ? .inSubquery(negated: negatedMembership) : .scalarSubquery
                selectBlock(select, context: context, parent: block, location: location)
            }
        default:
            if let select { selectBlock(select, context: .scalarSubquery, parent: block, location: location) }
        }
    }

    mutating func comparison(_ body: JSONValue, node: JSONValue, block: Int, clause: Predicate.Clause,
                             underOr: Bool, joinType: String) {
        let name = lastName(body["name"]) ?? ""
        let kind = body["kind"]?.string ?? "AEXPR_OP"
        let location = relative(body["location"]?.int)
        let lexpr = body["lexpr"]
        let rexpr = body["rexpr"]
        defer {
            if let lexpr { walkSubLinks(lexpr, block: block) }
            if let rexpr { walkSubLinks(rexpr, block: block) }
        }
        guard let lexpr else { return }
        let left = columnSide(lexpr, block: block)

        func add(_ column: ColumnRef, _ wrappers: [ColumnWrapper], _ columnNode: JSONValue, op: String,
                 value: PredicateValue, valueType: String? = nil) {
            var p = Predicate(column: column, op: op, value: value, wrappers: wrappers,
                              expressionText: wrappers.isEmpty ? nil : canonical.print(columnNode),
                              underOr: underOr, location: location, clause: clause)
            p.valueType = valueType
            p.condition = ConditionText(node: node, printer: evidence)
            blocks[block].predicates.append(p)
        }

        switch kind {
        case "AEXPR_IN":
            let items = rexpr?["List"]?["items"]?.array ?? rexpr?.array ?? []
            let constants = items.compactMap { constantValue($0) }
            blocks[block].inLists.append((column: left?.0, count: items.count, location: location))
            if let (column, wrappers) = left {
                add(column, wrappers, lexpr, op: name == "<>" ? "NOT IN" : "IN",
                    value: .list(count: items.count, constants: constants))
            }
        case "AEXPR_OP_ANY", "AEXPR_OP_ALL":
            guard let (column, wrappers) = left, let rexpr else { return }
            let isAll = kind == "AEXPR_OP_ALL"
            let op: String
            if !isAll && name == "=" { op = "IN" } else if isAll && name == "<>" { op = "NOT IN" } else { op = name + (isAll ? " ALL" : " ANY") }
            var value: PredicateValue
            var valueType: String?
            if let p = rexpr["ParamRef"] { value = .arrayParameter(p["number"]?.int ?? 0) }
            else if let cast = rexpr["TypeCast"], let p = cast["arg"]?["ParamRef"] {
                value = .arrayParameter(p["number"]?.int ?? 0)
                valueType = formatTypeName(cast["typeName"] ?? .null)
            } else if let array = rexpr["A_ArrayExpr"] {
                let elements = array["elements"]?.array ?? []
                value = .list(count: elements.count, constants: elements.compactMap { constantValue($0) })
            } else { value = .expression(evidence.print(rexpr)) }
            add(column, wrappers, lexpr, op: op, value: value, valueType: valueType)
        case "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM":
            guard let (column, wrappers) = left else { return }
            let bounds = rexpr?["List"]?["items"]?.array ?? rexpr?.array ?? []
            let constants = bounds.compactMap { constantValue($0) }
            let value: PredicateValue = constants.count == bounds.count
                ? .list(count: bounds.count, constants: constants)
                : .expression(bounds.map { evidence.print($0) }.joined(separator: " AND "))
            let op = kind == "AEXPR_BETWEEN" ? "BETWEEN" : kind == "AEXPR_NOT_BETWEEN" ? "NOT BETWEEN"
                : kind == "AEXPR_BETWEEN_SYM" ? "BETWEEN SYMMETRIC" : "NOT BETWEEN SYMMETRIC"
            add(column, wrappers, lexpr, op: op, value: value)
        case "AEXPR_OP", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT":
            guard let rexpr else { return }
            var op: String
            switch kind {
            case "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR": op = likeOperatorName(name)
            case "AEXPR_DISTINCT": op = "IS DISTINCT FROM"
            case "AEXPR_NOT_DISTINCT": op = "IS NOT DISTINCT FROM"
            default: op = name == "!=" ? "<>" : name
            }
            let right = columnSide(rexpr, block: block)
            if let (column, wrappers) = left, right == nil || wrappers.isEmpty || !(right?.1.isEmpty ?? true) {
                let (value, valueType) = predicateValue(rexpr, block: block)
                add(column, wrappers, lexpr, op: op, value: value, valueType: valueType)
                if wrappers.isEmpty, let (other, otherWrappers) = right, otherWrappers.isEmpty {
                    addJoin(column, other, op: op, block: block, joinType: joinType)
                }
            } else if let (column, wrappers) = right, let swapped = commutedOperator(op) {
                let (value, valueType) = predicateValue(lexpr, block: block)
                add(column, wrappers, rexpr, op: swapped, value: value, valueType: valueType)
            }
        default:
            return
        }
    }

    /// Records `a.x = b.y` as a join when the two columns belong to different FROM items of this block.
    mutating func addJoin(_ left: ColumnRef, _ right: ColumnRef, op: String, block: Int, joinType: String) {
        guard let lq = left.qualifier, let rq = right.qualifier, lq != rq else { return }
        let scope = states[block].scope
        guard scope.contains(where: { $0.exposedName == lq }), scope.contains(where: { $0.exposedName == rq }) else { return }
        blocks[block].joins.append(JoinCondition(left: left, right: right, op: op, joinType: joinType))
    }

    func commutedOperator(_ op: String) -> String? {
        switch op {
        case "=", "<>", "&&", "@@", "IS DISTINCT FROM", "IS NOT DISTINCT FROM": return op
        case "<": return ">"
        case ">": return "<"
        case "<=": return ">="
        case ">=": return "<="
        case "@>": return "<@"
        case "<@": return "@>"
        default: return nil
        }
    }

    func predicateValue(_ node: JSONValue, block: Int) -> (PredicateValue, String?) {
        guard let (type, body) = node.node else { return (.expression("?"), nil) }
        switch type {
        case "A_Const":
            return (constant(body, source: source).map(PredicateValue.constant) ?? .expression(evidence.print(node)), nil)
        case "ParamRef":
            return (.parameter(body["number"]?.int ?? 0), nil)
        case "TypeCast":
            let typeName = formatTypeName(body["typeName"] ?? .null)
            let (inner, _) = predicateValue(body["arg"] ?? .null, block: block)
            switch inner {
            case .constant, .parameter: return (inner, typeName)
            default: return (.expression(evidence.print(node)), typeName)
            }
        case "ColumnRef":
            if isStar(body) { return (.expression(evidence.print(node)), nil) }
            return (.column(columnRef(body, block: block)), nil)
        case "SubLink":
            return (.subquery, nil)
        case "A_ArrayExpr":
            let elements = body["elements"]?.array ?? []
            return (.list(count: elements.count, constants: elements.compactMap { constantValue($0) }), nil)
        default:
            return (.expression(evidence.print(node)), nil)
        }
    }

    func constantValue(_ node: JSONValue) -> Constant? {
        if let c = node["A_Const"] { return constant(c, source: source) }
        if let cast = node["TypeCast"], let c = cast["arg"]?["A_Const"] { return constant(c, source: source) }
        return nil
    }

    /// The column a side of a comparison is about, with what wraps it (outermost first); nil when
    /// the side is not built on a column.
    func columnSide(_ node: JSONValue, block: Int) -> (ColumnRef, [ColumnWrapper])? {
        guard let (type, body) = node.node else { return nil }
        switch type {
        case "ColumnRef":
            return isStar(body) ? nil : (columnRef(body, block: block), [])
        case "TypeCast":
            guard let (column, inner) = columnSide(body["arg"] ?? .null, block: block) else { return nil }
            return (column, [.cast(type: formatTypeName(body["typeName"] ?? .null))] + inner)
        case "CollateClause":
            guard let (column, inner) = columnSide(body["arg"] ?? .null, block: block) else { return nil }
            let name = (body["collname"]?.array ?? []).compactMap(stringValue).joined(separator: ".")
            return (column, [.collate(name)] + inner)
        case "FuncCall":
            guard body["over"] == nil else { return nil }
            let name = lastName(body["funcname"]) ?? "?"
            for arg in body["args"]?.array ?? [] {
                if let (column, inner) = columnSide(arg, block: block) { return (column, [.function(name: name)] + inner) }
            }
            return nil
        case "CoalesceExpr", "MinMaxExpr":
            let name = type == "CoalesceExpr" ? "coalesce" : (body["op"]?.string == "IS_LEAST" ? "least" : "greatest")
            for arg in body["args"]?.array ?? [] {
                if let (column, inner) = columnSide(arg, block: block) { return (column, [.function(name: name)] + inner) }
            }
            return nil
        case "A_Expr":
            guard body["kind"]?.string == "AEXPR_OP" else { return nil }
            let op = lastName(body["name"]) ?? "?"
            for side in [body["lexpr"], body["rexpr"]] {
                if let side, let (column, inner) = columnSide(side, block: block) { return (column, [.arithmetic(op: op)] + inner) }
            }
            return nil
        case "A_Indirection":
            guard let (column, inner) = columnSide(body["arg"] ?? .null, block: block) else { return nil }
            return (column, [.arithmetic(op: "[]")] + inner)
        default:
            return nil
        }
    }

    /// Creates blocks for the subqueries anywhere inside an expression, in the context their link type gives.
    mutating func walkSubLinks(_ node: JSONValue, block: Int) {
        var i = node.index
        while i < node.end {
            if node.isNode(at: i, "SubLink") {
                subLink(node.at(i + 2), block: block)
                i = node.end(of: i)
            } else if node.isNode(at: i, "SelectStmt") || isLeafNode(node, at: i) {
                i = node.end(of: i)
            } else {
                i += 1
            }
        }
    }

    /// A subquery inside an expression: its block, in the context its link type gives.
    mutating func subLink(_ body: JSONValue, block: Int) {
        if let test = body["testexpr"] { walkSubLinks(test, block: block) }
        guard let select = body["subselect"]?["SelectStmt"] else { return }
        let location = relative(body["location"]?.int)
        let operatorName = lastName(body["operName"]) ?? "="
        let context: BlockContext
        switch body["subLinkType"]?.string {
        case "EXISTS_SUBLINK": context = .exists(negated: false)
        case "ANY_SUBLINK" where operatorName == "=": context = .inSubquery(negated: false)
        case "ALL_SUBLINK" where operatorName == "<>": context = .inSubquery(negated: true)
        default: context = .scalarSubquery
        }
        selectBlock(select, context: context, parent: block, location: location)
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
