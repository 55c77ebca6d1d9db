import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The weekly slow-query report: one ISO week against the week before, from `pgadvise snapshot` history.",
        discussion: """
        Weeks are ISO weeks in UTC (Monday 00:00 to Monday 00:00). The default is the last COMPLETE week: \
        a report run from cron on Monday morning covers Monday to Sunday just ended, and never compares a \
        half-finished week with a whole one (which would show every statement as faster). --until DATE picks \
        the last week complete at DATE; --week 2026-W47 names one. Per server and database: total time and \
        calls, the top statements with last week's figures and the change, regressions (mean time up more than \
        --regression-threshold AND total time up at least --min-total-increase-ms), new and disappeared \
        statements, those that got faster (mean time down more than the threshold, saving at least \
        --min-total-increase-ms over the week's calls), and the query rules' findings on the statements listed. It says when a \
        week has no snapshot, when there is no previous week, and when the counters were reset. \
        Exit codes: 0 report written, 1 regressions found with --fail-on-regression (or a finding at --fail-on), \
        2 bad usage, a missing or unreadable store, or --output naming an existing file without --force.
        """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "The ISO week to report, e.g. 2026-W47 (UTC).")
    var week: String?

    @Option(name: .long, help: "Report the last ISO week complete at this date (2026-11-23 or an ISO 8601 time).")
    var until: String?

    @Option(name: .long, help: "A regression's least mean-time increase, as a share (0.25 = 25%).")
    var regressionThreshold: Double = 0.25

    @Option(name: .long, help: "A regression's least total-time increase over the week, in milliseconds.")
    var minTotalIncreaseMs: Double = 1_000

    @Flag(name: .long, help: "Exit with code 1 when the week has a regression.")
    var failOnRegression = false

    @Flag(name: .long, help: "Let --output replace an existing file.")
    var force = false

    func validate() throws {
        try output.validate(for: WeeklyReport.self)
        if week != nil, until != nil { throw ValidationError("give --week or --until, not both") }
        if let week, ISOWeek(parsing: week) == nil {
            throw ValidationError("--week \(week): expected an ISO week such as 2026-W47 (week 53 only in years that have one)")
        }
        if let until, ISOTimestamp.parse(until) == nil {
            throw ValidationError("--until \(until): expected a date such as 2026-11-23 or 2026-11-23T06:00:00Z")
        }
        guard regressionThreshold > 0, regressionThreshold.isFinite else {
            throw ValidationError("--regression-threshold must be a positive share, e.g. 0.25 for 25%")
        }
        guard minTotalIncreaseMs >= 0, minTotalIncreaseMs.isFinite else {
            throw ValidationError("--min-total-increase-ms must not be negative")
        }
    }

    var chosenWeek: ISOWeek {
        if let week, let parsed = ISOWeek(parsing: week) { return parsed }
        return ISOWeek.lastComplete(at: until.flatMap(ISOTimestamp.parse) ?? Date())
    }

    func run() throws {
        if let file = output.output, file != "-", !force, FileManager.default.fileExists(atPath: file) {
            throw PGAdviseError(.usage, "--output \(file) exists; refusing to overwrite it (add --force to replace it)")
        }
        let store = try HistoryStore(path: storeOptions.path, create: false)
        let report = try ReportPipeline(week: chosenWeek, regressionThreshold: regressionThreshold,
                                        minimumTotalIncreaseMs: minTotalIncreaseMs, top: output.top).run(store: store)
        try output.emit(report, inputs: [store.path])
        if failOnRegression, report.regressionCount > 0 { throw ExitCode(1) }
    }
}
