import Foundation
import PGAdviseCore

/// `pgadvise indexes` output in text, Markdown and JSON.
public enum IndexAdviceRenderer {
    public static func json(_ advice: IndexAdvice) throws -> String {
        var document = advice
        document.schemaVersion = jsonSchemaVersion
        return try JSONOutput.encode(document)
    }

    public static func text(_ advice: IndexAdvice, width: Int = 100) -> String {
        var out: [String] = []
        var heading = "Recommended indexes: \(advice.recommendations.count)"
        heading += " (budget \(formatBytes(advice.budgetBytes)), \(statementCount(advice.statementsAnalyzed)) analysed)"
        out.append(wrap(heading, width: width))
        if let before = advice.workloadCostBefore, let after = advice.workloadCostAfter {
            out.append("Estimated workload cost \(cost(before)) -> \(cost(after))\(change(before, after)), calls x planner cost")
        }
        for (i, rec) in advice.recommendations.enumerated() {
            out.append("")
            out += recommendationLines(rec, number: i + 1, width: width)
        }
        out += finalSetLines(advice.finalSet, width: width)
        if !advice.withdrawn.isEmpty {
            out.append("")
            out.append("Withdrawn after measurement: \(advice.withdrawn.count)")
            for w in advice.withdrawn {
                out.append(wrap("- \(w.recommendation.name) on \(w.recommendation.table): \(w.reason)", width: width, indent: "  "))
                out.append("    " + truncate(w.recommendation.ddl, to: width - 4))
            }
        }
        if !advice.redundant.isEmpty {
            out.append("")
            out.append("Existing indexes made redundant: \(advice.redundant.count)")
            for r in advice.redundant {
                out.append("  " + truncate(r.ddl, to: width - 2))
                out.append(wrap(r.evidence, width: width, indent: "    "))
            }
        }
        out += leftOutLines(advice, width: width)
        if !advice.skipped.isEmpty {
            out.append("")
            out.append("Statements not costed: \(advice.skipped.count)")
            for s in advice.skipped {
                out.append(wrap("- \(s.fingerprint): \(s.reason)", width: width, indent: "  "))
                out.append("    > " + truncate(s.text, to: width - 6))
            }
        }
        if !advice.notes.isEmpty {
            out.append("")
            out.append("Notes:")
            for note in advice.notes { out.append("- " + wrap(note, width: width, indent: "  ").dropFirst(2)) }
        }
        return out.joined(separator: "\n")
    }

    /// `--measure`'s last step: the whole set built together, and the statements whose plan changed.
    static func finalSetLines(_ set: SetMeasurement?, width: Int) -> [String] {
        guard let set else { return [] }
        var out = ["", wrap("Measured together (\(set.indexes.count) index\(set.indexes.count == 1 ? "" : "es") built in one "
                            + "rolled-back transaction): \(finalSetSummary(set))", width: width)]
        for s in set.statements {
            let figures = "\(formatCount(s.calls)) call\(s.calls == 1 ? "" : "s"), \(measuredBefore(s.measured)) -> "
                + "\(measuredAfter(s.measured))" + (s.indexesUsed.isEmpty ? "" : " using \(s.indexesUsed.joined(separator: ", "))")
                + (s.regression ? ", REGRESSION" : "")
            out.append("   " + truncate("- \(s.fingerprint) \(figures)", to: width - 3))
            out.append("     > " + truncate(s.text, to: width - 7))
        }
        for (fingerprint, reason) in set.unmeasured.sorted(by: { $0.key < $1.key }) {
            out.append(wrap("   Statement \(fingerprint) could not be run: \(reason)", width: width, indent: "   "))
        }
        if !set.withdrawn.isEmpty {
            out.append(wrap("   Withdrawn for a regression measured with the set, then the rest measured again: "
                            + set.withdrawn.joined(separator: ", "), width: width, indent: "   "))
        }
        return out
    }

    /// `3 statements changed plan; over the workload's calls 12.0 s -> 1.1 s; no regression`.
    static func finalSetSummary(_ set: SetMeasurement) -> String {
        let regressions = set.regressions.count
        return "\(statementCount(set.statements.count)) changed plan; over the workload's calls "
            + "\(formatDuration(ms: set.beforeMs)) -> \(formatDuration(ms: set.afterMs)); "
            + (regressions == 0 ? "no regression" : "\(regressions) regression\(regressions == 1 ? "" : "s")")
    }

