import PGAdviseCore

/// Findings as a readable text section, highest impact first: one block each with what, where,
/// why it costs, and the fix. Shared by every command's text output.
public func renderFindingsText(_ findings: [Finding], width: Int = 100, color: Bool = false) -> String {
    guard !findings.isEmpty else { return "No findings." }
    var blocks: [String] = []
    for f in findings.sortedByImpact() {
        var lines: [String] = []
        let tag = severityTag(f.severity, color: color)
        lines.append(wrap("\(tag) \(f.rule): \(f.message)", width: width))
        var whereParts: [String] = []
        if let file = f.file {
            var loc = file
            if let line = f.line { loc += ":\(line)" }
            if let column = f.column { loc += ":\(column)" }
            whereParts.append(loc)
        }
        if let table = f.table { whereParts.append("table \(table)") }
        if let index = f.index { whereParts.append("index \(index)") }
        if let fp = f.fingerprint { whereParts.append("query \(fp)") }
        if let calls = f.calls { whereParts.append(calls == 1 ? "1 call" : "\(formatCount(calls)) calls") }
        if let total = f.totalMs { whereParts.append("\(formatDuration(ms: total)) total") }
        if !whereParts.isEmpty { lines.append(wrap(whereParts.joined(separator: ", "), width: width, indent: "    ")) }
        if let evidence = f.evidence { lines.append("    > " + truncate(evidence, to: width - 6)) }
        if let solution = f.solution { lines.append(wrap("Fix: " + solution, width: width, indent: "    ")) }
        if let fix = f.fix {
            for sqlLine in fix.split(separator: "\n", omittingEmptySubsequences: false) { lines.append("      " + sqlLine) }
        }
        blocks.append(lines.joined(separator: "\n"))
    }
    return blocks.joined(separator: "\n\n")
}

public func renderFindingsMarkdown(_ findings: [Finding]) -> String {
    guard !findings.isEmpty else { return "No findings.\n" }
    var out = ""
    for f in findings.sortedByImpact() {
        out += "### \(f.severity.rawValue): `\(f.rule)`\n\n\(f.message)\n\n"
        var facts: [String] = []
        if let file = f.file { facts.append("- File: `\(file)\(f.line.map { ":\($0)" } ?? "")\(f.column.map { ":\($0)" } ?? "")`") }
        if let table = f.table { facts.append("- Table: `\(table)`") }
        if let index = f.index { facts.append("- Index: `\(index)`") }
        if let fp = f.fingerprint { facts.append("- Query: `\(fp)`") }
        if let calls = f.calls { facts.append("- Calls: \(formatCount(calls))") }
        if let total = f.totalMs { facts.append("- Total time: \(formatDuration(ms: total))") }
        if let evidence = f.evidence { facts.append("- Evidence: `\(oneLine(evidence).replacingOccurrences(of: "`", with: "'"))`") }
        if !facts.isEmpty { out += facts.joined(separator: "\n") + "\n\n" }
        if let solution = f.solution { out += "**Fix:** \(solution)\n\n" }
        if let fix = f.fix { out += "```sql\n\(fix)\n```\n\n" }
    }
    return out
}

func severityTag(_ severity: Severity, color: Bool) -> String {
    let label = severity.rawValue.uppercased()
    guard color else { return "[\(label)]" }
    let code: String
    switch severity {
    case .error: code = "31"
    case .warning: code = "33"
    case .info: code = "36"
    }
    return "\u{1B}[\(code)m[\(label)]\u{1B}[0m"
}
