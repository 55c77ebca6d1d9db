import Foundation
import PGAdviseCore

// Renderers of `pgadvise report`: text, Markdown and one self-contained HTML file.

/// `+31%`, `-12%`; `-` when unknown.
func formatChange(_ share: Double?) -> String {
    guard let share, share.isFinite else { return "-" }
    return String(format: "%+.0f%%", share * 100)
}

/// A signed duration: `+1.20 s`, `-35.0 ms`.
func formatDurationDelta(ms: Double) -> String {
    (ms < 0 ? "-" : "+") + formatDuration(ms: abs(ms))
}


private func weekHeading(_ r: WeeklyReport) -> String {
    "Week \(r.week) (\(r.weekStart.prefix(10)) to \(ISOTimestamp.parse(r.weekEnd).map { String(ISOTimestamp.format($0.addingTimeInterval(-1)).prefix(10)) } ?? r.weekEnd), UTC) against \(r.previousWeek)"
}

private func serverHeading(_ s: ServerWeekReport) -> String {
    "\(s.serverLabel) / \(s.database.isEmpty ? "(all databases)" : s.database) (\(s.source.rawValue))"
}

private func totalsLine(_ s: ServerWeekReport) -> String {
    let now = s.thisWeek
    var line = "total time \(formatDuration(ms: now.totalMs)), \(formatCount(Int(now.calls))) calls, "
        + "\(now.statements) statements, \(now.snapshots) snapshot(s)"
    if let before = s.previousWeek {
        let change = before.totalMs > 0 ? (now.totalMs - before.totalMs) / before.totalMs : nil
        line += "; previous week \(formatDuration(ms: before.totalMs)), \(formatCount(Int(before.calls))) calls"
            + " (total time \(formatChange(change)))"
    }
    return line
}

private func listTitle(_ kind: StatementList, _ r: WeeklyReport) -> String {
    switch kind {
    case .regressions:
        return "Regressions (mean time up more than \(Int((r.regressionThreshold * 100).rounded()))% and total time up at least \(formatDuration(ms: r.minimumTotalIncreaseMs)))"
    case .top: return "Top statements by total time this week"
    case .new: return "New statements"
    case .gone: return "Statements that disappeared (did not run, or were evicted)"
    case .faster:
        return "Statements that got faster (mean time down more than \(Int((r.regressionThreshold * 100).rounded()))%, saving at least \(formatDuration(ms: r.minimumTotalIncreaseMs)))"
    }
}

private enum StatementList: CaseIterable { case regressions, top, new, gone, faster }

private func statements(_ kind: StatementList, _ s: ServerWeekReport) -> [StatementComparison] {
    switch kind {
    case .regressions: return s.regressions
    case .top: return s.top
    case .new: return s.newStatements
    case .gone: return s.goneStatements
    case .faster: return s.faster
    }
}

/// The figures every statement table shows, formatted: this week's calls, total, mean and p95,
/// last week's calls, total and mean, and the change in total time.
private func figureCells(_ c: StatementComparison) -> [String] {
    let now = c.thisWeek, before = c.previousWeek
    var cells: [String] = []
    cells.append(now.map { formatCount(Int($0.calls)) } ?? "-")
    cells.append(now.map { formatDuration(ms: $0.totalMs) } ?? "-")
    cells.append(now.map { formatDuration(ms: $0.meanMs) } ?? "-")
    cells.append(now?.p95Ms.map { formatDuration(ms: $0) } ?? "-")
    cells.append(before.map { formatCount(Int($0.calls)) } ?? "-")
    cells.append(before.map { formatDuration(ms: $0.totalMs) } ?? "-")
    cells.append(before.map { formatDuration(ms: $0.meanMs) } ?? "-")
    cells.append(now != nil && before != nil ? formatDurationDelta(ms: c.totalMsDelta) : "-")
    return cells
}

private let figureHeaders = ["Calls", "Total", "Mean", "p95", "Last week calls", "Last week total", "Last week mean", "Δ total"]

/// The lists a server's section shows, in order: an empty one is left out, except regressions when
/// there was a week to compare with (then "none" is news).
private func shownLists(_ s: ServerWeekReport) -> [(StatementList, [StatementComparison])] {
    StatementList.allCases.compactMap { kind in
        let list = statements(kind, s)
        return list.isEmpty && (kind != .regressions || s.previousWeek == nil) ? nil : (kind, list)
    }
}

// MARK: - Text

