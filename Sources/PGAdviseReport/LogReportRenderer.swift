import Foundation
import PGAdviseCore

/// `pgadvise logs` as a text report that fits `width` columns: what was read and its totals, the
/// heaviest queries, the findings, then each kind of event the log held.
public func renderLogReportText(_ report: LogReport, top: Int = 10, width: Int = 100, color: Bool = false) -> String {
    var out = logTextSummary(report, width: width)
    out += logTextQueries(report, top: top, width: width)
    out += ["", "Findings", renderFindingsText(report.findings, width: width - 2, color: color)
        .split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")]
    out += logTextPlanInsights(report, top: top, width: width)
    out += logTextEvents(report, top: top, width: width)
    if let bouncer = report.pgbouncer {
        out += ["", "PgBouncer"] + facts(pgbouncerFacts(bouncer), width: width)
        for (title, counts) in pgbouncerMessageTables(bouncer) {
            var table = TextTable(headers: ["Count", "Message"], alignments: [.right, .left])
            for c in counts.prefix(top) { table.add([formatCount(c.count), c.message]) }
            out += ["", title, table.render(width: width, indent: "  ")]
        }
    }
    if !report.summary.notes.isEmpty {
        out += ["", "Notes"] + report.summary.notes.map { wrap("- " + $0, width: width, indent: "  ") }
    }
    return out.joined(separator: "\n")
}

/// Label and value pairs, the labels in one column.
private func facts(_ pairs: [(String, String)], width: Int) -> [String] {
    pairs.map { clip("  " + $0.0.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.1, width) }
}

/// A titled table, or nothing when it has no row.
private func tableSection(_ title: String, _ table: TextTable, isEmpty: Bool, width: Int) -> [String] {
    isEmpty ? [] : ["", title, table.render(width: width, indent: "  ")]
}

private func logTextSummary(_ report: LogReport, width: Int) -> [String] {
    let s = report.summary
    var out = ["PostgreSQL log analysis: \(formatCount(s.lines)) lines in \(s.files.count) file\(s.files.count == 1 ? "" : "s")"]
    for f in s.files {
        var line = "  \(f.path): \(f.format)"
        if let c = f.compression { line += " (\(c))" }
        if let p = f.prefix { line += ", prefix '\(p)'" }
        line += ", \(formatBytes(f.bytes)), \(formatCount(f.lines)) lines"
        if let other = f.otherShapeLines { line += ", \(formatCount(other)) in another shape" }
        if f.skippedLines > 0 { line += ", \(formatCount(f.skippedLines)) not understood" }
        out.append(clip(line, width))
    }
    var pairs: [(String, String)] = []
    if let first = s.firstTimestamp, let last = s.lastTimestamp { pairs.append(("Time range", "\(first) to \(last)")) }
    pairs.append(("Statements", "\(formatCount(s.statements)) (\(formatCount(s.timedStatements)) timed), "
        + "\(formatCount(s.distinctQueries)) distinct" + (s.unparsedQueries > 0 ? ", \(s.unparsedQueries) unparsed" : "")))
    pairs.append(("Total duration", formatDuration(ms: s.durationTotalMs)))
    if s.parseBindSteps > 0 { pairs.append(("Parse/bind", "\(formatCount(s.parseBindSteps)) steps, \(formatDuration(ms: s.parseBindMs))")) }
    pairs.append(("Errors", formatCount(s.errors)))
    pairs.append(("N+1 bursts", formatCount(s.nPlusOneBursts)))
    pairs.append(("Temp files", "\(formatCount(report.tempFiles.count)), \(formatBytes(report.tempFiles.totalBytes)) in all"))
    pairs.append(("Lock waits", "\(formatCount(report.lockWaits.waits)) beyond deadlock_timeout"
        + (report.lockWaits.acquired > 0 ? ", \(report.lockWaits.acquired) acquired after \(formatDuration(ms: report.lockWaits.acquiredWaitMs))" : "")))
    pairs.append(("Checkpoints", "\(report.checkpoints.completed) completed, \(formatCount(report.checkpoints.buffersWritten)) buffers written"))
    pairs.append(("Autovacuum", "\(report.autovacuum.vacuums) vacuums, \(report.autovacuum.analyzes) analyzes"))
    for (n, part) in sessionFactParts(report.sessions).enumerated() { pairs.append((n == 0 ? "Sessions" : "", part)) }
    return out + ["", "Summary"] + facts(pairs, width: width)
}

private func logTextQueries(_ report: LogReport, top: Int, width: Int) -> [String] {
    func queryTable(_ title: String, _ queries: [QueryStats]) -> [String] {
        var table = TextTable(headers: ["Total", "Calls", "Mean", "p95", "Max", "Query"],
                              alignments: [.right, .right, .right, .right, .right, .left])
        for q in queries {
            table.add([formatDuration(ms: q.totalMs), formatCount(q.calls), formatDuration(ms: q.meanMs),
                       q.p95Ms.map { formatDuration(ms: $0) } ?? "-", q.maxMs.map { formatDuration(ms: $0) } ?? "-",
                       (q.parsed ? "" : "[unparsed] ") + q.normalized])
        }
        return tableSection(title, table, isEmpty: queries.isEmpty, width: width)
    }
    var slowest = TextTable(headers: ["Duration", "When", "Statement"], alignments: [.right, .left, .left])
    for sample in report.slowestStatements.prefix(top) {
        var text = sample.text
        if let params = sample.parameters, !params.isEmpty { text += "  -- parameters: " + params.joined(separator: ", ") }
        slowest.add([sample.durationMs.map { formatDuration(ms: $0) } ?? "-", sample.timestamp ?? "", text])
    }
    return queryTable("Top queries by total time", Array(report.queries.prefix(top)))
        + queryTable("Most frequent", Array(report.queries.sorted(by: QueryStats.moreFrequentFirst).prefix(top)))
        + tableSection("Slowest statements", slowest, isEmpty: report.slowestStatements.isEmpty, width: width)
}

private func logTextPlanInsights(_ report: LogReport, top: Int, width: Int) -> [String] {
    guard let plans = report.planInsights, !plans.isEmpty else { return [] }
    var out = ["", "Plan insights (auto_explain), worst occurrence per query"]
    for group in plans.prefix(top) {
        out.append(wrap(planInsightsHeading(group), width: width, indent: "  "))
        for insight in group.insights {
            let c = planInsightCells(insight)
            out.append(wrap("\(c[0]) \(c[1]): \(c[2]) at stake on \(c[4]), in a \(c[3]) run", width: width, indent: "    "))
            // The log line in full, however long the path: it is what the reader opens next.
            out.append("      at " + c[5])
        }
    }
    return out
}

/// Errors, temporary files, lock waits and autovacuum.
private func logTextEvents(_ report: LogReport, top: Int, width: Int) -> [String] {
    var errors = TextTable(headers: ["Count", "SQLSTATE", "Message / statement"], alignments: [.right, .left, .left])
    for e in report.errors.prefix(top) {
        errors.add([formatCount(e.count), e.sqlstate ?? "-", "\(e.severity): \(e.message)"])
        if let statement = e.statement { errors.add(["", "", "  " + statement]) }
    }
    var temp = TextTable(headers: ["Files", "Total", "Largest", "Query"], alignments: [.right, .right, .right, .left])
    for t in report.tempFiles.byStatement.prefix(top) {
        temp.add([formatCount(t.count), formatBytes(t.totalBytes), formatBytes(t.maxBytes), t.normalized])
    }
    var locks = TextTable(headers: ["Waits", "Query"], alignments: [.right, .left])
    for l in report.lockWaits.byStatement.prefix(top) { locks.add([formatCount(l.waits), l.normalized]) }
    var vacuum = TextTable(headers: ["Vacuums", "Analyzes", "Elapsed", "Table"], alignments: [.right, .right, .right, .left])
    for t in report.autovacuum.tables.prefix(top) {
        vacuum.add([formatCount(t.vacuums), formatCount(t.analyzes), formatDuration(ms: t.elapsedSeconds * 1000), t.table])
    }
    return tableSection("Errors", errors, isEmpty: report.errors.isEmpty, width: width)
        + tableSection("Temporary files by statement", temp, isEmpty: report.tempFiles.byStatement.isEmpty, width: width)
        + tableSection("Lock waits by statement", locks, isEmpty: report.lockWaits.byStatement.isEmpty, width: width)
        + tableSection("Autovacuum by table", vacuum, isEmpty: report.autovacuum.tables.isEmpty, width: width)
}

/// `pgadvise logs` as Markdown (for pull requests and wikis).
public func renderLogReportMarkdown(_ report: LogReport, top: Int = 10) -> String {
    let s = report.summary
    var out = "# PostgreSQL log analysis\n\n"
    for f in s.files {
        out += "- `\(f.path)`: \(f.format)\(f.compression.map { " (\($0))" } ?? "")"
            + "\(f.prefix.map { ", prefix `'\($0)'`" } ?? ""), \(formatCount(f.lines)) lines"
            + (f.skippedLines > 0 ? ", \(formatCount(f.skippedLines)) not understood" : "") + "\n"
    }
    out += "\n## Summary\n\n| | |\n|---|---|\n"
    if let first = s.firstTimestamp, let last = s.lastTimestamp { out += "| Time range | \(first) to \(last) |\n" }
    out += "| Statements | \(formatCount(s.statements)) (\(formatCount(s.timedStatements)) timed), \(formatCount(s.distinctQueries)) distinct |\n"
    out += "| Total duration | \(formatDuration(ms: s.durationTotalMs)) |\n"
    out += "| Errors | \(formatCount(s.errors)) |\n"
    out += "| N+1 bursts | \(formatCount(s.nPlusOneBursts)) |\n"
    out += "| Temp files | \(formatCount(report.tempFiles.count)), \(formatBytes(report.tempFiles.totalBytes)) |\n"
    out += "| Lock waits | \(formatCount(report.lockWaits.waits)) |\n"
    out += "| Checkpoints | \(report.checkpoints.completed) |\n"
    out += "| Autovacuum | \(report.autovacuum.vacuums) vacuums, \(report.autovacuum.analyzes) analyzes |\n"
    out += "| Connections | \(formatCount(report.sessions.connectionsAuthorized)) |\n"
    out += "| Sessions | \(markdownCell(sessionFacts(report.sessions))) |\n"
    out += "\n## Top queries by total time\n\n| Total | Calls | Mean | p95 | Max | Query |\n|---:|---:|---:|---:|---:|---|\n"
    for q in report.queries.prefix(top) {
        out += "| \(formatDuration(ms: q.totalMs)) | \(formatCount(q.calls)) | \(formatDuration(ms: q.meanMs)) | "
            + "\(q.p95Ms.map { formatDuration(ms: $0) } ?? "-") | \(q.maxMs.map { formatDuration(ms: $0) } ?? "-") | "
            + markdownCodeCell(q.normalized) + " |\n"
    }
    out += "\n## Findings\n\n" + renderFindingsMarkdown(report.findings)
    if let plans = report.planInsights, !plans.isEmpty {
        out += "\n## Plan insights (auto_explain)\n"
        for group in plans.prefix(top) {
            out += "\n" + markdownCell(planInsightsHeading(group)) + "\n\n| " + planInsightHeaders.joined(separator: " | ")
                + " |\n|---|---|---:|---:|---|---|\n"
            for insight in group.insights { out += "| " + planInsightCells(insight).map(markdownCell).joined(separator: " | ") + " |\n" }
        }
    }
    if !report.errors.isEmpty {
        out += "\n## Errors\n\n| Count | SQLSTATE | Message | Statement |\n|---:|---|---|---|\n"
        for e in report.errors.prefix(top) {
            out += "| \(e.count) | \(e.sqlstate ?? "-") | \(markdownCell(e.severity + ": " + e.message)) | \(markdownCell(e.statement ?? "")) |\n"
        }
    }
    if let bouncer = report.pgbouncer {
        out += "\n## PgBouncer\n\n| | |\n|---|---|\n"
        for (k, v) in pgbouncerFacts(bouncer) { out += "| \(k) | \(markdownCell(v)) |\n" }
        for (title, counts) in pgbouncerMessageTables(bouncer) {
            out += "\n### \(title)\n\n| Count | Message |\n|---:|---|\n"
            for c in counts.prefix(top) { out += "| \(c.count) | \(markdownCell(c.message)) |\n" }
        }
    }
    if !s.notes.isEmpty { out += "\n## Notes\n\n" + s.notes.map { "- " + $0 }.joined(separator: "\n") + "\n" }
    return out
}

/// Sessions: counts and the rate of new ones, how long they last, and the most open at once.
func sessionFactParts(_ ss: SessionSummary) -> [String] {
    var parts = ["\(formatCount(ss.connectionsAuthorized)) connections, \(formatCount(ss.disconnections)) disconnections"
        + (ss.sessionsPerSecond.map { String(format: ", %.2f new per second", $0) } ?? "")]
    if let mean = ss.meanSessionMs {
        var lengths = "sessions last"
        if let median = ss.medianSessionMs, let p95 = ss.p95SessionMs {
            lengths += " \(formatDuration(ms: median)) (median), \(formatDuration(ms: p95)) (p95),"
        }
        parts.append(lengths + " \(formatDuration(ms: mean)) on average, longest \(formatDuration(ms: ss.maxSessionMs))")
    }
    if let peak = ss.peakConcurrentSessions {
        parts.append("at most \(formatCount(peak)) open at once" + (ss.peakConcurrentAt.map { " (\($0))" } ?? ""))
    }
    return parts
}

func sessionFacts(_ ss: SessionSummary) -> String { sessionFactParts(ss).joined(separator: "; ") }

let planInsightHeaders = ["Severity", "Insight", "At stake", "Run", "Node", "Log line"]

/// One query's line above its plan insights (text, Markdown and HTML).
func planInsightsHeading(_ group: LogPlanInsights) -> String {
    "\(group.normalized) (\(group.fingerprint): \(formatCount(group.calls)) call\(group.calls == 1 ? "" : "s"), \(formatDuration(ms: group.totalMs)) in all, "
        + "\(formatCount(group.plans)) plan\(group.plans == 1 ? "" : "s"))"
}

/// One insight's worst occurrence: severity, rule, time at stake and share, the run's duration, node, file:line.
func planInsightCells(_ insight: LogPlanInsight) -> [String] {
    let f = insight.finding
    var stake = f.exclusiveMs.map { formatDuration(ms: $0) } ?? "-"
    if let share = f.shareOfExecution { stake += String(format: " (%.0f%%)", share * 100) }
    let rule = f.rule + (insight.occurrences > 1 ? " (x\(formatCount(insight.occurrences)))" : "")
    let place = (f.file ?? "") + (f.line.map { ":\($0)" } ?? "")
    return [f.severity.rawValue, rule, stake, formatDuration(ms: insight.durationMs), f.node ?? "-", place]
}

/// The PgBouncer section's label/value lines (text and Markdown).
func pgbouncerFacts(_ b: PgBouncerSummary) -> [(String, String)] {
    var facts: [(String, String)] = []
    let micros = { (us: Double) in formatDuration(ms: us / 1000) }
    if !b.statsPeriods.isEmpty {
        facts.append(("Stats periods", "\(formatCount(b.statsPeriods.count)), peak \(formatCount(b.peakXactsPerSecond)) xacts/s, "
            + "\(formatCount(b.peakQueriesPerSecond)) queries/s"))
        var times: [String] = []
        if let x = b.meanXactMicros { times.append("xact \(micros(x))") }
        if let q = b.meanQueryMicros { times.append("query \(micros(q))") }
        if let w = b.meanWaitMicros { times.append("client wait \(micros(w)) (worst period \(micros(Double(b.maxWaitMicros))))") }
        if !times.isEmpty { facts.append(("Mean times", times.joined(separator: ", "))) }
    }
    facts.append(("Connections", "\(formatCount(b.clientLogins)) client logins, \(formatCount(b.loginFailures)) failed; "
        + "\(formatCount(b.serverConnections)) server connections opened"))
    let poolErrors = b.poolerErrors.reduce(0) { $0 + $1.count } - b.loginFailures
    facts.append(("Pool errors", formatCount(poolErrors)))
    return facts
}

func pgbouncerMessageTables(_ b: PgBouncerSummary) -> [(String, [PgBouncerMessageCount])] {
    [("PgBouncer pooler errors", b.poolerErrors), ("PgBouncer client disconnections", b.clientDisconnections),
     ("PgBouncer server disconnections", b.serverDisconnections)].filter { !$0.1.isEmpty }
}

/// Cuts a line to `width` characters without folding its spacing (unlike `truncate`).
private func clip(_ line: String, _ width: Int) -> String {
    line.count <= width ? line : String(line.prefix(width - 1)) + "…"
}
