import Foundation
import PGAdviseCore

// `pgadvise explain`: each plan as a tree with its per-node figures, then its insights.

/// The figures of one node as the text, Markdown and HTML reports print them.
struct NodeFigures {
    var exclusive: String
    var inclusive: String
    var share: String
    var rows: String
    var factor: String
    var loops: String
    var buffers: String

    init(_ analyzed: AnalyzedNode) {
        let m = analyzed.metrics, node = analyzed.node
        exclusive = m.exclusiveTimeMs.map { formatDuration(ms: $0) } ?? "-"
        inclusive = m.inclusiveTimeMs.map { formatDuration(ms: $0) } ?? "-"
        share = m.shareOfExecution.map { String(format: "%.0f%%", $0 * 100) } ?? "-"
        let estimated = formatCount(wholeNumber(node.planRows))
        if node.executed == false {
            rows = "never executed"
        } else {
            rows = node.actualRows.map { "\(formatCount(wholeNumber($0))) of \(estimated)" } ?? "est. \(estimated)"
        }
        if let f = m.estimateFactor, f >= 2 {
            factor = String(format: f >= 100 ? "%.0fx" : "%.1fx", f) + (m.estimateDirection == "under" ? " under" : " over")
        } else {
            factor = m.estimateFactor == nil ? "-" : "ok"
        }
        loops = node.actualLoops.map { formatCount(wholeNumber($0)) } ?? "-"
        if let blocks = m.exclusiveBlocks {
            var parts: [String] = []
            if blocks.sharedHit > 0 { parts.append("hit \(formatCount(Int(blocks.sharedHit)))") }
            if blocks.sharedRead > 0 { parts.append("read \(formatCount(Int(blocks.sharedRead)))") }
            let temp = saturatingSum(blocks.tempRead, blocks.tempWritten)
            if temp > 0 { parts.append("temp \(formatCount(Int(temp)))") }
            buffers = parts.isEmpty ? "0" : parts.joined(separator: " ")
        } else {
            buffers = "-"
        }
    }
}

func planHeading(_ plan: ExplainedPlan) -> String {
    var parts = ["Plan \(plan.number) of \(plan.source)"]
    if let ms = plan.executionTimeMs { parts.append("execution \(formatDuration(ms: ms))") }
    if let ms = plan.planningTimeMs { parts.append("planning \(formatDuration(ms: ms))") }
    if let jit = plan.jit?.totalMs { parts.append("JIT \(formatDuration(ms: jit))") }
    if !plan.analyzed { parts.append("estimates only (no ANALYZE)") }
    return parts.joined(separator: " · ")
}

public func renderExplainText(_ report: ExplainReport, width: Int = 160, color: Bool = false) -> String {
    var out = ""
    for plan in report.plans {
        out += planHeading(plan) + "\n"
        if let settings = plan.settings, !settings.isEmpty {
            out += "Settings: " + settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "\n"
        }
        out += "\n"
        let header = ["exclusive", "inclusive", "share", "rows (actual of est.)", "estimate", "loops", "buffers"]
        let rows = plan.nodes.map { analyzed -> [String] in
            let f = NodeFigures(analyzed)
            return [f.exclusive, f.inclusive, f.share, f.rows, f.factor, f.loops, f.buffers]
        }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == 3 || i == 6 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[i] - cell.count) + cell }.joined(separator: "  ")
        }
        out += line(header) + "  node\n"
        for (analyzed, cells) in zip(plan.nodes, rows) {
            let indent = String(repeating: "  ", count: analyzed.depth)
            let arrow = analyzed.depth == 0 ? "" : "-> "
            let label = (analyzed.node.subplanName.map { "[\($0)] " } ?? "") + analyzed.node.label
            let marks = plan.findings.filter { $0.nodeIndex == analyzed.index }.map { "!\($0.rule)" }
            let text = line(cells) + "  " + indent + arrow + label + (marks.isEmpty ? "" : "  " + marks.joined(separator: " "))
            out += (text.count > width ? String(text.prefix(width - 1)) + "…" : text) + "\n"
        }
        out += "\n"
        for note in plan.skipped { out += "Skipped: \(note)\n" }
        out += insightsText(plan.findings, color: color)
        out += "\n"
    }
    return out.trimmingTrailingNewlines() + "\n"
}

