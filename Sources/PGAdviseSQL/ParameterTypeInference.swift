/// A normalized statement (`$n` for every literal) that PostgreSQL cannot prepare, because some
/// parameters have no type it can infer: `$8 + $9` (unknown + unknown), `sum(CASE ... THEN $2 ELSE
/// $3 END)` (a CASE of unknowns is text, and there is no sum(text)), or a parameter in a position
/// that only takes a keyword (`extract($1 FROM ...)`, where the stored text replaced `year`).
/// The type of each such parameter is read from its context in libpg_query's tree: the column or
/// expression it is compared or combined with, the aggregate argument it fills, the CASE branches it
/// shares. Parameters in keyword positions get a literal of the right kind instead, and the others
/// are renumbered so that the statement still has `$1..$n`. Only the written form changes.
public enum ParameterTypeInference {
    public struct Typed: Sendable, Equatable {
        /// The statement with `::type` after each parameter whose type was inferred, literals in
        /// keyword positions, and the parameters renumbered.
        public var text: String
        /// What was done, for the reader: `$2 as numeric (from l_discount)`, `$1 in extract() costed as 'year'`.
        public var inferences: [String]
        /// Each parameter of the original that is still one → its number in `text`.
        public var numbers: [Int: Int]
    }

    /// An edit at a byte offset of the text: a cast after the parameter, or a literal in its place.
    private struct Edit {
        var location: Int
        var number: Int
        var cast: String?
        var literal: String?
        var reason: String
    }

    /// Aggregates whose argument is a number whatever its type: an unknown argument is costed as numeric.
    static let numericAggregates: Set<String> = ["sum", "avg", "stddev", "variance", "stddev_samp", "stddev_pop", "var_samp", "var_pop"]

    /// `columnType` gives a column's type by its (lower-case) name, nil when unknown or ambiguous.
    /// Nil when the statement does not parse or no parameter needed a type.
    public static func typed(_ text: String, columnType: (String) -> String?) -> Typed? {
        guard case .success(let tree) = PgQuery.parse(text) else { return nil }
        var edits: [Edit] = []
        for (node, _) in tree.statements { visit(node, context: nil, columnType: columnType, edits: &edits) }
        guard !edits.isEmpty else { return nil }
        var bytes = Array(text.utf8)
        for edit in edits.sorted(by: { $0.location > $1.location }) {
            let token = Array("$\(edit.number)".utf8)
            guard edit.location + token.count <= bytes.count,
                  Array(bytes[edit.location..<edit.location + token.count]) == token else { return nil }
            if let literal = edit.literal {
                bytes.replaceSubrange(edit.location..<edit.location + token.count, with: Array(literal.utf8))
            } else if let cast = edit.cast {
                bytes.insert(contentsOf: Array("::\(cast)".utf8), at: edit.location + token.count)
            }
        }
        guard let edited = String(bytes: bytes, encoding: .utf8), let (renumbered, numbers) = renumbering(edited, original: text) else { return nil }
        return Typed(text: renumbered, inferences: edits.sorted { $0.number < $1.number }.map(\.reason), numbers: numbers)
    }

    /// `text`, an edit of `original` that took some parameters out, with the parameters left
    /// numbered without gaps in their order, as PostgreSQL requires of a prepared statement (an
    /// unused `$n` has no type); nil when it does not parse.
    public static func renumbered(_ text: String, original: String) -> String? {
        renumbering(text, original: original)?.text
    }

    /// `renumbered`, with each parameter's number before → after.
    static func renumbering(_ text: String, original: String) -> (text: String, numbers: [Int: Int])? {
        guard case .success(let tree) = PgQuery.parse(text) else { return nil }
        var parameters: [(number: Int, location: Int)] = []
        collectParameters(tree.json, into: &parameters)
        let numbers = Set(parameters.map(\.number)).sorted()
        // The original may not parse (that is why it was edited): its parameters are read as tokens.
        let originalNumbers = Set(SQLTokens.scan(original).compactMap { token -> Int? in
            guard case .parameter = token.kind else { return nil }
            return Int(original[token.range].dropFirst())
        }).sorted()
        guard numbers != originalNumbers else { return (text, Dictionary(uniqueKeysWithValues: numbers.map { ($0, $0) })) }
        // The numbers the original started from (`$2..` in a fragment) are kept as the first.
        let first = originalNumbers.first ?? 1
        let mapping = Dictionary(uniqueKeysWithValues: numbers.enumerated().map { ($0.element, $0.offset + first) })
        var bytes = Array(text.utf8)
        for parameter in parameters.sorted(by: { $0.location > $1.location }) {
            let token = Array("$\(parameter.number)".utf8)
            guard let new = mapping[parameter.number], parameter.location + token.count <= bytes.count else { return nil }
            bytes.replaceSubrange(parameter.location..<parameter.location + token.count, with: Array("$\(new)".utf8))
        }
        return String(bytes: bytes, encoding: .utf8).map { ($0, mapping) }
    }

