import PGAdviseCore

/// Index sizes from `pg_stats`, because HypoPG's B-tree estimate ignores deduplication (PostgreSQL 13+)
/// and comes out 2 to 4 times too large on columns with many duplicates, and it has no GIN model.
public struct SizeEstimator {
    static let pageBytes = 8192.0
    /// Usable bytes per leaf page at the default build fillfactor (90%), after the page header and
    /// the B-tree special space.
    static let leafUsableBytes = (pageBytes - 24 - 16) * 0.9

    public init() {}

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
        let keyWidth = candidate.keys.map { width(of: $0, in: table) }.reduce(0, +)
        let includeWidth = candidate.include.map { width(of: .column($0), in: table) }.reduce(0, +)
        // Tuple: 8-byte header + data, MAXALIGNed to 8; plus a 4-byte line pointer.
        let tupleBytes = align8(8 + keyWidth + includeWidth) + 4
        var leafBytes = rows * tupleBytes
        // Deduplication stores each distinct key once followed by 6-byte heap pointers. It is off for
        // INCLUDE indexes; it applies only when keys repeat.
        if candidate.include.isEmpty {
            let groups = distinctKeys(candidate, table: table, rows: rows, tableRows: tableRows)
            if groups < rows * 0.5 {
                leafBytes = groups * tupleBytes + (rows - groups) * 6
            }
        }
        let leafPages = (leafBytes / Self.leafUsableBytes).rounded(.up)
        // Internal levels hold one downlink per page below: about 1% on top of the leaves, plus the metapage.
        let pages = leafPages + (leafPages / 100).rounded(.up) + 1
        return Int64(pages * Self.pageBytes)
    }

    /// Distinct key combinations, capped by the row count (columns are treated as independent).
    func distinctKeys(_ candidate: IndexCandidate, table: Table, rows: Double, tableRows: Double) -> Double {
        var product = 1.0
        for key in candidate.keys {
            guard let column = key.column, let stats = table.column(column)?.stats else { return rows }
            if table.primaryKey == [column] { return rows }
            product *= max(1, stats.distinctValues(rows: tableRows))
            if product >= rows { return rows }
        }
        return min(product, rows)
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