public func renderWeeklyReportText(_ r: WeeklyReport, top: Int = 10, width: Int = 100) -> String {
    var out = "pgadvise weekly report: \(weekHeading(r))\n"
    for note in r.notes { out += wrap(note, width: width) + "\n" }
    for s in r.servers {
        out += "\n== \(serverHeading(s))\n" + wrap(totalsLine(s), width: width, indent: "   ") + "\n"
        for note in s.notes { out += wrap("note: " + note, width: width, indent: "   ") + "\n" }
        for (kind, list) in shownLists(s) {
            out += "\n" + wrap(listTitle(kind, r), width: width) + "\n"
            if list.isEmpty { out += "   none\n"; continue }
            var table = TextTable(headers: ["Total", "Δ total", "Calls", "Mean", "Δ mean", "Fingerprint", "Statement"],
                                  alignments: [.right, .right, .right, .right, .right, .left, .left])
            for c in list.prefix(top) {
                let figures = c.thisWeek ?? c.previousWeek
                table.add([formatDuration(ms: figures?.totalMs ?? 0), c.previousWeek == nil || c.thisWeek == nil ? "-" : formatDurationDelta(ms: c.totalMsDelta),
                           formatCount(Int(figures?.calls ?? 0)), formatDuration(ms: figures?.meanMs ?? 0),
                           formatChange(c.meanChange), c.fingerprint, c.normalized])
            }
            out += table.render(width: width, indent: "   ") + "\n"
            if list.count > top { out += "   ... and \(list.count - top) more (--top, or --format json for all)\n" }
            if kind == .regressions {
                for c in list.prefix(top) {
                    for f in c.findings { out += wrap("\(c.fingerprint): \(f.rule): \(f.message)", width: width, indent: "   ") + "\n" }
                }
            }
        }
    }
    return out
}

// MARK: - Markdown

public func renderWeeklyReportMarkdown(_ r: WeeklyReport, top: Int = 10) -> String {
    var out = "# pgadvise weekly report\n\n\(weekHeading(r)).\n"
    for note in r.notes { out += "\n> \(note)\n" }
    for s in r.servers {
        out += "\n## \(markdownCell(serverHeading(s)))\n\n\(markdownCell(totalsLine(s))).\n"
        for note in s.notes { out += "\n> \(markdownCell(note))\n" }
        for (kind, list) in shownLists(s) {
            out += "\n### \(listTitle(kind, r))\n\n"
            if list.isEmpty { out += "None.\n"; continue }
            out += "| Fingerprint | " + figureHeaders.joined(separator: " | ") + " | Δ mean | Statement |\n"
            out += "|---|" + String(repeating: "---:|", count: figureHeaders.count + 1) + "---|\n"
            for c in list.prefix(top) {
                let statement = markdownCodeCell(c.normalized)
                let cells = ["`\(c.fingerprint)`"] + figureCells(c) + [formatChange(c.meanChange), statement]
                out += "| " + cells.joined(separator: " | ") + " |\n"
            }
            if list.count > top { out += "\n\(list.count - top) more not shown (`--top`, or `--format json` for all).\n" }
            if kind == .regressions {
                let findings = list.prefix(top).flatMap(\.findings)
                if !findings.isEmpty { out += "\nAnti-patterns in the regressed statements:\n\n" + renderFindingsMarkdown(findings) }
            }
        }
    }
    return out
}

// MARK: - HTML

/// Escapes text for HTML element content and quoted attribute values.
public func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}

/// One HTML file with its own CSS and SVG charts: no script, no link to anything outside it.
public func renderWeeklyReportHTML(_ r: WeeklyReport, top: Int = 10) -> String {
    var body = "<h1>pgadvise weekly report</h1>\n<p>\(htmlEscape(weekHeading(r)))</p>\n"
    for note in r.notes { body += "<p class=\"note\">\(htmlEscape(note))</p>\n" }
    for s in r.servers {
        body += "<section>\n<h2>\(htmlEscape(serverHeading(s)))</h2>\n<p>\(htmlEscape(totalsLine(s)))</p>\n"
        for note in s.notes { body += "<p class=\"note\">\(htmlEscape(note))</p>\n" }
        body += "<h3>Daily total time</h3>\n" + dailyChart(s.daily)
        if !s.top.isEmpty {
            body += "<h3>Top statements: this week against last week</h3>\n" + topChart(Array(s.top.prefix(min(top, 10))))
        }
        for (kind, list) in shownLists(s) {
            body += "<h3>\(htmlEscape(listTitle(kind, r)))</h3>\n"
            body += list.isEmpty ? "<p>None.</p>\n" : statementTable(Array(list.prefix(top)), withFindings: kind == .regressions)
            if list.count > top { body += "<p>\(list.count - top) more not shown.</p>\n" }
        }
        body += "</section>\n"
    }
    return htmlDocument(title: "pgadvise weekly report \(r.week)", style: """
        .up { color: #b00020; } .down { color: #11703a; }
        .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }
        """, body: body)
}

private let previousColor = "#b8b8b8", currentColor = "#3b6fb6"