    private static func collectParameters(_ value: JSONValue, into out: inout [(number: Int, location: Int)]) {
        if let (type, body) = value.nodeKey, type == "ParamRef", let number = body["number"]?.int, let location = body["location"]?.int {
            out.append((number, location))
            return
        }
        for child in value.children { collectParameters(child, into: &out) }
    }

    /// Walks `value` expecting it to produce `context` (a type name, nil when unknown), and records
    /// an edit for each bare parameter whose type the context gives.
    private static func visit(_ value: JSONValue, context: String?, columnType: (String) -> String?, edits: inout [Edit]) {
        guard let (type, body) = value.node else {
            for child in value.children { visit(child, context: nil, columnType: columnType, edits: &edits) }
            return
        }
        switch type {
        case "ParamRef":
            guard let context, let number = body["number"]?.int, let location = body["location"]?.int else { return }
            let cast = castType(context)
            edits.append(Edit(location: location, number: number, cast: cast, reason: "$\(number) as \(cast)"))
        case "A_Expr":
            visitOperator(body, context: context, columnType: columnType, edits: &edits)
        case "CaseExpr":
            let results = (body["args"]?.array ?? []).compactMap { $0["CaseWhen"]?["result"] } + [body["defresult"]].compactMap { $0 }
            let shared = results.compactMap { typeOf($0, columnType: columnType) }.first ?? context
            for when in body["args"]?.array ?? [] {
                if let condition = when["CaseWhen"]?["expr"] { visit(condition, context: nil, columnType: columnType, edits: &edits) }
            }
            if let arg = body["arg"] { visit(arg, context: nil, columnType: columnType, edits: &edits) }
            for result in results { visit(result, context: shared, columnType: columnType, edits: &edits) }
        case "FuncCall":
            visitFunction(body, columnType: columnType, edits: &edits)
        case "TypeCast":
            // A parameter under a cast has its type; a cast of an expression gives its operands none.
            if let arg = body["arg"], arg.node?.type != "ParamRef" { visit(arg, context: nil, columnType: columnType, edits: &edits) }
        default:
            for child in body.children { visit(child, context: nil, columnType: columnType, edits: &edits) }
        }
    }

    /// An operator's operands take each other's type; when neither has one (`$4 + $5`), both take the
    /// type the whole is expected to have. BETWEEN and IN lists take the tested expression's type.
    private static func visitOperator(_ body: JSONValue, context: String?, columnType: (String) -> String?, edits: inout [Edit]) {
        let left = body["lexpr"]
        let right = body["rexpr"]
        let leftType = left.flatMap { typeOf($0, columnType: columnType) }
        if let items = right?["List"]?["items"]?.array {
            for item in items { visit(item, context: leftType, columnType: columnType, edits: &edits) }
            if let left { visit(left, context: nil, columnType: columnType, edits: &edits) }
            return
        }
        let rightType = right.flatMap { typeOf($0, columnType: columnType) }
        let name = body["name"]?.array?.last?["String"]?["sval"]?.string ?? ""
        let comparison = ["=", "<>", "<", ">", "<=", ">=", "!=", "~~", "!~~", "~~*", "!~~*"].contains(name)
        // A comparison yields a boolean, never its operands' type.
        let inherited = comparison ? nil : context
        if comparison {
            if let left { visit(left, context: rightType, columnType: columnType, edits: &edits) }
            if let right { visit(right, context: leftType, columnType: columnType, edits: &edits) }
            return
        }
        let (leftWhole, rightWhole) = operandTypes(name, whole: inherited)
        if let left { visit(left, context: operandType(name, sibling: rightType) ?? leftWhole, columnType: columnType, edits: &edits) }
        if let right { visit(right, context: operandType(name, sibling: leftType) ?? rightWhole, columnType: columnType, edits: &edits) }
    }

