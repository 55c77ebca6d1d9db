import Foundation

/// Quotes an identifier only when PostgreSQL would otherwise read it differently: upper case, spaces,
/// quotes, non-ASCII, a leading digit, or a reserved key word.
public func quoteIdentifierIfNeeded(_ identifier: String) -> String {
    var plain = !identifier.isEmpty
    for (offset, scalar) in identifier.unicodeScalars.enumerated() {
        let v = scalar.value
        let lowerLetter = v >= 0x61 && v <= 0x7A
        let digit = v >= 0x30 && v <= 0x39
        if lowerLetter || v == 0x5F || (digit && offset > 0) || (v == 0x24 && offset > 0) { continue }
        plain = false
        break
    }
    if plain && !reservedKeywords.contains(identifier) { return identifier }
    return quoteIdentifier(identifier)
}

/// Always-quoted identifier, doubling embedded quotes (what `quote_ident` does for unsafe names).
public func quoteIdentifier(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A SQL string literal with embedded quotes doubled; backslashes are literal under
/// `standard_conforming_strings = on` (the default since 9.1), so an E'' form is used when present.
public func quoteLiteral(_ value: String) -> String {
    let doubled = value.replacingOccurrences(of: "'", with: "''")
    if doubled.contains("\\") {
        return "E'" + doubled.replacingOccurrences(of: "\\", with: "\\\\") + "'"
    }
    return "'" + doubled + "'"
}

/// PostgreSQL 15's reserved and type/function-name key words that cannot be bare column or table names.
let reservedKeywords: Set<String> = [
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
    "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
    "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left",
    "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only",
    "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
    "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with",
]