private func legend() -> String {
    "<p class=\"legend\"><span style=\"background:\(previousColor)\"></span>last week<span style=\"background:\(currentColor)\"></span>this week</p>\n"
}

private func number(_ v: Double) -> String { String(format: "%.1f", v) }

/// Fourteen bars, last week's seven in grey and this week's in blue.
private func dailyChart(_ days: [DailyTotal]) -> String {
    let width = 700.0, height = 220.0, left = 70.0, bottom = 30.0, top = 10.0
    let peak = max(days.map(\.totalMs).max() ?? 0, 1)
    let slot = (width - left) / Double(max(days.count, 1))
    var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"Daily total time over two weeks\">\n"
    svg += "<line x1=\"\(number(left))\" y1=\"\(number(height - bottom))\" x2=\"\(number(width))\" y2=\"\(number(height - bottom))\" stroke=\"#999\"/>\n"
    svg += "<text x=\"\(number(left - 6))\" y=\"\(number(top + 10))\" text-anchor=\"end\">\(htmlEscape(formatDuration(ms: peak)))</text>\n"
    svg += "<text x=\"\(number(left - 6))\" y=\"\(number(height - bottom))\" text-anchor=\"end\">0</text>\n"
    for (i, day) in days.enumerated() {
        let barHeight = (height - bottom - top) * day.totalMs / peak
        let x = left + Double(i) * slot + slot * 0.15
        let y = height - bottom - barHeight
        svg += "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(slot * 0.7))\" height=\"\(number(barHeight))\" fill=\"\(i < 7 ? previousColor : currentColor)\">"
            + "<title>\(htmlEscape("\(day.day): \(formatDuration(ms: day.totalMs)), \(formatCount(Int(day.calls))) calls"))</title></rect>\n"
        svg += "<text x=\"\(number(x + slot * 0.35))\" y=\"\(number(height - bottom + 14))\" text-anchor=\"middle\">\(htmlEscape(String(day.day.suffix(5))))</text>\n"
    }
    return svg + "</svg>\n" + legend()
}

/// Per statement two horizontal bars: total time last week (grey) and this week (blue).
private func topChart(_ list: [StatementComparison]) -> String {
    let width = 700.0, label = 150.0, row = 34.0
    let height = row * Double(list.count) + 10
    let peak = max(list.map { max($0.thisWeek?.totalMs ?? 0, $0.previousWeek?.totalMs ?? 0) }.max() ?? 0, 1)
    let span = width - label - 90
    var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"Top statements by total time, this week against last week\">\n"
    for (i, c) in list.enumerated() {
        let y = Double(i) * row + 5
        svg += "<text x=\"0\" y=\"\(number(y + 16))\">\(htmlEscape("#\(i + 1) \(c.fingerprint)"))<title>\(htmlEscape(oneLine(c.normalized)))</title></text>\n"
        for (j, (value, color)) in [(c.previousWeek?.totalMs ?? 0, previousColor), (c.thisWeek?.totalMs ?? 0, currentColor)].enumerated() {
            let barWidth = span * value / peak
            let barY = y + Double(j) * 13
            svg += "<rect x=\"\(number(label))\" y=\"\(number(barY))\" width=\"\(number(barWidth))\" height=\"12\" fill=\"\(color)\"/>\n"
            svg += "<text x=\"\(number(label + barWidth + 4))\" y=\"\(number(barY + 10))\">\(htmlEscape(formatDuration(ms: value)))</text>\n"
        }
    }
    return svg + "</svg>\n" + legend()
}

private func statementTable(_ list: [StatementComparison], withFindings: Bool) -> String {
    var html = "<table>\n<tr><th>Fingerprint</th>" + figureHeaders.map { "<th>\(htmlEscape($0))</th>" }.joined()
        + "<th>Δ mean</th><th>Statement</th></tr>\n"
    for c in list {
        let change = c.meanChange ?? 0
        let trend = change > 0 ? "up" : (change < 0 ? "down" : "")
        let cells = figureCells(c)
        html += "<tr><td><code>\(htmlEscape(c.fingerprint))</code></td>"
            + cells.map { "<td class=\"n\">\(htmlEscape($0))</td>" }.joined()
            + "<td class=\"n \(trend)\">\(htmlEscape(formatChange(c.meanChange)))</td>"
            + "<td><code>\(htmlEscape(c.normalized))</code>"
        if withFindings, !c.findings.isEmpty {
            html += "<ul>" + c.findings.map { "<li><b>\(htmlEscape($0.rule))</b>: \(htmlEscape($0.message))"
                + ($0.solution.map { " " + htmlEscape($0) } ?? "") + "</li>" }.joined() + "</ul>"
        }
        html += "</td></tr>\n"
    }
    return html + "</table>\n"
}
