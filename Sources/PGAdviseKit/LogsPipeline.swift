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
        // Judged as the analyzer builds each fingerprint's figures: the report need not keep them all.
        if options.queryFindings == nil {
            let rules = RuleRegistry.queryRules   // the registry builds its list on every call: once, not per fingerprint
            options.queryFindings = { Self.queryRuleFindings($0, rules: rules) }
        }
        var report = try Self.read(paths, options: options)
        let planFindings = (report.planInsights ?? []).flatMap { $0.insights.map(\.finding) }
        // The connection rules judge the log's sessions as they judge pool's and scan's observations.
        let sessionFindings = report.sessions.sessionCounters.map { applyConnectionRules(PoolObservation(sessionsInWindow: $0)) } ?? []
        report.findings = (report.findings + RuleEngine.check(bursts: report.nPlusOne ?? []) + planFindings + sessionFindings).sortedByImpact()
        return report
    }

    /// The logs' report. The analyzer (every fingerprint's running figures) is gone when this returns,
    /// before the rules run: peak memory holds one form of each fingerprint, not both.
    private static func read(_ paths: [String], options: LogAnalysisOptions) throws -> LogReport {
        let analyzer = LogAnalyzer(options: options)
        for path in paths { try analyzer.add(path: path) }
        return try analyzer.report()
    }

    /// `pgadvise explain`'s insights on one logged plan (text or JSON, `Query Text:` included). A plan
    /// that cannot be read (cut off, or an auto_explain format pgadvise does not read) gives none.
    @Sendable static func planInsights(_ loggedPlan: String) -> [Finding] {
        guard let plans = try? ExplainParser.parseAll(loggedPlan) else { return [] }
        return ExplainPipeline.explain(plans, source: "").flatMap(\.findings)
    }

    /// The query rules on one fingerprint of the logs, pointed at the log line of its slowest run.
    static func queryRuleFindings(_ query: QueryStats, rules: [any QueryRule] = RuleRegistry.queryRules) -> [Finding] {
        RuleEngine.check(workload: Workload(source: .logs, queries: [query]), rules: rules).map { finding in
            var finding = finding
            if finding.file == nil, let sample = query.slowest {
                finding.file = sample.file
                finding.line = sample.line
            }
            return finding
        }
    }
}
