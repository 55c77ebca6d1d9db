import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// Statements that statement_timeout cancelled are the slowest of all, yet pg_stat_statements never
/// times them (it records a statement when it finishes) and pg_qualstats never sees their quals.
/// They are found in the log (SQLSTATE 57014, with the STATEMENT and its real literals) and, with
/// pg_stat_statements.track_planning on, as rows planned but never executed. Each cancellation is
/// counted at the timeout, a lower bound on the time the statement would have taken.
struct CancelledStatements {
    let connection: PostgresConnection

    /// The time a cancellation is counted at, and where it comes from: the statement_timeout this
    /// database and role start with (`reset_val`: pgadvise's own session setting is not it); when
    /// none is set there (an application that sets it itself), the longest execution that finished
    /// in the workload, which a timeout that let it finish is at least.
    func countedTime(workload: Workload) throws -> (ms: Double, from: String)? {
        let reset = try connection.query("SELECT reset_val FROM pg_settings WHERE name = 'statement_timeout'").records.first?.double("reset_val")
        if let reset, reset > 0 { return (reset, "statement_timeout of this database and role (\(Int(reset)) ms)") }
        guard let longest = workload.queries.compactMap(\.maxMs).max(), longest > 0 else { return nil }
        return (longest, String(format: "no statement_timeout is set for this database and role, so the longest finished "
                                + "execution (%.0f ms), which the timeout is at least", longest))
    }

    /// Cancellations by statement timeout in the log, one per statement (its fingerprint), with the
    /// first cancelled execution's text (real literals) and how many were cancelled.
    static func fromLog(_ report: LogReport) -> [(text: String, count: Int)] {
        (report.cancelledStatements ?? []).map { ($0.sample, $0.count) }
    }

    /// pg_stat_statements rows of this database planned but never executed (track_planning on).
    func plannedNeverExecuted() throws -> [(text: String, plans: Int)] {
        let rows = try connection.query("""
            SELECT query, sum(plans)::bigint AS plans FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls = 0 AND plans > 0
              AND toplevel
            GROUP BY query
            """)
        return rows.records.compactMap { r in
            guard let text = r["query"], let plans = r.int("plans") else { return nil }
            return (text, Int(plans))
        }
    }

    /// Adds the cancelled statements to `workload` (calls and time on top of what finished) and
    /// lists them. `logged` holds the log's cancellations.
    func add(to workload: inout Workload, logged: [(text: String, count: Int)], catalog: Catalog,
             notes: inout [String]) throws -> [CancelledStatement] {
        // A statement counts when it reads a table of this database: a row planned but not yet
        // executed is also any statement running right now (pgadvise's own reading of the view).
        func readsTables(_ text: String) -> Bool {
            guard case .success(let shapes) = QueryShape.build(sql: text), shapes.count == 1 else { return false }
            return shapes[0].allRelations.contains { catalog.table($0.name) != nil }
        }
        var planned: [(text: String, plans: Int)] = []
        if let found = try? plannedNeverExecuted() { planned = found.filter { readsTables($0.text) } }
        let logged = logged.filter { readsTables($0.text) }
        guard !logged.isEmpty || !planned.isEmpty else { return [] }
        guard let counted = try countedTime(workload: workload) else {
            notes.append("\(logged.count + planned.count) statement(s) were cancelled but could not be counted: no statement_timeout "
                         + "is set for this database and role and no execution was timed.")
            return []
        }
        var out: [CancelledStatement] = []
        for (text, count) in logged {
            guard case .success(let fingerprint) = PgQuery.fingerprint(text) else { continue }
            let normalized = (try? PgQuery.normalize(text).get()) ?? text
            add(QueryStats(fingerprint: fingerprint, normalized: normalized, calls: count, totalMs: Double(count) * counted.ms,
                           maxMs: counted.ms, slowest: QuerySample(text: text, durationMs: counted.ms)), to: &workload)
            out.append(CancelledStatement(fingerprint: fingerprint, text: normalized, source: "log", cancellations: count,
                                          countedMs: counted.ms, countedFrom: counted.from))
        }
        for (text, plans) in planned {
            guard case .success(let fingerprint) = PgQuery.fingerprint(text) else { continue }
            // The log's cancellations of the same statement are the same executions.
            if out.contains(where: { $0.fingerprint == fingerprint }) { continue }
            add(QueryStats(fingerprint: fingerprint, normalized: text, calls: plans, totalMs: Double(plans) * counted.ms,
                           maxMs: counted.ms), to: &workload)
            out.append(CancelledStatement(fingerprint: fingerprint, text: text, source: "pg_stat_statements", cancellations: plans,
                                          countedMs: counted.ms, countedFrom: counted.from))
        }
        return out
    }

    /// Cancelled executions are not among those a statement's counters hold: they add to them, and
    /// the logged literals become its sample when it has none.
    private func add(_ cancelled: QueryStats, to workload: inout Workload) {
        guard let i = workload.queries.firstIndex(where: { $0.fingerprint == cancelled.fingerprint }) else {
            workload.queries.append(cancelled)
            return
        }
        var mine = workload.queries[i]
        mine.calls += cancelled.calls
        mine.totalMs += cancelled.totalMs
        mine.meanMs = mine.calls > 0 ? mine.totalMs / Double(mine.calls) : 0
        mine.maxMs = max(mine.maxMs ?? 0, cancelled.maxMs ?? 0)
        if mine.slowest == nil || (mine.slowest?.durationMs ?? 0) < (cancelled.slowest?.durationMs ?? 0) {
            mine.slowest = cancelled.slowest ?? mine.slowest
        }
        workload.queries[i] = mine
    }
}
