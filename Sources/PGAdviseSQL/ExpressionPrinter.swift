import Foundation
import PGAdviseCore

/// Prints an expression from libpg_query's parse tree in one canonical spelling: parentheses only
/// around nested operators, lower-case function names, types as `format_type` prints them. Two
/// spellings of the same expression (`LOWER( email )`, `lower((email))`) print the same, which is what
/// lets a predicate be compared with an index expression.
public struct ExpressionPrinter: Sendable {
    /// Keep `o.` in `o.created_at` (evidence for people) or drop it (index expressions name bare columns).
    public var keepQualifiers: Bool
    /// Drop casts to text-like types: `pg_get_indexdef` prints `lower((email)::text)` for a varchar
    /// column and `'day'::text` for a literal argument, where the user wrote `lower(email)`.
    public var dropTextCasts: Bool
    /// The statement's UTF-8 bytes, for literals the JSON tree does not carry (negative integers).
    var source: [UInt8]

    public init(keepQualifiers: Bool = true, dropTextCasts: Bool = false, source: [UInt8] = []) {
        self.keepQualifiers = keepQualifiers
        self.dropTextCasts = dropTextCasts
        self.source = source
    }

    // Longer than 60 lines on purpose: one case per parse-node type, so the whole mapping from the
    // tree back to SQL text reads in one place; each case is a line or two.
    public func print(_ node: JSONValue) -> String {
        guard let (type, body) = node.node else {
            if let items = node.array { return items.map { print($0) }.joined(separator: ", ") }
            return "?"
        }
        switch type {
        case "ColumnRef":
            return columnText(body)
        case "A_Const":
            return constant(body, source: source).map(literalText) ?? "NULL"
        case "ParamRef":
            return "$\(body["number"]?.int ?? 0)"
        case "FuncCall":
            return functionText(body)
        case "TypeCast":
            let arg = body["arg"] ?? .null
            let typeName = formatTypeName(body["typeName"] ?? .null)
            if dropTextCasts && textLikeTypes.contains(typeName) { return print(arg) }
            return operand(arg) + "::" + typeName
        case "A_Expr":
            return operatorText(body)
        case "BoolExpr":
            let args = (body["args"]?.array ?? []).map(operand)
            switch body["boolop"]?.string {
            case "NOT_EXPR": return "NOT " + (args.first ?? "")
            case "OR_EXPR": return args.joined(separator: " OR ")
            default: return args.joined(separator: " AND ")
            }
        case "NullTest":
            let test = body["nulltesttype"]?.string == "IS_NOT_NULL" ? "IS NOT NULL" : "IS NULL"
            return operand(body["arg"] ?? .null) + " " + test
        case "BooleanTest":
            let test = (body["booltesttype"]?.string ?? "IS_TRUE").replacingUnderscores()
            return operand(body["arg"] ?? .null) + " " + test
        case "CollateClause":
            let name = (body["collname"]?.array ?? []).compactMap(stringValue).map(quoteIdentifier).joined(separator: ".")
            return operand(body["arg"] ?? .null) + " COLLATE " + name
        case "SubLink":
            return subLinkText(body)
        case "A_ArrayExpr":
            return "ARRAY[" + (body["elements"]?.array ?? []).map { print($0) }.joined(separator: ", ") + "]"
        case "RowExpr":
            return "ROW(" + (body["args"]?.array ?? []).map { print($0) }.joined(separator: ", ") + ")"
        case "CoalesceExpr":
            return "COALESCE(" + (body["args"]?.array ?? []).map { print($0) }.joined(separator: ", ") + ")"
        case "MinMaxExpr":
            let name = body["op"]?.string == "IS_LEAST" ? "LEAST" : "GREATEST"
            return name + "(" + (body["args"]?.array ?? []).map { print($0) }.joined(separator: ", ") + ")"
        case "CaseExpr":
            var out = "CASE"
            if let arg = body["arg"] { out += " " + print(arg) }
            for when in body["args"]?.array ?? [] {
                guard let w = when["CaseWhen"] else { continue }
                out += " WHEN " + print(w["expr"] ?? .null) + " THEN " + print(w["result"] ?? .null)
            }
            if let otherwise = body["defresult"] { out += " ELSE " + print(otherwise) }
            return out + " END"
        case "A_Indirection":
            var out = operand(body["arg"] ?? .null)
            for step in body["indirection"]?.array ?? [] {
                if let (stepType, stepBody) = step.node {
                    if stepType == "String" { out += "." + quoteIdentifierIfNeeded(stepBody["sval"]?.string ?? "") }
                    else if stepType == "A_Indices" {
                        let upper = stepBody["uidx"].map { print($0) } ?? ""
                        if let lower = stepBody["lidx"] { out += "[" + print(lower) + ":" + upper + "]" }
                        else { out += "[" + upper + "]" }
                    } else if stepType == "A_Star" { out += ".*" }
                }
            }
            return out
        case "SQLValueFunction":
            return sqlValueFunctionName(body["op"]?.string ?? "")
        case "A_Star":
            return "*"
        case "ResTarget":
            return print(body["val"] ?? .null)
        case "List":
            return "(" + (body["items"]?.array ?? []).map { print($0) }.joined(separator: ", ") + ")"
        case "String":
            return body["sval"]?.string ?? ""
        default:
            return type
        }
    }