func insightsText(_ findings: [Finding], color: Bool) -> String {
    guard !findings.isEmpty else { return "Insights: none.\n" }
    var out = "Insights (\(findings.count)):\n"
    for finding in findings {
        out += "\n\(severityTag(finding.severity, color: color)) \(finding.rule)" + (stakeText(finding).map { " · \($0)" } ?? "")
        out += "\n" + wrap(finding.message, width: 100, indent: "    ") + "\n"
        if let path = finding.nodePath { out += "    node: \(path)\n" }
        if let evidence = finding.evidence { out += "    evidence: \(oneLine(evidence))\n" }
        if let solution = finding.solution { out += wrap("fix: " + solution, width: 100, indent: "    ") + "\n" }
        if let fix = finding.fix { out += fix.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n" }
    }
    return out
}

/// `15.3 ms, 20% of the execution`: the time a finding is about.
func stakeText(_ finding: Finding) -> String? {
    guard let ms = finding.exclusiveMs else { return nil }
    return formatDuration(ms: ms) + (finding.shareOfExecution.map { String(format: ", %.0f%% of the execution", $0 * 100) } ?? "")
}

public func renderExplainMarkdown(_ report: ExplainReport) -> String {
    var out = "# pgadvise explain\n\n"
    for plan in report.plans {
        out += "## \(markdownCell(planHeading(plan)))\n\n"
        out += "| Node | Exclusive | Inclusive | Share | Rows (actual of est.) | Estimate | Loops | Buffers |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---|\n"
        for analyzed in plan.nodes {
            let f = NodeFigures(analyzed)
            let label = String(repeating: "· ", count: analyzed.depth) + analyzed.node.label
            out += "| \(markdownCell(label)) | \(f.exclusive) | \(f.inclusive) | \(f.share) | \(f.rows) | \(f.factor) | \(f.loops) | \(f.buffers) |\n"
        }
        out += "\n"
        for note in plan.skipped { out += "> Skipped: \(markdownCell(note))\n\n" }
        if plan.findings.isEmpty {
            out += "No insights.\n\n"
        } else {
            out += "### Insights\n\n"
            for finding in plan.findings {
                out += "- **\(finding.severity.rawValue)** `\(finding.rule)`" + (stakeText(finding).map { " (\($0))" } ?? "")
                out += ": \(markdownCell(finding.message))\n"
                if let path = finding.nodePath { out += "  - node: \(markdownCell(path))\n" }
                if let fix = finding.fix { out += "  - fix: \(markdownCodeCell(fix.replacingOccurrences(of: "\n", with: " ")))\n" }
            }
            out += "\n"
        }
    }
    return out.trimmingTrailingNewlines() + "\n"
}

/// One self-contained page: per plan, the tree with a bar of each node's exclusive time and a badge
/// per insight linking to its explanation. Inline CSS only; every text escaped.
public func renderExplainHTML(_ report: ExplainReport) -> String {
    var body = "<h1>pgadvise explain</h1>\n"
    for (position, plan) in report.plans.enumerated() {
        let anchor = "plan\(position + 1)"
        body += "<section>\n<h2>\(htmlEscape(planHeading(plan)))</h2>\n"
        for note in plan.skipped { body += "<p class=\"note\">Skipped: \(htmlEscape(note))</p>\n" }
        body += "<table class=\"plan\">\n<tr><th>Node</th><th>Exclusive time</th><th>Inclusive</th><th>Rows (actual of est.)</th>"
            + "<th>Estimate</th><th>Loops</th><th>Buffers</th></tr>\n"
        for analyzed in plan.nodes {
            let f = NodeFigures(analyzed)
            let share = max(0, min(100, (analyzed.metrics.shareOfExecution ?? 0) * 100))
            let badges = plan.findings.enumerated().filter { $0.element.nodeIndex == analyzed.index }.map { i, finding in
                "<a class=\"badge \(finding.severity.rawValue)\" href=\"#\(anchor)-f\(i)\" title=\"\(htmlEscape(finding.message))\">\(htmlEscape(finding.rule))</a>"
            }.joined(separator: " ")
            let label = (analyzed.node.subplanName.map { "<span class=\"sub\">\(htmlEscape($0))</span> " } ?? "") + htmlEscape(analyzed.node.label)
            body += "<tr><td class=\"node\" style=\"padding-left:\(analyzed.depth * 18 + 6)px\">\(label) \(badges)</td>"
            body += "<td class=\"n\"><div class=\"bar\"><span style=\"width:\(String(format: "%.1f", share))%\"></span></div>\(htmlEscape(f.exclusive)) · \(htmlEscape(f.share))</td>"
            body += "<td class=\"n\">\(htmlEscape(f.inclusive))</td><td class=\"n\">\(htmlEscape(f.rows))</td><td class=\"n\">\(htmlEscape(f.factor))</td>"
            body += "<td class=\"n\">\(htmlEscape(f.loops))</td><td>\(htmlEscape(f.buffers))</td></tr>\n"
        }
        body += "</table>\n"
        body += plan.findings.isEmpty ? "<p>No insights.</p>\n" : "<h3>Insights</h3>\n<ol class=\"insights\">\n"
        for (i, finding) in plan.findings.enumerated() {
            body += "<li id=\"\(anchor)-f\(i)\"><span class=\"badge \(finding.severity.rawValue)\">\(htmlEscape(finding.rule))</span> "
            body += stakeText(finding).map { "<span class=\"stake\">\(htmlEscape($0))</span>" } ?? ""
            body += "<p>\(htmlEscape(finding.message))</p>"
            if let path = finding.nodePath { body += "<p class=\"path\">\(htmlEscape(path))</p>" }
            if let evidence = finding.evidence { body += "<p>Evidence: <code>\(htmlEscape(evidence))</code></p>" }
            if let solution = finding.solution { body += "<p>\(htmlEscape(solution))</p>" }
            if let fix = finding.fix { body += "<pre>\(htmlEscape(fix))</pre>" }
            body += "</li>\n"
        }
        if !plan.findings.isEmpty { body += "</ol>\n" }
        body += "</section>\n"
    }
    return htmlDocument(title: "pgadvise explain", style: """
        th, td { border: 0; border-bottom: 1px solid #e3e3e3; } th { background: none; }
        td.node { font-family: ui-monospace, monospace; }
        .bar { display: inline-block; width: 80px; height: 8px; background: #eee; margin-right: 6px; vertical-align: middle; }
        .bar span { display: block; height: 8px; background: #d9534f; }
        .badge { display: inline-block; border-radius: 3px; padding: 0 5px; font: 11px system-ui, sans-serif; color: #fff; background: #777; text-decoration: none; }
        .badge.warning { background: #c77c00; } .badge.error { background: #b00020; } .badge.info { background: #3b6fb6; }
        .sub { color: #666; font-style: italic; }
        .path { color: #555; font-family: ui-monospace, monospace; font-size: 12px; } .stake { color: #555; margin-left: .5em; }
        pre { background: #f6f6f6; padding: .5em; overflow-x: auto; }
        """, body: body)
}

// `pgadvise explain --compare`.

public func renderPlanComparisonText(_ c: PlanComparison) -> String {
    var out = c.verdict + "\n\n"
    out += sideLine("Before", c.before) + "\n" + sideLine("After ", c.after) + "\n"
    out += c.changes.isEmpty ? "\nNo node changed.\n" : "\nChanges:\n" + c.changes.map { "  \(changeLine($0))\n" }.joined()
    if !c.findingsResolved.isEmpty { out += "\nResolved:\n" + c.findingsResolved.map { "  - \($0.rule): \($0.message)\n" }.joined() }
    if !c.findingsIntroduced.isEmpty { out += "\nNew:\n" + c.findingsIntroduced.map { "  + \($0.rule): \($0.message)\n" }.joined() }
    return out
}

public func renderPlanComparisonMarkdown(_ c: PlanComparison) -> String {
    var out = "# pgadvise explain --compare\n\n**\(markdownCell(c.verdict))**\n\n"
    out += "| | Execution | Planning | Shared hit | Shared read | Temp | Insights |\n|---|---:|---:|---:|---:|---:|---:|\n"
    for (name, side) in [("Before", c.before), ("After", c.after)] {
        out += "| \(name) | \(side.executionTimeMs.map { formatDuration(ms: $0) } ?? "-") | \(side.planningTimeMs.map { formatDuration(ms: $0) } ?? "-") | "
        out += "\(side.sharedHitBlocks.map { formatCount(Int($0)) } ?? "-") | \(side.sharedReadBlocks.map { formatCount(Int($0)) } ?? "-") | "
        out += "\(side.tempBlocks.map { formatCount(Int($0)) } ?? "-") | \(side.findings.count) |\n"
    }
    if !c.changes.isEmpty { out += "\n## Changes\n\n" + c.changes.map { "- \(markdownCell(changeLine($0)))\n" }.joined() }
    if !c.findingsResolved.isEmpty { out += "\n## Resolved insights\n\n" + c.findingsResolved.map { "- `\($0.rule)`: \(markdownCell($0.message))\n" }.joined() }
    if !c.findingsIntroduced.isEmpty { out += "\n## New insights\n\n" + c.findingsIntroduced.map { "- `\($0.rule)`: \(markdownCell($0.message))\n" }.joined() }
    return out
}

func sideLine(_ name: String, _ side: PlanSide) -> String {
    var parts = ["\(name): \(side.source)"]
    parts.append("execution " + (side.executionTimeMs.map { formatDuration(ms: $0) } ?? "-"))
    parts.append("planning " + (side.planningTimeMs.map { formatDuration(ms: $0) } ?? "-"))
    if let hit = side.sharedHitBlocks { parts.append("shared hit \(formatCount(Int(hit)))") }
    if let read = side.sharedReadBlocks { parts.append("read \(formatCount(Int(read)))") }
    if let temp = side.tempBlocks { parts.append("temp \(formatCount(Int(temp)))") }
    parts.append("\(side.findings.count) insight(s)")
    return parts.joined(separator: " · ")
}

func changeLine(_ change: NodeChange) -> String {
    var line = "[\(change.kind)] \(change.summary)"
    if let old = change.beforeExclusiveMs, let new = change.afterExclusiveMs {
        line += " (\(formatDuration(ms: old)) → \(formatDuration(ms: new)))"
    }
    return line
}
