import Foundation
import PGAdviseCore

/// `pgadvise logs --format html`: one file with its own CSS and inline SVG charts, no script and no
/// link to anything outside it. Every text that comes from the log goes through `htmlEscape`.
public func renderLogReportHTML(_ report: LogReport, top: Int = 10) -> String {
    let s = report.summary
    var body = "<h1>PostgreSQL log analysis</h1>\n<ul>\n"
    for f in s.files {
        var line = "\(f.path): \(f.format)"
        if let c = f.compression { line += " (\(c))" }
        if let p = f.prefix { line += ", prefix '\(p)'" }
        line += ", \(formatBytes(f.bytes)), \(formatCount(f.lines)) lines"
        if let other = f.otherShapeLines { line += ", \(formatCount(other)) in another shape" }
        if f.skippedLines > 0 { line += ", \(formatCount(f.skippedLines)) not understood" }
        body += "<li>\(htmlEscape(line))</li>\n"
    }
    body += "</ul>\n" + htmlSummary(report)
    for note in s.notes { body += "<p class=\"note\">\(htmlEscape(note))</p>\n" }
    body += htmlTimeline(report.timeline)
    if let latency = report.latencyDistribution { body += section("Latency distribution", latencyChart(latency)) }
    body += htmlQueries(Array(report.queries.prefix(top)))
    body += htmlFindings(report.findings)
    if let plans = report.planInsights, !plans.isEmpty { body += htmlPlanInsights(Array(plans.prefix(top))) }
    body += htmlEvents(report, top: top)
    if let bouncer = report.pgbouncer { body += htmlPgBouncer(bouncer, top: top) }
    return htmlDocument(title: "pgadvise log analysis", body: body)
}

private func section(_ title: String, _ content: String) -> String {
    "<section>\n<h2>\(htmlEscape(title))</h2>\n\(content)</section>\n"
}

private func table(_ headers: [String], _ rows: [[(String, Bool)]]) -> String {
    var html = "<table>\n<tr>" + headers.map { "<th>\(htmlEscape($0))</th>" }.joined() + "</tr>\n"
    for row in rows {
        html += "<tr>" + row.map { text, numeric in
            numeric ? "<td class=\"n\">\(htmlEscape(text))</td>" : "<td><code>\(htmlEscape(text))</code></td>"
        }.joined() + "</tr>\n"
    }
    return html + "</table>\n"
}

private func htmlSummary(_ report: LogReport) -> String {
    let s = report.summary
    var facts: [(String, String)] = []
    if let first = s.firstTimestamp, let last = s.lastTimestamp { facts.append(("Time range", "\(first) to \(last)")) }
    facts.append(("Statements", "\(formatCount(s.statements)) (\(formatCount(s.timedStatements)) timed), \(formatCount(s.distinctQueries)) distinct"))
    facts.append(("Total duration", formatDuration(ms: s.durationTotalMs)))
    facts.append(("Errors", formatCount(s.errors)))
    facts.append(("N+1 bursts", formatCount(s.nPlusOneBursts)))
    facts.append(("Temp files", "\(formatCount(report.tempFiles.count)), \(formatBytes(report.tempFiles.totalBytes))"))
    facts.append(("Lock waits", formatCount(report.lockWaits.waits)))
    facts.append(("Checkpoints", "\(report.checkpoints.completed) completed, \(formatCount(report.checkpoints.buffersWritten)) buffers written"))
    facts.append(("Autovacuum", "\(report.autovacuum.vacuums) vacuums, \(report.autovacuum.analyzes) analyzes"))
    facts.append(("Sessions", sessionFacts(report.sessions)))
    return section("Summary", "<table>\n" + facts.map { "<tr><th>\(htmlEscape($0.0))</th><td>\(htmlEscape($0.1))</td></tr>\n" }.joined() + "</table>\n")
}

private func htmlTimeline(_ timeline: LogTimeline?) -> String {
    guard let timeline, !timeline.buckets.isEmpty else { return "" }
    let unit = timeline.bucketSeconds == 60 ? "minute" : (timeline.bucketSeconds == 3600 ? "hour" : (timeline.bucketSeconds == 86400 ? "day" : "\(timeline.bucketSeconds / 60) minutes"))
    let labels = timeline.buckets.map(\.start)
    let seconds = Double(timeline.bucketSeconds)
    var html = "<h3>Statements per second (mean over each \(htmlEscape(unit)))</h3>\n"
    html += barChart(timeline.buckets.map { Double($0.statements) / seconds }, labels: labels, color: "#3b6fb6") { String(format: "%.2f/s", $0) }
    html += "<h3>Statement time per \(htmlEscape(unit))</h3>\n"
    html += barChart(timeline.buckets.map(\.durationMs), labels: labels, color: "#6a4fb0") { formatDuration(ms: $0) }
    html += "<h3>Errors per \(htmlEscape(unit))</h3>\n"
    html += barChart(timeline.buckets.map { Double($0.errors) }, labels: labels, color: "#b00020") { formatCount(Int($0)) }
    return section("Over time", html)
}

