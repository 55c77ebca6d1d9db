import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
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

    @Flag(name: .long, help: ArgumentHelp(
        "Also run EXPLAIN ANALYZE on the heaviest read-only SELECT statements and report their plan insights.",
        discussion: "The statements run for real, with representative values, each in a read-only transaction that is rolled back and under --statement-timeout."))
    var analyze = false

    @Option(name: .long, help: "With --analyze: how many statements (the heaviest by total time).")
    var analyzeCount: Int = 5

    func validate() throws {
        try output.validate(for: ScanReport.self)
        guard analyzeCount >= 1 else { throw ValidationError("--analyze-count must be at least 1") }
    }

    func run() throws {
        var scan = ScanPipeline(connection: try connection.connect(), top: output.top, planStatements: !noPlans,
                                includeCatalog: includeCatalog, analyzeCount: analyze ? analyzeCount : 0)
        try output.emit(try scan.run())
    }
}
