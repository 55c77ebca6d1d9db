import Foundation
import PGAdviseCore
import PGAdviseRules
import PGAdviseSources

/// `pgadvise logs` as a library: read every log, then judge what they showed: the N+1 bursts by the
/// workload rules and every fingerprint by the query rules, each finding pointed at a log line.
public struct LogsPipeline {
    public let paths: [String]
    public let options: LogAnalysisOptions

    public init(paths: [String], options: LogAnalysisOptions = LogAnalysisOptions()) {
        self.paths = paths
        self.options = options
    }

    public func run() throws -> LogReport {
        var options = options
        if options.planInsights == nil { options.planInsights = Self.planInsights }
        let analyzer = LogAnalyzer(options: options)
        for path in paths { try analyzer.add(path: path) }
        var report = try analyzer.report()
        let planFindings = (report.planInsights ?? []).flatMap { $0.insights.map(\.finding) }
        // The connection rules judge the log's sessions as they judge pool's and scan's observations.
        let sessionFindings = report.sessions.sessionCounters.map { applyConnectionRules(PoolObservation(sessionsInWindow: $0)) } ?? []
        report.findings = (report.findings + RuleEngine.check(bursts: report.nPlusOne ?? []) + Self.queryRuleFindings(report)
            + planFindings + sessionFindings).sortedByImpact()
        return report
    }

    /// `pgadvise explain`'s insights on one logged plan (text or JSON, `Query Text:` included). A plan
    /// that cannot be read (cut off, or an auto_explain format pgadvise does not read) gives none.
    @Sendable static func planInsights(_ loggedPlan: String) -> [Finding] {
        guard let plans = try? ExplainParser.parseAll(loggedPlan) else { return [] }
        return ExplainPipeline.explain(plans, source: "").flatMap(\.findings)
    }

    /// The query rules on every fingerprint the logs hold, pointed at the log line of its slowest run.
    static func queryRuleFindings(_ report: LogReport) -> [Finding] {
        let byFingerprint = Dictionary(report.queries.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        return RuleEngine.check(workload: report.workload).map { finding in
            var finding = finding
            if let fp = finding.fingerprint, let sample = byFingerprint[fp]?.slowest, finding.file == nil {
                finding.file = sample.file
                finding.line = sample.line
            }
            return finding
        }
    }
}
