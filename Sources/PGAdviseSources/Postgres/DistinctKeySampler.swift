import Foundation
import PGAdviseCore

/// How often the value combinations of a column set occur in a sample of a table's rows: what
/// ANALYZE's distinct-value estimate starts from.
public struct DistinctKeySample: Sendable, Equatable {
    /// Rows read (n).
    public var sampledRows: Double
    /// Distinct combinations among them (d).
    public var distinct: Double
    /// Combinations seen exactly once (f1).
    public var seenOnce: Double

    public init(sampledRows: Double, distinct: Double, seenOnce: Double) {
        self.sampledRows = sampledRows; self.distinct = distinct; self.seenOnce = seenOnce
    }

    /// Distinct combinations in a table of `totalRows` rows, as ANALYZE estimates a column's
    /// n_distinct (analyze.c, compute_scalar_stats): nothing repeated in the sample means every row
    /// is distinct; everything repeated means the sample saw every value; otherwise Haas and
    /// Stokes' Duj1 estimator n·d / (n − f1 + f1·n/N), kept between d and N. Nil for an empty sample.
    public func estimatedDistinct(totalRows: Double) -> Double? {
        let n = sampledRows, d = distinct, f1 = seenOnce
        guard n > 0, d > 0, totalRows > 0 else { return nil }
        let rows = max(totalRows, n)
        if f1 == d { return rows }
        if f1 == 0 { return d }
        let duj1 = n * d / ((n - f1) + f1 * n / rows)
        return min(max(duj1, d), rows).rounded()
    }
}

/// Counts distinct value combinations of a column set in a block sample of its table, for index
/// size estimates that do not assume the columns independent. Read-only; one statement per set.
public struct DistinctKeySampler {
    /// ANALYZE's default sample (300 × default_statistics_target rows) ...
    public static let targetRows = 30_000.0
    /// ... but never fewer pages than this, so narrow rows packed hundreds to a page still spread
    /// the sample over many parts of the table.
    public static let minimumPages = 300.0

    public let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// The TABLESAMPLE SYSTEM percentage that reads about `targetRows` rows (and at least
    /// `minimumPages` pages) of a table of `rows` rows in `bytes` bytes; 100 for small tables.
    public static func samplePercent(rows: Double, bytes: Int64) -> Double {
        let pages = max(1, Double(bytes) / 8192)
        guard rows > 0 else { return 100 }
        let wantedPages = max(minimumPages, targetRows / max(rows / pages, 1))
        return min(100, 100 * wantedPages / pages)
    }

    /// Samples whole pages (TABLESAMPLE SYSTEM), not rows as ANALYZE does, so it costs a few hundred
    /// page reads on any table size. The price: on data stored in the order of the columns (rows
    /// loaded by date, by customer) a page holds runs of equal keys, repeats look more common than
    /// they are and the estimate comes out low. Callers keep it at or above the largest single
    /// column's n_distinct (from ANALYZE's row sample) for that reason.
    public func sample(table: QualifiedName, columns: [String], percent: Double) throws -> DistinctKeySample {
        let relation = table.schema.map { quoteIdentifier($0) + "." } ?? ""
        let grouping = columns.map(quoteIdentifier).joined(separator: ", ")
        let sql = pgadviseStatementMarker
            + "SELECT count(*) AS d, count(*) FILTER (WHERE c = 1) AS f1, coalesce(sum(c), 0) AS n FROM "
            + "(SELECT count(*) AS c FROM \(relation)\(quoteIdentifier(table.name)) TABLESAMPLE SYSTEM ($1) REPEATABLE (0) "
            + "GROUP BY \(grouping)) s"
        let record = try connection.query(sql, [String(percent)]).records.first
        return DistinctKeySample(sampledRows: record?.double("n") ?? 0, distinct: record?.double("d") ?? 0,
                                 seenOnce: record?.double("f1") ?? 0)
    }
}
