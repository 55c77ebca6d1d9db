// Where a statement's parameters stand, for running it with values that look like the real ones:
// which decide the rows read, the elements of lists and bounds, and a value side that is arithmetic
// on parameters, with the values that make it evaluate to a chosen one (see `ParameterFill`).

extension ShapeBuilder {
    /// See `QueryShape.filteringParameters`: every `$n` inside a `whereClause`, `havingClause` or a
    /// join's `quals`, at any depth.
    func filteringParameters(_ node: JSONValue) -> Set<Int> {
        var out = Set<Int>()
        var position = node.index
        while position < node.end {
            guard node.isKey(at: position, "whereClause") || node.isKey(at: position, "havingClause") || node.isKey(at: position, "quals") else {
                position += 1
                continue
            }
            let clause = position + 1
            for p in clause..<node.end(of: clause) where node.isNode(at: p, "ParamRef") {
                if let n = node.at(p)["ParamRef"]?["number"]?.int { out.insert(n) }
            }
            position = node.end(of: clause)
        }
        return out
    }

    /// See `Predicate.elementFills`.
    func elementFills(_ items: [JSONValue]) -> [ParameterFill] {
        let fills = items.compactMap(parameterFill)
        return fills.count == items.count ? fills : []
    }

    /// Nil when the expression is not one that neutral elements can reduce to a single parameter.
    func parameterFill(_ node: JSONValue) -> ParameterFill? {
        var neutral: [Int: String] = [:]
        guard let (carrier, beforeNow) = carry(node, &neutral) else { return nil }
        return ParameterFill(carrier: carrier, neutral: neutral, beforeNow: beforeNow)
    }

    /// The parameter the expression's value follows, after every other one takes its neutral value.
    private func carry(_ node: JSONValue, _ neutral: inout [Int: String]) -> (Int, beforeNow: Bool)? {
        guard let (type, body) = node.node else { return nil }
        switch type {
        case "ParamRef":
            return body["number"]?.int.map { ($0, false) }
        case "TypeCast":
            return carry(body["arg"] ?? .null, &neutral)
        case "A_Expr":
            guard body["kind"]?.string == "AEXPR_OP", let op = lastName(body["name"]), ["+", "-", "||"].contains(op),
                  let left = body["lexpr"], let right = body["rexpr"] else { return nil }
            // The other operand must vanish: one without parameters (`$1 - 5` from a logged text) would
            // shift the value away from the one chosen.
            if containsParameter(left) {
                guard containsParameter(right), let carried = carry(left, &neutral),
                      vanish(right, concatenation: op == "||", &neutral) else { return nil }
                return carried
            }
            // `now() - $1::interval`: the interval back from now to the chosen value.
            guard op == "-", isCurrentTime(left), let carrier = plainParameter(right) else { return nil }
            return (carrier, true)
        default:
            return nil
        }
    }

    /// Gives every parameter under `node` the value that makes `node` vanish from a concatenation
    /// ('', when `concatenation`) or from a sum (0: a product vanishes with one factor, whose
    /// companions take 1).
    private func vanish(_ node: JSONValue, concatenation: Bool, _ neutral: inout [Int: String]) -> Bool {
        guard let (type, body) = node.node else { return false }
        switch type {
        case "ParamRef":
            guard let n = body["number"]?.int else { return false }
            neutral[n] = concatenation ? "" : "0"
            return true
        case "TypeCast":
            return vanish(body["arg"] ?? .null, concatenation: concatenation, &neutral)
        case "A_Expr":
            guard body["kind"]?.string == "AEXPR_OP", let op = lastName(body["name"]),
                  let left = body["lexpr"], let right = body["rexpr"] else { return false }
            switch (op, concatenation) {
            case ("||", true), ("+", false), ("-", false):
                return vanish(left, concatenation: concatenation, &neutral) && vanish(right, concatenation: concatenation, &neutral)
            case ("*", false):
                let (zero, other) = containsParameter(left) ? (left, right) : (right, left)
                return vanish(zero, concatenation: false, &neutral) && (!containsParameter(other) || unit(other, &neutral))
            case ("/", false):
                return vanish(left, concatenation: false, &neutral) && (!containsParameter(right) || unit(right, &neutral))
            default:
                return false
            }
        default:
            return false
        }
    }

    /// `$n` or `$n::type`.
    private func plainParameter(_ node: JSONValue) -> Int? {
        guard let (type, body) = node.node else { return nil }
        if type == "TypeCast" { return plainParameter(body["arg"] ?? .null) }
        return type == "ParamRef" ? body["number"]?.int : nil
    }

    private func unit(_ node: JSONValue, _ neutral: inout [Int: String]) -> Bool {
        guard let (type, body) = node.node else { return false }
        if type == "TypeCast" { return unit(body["arg"] ?? .null, &neutral) }
        guard type == "ParamRef", let n = body["number"]?.int else { return false }
        neutral[n] = "1"
        return true
    }

    private func isCurrentTime(_ node: JSONValue) -> Bool {
        guard let (type, body) = node.node else { return false }
        switch type {
        case "SQLValueFunction":
            return ["SVFOP_CURRENT_TIMESTAMP", "SVFOP_CURRENT_TIMESTAMP_N", "SVFOP_LOCALTIMESTAMP", "SVFOP_LOCALTIMESTAMP_N"]
                .contains(body["op"]?.string ?? "")
        case "FuncCall":
            return (body["args"]?.array ?? []).isEmpty
                && ["now", "statement_timestamp", "transaction_timestamp", "clock_timestamp"].contains(lastName(body["funcname"]) ?? "")
        case "TypeCast":
            return isCurrentTime(body["arg"] ?? .null)
        default:
            return false
        }
    }
}
