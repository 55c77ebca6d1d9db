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

    func validate() throws {
        try output.validate(for: ScanReport.self)
    }

    func run() throws {
        var scan = ScanPipeline(connection: try connection.connect(), top: output.top, planStatements: !noPlans,
                                includeCatalog: includeCatalog)
        try output.emit(try scan.run())
    }
}
