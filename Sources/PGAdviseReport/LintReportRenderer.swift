import Foundation
import PGAdviseCore

/// The text report: one line of totals, then the findings.
public func renderLintText(_ report: LintReport, color: Bool) -> String {
    var counts: [String] = []
    for severity in Severity.allCases.reversed() {
        let n = report.findings.filter { $0.severity == severity }.count
        if n > 0 { counts.append("\(n) \(severity.rawValue)\(n == 1 || severity == .info ? "" : "s")") }
    }
    let statements = "\(formatCount(report.statements)) statement\(report.statements == 1 ? "" : "s")"
    let files = "\(report.files) file\(report.files == 1 ? "" : "s")"
    let summary = report.findings.isEmpty
        ? "Checked \(statements) in \(files): no findings."
        : "Checked \(statements) in \(files): \(counts.joined(separator: ", "))."
    guard !report.findings.isEmpty else { return summary }
    return summary + "\n\n" + renderFindingsText(report.findings, color: color)
}

/// `pgadvise rules`: each rule's id, severity, category and scope, then its summary.
public func renderRuleCatalogText(_ rules: [RuleInfo]) -> String {
    var lines: [String] = []
    for rule in rules {
        lines.append("\(rule.id)  [\(rule.severity.rawValue), \(rule.category.rawValue), checks \(rule.scope)]")
        lines.append(wrap(rule.summary, width: 100, indent: "    "))
    }
    lines.append("")
    lines.append("\(rules.count) rules. `pgadvise rules --format json` gives each rule's problem, solution and examples.")
    return lines.joined(separator: "\n")
}