    /// The best candidates left out, with the gate and its figures, and the bulk loads told apart
    /// from steady writes: what explains a short or empty list.
    static func leftOutLines(_ advice: IndexAdvice, width: Int) -> [String] {
        var out: [String] = []
        if !advice.rejected.isEmpty {
            out.append("")
            out.append("Best candidates not recommended: \(advice.rejected.count)")
            for r in advice.rejected {
                out.append(wrap("\(r.definition) [\(r.gate)]: \(r.reason)", width: width, lead: "  - ", indent: "    "))
            }
        }
        if !advice.cancelled.isEmpty {
            out.append("")
            out.append(wrap("Cancelled by statement_timeout, counted at the timeout (a lower bound): \(advice.cancelled.count)", width: width))
            for c in advice.cancelled {
                out.append(wrap("\(c.fingerprint): \(cancelledFigures(c))", width: width, lead: "  - ", indent: "    "))
                out.append("    > " + truncate(c.text, to: width - 6))
            }
        }
        if !advice.bulkLoads.isEmpty {
            out.append("")
            out.append(wrap("Bulk loads, charged at most as rebuilding the index, not as a steady write rate: \(advice.bulkLoads.count)", width: width))
            for b in advice.bulkLoads {
                out.append(wrap("- \(b.fingerprint) on \(b.table): \(bulkFigures(b))", width: width, indent: "  "))
                out.append("    > " + truncate(b.text, to: width - 6))
            }
        }
        return out
    }

    /// `2 cancellations in the log, each counted at 60.00 s (statement_timeout of this database and role)`.
    static func cancelledFigures(_ c: CancelledStatement) -> String {
        let what = c.source == "log" ? "in the log" : "planned but never executed in pg_stat_statements (likely cancelled)"
        return "\(formatCount(c.cancellations)) cancellation\(c.cancellations == 1 ? "" : "s") \(what), each counted at "
            + "\(formatDuration(ms: c.countedMs)) (\(c.countedFrom))"
    }

    /// `1 call, 300,000 rows`.
    static func bulkFigures(_ b: BulkLoad) -> String {
        "\(formatCount(b.calls)) call\(b.calls == 1 ? "" : "s"), \(formatCount(Int(b.rows))) rows"
    }

    static func recommendationLines(_ rec: IndexRecommendation, number: Int, width: Int) -> [String] {
        var lines: [String] = []
        let verified = rec.verified ? "" : ", unverified"
        lines.append(truncate("\(number). \(rec.name) [\(rec.kind.rawValue)\(verified)] on \(rec.table), "
                              + "size \(formatBytes(rec.sizeBytes)) (\(rec.sizeSource))", to: width))
        lines.append(wrap(rec.ddl + ";", width: width, indent: "   "))
        var estimate = "   Estimated cost"
        if let before = rec.estimatedCostBefore, let after = rec.estimatedCostAfter {
            estimate += " \(cost(before)) -> \(cost(after))\(change(before, after))"
        } else if let before = rec.estimatedCostBefore {
            estimate += " \(cost(before)) -> not estimated"
        } else {
            estimate = "   Cost not estimated (no HypoPG)"
        }
        estimate += " over \(statementCount(Set(rec.statements.map(\.fingerprint)).count))"
        if let w = rec.writeOverhead, w.rowsWritten > 0 {
            estimate += "; write overhead \(writeOverheadSummary(w))"
        }
        lines.append(wrap(estimate, width: width, indent: "   "))
        if let extrapolation = rec.writeOverhead?.extrapolation {
            lines.append(wrap("   Write rate extrapolated: " + extrapolation, width: width, indent: "   "))
        }
        if let hotNote = rec.writeOverhead?.hotNote { lines.append(wrap("   HOT: " + hotNote, width: width, indent: "   ")) }
        if let m = rec.measured {
            lines.append(wrap("   Measured \(formatDuration(ms: m.beforeMs)) -> \(formatDuration(ms: m.afterMs)) per call, "
                              + "buffers \(formatCount(Int(m.beforeBuffers))) -> \(formatCount(Int(m.afterBuffers))) "
                              + "(median of \(m.runs) runs)", width: width, indent: "   "))
            if let net = measuredNet(m) { lines.append(wrap("   " + net, width: width, indent: "   ")) }
        }
        // A statement costed under several custom plans is listed once, with a line per plan.
        var byStatement: [[ServedStatement]] = []
        for s in rec.statements {
            if let i = byStatement.firstIndex(where: { $0[0].fingerprint == s.fingerprint }) { byStatement[i].append(s) }
            else { byStatement.append([s]) }
        }
        for plans in byStatement {
            let first = plans[0]
            let calls = "\(formatCount(first.calls)) call\(first.calls == 1 ? "" : "s")"
            if plans.count == 1 {
                let figures = ([calls] + servedFigures(first) + (first.customPlan.map { ["custom plan for \($0)"] } ?? []))
                lines.append(wrap("\(first.fingerprint) " + figures.joined(separator: ", "), width: width, lead: "   - ", indent: "     "))
            } else {
                // The statement is run once, with its most used values: one measurement for all its plans.
                let measured = plans.lazy.compactMap(\.measured).first
                let header = [calls] + (measured.map { ["\(measuredBefore($0)) -> \(measuredAfter($0))"] } ?? [])
                lines.append(wrap("\(first.fingerprint) " + header.joined(separator: ", "), width: width, lead: "   - ", indent: "     "))
                for s in plans {
                    let plan = s.customPlan.map { "custom plan for \($0)" } ?? "generic plan"
                    lines.append(wrap("\(plan): " + servedFigures(s, measured: false).joined(separator: ", "), width: width,
                                      lead: "     ", indent: "       "))
                }
            }
            if let verdict = plans.lazy.compactMap(\.measured?.plans).first?.verdict {
                lines.append(wrap("Plan: " + verdict, width: width, lead: "     ", indent: "       "))
            }
            lines.append("     > " + truncate(first.text, to: width - 7))
        }
        let writes = rec.writeOverhead?.statements ?? []
        if !writes.isEmpty { lines.append("   Writes that must maintain it:") }
        for w in writes {
            lines.append("   " + truncate("- \(w.fingerprint) \(writeFigures(w))", to: width - 3))
            lines.append("     > " + truncate(w.text, to: width - 7))
        }
        for note in rec.notes { lines.append(wrap("Note: " + note, width: width, indent: "   ")) }
        return lines
    }