private func latencyChart(_ d: LatencyDistribution) -> String {
    var labels: [String] = []
    for (i, bound) in d.upperBoundsMs.enumerated() {
        labels.append(i == 0 ? "< \(formatDuration(ms: bound))" : "\(formatDuration(ms: d.upperBoundsMs[i - 1]))–\(formatDuration(ms: bound))")
    }
    labels.append("≥ \(formatDuration(ms: d.upperBoundsMs.last ?? 0))")
    return barChart(d.counts.map(Double.init), labels: labels, color: "#3b6fb6", everyLabel: true) { formatCount(Int($0)) }
}

private func number(_ v: Double) -> String { String(format: "%.1f", v) }

/// Vertical bars with the peak on the axis and each value in its bar's tooltip.
private func barChart(_ values: [Double], labels: [String], color: String, everyLabel: Bool = false,
                      format: (Double) -> String) -> String {
    let width = 1000.0, height = 200.0, left = 80.0, bottom = 34.0, topMargin = 10.0
    let peak = max(values.max() ?? 0, 1e-9)
    let slot = (width - left) / Double(max(values.count, 1))
    var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">\n"
    svg += "<line x1=\"\(number(left))\" y1=\"\(number(height - bottom))\" x2=\"\(number(width))\" y2=\"\(number(height - bottom))\" stroke=\"#999\"/>\n"
    svg += "<text x=\"\(number(left - 6))\" y=\"\(number(topMargin + 10))\" text-anchor=\"end\">\(htmlEscape(format(values.max() ?? 0)))</text>\n"
    svg += "<text x=\"\(number(left - 6))\" y=\"\(number(height - bottom))\" text-anchor=\"end\">0</text>\n"
    let labelEvery = everyLabel ? 1 : max(1, values.count / 8)
    for (i, value) in values.enumerated() {
        let barHeight = (height - bottom - topMargin) * value / peak
        let x = left + Double(i) * slot
        svg += "<rect x=\"\(number(x + slot * 0.1))\" y=\"\(number(height - bottom - barHeight))\" width=\"\(number(max(slot * 0.8, 0.5)))\" "
            + "height=\"\(number(barHeight))\" fill=\"\(color)\"><title>\(htmlEscape(labels[i] + ": " + format(value)))</title></rect>\n"
        if i % labelEvery == 0 {
            let label = everyLabel ? labels[i] : String(labels[i].dropFirst(11).prefix(5))
            svg += "<text x=\"\(number(x + slot / 2))\" y=\"\(number(height - bottom + 14))\" text-anchor=\"middle\">\(htmlEscape(label))</text>\n"
        }
    }
    return svg + "</svg>\n"
}

private func htmlQueries(_ queries: [QueryStats]) -> String {
    guard !queries.isEmpty else { return "" }
    let ms = { (v: Double?) in v.map { formatDuration(ms: $0) } ?? "-" }
    let rows = queries.map { q -> [(String, Bool)] in
        [(formatDuration(ms: q.totalMs), true), (formatCount(q.calls), true), (formatDuration(ms: q.meanMs), true), (ms(q.p50Ms), true),
         (ms(q.p95Ms), true), (ms(q.p99Ms), true), (ms(q.maxMs), true), ((q.parsed ? "" : "[unparsed] ") + q.normalized, false)]
    }
    return section("Top queries by total time", table(["Total", "Calls", "Mean", "p50", "p95", "p99", "Max", "Query"], rows))
}

private func htmlFindings(_ findings: [Finding]) -> String {
    guard !findings.isEmpty else { return section("Findings", "<p>No findings.</p>\n") }
    var html = ""
    let bursts = findings.filter { $0.rule == "n-plus-one" }
    if !bursts.isEmpty {
        html += "<h3>N+1 bursts</h3>\n" + table(["Largest burst", "Bursts", "Calls", "Session", "Window", "Query"], bursts.map { f in
            [(f.details?["largestBurst"] ?? "", true), (f.details?["bursts"] ?? "", true), (f.calls.map { formatCount($0) } ?? "", true),
             (f.details?["session"] ?? "", true), ((f.details?["windowStart"] ?? "") + " – " + (f.details?["windowEnd"] ?? ""), false),
             (f.evidence ?? "", false)]
        })
    }
    html += "<h3>All findings</h3>\n<ul>\n"
    for f in findings {
        html += "<li><b>\(htmlEscape(f.severity.rawValue)) \(htmlEscape(f.rule))</b>: \(htmlEscape(f.message))"
        if let solution = f.solution { html += "<br>\(htmlEscape(solution))" }
        if let evidence = f.evidence { html += "<br><code>\(htmlEscape(evidence))</code>" }
        html += "</li>\n"
    }
    return section("Findings", html + "</ul>\n")
}

