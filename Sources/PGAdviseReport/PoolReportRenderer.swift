import Foundation
import PGAdviseCore

// Renderers of `pgadvise pool`. The content is assembled once as sections (lines and a table);
// text, Markdown and HTML only lay them out.

struct ReportSection {
    var title: String
    var lines: [String] = []
    var table: (header: [String], rows: [[String]])?
}

func formatRate(_ perSecond: Double) -> String {
    perSecond >= 100 ? formatCount(Int(perSecond.rounded())) : String(format: "%.1f", perSecond)
}

private func sharesLine(_ counts: [String: Int]) -> String {
    let total = counts.values.reduce(0, +)
    guard total > 0 else { return "none" }
    return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        .map { "\($0.key) \(Int((Double($0.value) / Double(total) * 100).rounded()))%" }.joined(separator: ", ")
}

private func topLine(_ counts: [String: Int], limit: Int = 5) -> String {
    let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    var line = sorted.prefix(limit).map { "\($0.key.isEmpty ? "(none)" : $0.key) \($0.value)" }.joined(separator: ", ")
    if sorted.count > limit { line += ", and \(sorted.count - limit) more" }
    return line.isEmpty ? "none" : line
}

/// `current 64: 1,820 statements/s, p95 41.0 ms`.
public func formatPoolFigure(_ label: String, _ f: PoolFigure) -> String {
    "\(label) \(f.clients): \(formatRate(f.tps)) statements/s, p95 \(formatDuration(ms: f.p95Ms))"
}

func observedSection(_ o: PoolObservation) -> ReportSection {
    var s = ReportSection(title: "Observed connections")
    let reserved = "\(o.superuserReservedConnections) reserved for superusers" + (o.reservedConnections.map { ", \($0) reserved_connections" } ?? "")
    s.lines.append("max_connections \(o.maxConnections) (\(reserved)); at most \(o.connectionsPeak) client connection(s) at once")
    s.lines.append("States (most at once): " + topLine(o.byState, limit: 8))
    s.lines.append("Active backends: peak \(o.activePeak), p95 " + String(format: "%.1f", o.activeP95) + ", mean " + String(format: "%.2f", o.activeMean)
                   + " over \(o.samples) samples every \(Int(o.intervalMs)) ms (\(formatDuration(ms: o.durationSeconds * 1000)))")
    if let busy = o.busyConcurrency {
        s.lines.append("Busy by Little's law (pg_stat_statements execution time / window): " + String(format: "%.2f", busy)
                       + (o.statementsPerSecond.map { " at \(formatRate($0)) statements/s" } ?? ""))
    } else {
        s.lines.append("Busy by Little's law: pg_stat_statements not readable in this database")
    }
    s.lines.append("Wait events of active backends: " + sharesLine(o.waitEvents))
    if let idle = o.oldestIdleInTransaction {
        s.lines.append("Oldest idle transaction: session \(idle.pid) (\(idle.user)@\(idle.database)\(idle.application.isEmpty ? "" : ", \(idle.application)")), "
                       + "open \(formatDuration(ms: idle.transactionAgeMs)), idle \(formatDuration(ms: idle.idleMs))")
    }
    s.lines.append("Connection ages: " + o.connectionAges.map { "\($0.label) \($0.connections)" }.joined(separator: ", "))
    s.lines.append("By database: " + topLine(o.byDatabase) + "; by user: " + topLine(o.byUser))
    s.lines.append("By application: " + topLine(o.byApplication) + "; by client address: " + topLine(o.byClientAddress))
    if let w = o.sessionsInWindow {
        s.lines.append("Sessions (pg_stat_database): \(w.sessions) new in the window (\(formatRate(w.sessionsPerSecond))/s)"
                       + (o.sessionsSinceReset.flatMap { r in r.meanSessionMs.map { "; since reset \(formatCount(Int(r.sessions))) sessions, mean length \(formatDuration(ms: $0))" } } ?? ""))
    }
    s.lines.append("Cores: " + (o.cores.map { "\($0) (\(o.coresSource == "measured" ? "measured: the load curve scaled linearly up to this many clients, a lower bound" : o.coresSource))" }
                                ?? "unknown (SQL cannot tell a monitoring role; pass --cores, or --measure shows them)"))
    return s
}

