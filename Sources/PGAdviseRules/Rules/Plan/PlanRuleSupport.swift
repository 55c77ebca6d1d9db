import PGAdviseCore

extension ScannedQuery {
    /// A violation about this statement carries its weight, so its finding ranks by impact.
    func weighted(_ violation: Violation) -> Violation {
        var weighted = violation
        weighted.fingerprint = stats.fingerprint
        weighted.calls = stats.calls
        weighted.totalMs = stats.totalMs
        weighted.evidence = weighted.evidence ?? stats.normalized
        return weighted
    }
}

/// Scan nodes read a table; EXPLAIN names the sequential kind `Seq Scan` whether or not it is
/// parallel-aware.
func isSequentialScan(_ node: PlanNode) -> Bool { node.nodeType == "Seq Scan" }

/// A plan's column reference as EXPLAIN VERBOSE prints a sort key (`o.created_at DESC`,
/// `"T"."Größe" NULLS FIRST`): the bare column name and direction, or nil for an expression.
func sortColumn(_ key: String) -> (column: String, descending: Bool)? {
    var text = Substring(key)
    var descending = false
    for suffix in [" NULLS FIRST", " NULLS LAST"] where text.hasSuffix(suffix) { text = text.dropLast(suffix.count) }
    if text.hasSuffix(" DESC") { descending = true; text = text.dropLast(5) }
    // The column is the last dot-separated part outside double quotes.
    var parts: [String] = []
    var current = ""
    var quoted = false
    let chars = Array(text)
    var i = 0
    while i < chars.count {
        let ch = chars[i]
        if ch == "\"" {
            if quoted && i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 2; continue }
            quoted.toggle()
        } else if ch == "." && !quoted {
            parts.append(current); current = ""
        } else if !quoted && !(ch.isLetter || ch.isNumber || ch == "_" || ch == "$") {
            return nil
        } else {
            current.append(ch)
        }
        i += 1
    }
    guard !quoted, !current.isEmpty else { return nil }
    return (current, descending)
}
