import PGAdviseCore

/// Index sizes from `pg_stats`, because HypoPG's B-tree estimate ignores deduplication (PostgreSQL 13+)
/// and comes out 2 to 4 times too large on columns with many duplicates, and it has no GIN model.
public struct SizeEstimator {
    static let pageBytes = 8192.0
    /// Usable bytes per leaf page at the default build fillfactor (90%), after the page header and
    /// the B-tree special space.
    static let leafUsableBytes = (pageBytes - 24 - 16) * 0.9

    /// Distinct key combinations by table and column set, from extended statistics or counted in a
    /// sample of the table (`DistinctKeySampler`); filled by the advisor, which holds the connection.
    public var distinctKeyCounts: [KeyColumnSet: DistinctKeyCount]

    public init(distinctKeyCounts: [KeyColumnSet: DistinctKeyCount] = [:]) {
        self.distinctKeyCounts = distinctKeyCounts
    }

    public func estimate(_ candidate: IndexCandidate, table: Table) -> Int64 {
        let rows = max(table.rowEstimate ?? 0, 0)
        let indexedRows = rows * candidate.predicateRowShare
        switch candidate.method {
        case "brin": return brinBytes(table: table)
        case "gin": return ginBytes(candidate, table: table, rows: indexedRows)
        default: return btreeBytes(candidate, table: table, rows: indexedRows, tableRows: rows)
        }
    }

    func btreeBytes(_ candidate: IndexCandidate, table: Table, rows: Double, tableRows: Double) -> Int64 {
        guard rows > 0 else { return Int64(Self.pageBytes * 2) }
        // Deduplication is off for INCLUDE indexes, so their distinct keys do not matter.
        let groups = candidate.include.isEmpty ? distinctKeys(candidate, table: table, rows: rows, tableRows: tableRows) : rows
        return btreeBytes(rows: rows, groups: groups, keyWidth: keyWidth(candidate, in: table),
                          includeWidth: candidate.include.map { width(of: .column($0), in: table) }.reduce(0, +))
    }

    /// Size of a freshly built B-tree of `rows` entries holding `groups` distinct keys.
    func btreeBytes(rows: Double, groups: Double, keyWidth: Double, includeWidth: Double) -> Int64 {
        let leafPages = (leafBytes(rows: rows, groups: groups, keyWidth: keyWidth, includeWidth: includeWidth)
                         / Self.leafUsableBytes).rounded(.up)
        // Internal levels hold one downlink per page below: about 1% on top of the leaves, plus the metapage.
        let pages = leafPages + (leafPages / 100).rounded(.up) + 1
        return Int64(pages * Self.pageBytes)
    }

    /// Largest posting-list tuple CREATE INDEX forms: nbtsort.c allows MAXALIGN_DOWN(a tenth of the
    /// page) less a line pointer, 812 bytes, and a MAXALIGNed tuple within that is at most 808.
    static let maxPostingTupleBytes = 808.0

    /// Leaf bytes. A plain tuple is an 8-byte header and the data, MAXALIGNed, plus a 4-byte line
    /// pointer. Deduplication (PostgreSQL 13+) stores a repeated key once, followed by 6-byte heap
    /// pointers, in tuples of at most `maxPostingTupleBytes`. Below two rows per key most keys are
    /// seen once and keep their plain tuple, so the plain layout is used there.
    func leafBytes(rows: Double, groups: Double, keyWidth: Double, includeWidth: Double) -> Double {
        let plainTuple = align8(8 + keyWidth + includeWidth) + 4
        guard includeWidth == 0, groups >= 1, groups <= rows * 0.5 else { return rows * plainTuple }
        let keyPart = align8(8 + keyWidth)
        let pointersPerTuple = max(1, ((Self.maxPostingTupleBytes - keyPart) / 6).rounded(.down))
        let rowsPerKey = rows / groups
        let tuplesPerKey = (rowsPerKey / pointersPerTuple).rounded(.up)
        let postingTuple = align8(keyPart + 6 * rowsPerKey / tuplesPerKey) + 4
        return groups * tuplesPerKey * postingTuple
    }