    /// `cost 1,200 -> 40`, `3.1 ms -> 0.2 ms`: what one plan of a served statement was estimated and
    /// (with `measured`) measured at.
    static func servedFigures(_ s: ServedStatement, measured: Bool = true) -> [String] {
        var figures: [String] = []
        if let b = s.estimatedCostBefore, let a = s.estimatedCostAfter { figures.append("cost \(cost(b)) -> \(cost(a))") }
        if measured, let m = s.measured { figures.append("\(measuredBefore(m)) -> \(measuredAfter(m))") }
        return figures
    }

    /// `2,000 rows (cost 8,000), 1 update loses HOT`.
    static func writeOverheadSummary(_ w: WriteOverhead) -> String {
        var s = "\(formatCount(Int(w.rowsWritten))) rows (cost \(cost(w.estimatedCost)))"
        let losing = w.losingHot.count
        if losing > 0 { s += ", \(losing) update\(losing == 1 ? "" : "s") lose\(losing == 1 ? "s" : "") HOT" }
        if w.source != "workload" { s += ", from \(w.source)" }
        return s
    }

    /// `update, 2,000 calls, loses HOT (4 indexes per row), 0.33 ms -> 0.39 ms`.
    static func writeFigures(_ w: WriteStatement, arrow: String = "->") -> String {
        var s = "\(w.kind), \(formatCount(w.calls)) call\(w.calls == 1 ? "" : "s")"
        s += w.losesHot ? ", loses HOT (\(w.indexesMaintained) indexes per row)" : ", maintains it"
        if w.bulkLoad == true { s += " (bulk load of \(formatCount(Int(w.rows))) rows, charged at most as rebuilding it)" }
        if let m = w.measured { s += ", \(formatDuration(ms: m.beforeMs)) \(arrow) \(formatDuration(ms: m.afterMs))" }
        return s
    }

    /// `Over the workload's calls: reads save 1.2 s, writes add 120 ms, net 1.1 s saved`.
    static func measuredNet(_ m: IndexMeasurement) -> String? {
        guard let saved = m.readMsSaved, let added = m.writeMsAdded, let net = m.netMsSaved else { return nil }
        return "Over the workload's calls: reads save \(formatDuration(ms: saved)), writes add \(formatDuration(ms: added)), "
            + (net > 0 ? "net \(formatDuration(ms: net)) saved" : "net \(formatDuration(ms: -net)) lost")
    }

