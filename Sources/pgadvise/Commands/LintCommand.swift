import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check SQL files for anti-patterns offline (for CI): every statement against every query rule.",
        discussion: """
        Reads .sql files and directories (recursively, .sql files only). The DDL in them and in --schema \
        files builds the schema that type- and index-aware rules and the schema rules use. A file that \
        does not parse gives one parse-error finding; the other files are still checked. Exit codes: 0 no \
        finding reached --fail-on, 1 one did, 2 a path cannot be read or bad usage. `pgadvise rules` lists \
        the rules.
        """)

    @Argument(help: "SQL files and directories to lint.")
    var paths: [String] = []

    @Option(name: .long, help: "A DDL file (CREATE TABLE / CREATE INDEX / ALTER TABLE) describing the schema; repeatable.")
    var schema: [String] = []

    @OptionGroup var output: OutputOptions

    func run() throws {
        try output.validate(formats: [.text, .json, .sarif])
        guard !paths.isEmpty else { throw ValidationError("give at least one .sql file or directory to lint") }
        let sources = try paths.flatMap(sqlFiles).map(readSource)
        let schemaSources = try schema.map(readSource)
        let result = Linter.lint(sources, schema: schemaSources)
        let report = LintReport(schemaVersion: jsonSchemaVersion, files: result.files, statements: result.statements,
                                findings: result.findings)
        let text: String
        switch output.format {
        case .json: text = try JSONOutput.encode(report)
        case .sarif: text = try renderSARIF(report.findings, rules: RuleRegistry.descriptions.map(\.info), toolVersion: PGAdvise.version)
        default: text = renderLintText(report, color: output.color)
        }
        try output.emit(text, findings: report.findings, inputs: paths + schema)
    }

    /// A file as given, or the .sql files under a directory in a stable order.
    func sqlFiles(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PGAdviseError(.input, "cannot read \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw PGAdviseError(.input, "cannot read directory \(path)")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.lowercased().hasSuffix(".sql") else { continue }
            let full = (path as NSString).appendingPathComponent(relative)
            var childIsDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &childIsDirectory), !childIsDirectory.boolValue {
                files.append(full)
            }
        }
        return files.sorted()
    }

    func readSource(_ path: String) throws -> LintSource {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PGAdviseError(.input, "cannot read \(path): permission denied or not a regular file")
        }
        let identity = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        return LintSource(path: path, text: String(decoding: data, as: UTF8.self), identity: identity)
    }
}

/// The text report: one line of totals, then the findings.
func renderLintText(_ report: LintReport, color: Bool) -> String {
    var counts: [String] = []
    for severity in Severity.allCases.reversed() {
        let n = report.findings.filter { $0.severity == severity }.count
        if n > 0 { counts.append("\(n) \(severity.rawValue)\(n == 1 || severity == .info ? "" : "s")") }
    }
    let statements = "\(formatCount(report.statements)) statement\(report.statements == 1 ? "" : "s")"
    let files = "\(report.files) file\(report.files == 1 ? "" : "s")"
    let summary = report.findings.isEmpty
        ? "Checked \(statements) in \(files): no findings."
        : "Checked \(statements) in \(files): \(counts.joined(separator: ", "))."
    guard !report.findings.isEmpty else { return summary }
    return summary + "\n\n" + renderFindingsText(report.findings, color: color)
}