    /// Distinct key combinations. A counted figure (see `distinctKeyCounts`) is used as given, but
    /// never below the largest single column's n_distinct: the block sample under-counts on data
    /// stored in key order, and the column statistics come from ANALYZE's row sample. Without a
    /// count, columns are taken to be independent (the product of their n_distinct), which
    /// overstates correlated columns: lineitem (l_partkey, l_suppkey) has 800k pairs, not 6M.
    func distinctKeys(_ candidate: IndexCandidate, table: Table, rows: Double, tableRows: Double) -> Double {
        guard let bounds = distinctKeyBounds(candidate, table: table, rows: rows, tableRows: tableRows) else { return rows }
        if let counted = distinctKeyCount(for: candidate) { return min(max(counted.distinct, bounds.lowerBound), rows) }
        return bounds.upperBound
    }

    /// What the column statistics say about the distinct keys: at least the largest single column's
    /// n_distinct, at most their product (both capped by the rows). Nil when a key is an expression
    /// or has no statistics.
    func distinctKeyBounds(_ candidate: IndexCandidate, table: Table, rows: Double, tableRows: Double) -> ClosedRange<Double>? {
        var product = 1.0, largest = 1.0
        var columns: [String] = []
        for key in candidate.keys {
            guard let column = key.column, let stats = table.column(column)?.stats else { return nil }
            let distinct = max(1, stats.distinctValues(rows: tableRows))
            product *= distinct
            largest = max(largest, distinct)
            columns.append(column)
        }
        if isUnique(columns, in: table) { return rows...rows }
        return min(largest, rows)...min(product, rows)
    }

    /// True when a primary key, or a unique constraint or index on NOT NULL columns, covers a subset
    /// of the columns. (Unique columns may hold many NULLs, and an index deduplicates those.)
    func isUnique(_ columns: [String], in table: Table) -> Bool {
        let keys = Set(columns)
        let uniqueIndexes = table.indexes
            .filter { $0.unique && $0.valid && $0.predicate == nil && $0.keys.allSatisfy { $0.column != nil } }
            .map(\.leadingColumns)
        let notNullUnique = (table.uniqueConstraints + uniqueIndexes).filter { $0.allSatisfy { table.column($0)?.notNull == true } }
        return ([table.primaryKey ?? []] + notNullUnique).contains { !$0.isEmpty && Set($0).isSubset(of: keys) }
    }

    func keyWidth(_ candidate: IndexCandidate, in table: Table) -> Double {
        candidate.keys.map { width(of: $0, in: table) }.reduce(0, +)
    }

    /// Roughly 2 bytes per compressed posting plus the keys; GIN sizes vary with the data, which is
    /// why GIN proposals say their size is an estimate until measured.
    func ginBytes(_ candidate: IndexCandidate, table: Table, rows: Double) -> Int64 {
        let columnWidth = candidate.keys.map { width(of: $0, in: table) }.reduce(0, +)
        let entriesPerRow = candidate.keys.contains { $0.opclass == "gin_trgm_ops" } ? columnWidth + 2 : max(1, columnWidth / 8)
        let bytes = rows * entriesPerRow * 2.5 + 4 * Self.pageBytes
        return Int64((bytes / Self.pageBytes).rounded(.up) * Self.pageBytes)
    }

    /// One summary tuple per 128-page range, many per page, plus the metapage and range map.
    func brinBytes(table: Table) -> Int64 {
        let heapPages = Double(table.sizeBytes ?? 0) / Self.pageBytes
        let ranges = (heapPages / 128).rounded(.up)
        let revmapPages = (ranges / 1360).rounded(.up)
        let regularPages = (ranges * 40 / (Self.pageBytes - 64)).rounded(.up)
        return Int64((2 + revmapPages + regularPages) * Self.pageBytes)
    }

    func width(of key: CandidateKey, in table: Table) -> Double {
        if let column = key.column, let c = table.column(column) {
            if let stats = c.stats { return Double(stats.averageWidth) * (1 - stats.nullFraction) }
            return Double(fixedWidth(c.type) ?? 16)
        }
        return 16
    }

    func fixedWidth(_ type: String) -> Int? {
        switch type {
        case "smallint": return 2
        case "integer", "date", "real": return 4
        case "bigint", "timestamp with time zone", "timestamp without time zone", "double precision": return 8
        case "uuid": return 16
        case "boolean": return 1
        default: return nil
        }
    }