    /// An operand of an operator: parenthesised when it is itself an operator expression, so that
    /// `(a + b) * c` and `a + (b * c)` print differently and the same tree always prints the same.
    func operand(_ node: JSONValue) -> String {
        let text = print(node)
        switch node.node?.type {
        case "A_Expr", "BoolExpr", "NullTest", "BooleanTest", "CollateClause":
            return "(" + text + ")"
        case "TypeCast":
            // `-1::int` would read as `-(1::int)`; keep it unambiguous.
            return text.hasPrefix("-") ? "(" + text + ")" : text
        case "A_Const":
            return text.hasPrefix("-") ? "(" + text + ")" : text
        default:
            return text
        }
    }

    func columnText(_ body: JSONValue) -> String {
        let fields = body["fields"]?.array ?? []
        var parts: [String] = []
        for field in fields {
            if let s = field["String"]?["sval"]?.string { parts.append(quoteIdentifierIfNeeded(s)) }
            else if field["A_Star"] != nil { parts.append("*") }
        }
        if !keepQualifiers, let last = parts.last { return last }
        return parts.joined(separator: ".")
    }

    func functionText(_ body: JSONValue) -> String {
        let nameParts = (body["funcname"]?.array ?? []).compactMap(stringValue)
        let name = nameParts.last ?? "?"
        let args = body["args"]?.array ?? []
        if body["funcformat"]?.string == "COERCE_SQL_SYNTAX" && name == "extract", args.count == 2 {
            let field = constant(args[0]["A_Const"] ?? .null, source: source)
            let fieldName: String
            if case let .string(s)? = field { fieldName = s } else { fieldName = print(args[0]) }
            return "EXTRACT(\(fieldName) FROM \(print(args[1])))"
        }
        // A SQL-syntax function other than EXTRACT (substring, position, overlay, trim ...) is also
        // callable as a plain function in its schema; printing it that way keeps the text valid SQL.
        let qualified = nameParts.count > 1 && (body["funcformat"]?.string == "COERCE_SQL_SYNTAX" || nameParts[0] != "pg_catalog")
        var out = (qualified ? nameParts.map(quoteIdentifierIfNeeded).joined(separator: ".") : quoteIdentifierIfNeeded(name)) + "("
        if body["agg_star"]?.bool == true { out += "*" }
        else {
            if body["agg_distinct"]?.bool == true { out += "DISTINCT " }
            out += args.map { print($0) }.joined(separator: ", ")
        }
        if let order = body["agg_order"]?.array, !order.isEmpty {
            out += " ORDER BY " + order.map { sortText($0["SortBy"] ?? .null) }.joined(separator: ", ")
        }
        out += ")"
        if let filter = body["agg_filter"] { out += " FILTER (WHERE " + print(filter) + ")" }
        if body["over"] != nil { out += " OVER (...)" }
        return out
    }