    public static func markdown(_ advice: IndexAdvice) -> String {
        var out = "## Recommended indexes\n\n"
        out += "Budget \(formatBytes(advice.budgetBytes)); \(statementCount(advice.statementsAnalyzed)) analysed"
        if let before = advice.workloadCostBefore, let after = advice.workloadCostAfter {
            out += "; estimated workload cost \(cost(before)) → \(cost(after))\(change(before, after))"
        }
        out += ".\n\n"
        if advice.recommendations.isEmpty { out += "No index to recommend.\n\n" }
        for rec in advice.recommendations {
            out += "### `\(rec.name)` (\(rec.kind.rawValue)\(rec.verified ? "" : ", unverified")) on `\(rec.table)`\n\n"
            out += "```sql\n\(rec.ddl);\n```\n\n"
            out += "- Size: \(formatBytes(rec.sizeBytes)) (\(rec.sizeSource))\n"
            if let before = rec.estimatedCostBefore {
                let after = rec.estimatedCostAfter.map { cost($0) + change(before, $0) } ?? "not estimated"
                out += "- Estimated cost: \(cost(before)) → \(after)\n"
            }
            if let w = rec.writeOverhead, w.rowsWritten > 0 {
                out += "- Write overhead: \(writeOverheadSummary(w))\n"
                if let extrapolation = w.extrapolation { out += "- Write rate extrapolated: \(extrapolation)\n" }
                if let hotNote = w.hotNote { out += "- HOT: \(hotNote)\n" }
                for s in w.statements {
                    out += "  - `\(s.fingerprint)` \(writeFigures(s, arrow: "→")): "
                        + markdownCodeCell(truncate(s.text, to: 120)) + "\n"
                }
            }
            if let m = rec.measured {
                out += "- Measured: \(formatDuration(ms: m.beforeMs)) → \(formatDuration(ms: m.afterMs)) per call, buffers "
                    + "\(formatCount(Int(m.beforeBuffers))) → \(formatCount(Int(m.afterBuffers))) (median of \(m.runs) runs)\n"
                if let net = measuredNet(m) { out += "- \(net)\n" }
            }
            for note in rec.notes { out += "- Note: \(note)\n" }
            out += "\n| Query | Calls | Est. cost before | Est. cost after | Measured | Statement |\n|---|---:|---:|---:|---|---|\n"
            for s in rec.statements {
                var measured = s.measured.map { "\(measuredBefore($0)) → \(measuredAfter($0))" } ?? ""
                if let custom = s.customPlan { measured += (measured.isEmpty ? "" : "; ") + "custom plan for " + markdownCell(custom) }
                if let plans = s.measured?.plans { measured += "; plan: " + markdownCell(plans.verdict) }
                out += "| `\(s.fingerprint)` | \(formatCount(s.calls)) | \(s.estimatedCostBefore.map(cost) ?? "") | "
                    + "\(s.estimatedCostAfter.map(cost) ?? "") | \(measured) | \(markdownCodeCell(truncate(s.text, to: 120))) |\n"
            }
            out += "\n"
        }
        if let set = advice.finalSet {
            out += bulletSection("Measured together (\(set.indexes.count) indexes in one rolled-back transaction): "
                                 + finalSetSummary(set),
                                 set.statements.map { "`\($0.fingerprint)` \(formatCount($0.calls)) calls, \(measuredBefore($0.measured)) → "
                                     + "\(measuredAfter($0.measured))\($0.regression ? ", **regression**" : ""): "
                                     + markdownCodeCell(truncate($0.text, to: 120)) })
        }
        out += bulletSection("Withdrawn after measurement",
                             advice.withdrawn.map { "`\($0.recommendation.name)` on `\($0.recommendation.table)`: \($0.reason)" })
        out += bulletSection("Existing indexes made redundant", advice.redundant.map { "`\($0.ddl)`: \($0.evidence)" })
        out += bulletSection("Best candidates not recommended",
                             advice.rejected.map { "`\($0.definition)` (\($0.gate)): \(markdownCell($0.reason))" })
        out += bulletSection("Cancelled by statement_timeout, counted at the timeout (a lower bound)",
                             advice.cancelled.map { "`\($0.fingerprint)`: \(markdownCell(cancelledFigures($0))): "
                                 + markdownCodeCell(truncate($0.text, to: 120)) })
        out += bulletSection("Bulk loads, charged at most as rebuilding the index, not as a steady write rate",
                             advice.bulkLoads.map { "`\($0.fingerprint)` on `\($0.table)`, \(bulkFigures($0)): "
                                 + markdownCodeCell(truncate($0.text, to: 120)) })
        out += bulletSection("Statements not costed", advice.skipped.map { "`\($0.fingerprint)`: \($0.reason)" })
        // Notes end the document: no blank line after them.
        out += String(bulletSection("Notes", advice.notes).dropLast())
        return out
    }

    /// `### title` and one bullet per item, then a blank line; nothing when there are no items.
    static func bulletSection(_ title: String, _ items: [String]) -> String {
        guard !items.isEmpty else { return "" }
        return "### \(title)\n\n" + items.map { "- \($0)\n" }.joined() + "\n"
    }

    static func statementCount(_ n: Int) -> String { "\(formatCount(n)) statement\(n == 1 ? "" : "s")" }

    static func cost(_ value: Double) -> String {
        value >= 100 ? formatCount(Int(value.rounded())) : String(format: "%.2f", value)
    }

    static func change(_ before: Double, _ after: Double) -> String {
        guard before > 0 else { return "" }
        return String(format: " (%+.0f%%)", (after - before) / before * 100)
    }
}

/// A statement's measured time without and with the index; a run the statement timeout cut off took longer.
func measuredBefore(_ m: StatementMeasurement) -> String {
    (m.beforeCutOff == true ? "over " : "") + formatDuration(ms: m.beforeMs)
}

func measuredAfter(_ m: StatementMeasurement) -> String {
    (m.afterCutOff == true ? "over " : "") + formatDuration(ms: m.afterMs)
}
