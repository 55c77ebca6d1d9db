import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport

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
        // Checked here rather than in validate(): the usage line printed with these errors stays the root's.
        try output.validate(for: LintReport.self)
        guard !paths.isEmpty else { throw ValidationError("give at least one .sql file or directory to lint") }
        let report = try LintPipeline(paths: paths, schemaPaths: schema).run()
        try output.emit(report, inputs: paths + schema)
    }
}
