import PGAdviseCore

/// Without pg_stat_statements a scan cannot rank statements, apply query rules or plan the
/// workload; the finding says exactly what to run.
public struct PgStatStatementsMissingRule: ScanRule {
    public static let id = "pg-stat-statements-missing"
    public static let severity = Severity.warning
    public static let category = RuleCategory.configuration
    public static let summary = "pg_stat_statements is not usable, so the workload cannot be judged."

    public init() {}

    public func check(_ input: ScanRuleInput) -> [Finding] {
        let status = input.statementStats
        // A list setting takes one literal per library: a single 'a, b' would name one library "a, b".
        let libraries = input.preloadedLibraries.filter { $0 != "pg_stat_statements" } + ["pg_stat_statements"]
        let preloadFix = "ALTER SYSTEM SET shared_preload_libraries = "
            + libraries.map(quoteLiteral).joined(separator: ", ") + ";\n-- then restart the server"
        let why: String
        let fix: String?
        switch status.availability {
        case .available: return []
        case .notCreated:
            why = "the extension is not created in \(input.database.isEmpty ? "this database" : input.database)"
            fix = (input.preloadedLibraries.contains("pg_stat_statements") ? "" : preloadFix + "\n")
                + "CREATE EXTENSION pg_stat_statements;"
        case .notPreloaded:
            why = "the library is not in shared_preload_libraries"
            fix = preloadFix
        case .notInstalled:
            why = "the extension is not installed on the server"
            fix = nil
        case .permissionDenied:
            why = "the role pgadvise connects as may not read it"
            fix = input.user.isEmpty ? nil : "GRANT pg_read_all_stats TO \(quoteIdentifierIfNeeded(input.user));"
        }
        return [Finding(
            rule: Self.id, severity: Self.severity, category: Self.category,
            message: "pg_stat_statements is not usable (\(why)): the scan could not rank statements, apply query "
                + "rules or check their plans.",
            solution: status.remedy.map { "To enable it: \($0)." } ?? "Enable pg_stat_statements.",
            fix: fix)]
    }
}
