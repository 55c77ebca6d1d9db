import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseSources

extension OutputFormat: ExpressibleByArgument {}
extension Severity: ExpressibleByArgument {}

/// `--format`, `--fail-on`, `--top`, `--output`: the same on every command that reports.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text, json, markdown, html or sarif (not every command offers all).")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Exit with code 1 when a finding reaches this severity (info, warning, error).")
    var failOn: Severity?

    @Option(name: .long, help: "How many statements each ranking shows.")
    var top: Int = 10

    @Option(name: [.short, .long], help: "Write the report to this file instead of standard output (never overwrites an input).")
    var output: String?

    func validate(formats allowed: [OutputFormat]) throws {
        guard allowed.contains(format) else {
            throw ValidationError("--format \(format.rawValue) is not offered here; choose one of: \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        guard top > 0 else { throw ValidationError("--top must be at least 1") }
    }

    /// `--format` must be one of the formats the command's report offers.
    func validate<Report: RenderableReport>(for _: Report.Type) throws {
        try validate(formats: Report.outputFormats)
    }

    /// Renders the report in `--format`, prints or writes it, then turns `--fail-on` on its
    /// findings into exit code 1.
    func emit<Report: RenderableReport>(_ report: Report, inputs: [String] = []) throws {
        try emit(report.render(format, options: renderOptions), findings: report.findingsForExitCode, inputs: inputs)
    }

    /// SARIF alone lists the rules' metadata.
    var renderOptions: RenderOptions {
        RenderOptions(top: top, color: color, rules: format == .sarif ? RuleRegistry.descriptions.map(\.info) : [],
                      toolVersion: PGAdvise.version)
    }

    /// Prints or writes the report, then turns `--fail-on` into exit code 1.
    func emit(_ text: String, findings: [Finding], inputs: [String] = []) throws {
        let body = text.hasSuffix("\n") ? text : text + "\n"
        if let output, output != "-" {
            let target = URL(fileURLWithPath: output).standardizedFileURL.path
            if inputs.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
                throw PGAdviseError(.usage, "--output \(output) is one of the inputs; refusing to overwrite it")
            }
            do {
                try body.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw PGAdviseError(.input, "cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(body.utf8))
        }
        if findings.reaches(failOn) { throw ExitCode(1) }
    }

    var color: Bool { output == nil && standardOutputSupportsColor }
}

/// A database to connect to, and how carefully.
struct ConnectionOptions: ParsableArguments {
    @Argument(help: "A conninfo string (\"host=... dbname=...\") or a postgres:// URI. Empty: the PG* environment variables, as psql.")
    var conninfo: String = ""

    @Option(name: .long, help: "statement_timeout for every statement pgadvise sends, in milliseconds.")
    var statementTimeout: Int = 30_000

    @Option(name: .long, help: "lock_timeout for every statement pgadvise sends, in milliseconds.")
    var lockTimeout: Int = 1_000

    func sessionOptions(readOnly: Bool = true) -> SessionOptions {
        SessionOptions(statementTimeoutMs: statementTimeout, lockTimeoutMs: lockTimeout, readOnly: readOnly)
    }

    func connect(readOnly: Bool = true) throws -> PostgresConnection {
        guard statementTimeout > 0, lockTimeout > 0 else {
            throw PGAdviseError(.usage, "--statement-timeout and --lock-timeout must be positive")
        }
        return try PostgresConnection(conninfo: conninfo, options: sessionOptions(readOnly: readOnly))
    }
}