    func sortText(_ body: JSONValue) -> String {
        var out = print(body["node"] ?? .null)
        if body["sortby_dir"]?.string == "SORTBY_DESC" { out += " DESC" }
        switch body["sortby_nulls"]?.string {
        case "SORTBY_NULLS_FIRST": out += " NULLS FIRST"
        case "SORTBY_NULLS_LAST": out += " NULLS LAST"
        default: break
        }
        return out
    }

    func operatorText(_ body: JSONValue) -> String {
        let op = lastName(body["name"]) ?? "?"
        // `a || b || c` is left-associative: its left operand needs no parentheses to read the same.
        let left = body["lexpr"].map { lexpr -> String in
            if let inner = lexpr["A_Expr"], inner["kind"]?.string == "AEXPR_OP", body["kind"]?.string == "AEXPR_OP",
               lastName(inner["name"]) == op, inner["lexpr"] != nil {
                return print(lexpr)
            }
            return operand(lexpr)
        }
        let rightNode = body["rexpr"] ?? .null
        switch body["kind"]?.string ?? "AEXPR_OP" {
        case "AEXPR_OP_ANY": return (left ?? "") + " " + op + " ANY (" + print(rightNode) + ")"
        case "AEXPR_OP_ALL": return (left ?? "") + " " + op + " ALL (" + print(rightNode) + ")"
        case "AEXPR_DISTINCT": return (left ?? "") + " IS DISTINCT FROM " + operand(rightNode)
        case "AEXPR_NOT_DISTINCT": return (left ?? "") + " IS NOT DISTINCT FROM " + operand(rightNode)
        case "AEXPR_NULLIF": return "NULLIF(" + print(body["lexpr"] ?? .null) + ", " + print(rightNode) + ")"
        case "AEXPR_IN":
            let items = (rightNode.array ?? rightNode["List"]?["items"]?.array ?? []).map { print($0) }
            return (left ?? "") + (op == "<>" ? " NOT IN (" : " IN (") + items.joined(separator: ", ") + ")"
        case "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR":
            return (left ?? "") + " " + likeOperatorName(op) + " " + operand(rightNode)
        case "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM":
            let bounds = (rightNode["List"]?["items"]?.array ?? rightNode.array ?? []).map(operand)
            let word = op.uppercased()
            return (left ?? "") + " " + word + " " + bounds.joined(separator: " AND ")
        default:
            guard let left else { return op + operand(rightNode) }
            if body["rexpr"] == nil { return left + " " + op }
            return left + " " + op + " " + operand(rightNode)
        }
    }

    func subLinkText(_ body: JSONValue) -> String {
        switch body["subLinkType"]?.string {
        case "EXISTS_SUBLINK": return "EXISTS (SELECT ...)"
        case "ANY_SUBLINK":
            let test = body["testexpr"].map(operand) ?? ""
            return test + " IN (SELECT ...)"
        case "ALL_SUBLINK":
            let op = lastName(body["operName"]) ?? "="
            return (body["testexpr"].map(operand) ?? "") + " " + op + " ALL (SELECT ...)"
        case "ARRAY_SUBLINK": return "ARRAY(SELECT ...)"
        default: return "(SELECT ...)"
        }
    }
}

/// The spellings of `~~`-family operators as users write them.
func likeOperatorName(_ op: String) -> String {
    switch op {
    case "~~": return "LIKE"
    case "!~~": return "NOT LIKE"
    case "~~*": return "ILIKE"
    case "!~~*": return "NOT ILIKE"
    case "~": return "SIMILAR TO"
    case "!~": return "NOT SIMILAR TO"
    default: return op
    }
}

let textLikeTypes: Set<String> = ["text", "character varying", "varchar", "name"]

func stringValue(_ node: JSONValue) -> String? { node["String"]?["sval"]?.string }

/// The last `String` of a name list (`["pg_catalog", "lower"]` gives `lower`), without collecting
/// the others: operator and function names are read for every condition.
func lastName(_ list: JSONValue?) -> String? {
    var last: JSONValue?
    for item in list?.children ?? JSONValue.null.children {
        if let name = item["String"]?["sval"], name.kind == .string { last = name }
    }
    return last?.string
}