func pgbouncerSection(_ b: PgBouncerObservation) -> ReportSection {
    var s = ReportSection(title: "PgBouncer" + (b.version.map { " (\($0))" } ?? ""))
    s.lines.append("pool_mode \(b.poolMode ?? "?"), default_pool_size \(b.defaultPoolSize.map(String.init) ?? "?"), "
                   + "max_client_conn \(b.maxClientConn.map(String.init) ?? "?")")
    s.lines.append("Clients waiting: \(b.clientsWaiting), maxwait \(formatDuration(ms: b.maxWaitMs)), average wait "
                   + (b.averageWaitMs.map { formatDuration(ms: $0) } ?? "-")
                   + ", \(b.transactionsPerSecond.map(formatRate) ?? "-") transactions/s")
    s.table = (["database", "user", "clients active", "waiting", "servers active", "idle", "maxwait", "mode"],
               b.pools.map { [$0.database, $0.user, String($0.clientsActive), String($0.clientsWaiting), String($0.serversActive),
                              String($0.serversIdle), formatDuration(ms: $0.maxWaitMs), $0.poolMode] })
    return s
}

func loadCurveSection(_ r: PoolReport) -> ReportSection? {
    guard let m = r.measurement else { return nil }
    var s = ReportSection(title: "Measured load curve")
    s.lines.append("\(m.statements.count) statement(s) from \(m.workloadSource), closed-loop clients, "
                   + "\(formatDuration(ms: m.warmupSeconds * 1000)) warm-up and \(formatDuration(ms: m.stepSeconds * 1000)) per level, up to \(m.maxClients) clients")
    s.lines.append("Knee: " + (m.knee.map { "\($0) clients" } ?? "none") + " (peak \(formatRate(m.peakTps)) statements/s"
                   + (m.sloP95Ms.map { ", SLO p95 \(formatDuration(ms: $0))" } ?? "") + ")")
    if let usl = m.scalability {
        s.lines.append(String(format: "Universal Scalability Law: σ %.3f, κ %.4f", usl.sigma, usl.kappa)
                       + (usl.optimumClients.map { String(format: ", optimum %.1f clients", $0) } ?? ", no retrograde region seen"))
    }
    if m.interrupted { s.lines.append("Interrupted (Ctrl-C): the curve ends where it was stopped.") }
    s.table = (["clients", "statements/s", "p50", "p95", "p99", "note"], r.loadCurve.map {
        [String($0.clients), formatRate($0.tps), formatDuration(ms: $0.p50Ms), formatDuration(ms: $0.p95Ms), formatDuration(ms: $0.p99Ms),
         ($0.clients == m.knee ? "knee" : "") + ($0.note.map { " " + $0 } ?? "")]
    })
    return s
}

func recommendationSection(_ r: PoolReport) -> ReportSection {
    let rec = r.recommendation
    var s = ReportSection(title: "Recommendation")
    s.lines.append("Pool size \(rec.poolSize) (\(rec.basis))" + (rec.appInstances > 1 ? ", \(rec.perInstance) per application instance × \(rec.appInstances)" : ""))
    if let before = rec.before, let after = rec.after {
        s.lines.append(before.clients == after.clients
                       ? formatPoolFigure("current and recommended", after) + " (the current size is already the knee)"
                       : formatPoolFigure("current", before) + "; " + formatPoolFigure("recommended", after))
    }
    s.lines.append("PgBouncer: default_pool_size \(rec.pgbouncer.defaultPoolSize), max_client_conn \(rec.pgbouncer.maxClientConn), pool_mode \(rec.pgbouncer.poolMode)")
    s.lines += rec.pgbouncer.reasons.map { "  " + $0 }
    s.lines.append("Headroom: \(rec.freeConnectionSlots) connection slot(s) free at the observed peak")
    if let pool = rec.workMemAtPoolBytes, let all = rec.workMemAtMaxConnectionsBytes {
        s.lines.append("Memory: work_mem × pool = \(formatBytes(pool)), × max_connections = \(formatBytes(all)); each sort or hash node "
                       + "of every active statement may take work_mem (hashes × hash_mem_multiplier), so this is a floor of the worst case")
    }
    s.lines += rec.notes
    s.table = (["source", "pool size"], [
        ["formula cores × 2 + spindles", rec.formulaPoolSize.map(String.init) ?? "cores unknown"],
        ["current (\(rec.currentSource))", rec.current.map(String.init) ?? "-"],
        ["measured knee", rec.measuredKnee.map(String.init) ?? "not measured (--measure)"],
        ["recommended", String(rec.poolSize)],
    ])
    return s
}

