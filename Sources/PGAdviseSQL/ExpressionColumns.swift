import Foundation

/// The column names an index expression or predicate mentions, as PostgreSQL reads them:
/// `lower((email)::text)` gives `email`; `"Status" = 'done' AND deleted_at IS NULL` gives `Status` and
/// `deleted_at`. Unquoted names are folded to lower case by the parser and words inside string
/// literals are never columns. Qualifiers are dropped (`o.status` gives `status`). Nil when the
/// text does not parse as one expression.
public func columnsReferenced(inExpression expression: String) -> Set<String>? {
    expressionColumnsCache.value(for: expression)
}

let expressionColumnsCache = ParsedExpressionCache<Set<String>>(limit: 10_000, compute: parseExpressionColumns)

func parseExpressionColumns(_ expression: String) -> Set<String>? {
    guard let parsed = parseSingleExpression(expression) else { return nil }
    var names = Set<String>()
    collectColumnNames(parsed.node, into: &names)
    return names
}

private func collectColumnNames(_ value: JSONValue, into names: inout Set<String>) {
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
    for child in value.children { collectColumnNames(child, into: &names) }
}
