import PGAdviseCore

/// Without pg_stat_statements a scan cannot rank statements, apply query rules or plan the
/// workload; the finding says exactly what to run.
public struct PgStatStatementsMissingRule: ScanRule {
    public static let description = RuleDescription(
        id: "pg-stat-statements-missing", severity: .warning, category: .configuration,
        summary: "pg_stat_statements is not usable, so the workload cannot be judged.",
        rationale: """
        pg_stat_statements is the server's record of which statements run, how often and for how long. \
        Without it a scan sees the schema and its counters but not the workload: it cannot rank \
        statements by total time, apply the query rules to them, check their plans, or let \
        `pgadvise indexes` weigh candidate indexes. It can be unusable in four ways: the library is not \
        in `shared_preload_libraries` (a restart is needed), the extension is not created in the \
        database, its package is not installed, or the role pgadvise connects as may not read other \
        roles' statements (`pg_read_all_stats`).
        """,
        solution: "Load the library (`shared_preload_libraries`, then restart), create the extension in the "
            + "database, and let the monitoring role read it (`GRANT pg_read_all_stats`); the finding gives "
            + "the statements for the step that is missing.",
        scope: .scan,
        triggering: [
            Example(caption: "The library is not in `shared_preload_libraries` (which holds `auto_explain`).",
                    scan: ScanExample.input(statementStats: .notPreloaded, preload: ["auto_explain"])),
            Example(caption: "The library is preloaded but `CREATE EXTENSION pg_stat_statements` was not run in the database.",
                    scan: ScanExample.input(statementStats: .notCreated)),
            Example(caption: "The monitoring role may not read other roles' statements.",
                    scan: ScanExample.input(statementStats: .permissionDenied)),
        ],
        nonTriggering: [
            Example(caption: "pg_stat_statements is preloaded, created and readable.",
                    scan: ScanExample.input(statementStats: .available)),
        ])

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Violation] {
        let status = input.statementStats
        guard status.availability != .available else { return [] }
        let (why, fix) = Self.cause(input)
        return [Violation(
            message: "pg_stat_statements is not usable (\(why)): the scan could not rank statements, apply query "
                + "rules or check their plans.",
            solution: status.remedy.map { "To enable it: \($0)." } ?? "Enable pg_stat_statements.",
            fix: fix)]
    }

    /// Why it is unusable, and the SQL that fixes it when there is one.
    static func cause(_ input: ScanRuleInput) -> (why: String, fix: String?) {
        // A list setting takes one literal per library: a single 'a, b' would name one library "a, b".
        let libraries = input.preloadedLibraries.filter { $0 != "pg_stat_statements" } + ["pg_stat_statements"]
        let preloadFix = "ALTER SYSTEM SET shared_preload_libraries = "
            + libraries.map(quoteLiteral).joined(separator: ", ") + ";\n-- then restart the server"
        switch input.statementStats.availability {
        case .available: return ("it is available", nil)
        case .notCreated:
            return ("the extension is not created in \(input.database.isEmpty ? "this database" : input.database)",
                    (input.preloadedLibraries.contains("pg_stat_statements") ? "" : preloadFix + "\n")
                        + "CREATE EXTENSION pg_stat_statements;")
        case .notPreloaded:
            return ("the library is not in shared_preload_libraries", preloadFix)
        case .notInstalled:
            return ("the extension is not installed on the server", nil)
        case .permissionDenied:
            return ("the role pgadvise connects as may not read it",
                    input.user.isEmpty ? nil : "GRANT pg_read_all_stats TO \(quoteIdentifierIfNeeded(input.user));")
        }
    }
}
