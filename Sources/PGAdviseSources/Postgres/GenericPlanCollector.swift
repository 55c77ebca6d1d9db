import Foundation
import PGAdviseCore
import PGAdviseSQL

/// A statement's generic plan, or why there is none.
public struct PlanOutcome: Sendable {
    public var plan: Plan?
    public var skipReason: PlanSkipReason?

    public init(plan: Plan? = nil, skipReason: PlanSkipReason? = nil) {
        self.plan = plan
        self.skipReason = skipReason
    }
}

/// Why a statement has no generic plan. Callers decide by the case (a missing privilege is what a
/// DBA can fix with a GRANT; a utility statement has nothing to plan); `message` is what users read
/// (`planSkipReason` in the scan's JSON).
public enum PlanSkipReason: Equatable, Sendable {
    case unparsable
    case notSingleStatement
    /// VACUUM, SET, CREATE...: the statement's leading keyword.
    case utilityStatement(keyword: String)
    case noPlanReturned
    case planningTimeout(statementTimeoutMs: Int)
    /// The server's permission-denied message.
    case permissionDenied(String)
    /// Any other server error's message.
    case serverError(String)
    /// The plan came back but could not be read.
    case unreadablePlan(String)

    public var message: String {
        switch self {
        case .unparsable: return "pgadvise cannot parse the statement text (it may be cut at track_activity_query_size)"
        case .notSingleStatement: return "not a single statement"
        case .utilityStatement(let keyword): return "utility statement (\(keyword)): nothing to plan"
        case .noPlanReturned: return "EXPLAIN returned no plan"
        case .planningTimeout(let ms): return "planning took longer than the statement timeout (\(ms) ms)"
        case .permissionDenied(let message):
            return "the role may not read what the statement uses (\(message)); GRANT SELECT on it to see its plan"
        case .serverError(let message): return "the server could not plan it: \(message)"
        case .unreadablePlan(let message): return message
        }
    }

    public var isUtilityStatement: Bool {
        if case .utilityStatement = self { return true }
        return false
    }

    public var isPermissionDenied: Bool {
        if case .permissionDenied = self { return true }
        return false
    }
}

/// Plans normalized statements (`$1` for every constant) without running them: the plan PostgreSQL
/// would cache for any parameter values. On 16+ with `EXPLAIN (GENERIC_PLAN)`; before, with
/// `PREPARE` and `EXPLAIN EXECUTE` under `plan_cache_mode = force_generic_plan`, NULL for every
/// parameter (a generic plan never looks at the values), and `DEALLOCATE` after.
/// Only a single SELECT, INSERT, UPDATE, DELETE or MERGE is ever sent, and EXPLAIN without ANALYZE
/// executes nothing, so this is safe in the read-only session.
public struct GenericPlanCollector {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let plannableStatements: [String: String] = [
        "SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
        "MergeStmt": "MERGE",
    ]

    /// Outcomes by fingerprint. Throws only when the connection is lost; a statement that cannot be
    /// planned (unknown parameter types, a temporary table, a timeout) gets a skip reason instead.
    public func plans(for queries: [QueryStats]) throws -> [String: PlanOutcome] {
        var outcomes: [String: PlanOutcome] = [:]
        let useGenericPlanOption = connection.serverVersionNumber >= 160_000
        var previousPlanCacheMode: String?
        defer {
            if let previousPlanCacheMode {
                _ = try? connection.query(pgadviseStatementMarker + "SELECT set_config('plan_cache_mode', $1, false)", [previousPlanCacheMode])
            }
        }
        for (n, query) in queries.enumerated() {
            // `date $1` (a typed literal pg_stat_statements normalized) is planned as `$1::date`.
            let text = TypedParameters.preparable(query.normalized)
            if let reason = Self.reasonNotToPlan(query, text: text) {
                outcomes[query.fingerprint] = PlanOutcome(skipReason: reason)
                continue
            }
            let parameterCount = Self.parameterCount(text)
            do {
                let output: String?
                if useGenericPlanOption {
                    output = try connection.query(pgadviseStatementMarker + "EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) " + text)
                        .rows.first?.first ?? nil
                } else {
                    if previousPlanCacheMode == nil {
                        previousPlanCacheMode = try connection.query(
                            pgadviseStatementMarker + "SELECT current_setting('plan_cache_mode') AS mode, set_config('plan_cache_mode', 'force_generic_plan', false)"
                        ).records.first?["mode"] ?? "auto"
                    }
                    let name = "pgadvise_plan_\(n)"
                    try connection.query(pgadviseStatementMarker + "PREPARE \(name) AS " + text)
                    defer { _ = try? connection.query(pgadviseStatementMarker + "DEALLOCATE \(name)") }
                    let arguments = parameterCount > 0
                        ? "(" + Array(repeating: "NULL", count: parameterCount).joined(separator: ", ") + ")" : ""
                    output = try connection.query(pgadviseStatementMarker + "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE \(name)\(arguments)")
                        .rows.first?.first ?? nil
                }
                guard let output else {
                    outcomes[query.fingerprint] = PlanOutcome(skipReason: .noPlanReturned)
                    continue
                }
                outcomes[query.fingerprint] = PlanOutcome(plan: try ExplainParser.parse(output))
            } catch let error as PostgresError {
                let reason: PlanSkipReason
                if error.isStatementTimeout {
                    reason = .planningTimeout(statementTimeoutMs: connection.options.statementTimeoutMs)
                } else if error.isPermissionDenied {
                    reason = .permissionDenied(error.message)
                } else {
                    reason = .serverError(error.message)
                }
                outcomes[query.fingerprint] = PlanOutcome(skipReason: reason)
            } catch let error as PGAdviseError where error.kind == .input {
                outcomes[query.fingerprint] = PlanOutcome(skipReason: .unreadablePlan(error.message))
            }
        }
        return outcomes
    }

    /// Why a statement is not sent to EXPLAIN, or nil when it may be.
    static func reasonNotToPlan(_ query: QueryStats, text: String) -> PlanSkipReason? {
        guard query.parsed, case .success(let tree) = PgQuery.parse(text) else { return .unparsable }
        let statements = tree.statements
        guard statements.count == 1, let node = statements.first?.node.node else { return .notSingleStatement }
        guard plannableStatements[node.type] != nil else { return .utilityStatement(keyword: leadingKeyword(text)) }
        return nil
    }

    /// The statement's first word as a DBA names it (`ANALYZE`, `CREATE`), after leading comments.
    static func leadingKeyword(_ sql: String) -> String { SQLTokens.leadingKeyword(sql) }

    /// The highest `$n` in a normalized statement, outside string literals, quoted identifiers and comments.
    static func parameterCount(_ sql: String) -> Int { SQLTokens.highestParameter(in: sql) }
}
