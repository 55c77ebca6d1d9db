import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseStore

/// `pgadvise report`: one ISO week of the history against the week before, with the query rules'
/// findings on every statement the report lists.
public struct ReportPipeline {
    public let week: ISOWeek
    public let regressionThreshold: Double
    public let minimumTotalIncreaseMs: Double
    /// How many of the heaviest statements each server's ranking keeps.
    public let top: Int

    public init(week: ISOWeek, regressionThreshold: Double = 0.25, minimumTotalIncreaseMs: Double = 1_000, top: Int = 10) {
        self.week = week
        self.regressionThreshold = regressionThreshold
        self.minimumTotalIncreaseMs = minimumTotalIncreaseMs
        self.top = top
    }

    public func run(store: HistoryStore) throws -> WeeklyReport {
        let builder = WeeklyReportBuilder(week: week, regressionThreshold: regressionThreshold,
                                          minimumTotalIncreaseMs: minimumTotalIncreaseMs)
        let range = builder.range
        var report = builder.build(try store.snapshots(from: range.start, to: range.end), schemaVersion: jsonSchemaVersion)
        report.servers = report.servers.map(withRuleFindings)
        return report
    }

    /// Keeps the `top` heaviest statements, then runs the query rules on every statement the
    /// report lists and attaches their findings by fingerprint.
    func withRuleFindings(_ server: ServerWeekReport) -> ServerWeekReport {
        var server = server
        server.top = Array(server.top.prefix(top))
        var seen = Set<String>()
        let queries = (server.top + server.regressions + server.newStatements + server.faster).compactMap { c -> QueryStats? in
            guard let now = c.thisWeek, seen.insert(c.fingerprint).inserted else { return nil }
            return QueryStats(fingerprint: c.fingerprint, normalized: c.normalized, calls: Int(now.calls), totalMs: now.totalMs)
        }
        let byFingerprint = Dictionary(grouping: RuleEngine.check(workload: Workload(source: server.source, queries: queries)),
                                       by: { $0.fingerprint ?? "" })
        func attach(_ list: [StatementComparison]) -> [StatementComparison] {
            list.map { var c = $0; c.findings = byFingerprint[c.fingerprint] ?? []; return c }
        }
        server.top = attach(server.top)
        server.regressions = attach(server.regressions)
        server.newStatements = attach(server.newStatements)
        server.faster = attach(server.faster)
        return server
    }
}
