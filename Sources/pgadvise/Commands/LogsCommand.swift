import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseSources

extension LogFormat: ExpressibleByArgument {}

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Analyse PostgreSQL logs offline: slow queries by fingerprint, N+1 bursts, errors, temp files, lock waits.",
        discussion: """
        Reads stderr logs with any log_line_prefix (detected, or given with --prefix; lines in another prefix, \
        as after a reload, are read too), csvlog (quoted or not), jsonlog, syslog (rsyslog, Heroku logplex in \
        both framings), CloudNativePG and Cloud SQL JSON, and PgBouncer's log; gzip, bzip2, xz and zstd files; \
        `-` for standard input. Statements need log_min_duration_statement (or log_statement for counts); a log \
        without them still reports errors, maintenance, sessions and PgBouncer figures. --format html writes one \
        self-contained page with charts. Exit codes: 0 success, 1 a finding reached --fail-on, 2 unreadable input \
        or nothing recognised.
        """)

    @Argument(help: "Log files, or - for standard input.")
    var files: [String] = []

    @Option(name: .customLong("log-format"), help: "Force the input format instead of detecting it.")
    var logFormat: LogFormat?

    @Option(help: "The server's log_line_prefix, e.g. '%m [%p] ' (detected from the lines when omitted).")
    var prefix: String?

    @Option(help: "Cores to use (default: all).")
    var jobs: Int?

    @Option(name: .customLong("n-plus-one-min-calls"), help: "Executions in a row that make an N+1 burst.")
    var nPlusOneMinCalls: Int = 10

    @Option(name: .customLong("n-plus-one-max-gap-ms"), help: "Longest gap between two executions of a burst, in milliseconds.")
    var nPlusOneMaxGapMs: Double = 1000

    @Flag(name: .customLong("all-queries"), help: "Put every distinct query in the JSON report (by default the --top ones).")
    var allQueries = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        try output.validate(formats: [.text, .json, .markdown, .html])
        guard !files.isEmpty else { throw ValidationError("give at least one log file, or - for standard input") }
        guard nPlusOneMinCalls >= 2 else { throw ValidationError("--n-plus-one-min-calls must be at least 2") }
        guard nPlusOneMaxGapMs >= 0 else { throw ValidationError("--n-plus-one-max-gap-ms must not be negative") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        var options = LogAnalysisOptions()
        options.format = logFormat
        options.prefix = prefix
        if let jobs { options.jobs = jobs }
        options.nPlusOneMinCalls = nPlusOneMinCalls
        options.nPlusOneMaxGapMs = nPlusOneMaxGapMs
        // The report keeps only the queries it shows (every one is still counted and judged).
        options.queriesKept = output.format == .json && allQueries ? nil : output.top
        let showProgress = isatty(2) == 1
        if showProgress {
            options.progress = { name, bytes in
                FileHandle.standardError.write(Data("\r\(name): \(formatBytes(bytes)) read\u{1B}[K".utf8))
            }
        }
        var report = try LogsPipeline(paths: files, options: options).run()
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let text: String
        switch output.format {
        case .json:
            // A log of many tenants' schemas holds tens of thousands of distinct texts; the JSON keeps the
            // top ones unless asked for all (summary.distinctQueries still counts them all).
            if !allQueries { report.queries = Array(report.queries.prefix(output.top)) }
            text = try JSONOutput.encode(report)
        case .markdown: text = renderLogReportMarkdown(report, top: output.top)
        case .html: text = renderLogReportHTML(report, top: output.top)
        default: text = renderLogReportText(report, top: output.top, color: output.color)
        }
        try output.emit(text, findings: report.findings, inputs: files)
    }
}
