import PGAdviseCore

// WHERE, JOIN ... ON and HAVING: conditions become predicates and join conditions; subqueries become blocks.

extension ShapeBuilder {
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
                    var p = Predicate(column: columnRef(column, block: block), op: .equal, value: .constant(.boolean(false)),
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
                let op: PredicateOperator
                if type == "NullTest" { op = body["nulltesttype"]?.string == "IS_NOT_NULL" ? .isNotNull : .isNull }
                else { op = PredicateOperator(rawValue: (body["booltesttype"]?.string ?? "IS_TRUE").replacingUnderscores()) }
                var p = Predicate(column: column, op: op, value: .none, wrappers: wrappers,
                                  expressionText: wrappers.isEmpty ? nil : canonical.print(arg), underOr: underOr,
                                  location: relative(body["location"]?.int), clause: clause)
                p.expressionTakesParameters = !wrappers.isEmpty && containsParameter(arg)
                p.condition = ConditionText(node: node, printer: evidence)
                blocks[block].predicates.append(p)
            }
            walkSubLinks(arg, block: block)
        case "SubLink":
            subLinkCondition(body, node: node, negated: false, block: block, clause: clause, underOr: underOr,
                             location: relative(body["location"]?.int))
        case "ColumnRef":
            guard !isStar(body) else { return }
            var p = Predicate(column: columnRef(body, block: block), op: .equal, value: .constant(.boolean(true)),
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
                let op: PredicateOperator = membership ? (negatedMembership ? .notIn : .in)
                    : PredicateOperator(rawValue: operatorName + (isAll ? " ALL" : " ANY"))
                var p = Predicate(column: column, op: op, value: .subquery, wrappers: wrappers,
                                  expressionText: wrappers.isEmpty ? nil : canonical.print(test),
                                  underOr: underOr || (negated && !membership), location: location, clause: clause)
                p.expressionTakesParameters = !wrappers.isEmpty && containsParameter(test)
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
        let op = predicateOperator(kind: kind, name: name)

        func add(_ column: ColumnRef, _ wrappers: [ColumnWrapper], _ columnNode: JSONValue, op: PredicateOperator,
                 value: PredicateValue, valueType: String? = nil, valueNode: JSONValue? = nil, elements: [ParameterFill] = []) {
            var p = Predicate(column: column, op: op, value: value, wrappers: wrappers,
                              expressionText: wrappers.isEmpty ? nil : canonical.print(columnNode),
                              underOr: underOr, location: location, clause: clause)
            p.expressionTakesParameters = !wrappers.isEmpty && containsParameter(columnNode)
            p.valueType = valueType
            if case .expression = value, let valueNode, containsParameter(valueNode) { p.valueFill = parameterFill(valueNode) }
            p.elementFills = elements
            p.condition = ConditionText(node: node, printer: evidence)
            blocks[block].predicates.append(p)
        }

        switch kind {
        case "AEXPR_IN":
            let items = listItems(rexpr)
            let constants = items.compactMap { constantValue($0) }
            blocks[block].inLists.append((column: left?.0, count: items.count, location: location))
            if let (column, wrappers) = left {
                add(column, wrappers, lexpr, op: op, value: .list(count: items.count, constants: constants),
                    elements: elementFills(items))
            }
        case "AEXPR_OP_ANY", "AEXPR_OP_ALL":
            guard let (column, wrappers) = left, let rexpr else { return }
            let (value, valueType) = quantifiedValue(rexpr)
            add(column, wrappers, lexpr, op: op, value: value, valueType: valueType)
        case "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM":
            guard let (column, wrappers) = left else { return }
            add(column, wrappers, lexpr, op: op, value: betweenBounds(rexpr),
                elements: elementFills(listItems(rexpr)))
        case "AEXPR_OP", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT":
            guard let rexpr else { return }
            let right = columnSide(rexpr, block: block)
            if let (column, wrappers) = left, right == nil || wrappers.isEmpty || !(right?.1.isEmpty ?? true) {
                let (value, valueType) = predicateValue(rexpr, block: block)
                add(column, wrappers, lexpr, op: op, value: value, valueType: valueType, valueNode: rexpr)
                if wrappers.isEmpty, let (other, otherWrappers) = right, otherWrappers.isEmpty {
                    addJoin(column, other, op: op, block: block, joinType: joinType)
                }
            } else if let (column, wrappers) = right, let swapped = op.commuted {
                let (value, valueType) = predicateValue(lexpr, block: block)
                add(column, wrappers, rexpr, op: swapped, value: value, valueType: valueType, valueNode: lexpr)
            }
        default:
            return
        }
    }

