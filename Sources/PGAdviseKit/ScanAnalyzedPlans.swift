import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources

extension ScanPipeline {
    /// `scan --analyze`: EXPLAIN (ANALYZE, BUFFERS, VERBOSE, which names each relation's schema) of
    /// the heaviest read-only SELECT statements (by total time), with the representative values
    /// `indexes --measure` uses, each in a read-only transaction that is rolled back. Their plan insights carry the statement's weight, like every
    /// other statement finding. A statement that fails or times out is listed as skipped.
    mutating func analyzedPlanFindings(_ workload: Workload, catalog: Catalog, count: Int) throws -> [Finding] {
        let chosen = ReplayStatements.select(from: workload, catalog: catalog, connection: connection, limit: count,
                                             heaviestFirst: { $0.totalMs > $1.totalMs })
        if let first = chosen.leftOut.first {
            let others = chosen.leftOut.count > 1 ? " (and \(chosen.leftOut.count - 1) more)" : ""
            skipped.append(ScanSkip(step: "EXPLAIN ANALYZE of \(chosen.leftOut.count) statement(s)", reason: first + others))
        }
        var findings: [Finding] = []
        for statement in chosen.statements {
            guard let plan = try analyze(statement) else { continue }
            for explained in ExplainPipeline.explain([plan], source: statement.fingerprint) {
                findings += explained.findings.map { finding in
                    var weighted = finding
                    weighted.file = nil
                    weighted.fingerprint = statement.fingerprint
                    weighted.calls = statement.calls
                    weighted.totalMs = statement.totalMs
                    if weighted.evidence == nil { weighted.evidence = statement.text }
                    return weighted
                }
            }
        }
        return findings
    }

    /// One statement's plan with actual figures, or nil (and a skipped entry) when the server refused
    /// or cancelled it. An interruption is not caught: it ends the scan.
    private mutating func analyze(_ statement: ReplayStatement) throws -> Plan? {
        do {
            try connection.execute("BEGIN READ ONLY")
            defer { _ = try? connection.execute("ROLLBACK") }
            let json = try connection.query("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) " + statement.text,
                                            statement.parameters).rows.first?.first ?? nil
            return try json.map { try ExplainParser.parse($0) }
        } catch let error as PostgresError {
            let reason = error.isStatementTimeout
                ? "it ran longer than the statement timeout (\(connection.options.statementTimeoutMs) ms)" : error.message
            skipped.append(ScanSkip(step: "EXPLAIN ANALYZE of \(statement.fingerprint)", reason: reason))
            return nil
        } catch let error as PGAdviseError {
            skipped.append(ScanSkip(step: "EXPLAIN ANALYZE of \(statement.fingerprint)", reason: error.message))
            return nil
        }
    }
}
