import ArgumentParser
import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseRules
import PGAdviseSources

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a live database: settings, pg_stat_statements, catalog, usage statistics and generic plans.",
        discussion: """
        Connects like psql (a conninfo string, a postgres:// URI, or the PG* environment variables and \
        ~/.pgpass), in a read-only session with statement and lock timeouts and application_name pgadvise. \
        A role with pg_monitor is enough; whatever the role cannot see is listed under "Skipped". \
        Exit codes: 0 no finding at --fail-on, 1 findings at or above it, 2 bad usage, 3 cannot connect, \
        a query timed out, or a privilege is missing.
        """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Do not EXPLAIN the top statements (no plan findings).")
    var noPlans = false

    @Flag(name: .long, help: "Include the whole catalog (tables, columns, indexes, statistics) in JSON output.")
    var includeCatalog = false

    func validate() throws {
        try output.validate(formats: [.text, .json, .markdown, .sarif])
    }

    func run() throws {
        let conn = try connection.connect()
        var scan = ScanPipeline(connection: conn, top: output.top, planStatements: !noPlans)
        var report = try scan.run()
        if let catalog = report.catalog {
            // The same top statements, costed read-only: HypoPG when installed, else a note saying how.
            let workload = Workload(source: .pgStatStatements, queries: report.queries.map(\.stats))
            do {
                report.recommendations = try IndexAdvisor(connection: conn, catalog: catalog).advise(workload)
            } catch {
                report.recommendations = IndexAdvice(notes: ["No index advice: \(error)"])
            }
        }
        if !includeCatalog { report.catalog = nil }
        let text: String
        switch output.format {
        case .json: text = try JSONOutput.encode(report)
        case .markdown: text = renderScanMarkdown(report)
        case .sarif: text = try renderSARIF(report.findings, rules: RuleRegistry.descriptions.map(\.info), toolVersion: PGAdvise.version)
        default: text = renderScanText(report, color: output.color)
        }
        try output.emit(text, findings: report.findings)
    }
}
