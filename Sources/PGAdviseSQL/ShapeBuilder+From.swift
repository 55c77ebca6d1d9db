import PGAdviseCore

// FROM and joins: the scope of a block, and which of its items a condition links (for cartesian joins).

extension ShapeBuilder {
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
            return joinExpr(body, block: block)
        default:
            walkSubLinks(node, block: block)
            return []
        }
    }

    /// `a JOIN b ON ...`, `USING (...)`, NATURAL or CROSS: both sides, linked as the join says.
    mutating func joinExpr(_ body: JSONValue, block: Int) -> [Int] {
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
                    blocks[block].joins.append(JoinCondition(left: lc, right: rc, op: .equal, joinType: joinType))
                }
            }
        } else {
            // CROSS JOIN: the author asked for every combination, unless WHERE then filters each side
            // on its own and never relates them (decided in `finishBlock`).
            states[block].crossJoins.append((left, right))
        }
        return left + right
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
}
