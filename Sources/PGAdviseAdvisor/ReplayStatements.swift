import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// A workload statement ready to be run again: its text, the values for its `$n`, its weight.
public struct ReplayStatement: Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var parameters: [String]
    public var calls: Int
    public var totalMs: Double = 0
}

/// The workload's read-only statements with representative parameter values, the same values
/// `indexes --measure` times statements with (`representativeValues`: logged bind values, else
/// pg_stats' common values and histogram bounds). A statement whose parameters have no such value,
/// that reads no table of the catalog, or that the server cannot prepare is left out and listed.
public enum ReplayStatements {
    /// `heaviestFirst` orders the candidates: by calls for a load that replays the mix, by total time
    /// for the statements most worth a plan.
    public static func select(from workload: Workload, catalog: Catalog, connection: PostgresConnection, limit: Int = 20,
                              heaviestFirst: (QueryStats, QueryStats) -> Bool = { $0.calls > $1.calls })
        -> (statements: [ReplayStatement], leftOut: [String]) {
        let session = WhatIfSession(connection: connection)
        var out: [ReplayStatement] = []
        var leftOut: [String] = []
        for query in workload.queries.filter(\.parsed).sorted(by: heaviestFirst) where out.count < limit {
            let text = TypedParameters.preparable(statementInsidePrepare(query.normalized))
            guard let shape = buildShape(text)?.resolved(with: catalog), shape.kind == .select else { continue }
            let tables = Set(shape.allRelations.compactMap { catalog.table($0.name)?.name })
            guard !tables.isEmpty else { continue }
            guard let count = try? session.parameterCount(of: text) else {
                leftOut.append("\(query.fingerprint): cannot be prepared here")
                continue
            }
            let statement = CostedStatement(id: out.count, query: query, shape: shape, text: text, mode: .generic,
                                            tables: tables, parameterCount: count)
            guard let values = representativeValues(for: statement, catalog: catalog) else {
                leftOut.append("\(query.fingerprint): no representative values for its parameters")
                continue
            }
            out.append(ReplayStatement(fingerprint: query.fingerprint, text: text, parameters: values, calls: max(1, query.calls),
                                       totalMs: query.totalMs))
        }
        return (out, leftOut)
    }
}