    private func align8(_ x: Double) -> Double { (x / 8).rounded(.up) * 8 }
}

/// How many distinct key combinations a column set holds, and what says so.
public struct DistinctKeyCount: Sendable, Equatable {
    public enum Source: String, Sendable {
        /// Counted in a block sample of the table (`DistinctKeySampler`).
        case sample = "pg_stats+sample"
        /// `CREATE STATISTICS ... (ndistinct)`, which ANALYZE fills from its row sample.
        case extendedStatistics = "pg_stats_ext"
    }

    public var distinct: Double
    public var source: Source

    public init(_ distinct: Double, from source: Source) {
        self.distinct = distinct
        self.source = source
    }
}

/// The plain key columns of a B-tree, as a set: how many distinct combinations they hold does not
/// depend on their order, so (a, b) and (b, a) share one sample.
public struct KeyColumnSet: Hashable, Sendable, CustomStringConvertible {
    public let table: QualifiedName
    /// Sorted.
    public let columns: [String]

    public init(table: QualifiedName, columns: [String]) {
        self.table = table
        self.columns = columns.sorted()
    }

    /// Nil unless every key is a plain column.
    init?(_ candidate: IndexCandidate) {
        let columns = candidate.keys.compactMap(\.column)
        guard columns.count == candidate.keys.count else { return nil }
        self.init(table: candidate.table, columns: columns)
    }

    public var description: String { "\(table) (\(columns.map(quoteIdentifierIfNeeded).joined(separator: ", ")))" }
}

extension SizeEstimator {
    /// Tables smaller than this get no sample: their indexes are a few hundred kilobytes at most,
    /// too little to change what fits a budget.
    static let minimumSampledRows = 10_000.0
    /// A sample is taken only when the size the column statistics allow ranges wider than this
    /// share between their bounds on the distinct keys.
    static let conclusiveSizeSpread = 0.05

    /// The column sets of multicolumn B-trees whose size the column statistics leave open: every
    /// leading prefix of two keys or more of the candidates (the selector steps through prefixes),
    /// without a predicate (a sample of the whole table says nothing about the rows a partial
    /// index keeps), and whose keys are deduplicated (the full key list of a covering candidate is
    /// not). Widest size spread first.
    public func columnSetsWorthSampling(_ candidates: [IndexCandidate], catalog: Catalog) -> [KeyColumnSet] {
        var spreadBySet: [KeyColumnSet: Double] = [:]
        for candidate in candidates where candidate.method == "btree" && candidate.predicate == nil && candidate.keys.count >= 2 {
            guard let table = catalog.table(candidate.table), let rows = table.rowEstimate, rows >= Self.minimumSampledRows else { continue }
            for length in 2...candidate.keys.count where length < candidate.keys.count || candidate.include.isEmpty {
                let prefix = IndexCandidate(table: candidate.table, keys: Array(candidate.keys.prefix(length)))
                guard let set = KeyColumnSet(prefix), spreadBySet[set] == nil,
                      let bounds = distinctKeyBounds(prefix, table: table, rows: rows, tableRows: rows) else { continue }
                let width = keyWidth(prefix, in: table)
                let smallest = Double(btreeBytes(rows: rows, groups: bounds.lowerBound, keyWidth: width, includeWidth: 0))
                let largest = Double(btreeBytes(rows: rows, groups: bounds.upperBound, keyWidth: width, includeWidth: 0))
                guard smallest < largest * (1 - Self.conclusiveSizeSpread) else { continue }
                spreadBySet[set] = largest - smallest
            }
        }
        return spreadBySet.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.description < $1.key.description }.map(\.key)
    }

    /// The counted distinct keys that apply to the candidate, if any.
    func distinctKeyCount(for candidate: IndexCandidate) -> DistinctKeyCount? {
        guard candidate.method == "btree", candidate.predicate == nil, candidate.include.isEmpty, candidate.keys.count >= 2,
              let set = KeyColumnSet(candidate) else { return nil }
        return distinctKeyCounts[set]
    }

    /// What `estimate` rests on, for `IndexRecommendation.sizeSource`: `pg_stats`, or the source of
    /// the counted distinct keys.
    public func sizeSource(of candidate: IndexCandidate) -> String {
        distinctKeyCount(for: candidate)?.source.rawValue ?? "pg_stats"
    }
}
