import ArgumentParser
import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseSources

struct IndexesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indexes",
        abstract: "Recommend indexes for the workload in pg_stat_statements (and slow-query logs), costed with HypoPG.",
        discussion: """
        Candidates come from every statement's WHERE, JOIN and ORDER BY and from pg_stats; HypoPG estimates \
        each one's effect on the generic plans of the statements it touches, weighted by calls; a greedy \
        search keeps the indexes that pay most per byte under --budget. Read-only unless --measure or \
        --create-extension is given. --measure builds each index inside a transaction that is rolled back \
        and times the statements before and after: CREATE INDEX blocks writes to the table while it runs, \
        so use it on a staging copy.
        """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, parsing: .upToNextOption,
            help: "Slow-query logs whose statements, calls and literal values are added to the workload.")
    var logs: [String] = []

    @Option(name: .long, help: "Storage the new indexes may take: 100MB, 1.5GB, 512kB or bytes (default: 25% of the database size, at least 16MB).")
    var budget: String?

    @Option(name: .long, help: "Most key columns in one index.")
    var maxColumns: Int = 3

    @Flag(name: .long, help: "Verify each index by building it in a rolled-back transaction and timing its statements (writes; staging only).")
    var measure = false

    @Option(name: .long, help: "Timed runs per statement before and after, with --measure.")
    var measureRuns: Int = 5

    @Option(name: .long, help: ArgumentHelp("Statement timeout of each timed run with --measure, in ms (default: --statement-timeout). "
                                            + "A run it cancels counts as taking that long; index builds keep --statement-timeout.",
                                            valueName: "ms"))
    var measureTimeout: Int?

    @Flag(name: .long, help: "Run CREATE EXTENSION hypopg when HypoPG is missing from the database.")
    var createExtension = false

    @Option(name: .long, help: ArgumentHelp("Selection strategy: extend, or dexter-rule (a baseline for benchmarks).", visibility: .hidden))
    var strategy: SelectionStrategy = .extend

    func validate() throws {
        try output.validate(for: IndexAdvice.self)
        guard maxColumns >= 1 && maxColumns <= 32 else { throw ValidationError("--max-columns must be between 1 and 32") }
        guard measureRuns >= 1 && measureRuns <= 100 else { throw ValidationError("--measure-runs must be between 1 and 100") }
        if let measureTimeout, measureTimeout <= 0 { throw ValidationError("--measure-timeout must be a positive number of milliseconds") }
        if let budget { _ = try parseSize(budget) }
    }

    func run() throws {
        let budgetBytes = try budget.map(parseSize)
        try IndexesPipeline.checkReadable(logs: logs)
        let conn = try connection.connect(readOnly: !(measure || createExtension))
        let options = IndexAdvisorOptions(
            budgetBytes: budgetBytes, maxColumns: maxColumns, measure: measure, measureRuns: measureRuns,
            measureTimeoutMs: measureTimeout, createExtension: createExtension, lockTimeoutMs: connection.lockTimeout, strategy: strategy)
        let advice = try IndexesPipeline(connection: conn, options: options, logs: logs).run()
        try output.emit(advice, inputs: logs)
    }
}

extension SelectionStrategy: ExpressibleByArgument {}

/// `100MB`, `1.5 GB`, `512kB`, `2048` (bytes): binary units, as pg_size_pretty prints them.
func parseSize(_ text: String) throws -> Int64 {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isNumber || $0 == "." }
    let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
    let multipliers: [String: Double] = ["": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1048576, "m": 1048576,
                                         "gb": 1073741824, "g": 1073741824, "tb": 1099511627776, "t": 1099511627776]
    guard let value = Double(digits), let multiplier = multipliers[unit], value > 0, value * multiplier < 9e18 else {
        throw PGAdviseError(.usage, "--budget \(text): expected a size such as 100MB, 1.5GB or 512kB")
    }
    return Int64(value * multiplier)
}