    /// The operator a predicate records for an A_Expr of this kind: `x = ANY (...)` is `IN`,
    /// `x <> ALL (...)` is `NOT IN`, LIKE and its kin by name, `!=` is `<>`.
    func predicateOperator(kind: String, name: String) -> PredicateOperator {
        switch kind {
        case "AEXPR_IN": return name == "<>" ? .notIn : .in
        case "AEXPR_OP_ANY": return name == "=" ? .in : PredicateOperator(rawValue: name + " ANY")
        case "AEXPR_OP_ALL": return name == "<>" ? .notIn : PredicateOperator(rawValue: name + " ALL")
        case "AEXPR_BETWEEN": return .between
        case "AEXPR_NOT_BETWEEN": return "NOT BETWEEN"
        case "AEXPR_BETWEEN_SYM": return "BETWEEN SYMMETRIC"
        case "AEXPR_NOT_BETWEEN_SYM": return "NOT BETWEEN SYMMETRIC"
        case "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR": return PredicateOperator(rawValue: likeOperatorName(name))
        case "AEXPR_DISTINCT": return .isDistinctFrom
        case "AEXPR_NOT_DISTINCT": return .isNotDistinctFrom
        default: return name == "!=" ? .notEqual : PredicateOperator(rawValue: name)
        }
    }

    /// The right side of `x = ANY (...)` / `x <> ALL (...)`: an array parameter (with its cast's type),
    /// an ARRAY[...] list, or an expression.
    func quantifiedValue(_ rexpr: JSONValue) -> (PredicateValue, String?) {
        if let p = rexpr["ParamRef"] { return (.arrayParameter(p["number"]?.int ?? 0), nil) }
        if let cast = rexpr["TypeCast"], let p = cast["arg"]?["ParamRef"] {
            return (.arrayParameter(p["number"]?.int ?? 0), formatTypeName(cast["typeName"] ?? .null))
        }
        if let array = rexpr["A_ArrayExpr"] {
            let elements = array["elements"]?.array ?? []
            return (.list(count: elements.count, constants: elements.compactMap { constantValue($0) }), nil)
        }
        return (.expression(evidence.print(rexpr)), nil)
    }

    /// The elements of an IN list or BETWEEN's bounds: a List node, or a bare array.
    func listItems(_ rexpr: JSONValue?) -> [JSONValue] {
        rexpr?["List"]?["items"]?.array ?? rexpr?.array ?? []
    }

    /// BETWEEN's bounds: a two-constant list when both are constants, else `lo AND hi` as text.
    func betweenBounds(_ rexpr: JSONValue?) -> PredicateValue {
        let bounds = listItems(rexpr)
        let constants = bounds.compactMap { constantValue($0) }
        return constants.count == bounds.count
            ? .list(count: bounds.count, constants: constants)
            : .expression(bounds.map { evidence.print($0) }.joined(separator: " AND "))
    }

    /// Records `a.x = b.y` as a join when the two columns belong to different FROM items of this block.
    mutating func addJoin(_ left: ColumnRef, _ right: ColumnRef, op: PredicateOperator, block: Int, joinType: String) {
        guard let lq = left.qualifier, let rq = right.qualifier, lq != rq else { return }
        let scope = states[block].scope
        guard scope.contains(where: { $0.exposedName == lq }), scope.contains(where: { $0.exposedName == rq }) else { return }
        blocks[block].joins.append(JoinCondition(left: left, right: right, op: op, joinType: joinType))
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

    /// A `$n` anywhere in the expression (`substring(c_phone, $1, $2)` once pg_stat_statements has
    /// replaced its constants).
    func containsParameter(_ node: JSONValue) -> Bool {
        (node.index..<node.end).contains { node.isNode(at: $0, "ParamRef") }
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
