import Foundation

/// The column names an index expression or predicate mentions, as PostgreSQL reads them:
/// `lower((email)::text)` gives `email`; `"Status" = 'done' AND deleted_at IS NULL` gives `Status` and
/// `deleted_at`. Unquoted names are folded to lower case by the parser and words inside string
/// literals are never columns. Qualifiers are dropped (`o.status` gives `status`). Nil when the
/// text does not parse as one expression.
public func columnsReferenced(inExpression expression: String) -> Set<String>? {
    expressionColumnsCache.columns(for: expression)
}

/// Write-cost estimates ask about the same few index expressions for every configuration they
/// weigh: parse each text once.
final class ExpressionColumnsCache: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: Set<String>?] = [:]

    func columns(for expression: String) -> Set<String>? {
        lock.lock()
        if let cached = known[expression] { lock.unlock(); return cached }
        lock.unlock()
        let columns = Self.parse(expression)
        lock.lock()
        if known.count > 10_000 { known.removeAll(keepingCapacity: true) }
        known[expression] = columns
        lock.unlock()
        return columns
    }

    private static func parse(_ expression: String) -> Set<String>? {
        guard case let .success(tree) = PgQuery.parse("SELECT " + expression),
              tree.statements.count == 1,
              let select = tree.statements.first?.node["SelectStmt"],
              let targets = select["targetList"], targets.count == 1 else { return nil }
        var names = Set<String>()
        collect(targets, into: &names)
        return names
    }

    private static func collect(_ value: JSONValue, into names: inout Set<String>) {
        if let (type, body) = value.nodeKey, type == "ColumnRef" {
            var last: String?
            for field in body["fields"]?.children ?? JSONValue.null.children {
                // `t.*` names no one column.
                last = field["String"]?["sval"]?.string
            }
            if let last { names.insert(last) }
            return
        }
        guard value.kind == .object || value.kind == .array else { return }
        for child in value.children { collect(child, into: &names) }
    }
}

let expressionColumnsCache = ExpressionColumnsCache()
