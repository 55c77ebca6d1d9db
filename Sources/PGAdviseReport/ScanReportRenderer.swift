import Foundation
import PGAdviseCore

/// `pgadvise scan` as text: what was scanned and what was skipped first, then findings by impact,
/// then the statements considered. Fits `width` columns.
public func renderScanText(_ report: ScanReport, width: Int = 100, color: Bool = false) -> String {
    var sections: [String] = []
    sections.append(wrap(scanHeadline(report), width: width))
    var facts: [String] = []
    facts.append("Server: PostgreSQL \(report.server.shortVersion)\(report.server.inRecovery ? " (standby)" : ""), "
                 + "connected as \(report.server.user)\(report.server.isSuperuser ? " (superuser)" : "")")
    let settingNames = ["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "max_connections"]
    let settings = settingNames.compactMap { name in report.server.setting(name).map { "\(name)=\($0.display)" } }
    if !settings.isEmpty { facts.append("Settings: " + settings.joined(separator: ", ")) }
    if let db = report.database {
        var parts: [String] = []
        if let size = db.sizeBytes { parts.append(formatBytes(size)) }
        if let hit = db.cacheHitRatio { parts.append(String(format: "cache hit %.1f%%", hit * 100)) }
        parts.append("\(formatCount(Int(db.tempFiles))) temp files (\(formatBytes(db.tempBytes)))")
        parts.append("\(formatCount(Int(db.deadlocks))) deadlocks")
        parts.append(db.statsReset.map { "statistics since \($0)" } ?? "statistics never reset")
        facts.append("Database: " + parts.joined(separator: ", "))
    }
    if let activity = report.activity {
        let states = activity.sessionsByState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        var line = "Sessions: " + (states.isEmpty ? "none besides pgadvise" : states.joined(separator: ", "))
        if activity.waitingOnLock > 0 { line += ", \(activity.waitingOnLock) waiting on a lock" }
        if let ms = activity.longestIdleInTransactionMs { line += ", oldest idle transaction \(formatDuration(ms: ms))" }
        facts.append(line)
    }
    sections.append(facts.map { wrap($0, width: width, indent: "") }.joined(separator: "\n"))
    if !report.skipped.isEmpty {
        let items = report.skipped.map { skip -> String in
            let wrapped = wrap("\(skip.step): \(skip.reason)", width: width, indent: "    ")
            return "  - " + wrapped.dropFirst(4)
        }
        sections.append("Skipped:\n" + items.joined(separator: "\n"))
    }
    let counts = Severity.allCases.reversed().compactMap { severity -> String? in
        let n = report.findings.filter { $0.severity == severity }.count
        return n > 0 ? "\(n) \(severity.rawValue)\(n == 1 ? "" : "s")" : nil
    }
    sections.append("Findings (\(report.findings.count)\(counts.isEmpty ? "" : ": " + counts.joined(separator: ", "))), highest impact first\n\n"
                    + renderFindingsText(report.findings, width: width, color: color))
    if let advice = report.recommendations {
        // The advice renders its own "Recommended indexes: N" heading.
        sections.append(IndexAdviceRenderer.text(advice, width: width))
    }
    if !report.queries.isEmpty {
        let chosen = report.topPerRanking.map { "the top \($0) by total time, by calls and by mean time; " } ?? ""
        sections.append("Statements considered (\(chosen)heaviest first)\n" + scanQueriesTable(report.queries).render(width: width))
    }
    return sections.joined(separator: "\n\n") + "\n"
}

/// The one-line answer to "what did it look at, and how long did that take".
func scanHeadline(_ report: ScanReport) -> String {
    var text = "pgadvise scan of \(report.target): \(formatCount(report.tableCount)) tables, "
        + "\(formatCount(report.indexCount)) indexes"
    let stats = report.statementStats
    if stats.availability == .available {
        text += ", \(formatCount(stats.statementCount)) statements in pg_stat_statements "
            + "(\(formatCount(Int(stats.totalCalls))) calls, \(formatDuration(ms: stats.totalMs)))"
    } else {
        text += ", pg_stat_statements \(stats.availability.rawValue)"
    }
    return text + "; took \(formatDuration(ms: report.durationMs)) in \(report.roundTrips) round trips."
}

func scanQueriesTable(_ queries: [ScannedQuery]) -> TextTable {
    var table = TextTable(headers: ["Fingerprint", "Calls", "Total", "Mean", "Share", "Plan", "Statement"],
                          alignments: [.left, .right, .right, .right, .right, .left, .left])
    for q in queries {
        let plan = q.plan.map { "cost \(formatCount(wholeNumber($0.root.totalCost)))" } ?? "-"
        table.add([q.stats.fingerprint, formatCount(q.stats.calls), formatDuration(ms: q.stats.totalMs),
                   formatDuration(ms: q.stats.meanMs), String(format: "%.1f%%", q.shareOfTotalTime * 100), plan,
                   q.stats.normalized])
    }
    return table
}

public func renderScanMarkdown(_ report: ScanReport) -> String {
    var out = "# pgadvise scan\n\n\(scanHeadline(report))\n\n"
    out += "- Server: PostgreSQL \(report.server.shortVersion), connected as `\(report.server.user)`\n"
    for name in ["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "max_connections"] {
        if let s = report.server.setting(name) { out += "- `\(name)`: \(s.display)\n" }
    }
    if let hit = report.database?.cacheHitRatio { out += String(format: "- Cache hit ratio: %.1f%%\n", hit * 100) }
    if !report.skipped.isEmpty {
        out += "\n## Skipped\n\n" + report.skipped.map { "- **\(markdownCell($0.step))**: \(markdownCell($0.reason))\n" }.joined()
    }
    out += "\n## Findings\n\n" + renderFindingsMarkdown(report.findings)
    if let advice = report.recommendations {
        out += "\n" + IndexAdviceRenderer.markdown(advice)
    }
    if !report.queries.isEmpty {
        out += "\n## Statements considered\n\n| Fingerprint | Calls | Total | Mean | Share | Statement |\n|---|---:|---:|---:|---:|---|\n"
        for q in report.queries {
            out += "| `\(q.stats.fingerprint)` | \(formatCount(q.stats.calls)) | \(formatDuration(ms: q.stats.totalMs)) | "
                + "\(formatDuration(ms: q.stats.meanMs)) | \(String(format: "%.1f%%", q.shareOfTotalTime * 100)) | "
                + markdownCodeCell(truncate(q.stats.normalized, to: 200)) + " |\n"
        }
    }
    return out
}