func poolSections(_ r: PoolReport) -> [ReportSection] {
    var sections = [observedSection(r.observed)]
    if let b = r.pgbouncer { sections.append(pgbouncerSection(b)) }
    if let curve = loadCurveSection(r) { sections.append(curve) }
    sections.append(recommendationSection(r))
    if !r.skipped.isEmpty {
        sections.append(ReportSection(title: "Skipped", lines: r.skipped.map { "\($0.step): \($0.reason)" }))
    }
    return sections
}

func poolHeadline(_ r: PoolReport) -> String {
    "pgadvise pool: \(r.target), PostgreSQL \(r.serverVersion)"
}

public func renderPoolText(_ r: PoolReport, width: Int = 100, color: Bool = false) -> String {
    var out = poolHeadline(r) + "\n"
    for s in poolSections(r) {
        out += "\n" + s.title + "\n" + String(repeating: "-", count: s.title.count) + "\n"
        for line in s.lines { out += wrap(line, width: width, indent: line.hasPrefix("  ") ? "    " : "  ") + "\n" }
        if let table = s.table, !table.rows.isEmpty {
            let widths = table.header.indices.map { i in ([table.header[i]] + table.rows.map { $0[i] }).map(\.count).max() ?? 0 }
            for row in [table.header] + table.rows {
                out += "  " + row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            }
        }
    }
    out += "\nFindings\n--------\n" + (r.findings.isEmpty ? "  none\n" : renderFindingsText(r.findings, width: width, color: color))
    return out
}

public func renderPoolMarkdown(_ r: PoolReport) -> String {
    var out = "# \(poolHeadline(r))\n"
    for s in poolSections(r) {
        out += "\n## \(s.title)\n\n" + s.lines.map { "- " + markdownCell($0.trimmingCharacters(in: .whitespaces)) }.joined(separator: "\n") + "\n"
        if let table = s.table, !table.rows.isEmpty {
            out += "\n| " + table.header.joined(separator: " | ") + " |\n|" + table.header.map { _ in "---|" }.joined() + "\n"
            for row in table.rows { out += "| " + row.map(markdownCell).joined(separator: " | ") + " |\n" }
        }
    }
    out += "\n## Findings\n\n" + (r.findings.isEmpty ? "None.\n" : renderFindingsMarkdown(r.findings))
    return out
}

/// One self-contained HTML page: inline CSS, the load curve as an inline SVG, every text escaped.
public func renderPoolHTML(_ r: PoolReport) -> String {
    var body = "<h1>\(htmlEscape(poolHeadline(r)))</h1>\n"
    for s in poolSections(r) {
        body += "<section>\n<h2>\(htmlEscape(s.title))</h2>\n"
        if s.title == "Measured load curve" { body += loadCurveChart(r.loadCurve, knee: r.measurement?.knee) }
        body += "<ul>\n" + s.lines.map { "<li>\(htmlEscape($0.trimmingCharacters(in: .whitespaces)))</li>" }.joined(separator: "\n") + "\n</ul>\n"
        if let table = s.table, !table.rows.isEmpty {
            body += "<table>\n<tr>" + table.header.map { "<th>\(htmlEscape($0))</th>" }.joined() + "</tr>\n"
            for row in table.rows { body += "<tr>" + row.map { "<td>\(htmlEscape($0))</td>" }.joined() + "</tr>\n" }
            body += "</table>\n"
        }
        body += "</section>\n"
    }
    body += "<section>\n<h2>Findings</h2>\n"
    body += r.findings.isEmpty ? "<p>None.</p>\n" : "<ul>\n" + r.findings.map {
        "<li class=\"finding\"><strong>\(htmlEscape($0.severity.rawValue)) \(htmlEscape($0.rule))</strong>: \(htmlEscape($0.message))"
            + ($0.solution.map { "<br><em>\(htmlEscape($0))</em>" } ?? "") + "</li>"
    }.joined(separator: "\n") + "\n</ul>\n"
    body += "</section>\n"
    return htmlDocument(title: poolHeadline(r), body: body)
}