/// A constant from an `A_Const` body. libpg_query's JSON omits a zero (and, in 15-4.0.0, a negative)
/// integer's value, so such integers are read back from the statement text at the constant's location.
func constant(_ body: JSONValue, source: [UInt8]) -> Constant? {
    if body["isnull"]?.bool == true { return .null }
    if let ival = body["ival"] {
        if let v = ival["ival"]?.int { return .integer(Int64(v)) }
        return .integer(integerLiteral(at: body["location"]?.int ?? -1, in: source) ?? 0)
    }
    if let f = body["fval"]?["fval"]?.string {
        // Integers beyond int4 arrive as fval; PostgreSQL types them bigint while they fit.
        if let n = Int64(f) { return .integer(n) }
        return .numeric(f)
    }
    if let s = body["sval"]?["sval"]?.string { return .string(s) }
    if body["sval"] != nil { return .string("") }
    if let b = body["boolval"] { return .boolean(b["boolval"]?.bool ?? false) }
    if let bits = body["bsval"]?["bsval"]?.string { return .string(bits) }
    return nil
}

func integerLiteral(at location: Int, in source: [UInt8]) -> Int64? {
    guard location >= 0, location < source.count else { return nil }
    var i = location
    var negative = false
    if source[i] == UInt8(ascii: "-") { negative = true; i += 1 }
    while i < source.count, source[i] == 0x20 { i += 1 }
    var value: Int64 = 0
    var digits = 0
    while i < source.count, source[i] >= 0x30, source[i] <= 0x39 {
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(source[i] - 0x30))
        if o1 || o2 { return nil }
        value = a; digits += 1; i += 1
    }
    guard digits > 0 else { return nil }
    return negative ? -value : value
}

/// A constant as SQL text.
public func literalText(_ c: Constant) -> String {
    switch c {
    case let .integer(v): return String(v)
    case let .numeric(s): return s
    case let .string(s): return stringLiteral(s)
    case let .boolean(b): return b ? "true" : "false"
    case .null: return "NULL"
    }
}

/// A string literal; the common case (no quote, no backslash) without Foundation's string search,
/// since the printer runs for every condition of every statement linted.
func stringLiteral(_ s: String) -> String {
    for byte in s.utf8 where byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\\") { return quoteLiteral(s) }
    return "'" + s + "'"
}

/// A `TypeName` node as `format_type` prints it: `bigint`, `character varying(255)`,
/// `timestamp with time zone`, `numeric(10,2)[]`.
public func formatTypeName(_ typeName: JSONValue) -> String {
    let names = (typeName["names"]?.array ?? []).compactMap(stringValue)
    let qualified = names.count > 1 && names[0] != "pg_catalog"
    let base = names.last ?? "?"
    var modifiers = (typeName["typmods"]?.array ?? []).map { mod -> String in
        if let c = mod["A_Const"], let value = constant(c, source: []) {
            if case let .string(s) = value { return s }
            return literalText(value)
        }
        return ExpressionPrinter().print(mod)
    }
    var out: String
    switch base {
    case "int2", "smallserial", "serial2": out = "smallint"
    case "int4", "int", "integer", "serial", "serial4": out = "integer"
    case "int8", "bigserial", "serial8": out = "bigint"
    case "float4": out = "real"
    case "float8": out = "double precision"
    case "bool": out = "boolean"
    case "varchar": out = "character varying"
    case "bpchar": out = "character"
    case "decimal": out = "numeric"
    case "timestamptz": out = "timestamp with time zone"
    case "timetz": out = "time with time zone"
    case "timestamp", "time":
        let zone = "without time zone"
        let precision = modifiers.isEmpty ? "" : "(" + modifiers.joined(separator: ",") + ")"
        modifiers = []
        out = base + precision + " " + zone
    case "interval":
        // The interval's field restriction is an internal bitmask; only a precision is worth keeping.
        modifiers = []
        out = "interval"
    default: out = qualified ? names.map(quoteIdentifierIfNeeded).joined(separator: ".") : quoteIdentifierIfNeeded(base)
    }
    if !modifiers.isEmpty { out += "(" + modifiers.joined(separator: ",") + ")" }
    for _ in typeName["arrayBounds"]?.array ?? [] { out += "[]" }
    return out
}

