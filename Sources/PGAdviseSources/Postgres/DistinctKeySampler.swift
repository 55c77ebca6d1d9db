import Foundation
import PGAdviseCore

/// How the value combinations of a column set spread over a block sample of a table's pages: what
/// the distinct-key estimate starts from.
public struct DistinctKeySample: Sendable, Equatable {
    /// Rows read.
    public var sampledRows: Double
    /// (combination, page) pairs among them: the sample's units, since whole pages are sampled (n).
    public var keyPages: Double
    /// Distinct combinations (d).
    public var distinct: Double
    /// Combinations found on one sampled page only (f1).
    public var onOnePage: Double

    public init(sampledRows: Double, keyPages: Double, distinct: Double, onOnePage: Double) {
        self.sampledRows = sampledRows; self.keyPages = keyPages; self.distinct = distinct; self.onOnePage = onOnePage
    }

    /// Distinct combinations in a table of `totalRows` rows, estimated as ANALYZE estimates a
    /// column's n_distinct (analyze.c, compute_scalar_stats), with (combination, page) pairs in place
    /// of rows: nothing repeated means every unit is its own combination; everything repeated means
    /// the sample saw every combination; otherwise Haas and Stokes' Duj1 n·d / (n − f1 + f1·n/N),
    /// kept between d and N. ANALYZE samples rows; a block sample takes a page's rows together, and
    /// on data stored in key order the copies of a key share a page, so counting rows would make
    /// every key look repeated and the estimate fall to the keys seen (a fifth of them on a table
    /// sorted by the keys, in the integration test). N, the table's (combination, page) pairs, is
    /// taken in the sample's proportion to rows. Nil for an empty sample.
    public func estimatedDistinct(totalRows: Double) -> Double? {
        let n = keyPages, d = distinct, f1 = onOnePage
        guard sampledRows > 0, n > 0, d > 0, totalRows > 0 else { return nil }
        let units = max(n * totalRows / sampledRows, n)
        let estimate: Double
        if f1 == d {
            estimate = units
        } else if f1 == 0 {
            estimate = d
        } else {
            estimate = min(max(n * d / ((n - f1) + f1 * n / units), d), units).rounded()
        }
        return min(estimate, max(totalRows, sampledRows))
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

    /// A heap page holds at most this many rows (MaxHeapTuplesPerPage).
    static let maximumRowsPerPage = 291.0

    /// The TABLESAMPLE SYSTEM percentage that reads about `targetRows` rows (and at least
    /// `minimumPages` pages) of a table of `rows` rows in `bytes` bytes; 100 for small tables. The
    /// pages are never taken to be fewer than the rows can fit in: a partitioned table's own size
    /// is 0 while its partitions hold the rows.
    public static func samplePercent(rows: Double, bytes: Int64) -> Double {
        let pages = max(1, Double(bytes) / 8192, rows / maximumRowsPerPage)
        guard rows > 0 else { return 100 }
        let wantedPages = max(minimumPages, targetRows / max(rows / pages, 1))
        return min(100, 100 * wantedPages / pages)
    }

    /// Samples whole pages (TABLESAMPLE SYSTEM), not rows as ANALYZE does, so it costs a few hundred
    /// page reads on any table size. The price: on data stored in the order of the columns (rows
    /// loaded by date, by customer) a page holds runs of equal keys. Counting (key, page) pairs
    /// rather than rows corrects most of that, but a key whose copies span two sampled pages still
    /// looks more common than it is, so the estimate can come out low; callers keep it at or above
    /// the largest single column's n_distinct (from ANALYZE's row sample).
    public func sample(table: QualifiedName, columns: [String], percent: Double) throws -> DistinctKeySample {
        let relation = table.schema.map { quoteIdentifier($0) + "." } ?? ""
        let grouping = columns.map(quoteIdentifier).joined(separator: ", ")
        let sql = pgadviseStatementMarker
            + "SELECT count(*) AS d, count(*) FILTER (WHERE pages = 1) AS f1, coalesce(sum(pages), 0) AS n, "
            + "coalesce(sum(rows), 0) AS rows FROM (SELECT count(*) AS rows, "
            // The page number of ctid, told apart by partition (tableoid) on a partitioned table.
            + "count(DISTINCT (tableoid, (ctid::text::point)[0])) AS pages "
            + "FROM \(relation)\(quoteIdentifier(table.name)) TABLESAMPLE SYSTEM ($1) REPEATABLE (0) GROUP BY \(grouping)) s"
        let record = try connection.query(sql, [String(percent)]).records.first
        return DistinctKeySample(sampledRows: record?.double("rows") ?? 0, keyPages: record?.double("n") ?? 0,
                                 distinct: record?.double("d") ?? 0, onOnePage: record?.double("f1") ?? 0)
    }
}

/// Distinct combinations of a column set that extended statistics (`CREATE STATISTICS ... (ndistinct)`)
/// hold, filled by ANALYZE from its row sample.
public struct ExtendedDistinctCount: Sendable, Equatable {
    public var table: QualifiedName
    public var columns: [String]
    public var distinct: Double

    public init(table: QualifiedName, columns: [String], distinct: Double) {
        self.table = table; self.columns = columns; self.distinct = distinct
    }
}

extension DistinctKeySampler {
    /// Every ndistinct figure of the database's extended statistics the role may read (pg_stats_ext
    /// shows the tables it owns), in one statement: a statistics object on (a, b, c) holds one for
    /// each combination of two or more of its columns. Combinations with an expression are left out.
    public func extendedStatisticsDistinct() throws -> [ExtendedDistinctCount] {
        // pg_ndistinct prints as a JSON object keyed by attribute numbers: {"1, 2": 800000, ...}.
        let sql = pgadviseStatementMarker + """
            SELECT e.schemaname AS schema, e.tablename AS table, d.value AS distinct,
                   cardinality(string_to_array(d.key, ', ')) AS keys,
                   (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum = ANY (string_to_array(d.key, ', ')::int2[])) AS columns
              FROM pg_stats_ext e
              JOIN pg_namespace n ON n.nspname = e.schemaname
              JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = e.tablename
              CROSS JOIN LATERAL jsonb_each_text(e.n_distinct::text::jsonb) d
             WHERE e.n_distinct IS NOT NULL
            """
        return try connection.query(sql).records.compactMap { r in
            guard let schema = r["schema"], let table = r["table"], let distinct = r.double("distinct"), distinct > 0 else { return nil }
            let columns = r.textArray("columns")
            guard columns.count >= 2, Int64(columns.count) == r.int("keys") else { return nil }
            return ExtendedDistinctCount(table: QualifiedName(schema: schema, table), columns: columns, distinct: distinct)
        }
    }
}