/// Throughput (left axis, bars' line in blue) and p95 (right axis, orange) against clients on a
/// log-2 x axis; the knee is marked. Pure SVG, no script.
func loadCurveChart(_ levels: [LoadLevel], knee: Int?) -> String {
    guard !levels.isEmpty else { return "" }
    let width = 640.0, height = 300.0, left = 60.0, right = 60.0, top = 20.0, bottom = 40.0
    let plotW = width - left - right, plotH = height - top - bottom
    let maxTps = max(levels.map(\.tps).max() ?? 1, 1e-9), maxP95 = max(levels.map(\.p95Ms).max() ?? 1, 1e-9)
    let logs = levels.map { log2(Double(max($0.clients, 1))) }
    let maxLog = max(logs.max() ?? 1, 1)
    func x(_ i: Int) -> Double { left + (levels.count == 1 ? plotW / 2 : logs[i] / maxLog * plotW) }
    func yTps(_ v: Double) -> Double { top + plotH - v / maxTps * plotH }
    func yP95(_ v: Double) -> Double { top + plotH - v / maxP95 * plotH }
    let f = { (v: Double) in String(format: "%.1f", v) }
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"load-curve\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" "
        + "aria-label=\"Throughput and p95 latency against clients\">\n"
    svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
    let tpsPoints = levels.indices.map { "\(f(x($0))),\(f(yTps(levels[$0].tps)))" }.joined(separator: " ")
    let p95Points = levels.indices.map { "\(f(x($0))),\(f(yP95(levels[$0].p95Ms)))" }.joined(separator: " ")
    svg += "<polyline class=\"tps\" points=\"\(tpsPoints)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
    svg += "<polyline class=\"p95\" points=\"\(p95Points)\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n"
    for (i, level) in levels.enumerated() {
        svg += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(yTps(level.tps)))\" r=\"3\" fill=\"#1f77b4\"><title>\(level.clients) clients: "
            + "\(htmlEscape(formatRate(level.tps))) statements/s, p95 \(htmlEscape(formatDuration(ms: level.p95Ms)))</title></circle>\n"
        svg += "<text x=\"\(f(x(i)))\" y=\"\(f(top + plotH + 15))\" text-anchor=\"middle\">\(level.clients)</text>\n"
        if level.clients == knee {
            svg += "<line class=\"knee\" x1=\"\(f(x(i)))\" x2=\"\(f(x(i)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#2ca02c\" stroke-dasharray=\"2,2\"/>\n"
            svg += "<text x=\"\(f(x(i) + 4))\" y=\"\(f(top + 12))\" fill=\"#2ca02c\">knee</text>\n"
        }
    }
    svg += "<text x=\"\(f(left - 6))\" y=\"\(f(top + 4))\" text-anchor=\"end\">\(htmlEscape(formatRate(maxTps)))</text>\n"
    svg += "<text x=\"\(f(left + plotW + 6))\" y=\"\(f(top + 4))\">\(htmlEscape(formatDuration(ms: maxP95)))</text>\n"
    svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">clients</text>\n"
    svg += "<text x=\"\(f(left))\" y=\"\(f(top - 6))\" fill=\"#1f77b4\">statements/s</text>\n"
    svg += "<text x=\"\(f(left + plotW))\" y=\"\(f(top - 6))\" text-anchor=\"end\" fill=\"#ff7f0e\">p95</text>\n"
    return svg + "</svg>\n"
}

extension PoolReport: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json, .markdown, .html]
    public var findingsForExitCode: [Finding] { findings }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(self)
        case .markdown: return renderPoolMarkdown(self)
        case .html: return renderPoolHTML(self)
        default: return renderPoolText(self, color: options.color)
        }
    }
}