func sqlValueFunctionName(_ op: String) -> String {
    switch op {
    case "SVFOP_CURRENT_DATE": return "CURRENT_DATE"
    case "SVFOP_CURRENT_TIME", "SVFOP_CURRENT_TIME_N": return "CURRENT_TIME"
    case "SVFOP_CURRENT_TIMESTAMP", "SVFOP_CURRENT_TIMESTAMP_N": return "CURRENT_TIMESTAMP"
    case "SVFOP_LOCALTIME", "SVFOP_LOCALTIME_N": return "LOCALTIME"
    case "SVFOP_LOCALTIMESTAMP", "SVFOP_LOCALTIMESTAMP_N": return "LOCALTIMESTAMP"
    case "SVFOP_CURRENT_USER": return "CURRENT_USER"
    case "SVFOP_SESSION_USER": return "SESSION_USER"
    case "SVFOP_USER": return "USER"
    case "SVFOP_CURRENT_ROLE": return "CURRENT_ROLE"
    case "SVFOP_CURRENT_SCHEMA": return "CURRENT_SCHEMA"
    case "SVFOP_CURRENT_CATALOG": return "CURRENT_CATALOG"
    default: return op
    }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}

/// The form in which two expressions are compared: an index expression as `pg_get_indexdef` prints it
/// (`lower((email)::text)`), as written in DDL (`LOWER(email)`), and a predicate's column side
/// (`lower(u.email)`) all give `lower(email)`. Nil when the text is not an expression.
public func canonicalExpressionKey(_ expression: String) -> String? {
    expressionKeyCache.value(for: expression)
}

/// What is read from an expression's text, parsed once per text: index expressions and predicates
/// are compared with every wrapped condition of every statement, and write-cost estimates ask about
/// the same few for every configuration they weigh.
final class ParsedExpressionCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: Value?] = [:]
    private let limit: Int
    private let compute: (String) -> Value?

    init(limit: Int, compute: @escaping (String) -> Value?) {
        self.limit = limit
        self.compute = compute
    }

    func value(for expression: String) -> Value? {
        lock.lock()
        if let cached = known[expression] { lock.unlock(); return cached }
        lock.unlock()
        let value = compute(expression)
        lock.lock()
        if known.count > limit { known.removeAll(keepingCapacity: true) }
        known[expression] = value
        lock.unlock()
        return value
    }
}

let expressionKeyCache = ParsedExpressionCache<String>(limit: 50_000, compute: computeExpressionKey)

func computeExpressionKey(_ expression: String) -> String? {
    guard let parsed = parseSingleExpression(expression) else { return nil }
    return ExpressionPrinter(keepQualifiers: false, dropTextCasts: true, source: Array(parsed.source.utf8)).print(parsed.node)
}

/// An expression's text parsed by libpg_query as `SELECT <expression>`: its node and the text it was
/// parsed from (node locations count from there). Nil unless it is exactly one expression.
func parseSingleExpression(_ expression: String) -> (node: JSONValue, source: String)? {
    let source = "SELECT " + expression
    guard case let .success(tree) = PgQuery.parse(source), tree.statements.count == 1,
          let select = tree.statements.first?.node["SelectStmt"],
          let targets = select["targetList"]?.array, targets.count == 1,
          let node = targets[0]["ResTarget"]?["val"] else { return nil }
    return (node, source)
}

/// A condition's parse-tree node and the printer for it: `Predicate.conditionText` on demand. Equal
/// when the printed texts are equal, so Predicate's equality and hashing keep their meaning.
struct ConditionText: Hashable, Sendable {
    let node: JSONValue
    let printer: ExpressionPrinter
    /// `x NOT IN (SELECT ...)`: the NOT sits on a BoolExpr above the sublink that is printed.
    var negatedMembership = false

    var text: String {
        let printed = printer.print(node)
        return negatedMembership ? printed.replacingOccurrences(of: " IN (SELECT", with: " NOT IN (SELECT") : printed
    }

    static func == (a: ConditionText, b: ConditionText) -> Bool { a.text == b.text }
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}