    /// How a type takes part in date/time arithmetic, where an operand's type is not its sibling's.
    private enum Temporal { case point, date, span }

    private static func temporal(_ type: String) -> Temporal? {
        let type = type.lowercased()
        if type == "interval" || type.hasPrefix("interval") { return .span }
        if type == "date" { return .date }
        if type.hasPrefix("timestamp") || type.hasPrefix("time") { return .point }
        return nil
    }

    /// The type an unknown operand of arithmetic operator `name` takes from its typed sibling: a
    /// timestamp or time moves by an interval, a date by days (an integer), an interval scales by a
    /// double precision; any other type (numbers) is the sibling's own.
    private static func operandType(_ name: String, sibling: String?) -> String? {
        guard let sibling else { return nil }
        switch (name, temporal(sibling)) {
        case ("+", .point), ("-", .point): return "interval"
        case ("+", .date), ("-", .date): return "integer"
        case ("*", .span), ("/", .span): return "double precision"
        default: return sibling
        }
    }

    /// The types two unknown operands of `name` take from the type the whole is expected to have:
    /// a timestamp is a timestamp plus or minus an interval, an interval is an interval times a
    /// number; otherwise both have the whole's type (`$1 + $2` compared with a numeric column).
    private static func operandTypes(_ name: String, whole: String?) -> (left: String?, right: String?) {
        guard let whole else { return (nil, nil) }
        switch (name, temporal(whole)) {
        case ("+", .point), ("-", .point): return (whole, "interval")
        case ("*", .span), ("/", .span): return (whole, "double precision")
        default: return (whole, whole)
        }
    }

    private static func visitFunction(_ body: JSONValue, columnType: (String) -> String?, edits: inout [Edit]) {
        let name = body["funcname"]?.array?.last?["String"]?["sval"]?.string?.lowercased() ?? ""
        let args = body["args"]?.array ?? []
        if name == "extract", let field = args.first?["ParamRef"], let number = field["number"]?.int,
           let location = field["location"]?.int {
            // The field is a keyword the stored text replaced; every field costs the same.
            edits.append(Edit(location: location, number: number, literal: "'year'",
                              reason: "$\(number) is an extract() field, costed as 'year'"))
            for arg in args.dropFirst() { visit(arg, context: nil, columnType: columnType, edits: &edits) }
            return
        }
        let context = numericAggregates.contains(name) ? "numeric" : nil
        for arg in args { visit(arg, context: context, columnType: columnType, edits: &edits) }
        for key in ["agg_filter", "over"] {
            if let child = body.member(key) { visit(child, context: nil, columnType: columnType, edits: &edits) }
        }
    }

    /// A column's type without its length or precision, which would cut or round a value that is
    /// not the column's own (a LIKE pattern, a sum); `character(n)` becomes `bpchar`, since plain
    /// `character` means `character(1)`.
    static func castType(_ type: String) -> String {
        guard let open = type.firstIndex(of: "("), type.hasSuffix(")") || type.hasSuffix("]") else { return type }
        var base = String(type[..<open])
        while base.last == " " { base.removeLast() }
        let rest = type[type.index(after: open)...].drop { $0 != ")" }.dropFirst()
        return (base == "character" ? "bpchar" : base) + rest
    }

    /// The type an expression has without looking at parameters: a column's, a cast's, a numeric
    /// literal's, or an arithmetic expression's operand's. Nil when unknown.
    static func typeOf(_ value: JSONValue, columnType: (String) -> String?) -> String? {
        guard let (type, body) = value.node else { return nil }
        switch type {
        case "ColumnRef":
            guard let name = body["fields"]?.array?.last?["String"]?["sval"]?.string else { return nil }
            return columnType(name.lowercased())
        case "TypeCast":
            let names = (body["typeName"]?["names"]?.array ?? []).compactMap { $0["String"]?["sval"]?.string }
            return names.last.map { names.first == "pg_catalog" ? $0 : names.joined(separator: ".") }
        case "A_Const":
            if body["ival"] != nil { return "integer" }
            if body["fval"] != nil { return "numeric" }
            return nil
        case "A_Expr":
            let name = body["name"]?.array?.last?["String"]?["sval"]?.string ?? ""
            guard ["+", "-", "*", "/", "%"].contains(name) else { return nil }
            return body["lexpr"].flatMap { typeOf($0, columnType: columnType) }
                ?? body["rexpr"].flatMap { typeOf($0, columnType: columnType) }
        default:
            return nil
        }
    }
}
