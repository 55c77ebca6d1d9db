import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources

/// `pgadvise indexes`: the workload of pg_stat_statements (plus the statements, calls and literal
/// values of slow-query logs), and the indexes that serve it best, costed with HypoPG and, with
/// `options.measure`, built and timed in rolled-back transactions.
public struct IndexesPipeline {
    /// The heaviest pg_stat_statements entries read; the advisor costs the heaviest of them.
    public static let statementLimit = 500

    public let connection: PostgresConnection
    public let options: IndexAdvisorOptions
    public let logs: [String]

    public init(connection: PostgresConnection, options: IndexAdvisorOptions, logs: [String] = []) {
        self.connection = connection
        self.options = options
        self.logs = logs
    }

    public func run() throws -> IndexAdvice {
        let catalog = try CatalogCollector(connection: connection).collect()
        var workload = try PgStatStatementsCollector(connection: connection).collect(limit: Self.statementLimit).workload
        var cancelledInLog: [(text: String, count: Int)] = []
        if !logs.isEmpty {
            let report = try Self.logReport(logs)
            let logged = Self.workload(of: report)
            workload.merge(overlapping: logged)
            // Without pg_stat_statements' window the log's own span is the window its counts cover,
            // which table write counters are scaled to.
            if workload.windowSeconds == nil { workload.windowSeconds = logged.windowSeconds }
            cancelledInLog = CancelledStatements.fromLog(report)
        }
        var notes: [String] = []
        let cancelled = try CancelledStatements(connection: connection).add(to: &workload, logged: cancelledInLog, catalog: catalog,
                                                                           notes: &notes)
        var advice = try IndexAdvisor(connection: connection, catalog: catalog, options: options).advise(workload)
        advice.cancelled = cancelled
        advice.notes += notes
        return advice
    }

    /// Throws a PGAdviseError(.input) for the first log that cannot be read, before any connection is made.
    public static func checkReadable(logs: [String]) throws {
        for path in logs where !FileManager.default.isReadableFile(atPath: path) {
            throw PGAdviseError(.input, "cannot read log file \(path)")
        }
    }

    /// The statements of slow-query logs, with their calls and the literal values of logged executions.
    static func logReport(_ paths: [String]) throws -> LogReport {
        let analyzer = LogAnalyzer()
        for path in paths { try analyzer.add(path: path) }
        return try analyzer.report()
    }

    static func workload(of report: LogReport) -> Workload {
        var workload = report.workload
        workload.windowSeconds = logSpanSeconds(first: report.summary.firstTimestamp, last: report.summary.lastTimestamp)
        return workload
    }

    /// Seconds between the first and the last logged line (`2024-05-01 10:00:00.000 UTC`, both in
    /// the log's own zone); nil when unknown or not positive.
    static func logSpanSeconds(first: String?, last: String?) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        guard let first, let last, let start = formatter.date(from: String(first.prefix(23))),
              let end = formatter.date(from: String(last.prefix(23))) else { return nil }
        let seconds = end.timeIntervalSince(start)
        return seconds > 0 ? seconds : nil
    }
}
