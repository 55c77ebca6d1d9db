import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// pg_qualstats (2.x) records, per statement (pg_stat_statements' queryid) and qual, each constant
/// the qual was evaluated with and in how many executions (`occurences`), including the bind values
/// of a prepared statement's custom plans. `constant_position` is where the constant stands in the
/// statement's text, which for a normalized statement is its `$n`. These are the values the
/// application really passes, so they replace the pg_stats guess of which values matter: equality
/// constants decide custom plans and partial indexes, and range constants (`o_orderdate < $2`) the
/// values `--measure` runs a statement with, where a pg_stats bound would read another share of
/// the table than the application's calls do.
extension IndexAdvisor {
    /// Rows read from pg_qualstats at most: a bound on the read whatever the extension holds.
    static let qualstatsRowLimit = 5_000

    /// The statements, each with the constants pg_qualstats saw for its parameters, when
    /// the extension is installed and loaded; notes say when it could not be read. pg_qualstats
    /// samples executions without regard to their duration, so it is preferred to a log's bind
    /// values, which may hold only the slow executions (log_min_duration_statement).
    func withQualstatsValues(_ statements: [CostedStatement], notes: inout [String]) throws -> [CostedStatement] {
        let ids = Set(statements.compactMap(\.query.queryId))
        guard !ids.isEmpty, try qualstatsInstalled() else { return statements }
        let rows: [Record]
        do {
            rows = try connection.query(Self.qualstatsSQL, ["{" + ids.map(String.init).sorted().joined(separator: ",") + "}",
                                                            String(ObservedParameterValues.maxKept),
                                                            String(Self.qualstatsRowLimit)]).records
        } catch let error as PostgresError {
            // Installed with CREATE EXTENSION but not in shared_preload_libraries, or not readable.
            notes.append("pg_qualstats is installed but could not be read (\(error.message)); its constants were not used.")
            return statements
        }
        var seen: [Int64: [Int: (column: String, counts: [String: Int], total: Int)]] = [:]
        let byId = Dictionary(statements.compactMap { s in s.query.queryId.map { ($0, s) } }, uniquingKeysWith: { a, _ in a })
        for row in rows {
            // The position is in the stored text; a statement typed from context may number its parameters otherwise.
            guard let id = row.int("queryid"), let statement = byId[id], let position = row.int("constant_position"),
                  let stored = Self.parameterNumber(in: statement.query.normalized, at: Int(position)),
                  let n = statement.parameterNumber(stored: stored), let raw = row["constvalue"],
                  let value = Self.constantValue(raw), let executions = row.int("executions"), let total = row.int("total") else { continue }
            var entry = seen[id]?[n] ?? (row["column_name"] ?? "", [:], Int(total))
            entry.counts[value, default: 0] += Int(executions)
            seen[id, default: [:]][n] = entry
        }
        return statements.map { statement in
            guard let id = statement.query.queryId, let parameters = seen[id] else { return statement }
            var out = statement
            out.query.observedValues = parameters.keys.sorted().compactMap { n in
                guard let entry = parameters[n] else { return nil }
                var observed = ObservedParameterValues(parameter: n, column: entry.column, source: .pgQualstats, counts: entry.counts)
                observed.otherExecutions = max(0, entry.total - observed.values.reduce(0) { $0 + $1.executions })
                return observed
            }
            return out
        }
    }

    func qualstatsInstalled() throws -> Bool {
        !(try connection.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_qualstats'").isEmpty)
    }

    /// The most used constants of each (statement, constant position) in a comparison, a range or
    /// a LIKE pattern, with the executions of all of them, in one bounded read. The view shows the current database only.
    static let qualstatsSQL = """
        SELECT queryid, constant_position, column_name, constvalue, executions, total FROM (
            SELECT q.queryid, q.constant_position, a.attname::text AS column_name, q.constvalue,
                   sum(q.occurences) AS executions,
                   sum(sum(q.occurences)) OVER w AS total,
                   row_number() OVER (w ORDER BY sum(q.occurences) DESC, q.constvalue) AS rank
            FROM pg_qualstats q
            JOIN pg_operator o ON o.oid = q.opno AND o.oprname IN ('=', '<', '<=', '>', '>=', '<>', '~~', '!~~', '~~*', '!~~*')
            JOIN pg_attribute a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
            WHERE q.queryid = ANY($1::bigint[]) AND q.constvalue IS NOT NULL AND q.constant_position IS NOT NULL
            GROUP BY q.queryid, q.constant_position, a.attname, q.constvalue
            WINDOW w AS (PARTITION BY q.queryid, q.constant_position)
        ) ranked
        WHERE rank <= $2::int
        ORDER BY queryid, constant_position, rank
        LIMIT $3::int
        """

    /// The `$n` that starts at byte `position` of a normalized statement, if one does.
    static func parameterNumber(in text: String, at position: Int) -> Int? {
        let bytes = Array(text.utf8)
        guard position >= 0, position + 1 < bytes.count, bytes[position] == UInt8(ascii: "$") else { return nil }
        let digits = bytes[(position + 1)...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    /// A constant as pg_qualstats prints it (`'shipped'::text`, `42::integer`) as a parameter value,
    /// read by libpg_query; nil for NULL or what does not parse (a value pg_qualstats truncated).
    static func constantValue(_ printed: String) -> String? {
        guard let shape = buildShape("SELECT 1 WHERE pgadvise_value = " + printed),
              let predicate = shape.blocks.first?.predicates.first, case .constant(let constant) = predicate.value else { return nil }
        return constant.sqlValue
    }
}