private func htmlPlanInsights(_ plans: [LogPlanInsights]) -> String {
    var html = ""
    for group in plans {
        html += "<p><code>\(htmlEscape(planInsightsHeading(group)))</code></p>\n"
        html += table(planInsightHeaders, group.insights.map { insight in
            planInsightCells(insight).enumerated().map { ($1, $0 == 2 || $0 == 3) }
        })
    }
    return section("Plan insights (auto_explain)", html)
}

private func htmlEvents(_ report: LogReport, top: Int) -> String {
    var html = ""
    if !report.errors.isEmpty {
        html += section("Errors", table(["Count", "SQLSTATE", "Message", "Statement"], report.errors.prefix(top).map { e in
            [(formatCount(e.count), true), (e.sqlstate ?? "-", true), (e.severity + ": " + e.message, false), (e.statement ?? "", false)]
        }))
    }
    let temp = report.tempFiles
    if temp.count > 0 {
        html += section("Temporary files", "<p>\(htmlEscape("\(formatCount(temp.count)) files, \(formatBytes(temp.totalBytes)) in all, largest \(formatBytes(temp.maxBytes))"))</p>\n"
            + table(["Files", "Total", "Largest", "Query"], temp.byStatement.prefix(top).map { t in
                [(formatCount(t.count), true), (formatBytes(t.totalBytes), true), (formatBytes(t.maxBytes), true), (t.normalized, false)]
            }))
    }
    let locks = report.lockWaits
    if locks.waits > 0 || locks.acquired > 0 {
        html += section("Lock waits", "<p>\(htmlEscape("\(formatCount(locks.waits)) waits beyond deadlock_timeout, \(formatCount(locks.acquired)) acquired after \(formatDuration(ms: locks.acquiredWaitMs)) (longest \(formatDuration(ms: locks.maxWaitMs)))"))</p>\n"
            + table(["Waits", "Query"], locks.byStatement.prefix(top).map { [(formatCount($0.waits), true), ($0.normalized, false)] }))
    }
    let c = report.checkpoints
    let a = report.autovacuum
    if c.completed > 0 || a.vacuums + a.analyzes > 0 {
        var maintenance = "<p>\(htmlEscape("Checkpoints: \(c.started) started, \(c.completed) completed, \(formatCount(c.buffersWritten)) buffers written, longest \(String(format: "%.1f", c.maxSeconds)) s"))</p>\n"
        if !c.reasons.isEmpty {
            maintenance += table(["Checkpoints", "Reason"], c.reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { [(formatCount($0.value), true), ($0.key, false)] })
        }
        maintenance += table(["Vacuums", "Analyzes", "Elapsed", "Table"], a.tables.prefix(top).map { t in
            [(formatCount(t.vacuums), true), (formatCount(t.analyzes), true), (formatDuration(ms: t.elapsedSeconds * 1000), true), (t.table, false)]
        })
        html += section("Maintenance", maintenance)
    }
    let ss = report.sessions
    if ss.connectionsAuthorized + ss.disconnections > 0 {
        var sessions = ""
        for (title, counts) in [("Database", ss.byDatabase), ("User", ss.byUser), ("Application", ss.byApplication)] where !counts.isEmpty {
            sessions += table(["Connections", title], counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top).map { [(formatCount($0.value), true), ($0.key, false)] })
        }
        html += section("Sessions", "<p>\(htmlEscape(sessionFacts(ss)))</p>\n" + sessions)
    }
    return html
}

private func htmlPgBouncer(_ b: PgBouncerSummary, top: Int) -> String {
    var html = "<table>\n" + pgbouncerFacts(b).map { "<tr><th>\(htmlEscape($0.0))</th><td>\(htmlEscape($0.1))</td></tr>\n" }.joined() + "</table>\n"
    if !b.statsPeriods.isEmpty {
        let labels = b.statsPeriods.map { $0.timestamp ?? "" }
        html += "<h3>Transactions per second</h3>\n" + barChart(b.statsPeriods.map { Double($0.xactsPerSecond) }, labels: labels, color: "#3b6fb6") { formatCount(Int($0)) + "/s" }
        html += "<h3>Client wait for a server (average per period)</h3>\n"
            + barChart(b.statsPeriods.map { Double($0.waitMicros) / 1000 }, labels: labels, color: "#b06a00") { formatDuration(ms: $0) }
    }
    for (title, counts) in pgbouncerMessageTables(b) {
        html += "<h3>\(htmlEscape(title))</h3>\n" + table(["Count", "Message"], counts.prefix(top).map { [(formatCount($0.count), true), ($0.message, false)] })
    }
    return section("PgBouncer", html)
}
