import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseSources

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Analyze EXPLAIN (ANALYZE) plans: per-node time, estimates and buffers, insights, before/after comparison.",
        discussion: """
        Reads plans from files or standard input (-): EXPLAIN's text format as psql, pgAdmin or a log \
        prints it, or FORMAT JSON (one plan or an array). A plan without ANALYZE is accepted; insights \
        that need actual figures are skipped and the report says so.
        --compare BEFORE AFTER compares two plans of one statement.
        Live: with --sql or --file, the argument is a conninfo and pgadvise runs EXPLAIN (ANALYZE, BUFFERS, \
        SETTINGS) itself, in a transaction that is always rolled back. Statements other than SELECT need \
        --allow-writes: even rolled back they take locks, fire triggers and write WAL.
        Exit codes: 0 no finding at --fail-on, 1 findings at or above it, 2 bad usage or unreadable \
        plan, 3 cannot connect or the statement failed.
        """)

    @Argument(help: "Plan files (- for standard input); with --sql or --file, one conninfo instead.")
    var inputs: [String] = []

    @Option(name: .long, help: "Run EXPLAIN ANALYZE on this statement against the conninfo given as argument.")
    var sql: String?

    @Option(name: .long, help: "Run EXPLAIN ANALYZE on the statement in this file against the conninfo given as argument.")
    var file: String?

    @Flag(name: .long, help: "Allow statements other than SELECT with --sql/--file (always rolled back).")
    var allowWrites = false

    @Option(name: .long, help: "statement_timeout for a live EXPLAIN ANALYZE, in milliseconds.")
    var statementTimeout: Int = 30_000

    @Flag(name: .long, help: "Compare two plans: the first input is before, the second after.")
    var compare = false

    @OptionGroup var output: OutputOptions

    var isLive: Bool { sql != nil || file != nil }

    func validate() throws {
        try output.validate(formats: compare ? [.text, .json, .markdown] : [.text, .json, .markdown, .html])
        if isLive {
            guard sql == nil || file == nil else { throw ValidationError("give either --sql or --file, not both") }
            guard inputs.count <= 1 else { throw ValidationError("with --sql or --file, give one conninfo (or none for the PG* variables)") }
            guard !compare else { throw ValidationError("--compare reads two plan files; it does not run statements") }
            guard statementTimeout > 0 else { throw ValidationError("--statement-timeout must be positive") }
        } else if compare {
            guard inputs.count == 2 else { throw ValidationError("--compare needs two plan files: BEFORE AFTER") }
        } else if inputs.isEmpty {
            throw ValidationError("give plan files (or - for standard input), or a conninfo with --sql/--file")
        }
    }

    func run() throws {
        if compare {
            let comparison = try ExplainPipeline.compare(beforeInput: inputs[0], afterInput: inputs[1])
            let text: String
            switch output.format {
            case .json: text = try JSONOutput.encode(comparison)
            case .markdown: text = renderPlanComparisonMarkdown(comparison)
            default: text = renderPlanComparisonText(comparison)
            }
            try output.emit(text, findings: comparison.after.findings, inputs: inputs)
            return
        }
        let report = isLive ? try liveReport() : try ExplainPipeline.run(inputs: inputs)
        let text: String
        switch output.format {
        case .json: text = try JSONOutput.encode(report)
        case .markdown: text = renderExplainMarkdown(report)
        case .html: text = renderExplainHTML(report)
        default: text = renderExplainText(report, color: output.color)
        }
        try output.emit(text, findings: report.findings, inputs: isLive ? [file].compactMap { $0 } : inputs)
    }

    private func liveReport() throws -> ExplainReport {
        let statement: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw PGAdviseError(.input, "cannot read \(file)") }
            statement = String(decoding: data, as: UTF8.self)
        } else {
            statement = sql ?? ""
        }
        if allowWrites {
            printError("warning: --allow-writes: the statement runs for real inside a transaction that is rolled back; "
                       + "it takes locks, fires triggers, writes WAL and uses sequence values")
        }
        let options = SessionOptions(statementTimeoutMs: statementTimeout, readOnly: !allowWrites)
        let connection = try PostgresConnection(conninfo: inputs.first ?? "", options: options)
        let plan: Plan
        do {
            plan = try ExplainPipeline.capture(connection: connection, sql: statement, allowWrites: allowWrites)
        } catch let error as PostgresError {
            throw PGAdviseError(.database, "EXPLAIN ANALYZE failed: \(error)")
        }
        let source = connection.databaseName.isEmpty ? "live" : connection.databaseName
        return ExplainReport(schemaVersion: jsonSchemaVersion, plans: ExplainPipeline.explain([plan], source: source))
    }
}
