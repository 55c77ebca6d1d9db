import PGAdviseCore
import PGAdviseSQL

/// Turns one statement's shape into the indexes that could serve it, using the catalog for column
/// types and `pg_stats` for selectivity, rarity and physical order. Candidates are "full" (every key
/// the statement could use); the selector tries their prefixes too.
public struct CandidateGenerator {
    public var catalog: Catalog
    public var maxColumns: Int
    /// BRIN pays only when a table spans many 128-page block ranges.
    public var brinMinimumTableBytes: Int64 = 32 << 20
    /// |pg_stats.correlation| at or above this means the column follows the physical row order.
    public var brinMinimumCorrelation: Double = 0.9
    /// A constant this rare (share of rows, from the most-common-values list) earns a partial index.
    public var partialMaximumFrequency: Double = 0.1
    /// A column at least this NULL earns `WHERE col IS NOT NULL`.
    public var sparseMinimumNullFraction: Double = 0.8

    public init(catalog: Catalog, maxColumns: Int = 3) {
        self.catalog = catalog
        self.maxColumns = max(1, maxColumns)
    }

    public struct Output: Sendable {
        public var candidates: [IndexCandidate] = []
        /// Facts the report should carry (a missing extension a candidate would need).
        public var notes: [String] = []
    }

    /// `observed`: the values the statement's parameters were run with (pg_qualstats, logged bind
    /// values); a parameter that one value filled in every execution is, for a partial index, the
    /// constant an ORM sends as a parameter.
    public func candidates(for shape: QueryShape, observed: [ObservedParameterValues]? = nil) -> Output {
        var out = Output()
        guard [.select, .update, .delete].contains(shape.kind) else { return out }
        let typical = Self.typicalValues(observed)
        for block in shape.blocks {
            for relation in block.relations {
                guard let table = catalog.table(relation.name) else { continue }
                collect(block: block, relation: relation, table: table, kind: shape.kind, typical: typical, into: &out)
            }
        }
        var seen = Set<IndexCandidate>()
        out.candidates = out.candidates.filter { !$0.keys.isEmpty && seen.insert($0).inserted }
        var seenNotes = Set<String>()
        out.notes = out.notes.filter { seenNotes.insert($0).inserted }
        return out
    }

    // MARK: - One relation of one block

    /// What one relation of one block offers an index: its predicates and the columns they test.
    private struct RelationKeys {
        /// The block's AND-ed WHERE and JOIN predicates on this relation.
        var predicates: [Predicate]
        /// Equality columns, most selective first.
        var equality: [String]
        /// Columns equal to a column of another relation, or joined to one.
        var joinKeys: [String]
        var ranges: [String]
        /// ORDER BY, when every key is a plain column of this relation.
        var sortKeys: [CandidateKey]
    }

    /// The value that filled a parameter in every observed execution: a constant the application
    /// sends as a parameter. When other values share the calls, one index on the column serves them
    /// all, and a partial index for one of them would be a second index for the same statement.
    static func typicalValues(_ observed: [ObservedParameterValues]?) -> [Int: String] {
        var out: [Int: String] = [:]
        for parameter in observed ?? [] where parameter.values.count == 1 && parameter.otherExecutions == 0 {
            guard let only = parameter.values.first, only.executions > 0 else { continue }
            out[parameter.parameter] = only.value
        }
        return out
    }

    private func collect(block: QueryBlock, relation: RelationRef, table: Table, kind: StatementKind, typical: [Int: String],
                         into out: inout Output) {
        let keys = relationKeys(block: block, relation: relation, table: table)
        let equality = keys.equality, ranges = keys.ranges
        var plain = fullKeySets(keys, block: block, relation: relation, table: table)
            .map { IndexCandidate(table: table.name, keys: Array($0.prefix(maxColumns))) }
        if kind == .select, let covered = coveringColumns(block: block, relation: relation, table: table) {
            for candidate in plain {
                let extra = covered.filter { c in !candidate.keys.contains { $0.column == c } }
                if !extra.isEmpty && extra.count <= maxColumns {
                    var copy = candidate
                    copy.include = extra
                    plain.append(copy)
                    if let keyed = Self.deduplicatedForm(of: copy, table: table) { plain.append(keyed) }
                }
            }
        }
        // On a large table physically ordered by a range column (append-only time series), BRIN serves
        // the range at a few hundredths of a percent of a B-tree's size and write cost, so B-trees led
        // by that column are not proposed for range use.
        let brin = brinCandidates(ranges, table: table)
        let brinColumns = Set(brin.compactMap { $0.keys.first?.column })
        plain.removeAll { candidate in
            guard let lead = candidate.keys.first?.column else { return false }
            return brinColumns.contains(lead) && !equality.contains(lead)
        }
        // A rare constant on a skewed column is served by a partial index; a B-tree led by that column
        // would mostly index the rows the statement never asks for.
        let partial = partialCandidates(keys.predicates, table: table, equality: equality, ranges: ranges, sortKeys: keys.sortKeys,
                                        typical: typical)
        // A parameter's typical value earns a partial index beside the plain ones, which serve its other values.
        let parameterColumns = Set(keys.predicates.compactMap { p -> String? in
            if case .parameter = p.value { return p.column.name } else { return nil }
        })
        let partialColumns = Set(partial.compactMap(\.partialColumn)).subtracting(parameterColumns)
        plain.removeAll { candidate in candidate.keys.first?.column.map(partialColumns.contains) ?? false }
        out.candidates += plain + brin + partial

        out.candidates += expressionCandidates(keys.predicates, table: table, eqKeys: equality.map { CandidateKey.column($0) })
        invertedCandidates(keys.predicates, table: table, into: &out)
    }

    /// Types without a B-tree operator class: they can ride in an index only as INCLUDE columns.
    static let typesWithoutBtree: Set<String> = ["json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"]

    /// The covering index `(a) INCLUDE (b)` with its INCLUDE columns as trailing keys, `(a, b)`:
    /// it serves the same index-only scans, and B-tree deduplication (PostgreSQL 13+), which never
    /// applies to an index with INCLUDE columns, can store a repeated `(a, b)` once with its heap
    /// pointers, several times smaller when `a` repeats. Both are proposed; the search keeps the one
    /// that pays more per byte, which the size model decides. Nil when an INCLUDE column's type has
    /// no B-tree operator class.
    static func deduplicatedForm(of covering: IndexCandidate, table: Table) -> IndexCandidate? {
        guard covering.method == "btree", !covering.include.isEmpty else { return nil }
        for name in covering.include {
            guard let type = table.column(name)?.type.lowercased(), !type.hasSuffix("[]") || !typesWithoutBtree.contains(String(type.dropLast(2))),
                  !typesWithoutBtree.contains(type) else { return nil }
        }
        var keyed = covering
        keyed.keys += covering.include.map { CandidateKey.column($0) }
        keyed.include = []
        return keyed
    }

    private func relationKeys(block: QueryBlock, relation: RelationRef, table: Table) -> RelationKeys {
        // A HAVING condition filters groups after aggregation (`sum(l_quantity) > 300`): no index on
        // the table's rows can apply it.
        let mine = block.predicates.filter {
            !$0.underOr && $0.clause != .having && belongs($0.column, to: relation, in: block, table: table)
        }
        // Equality columns, most selective first; join and correlation keys behave as equality for
        // the inner side of a nested loop.
        var equality: [String] = []
        for p in mine where p.isEquality {
            if case .column = p.value { continue }
            if case .subquery = p.value { continue }
            if !equality.contains(p.column.name) { equality.append(p.column.name) }
        }
        var joinKeys: [String] = []
        for p in mine where p.isEquality {
            if case .column = p.value, !joinKeys.contains(p.column.name) { joinKeys.append(p.column.name) }
        }
        for join in block.joins where join.comparison == .equal {
            for side in [join.left, join.right] where belongs(side, to: relation, in: block, table: table) {
                if !joinKeys.contains(side.name) { joinKeys.append(side.name) }
            }
        }
        let ranges = mine.filter(\.isRange).map(\.column.name).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        // ORDER BY served in index order only when every key is a plain column of this relation.
        var sortKeys: [CandidateKey] = []
        if !block.orderBy.isEmpty, block.orderBy.allSatisfy({ key in key.column.map { belongs($0, to: relation, in: block, table: table) } ?? false }) {
            sortKeys = block.orderBy.compactMap { key in key.column.map { CandidateKey.column($0.name, descending: key.descending) } }
        }
        return RelationKeys(predicates: mine, equality: mostSelectiveFirst(equality, in: table), joinKeys: joinKeys,
                            ranges: ranges, sortKeys: sortKeys)
    }

    /// Columns by their distinct values in the table, most first (ties by name).
    private func mostSelectiveFirst(_ columns: [String], in table: Table) -> [String] {
        let rows = table.rowEstimate ?? 0
        return columns.sorted { a, b in
            let da = distinct(a, in: table, rows: rows), db = distinct(b, in: table, rows: rows)
            return da != db ? da > db : a < b
        }
    }

    /// The "full" key lists (every key the statement could use, in index order): equality then one
    /// range, equality then the sort, each join key, and composite join keys.
    private func fullKeySets(_ keys: RelationKeys, block: QueryBlock, relation: RelationRef, table: Table) -> [[CandidateKey]] {
        let equality = keys.equality, ranges = keys.ranges
        var full: [[CandidateKey]] = []
        let eqKeys = equality.map { CandidateKey.column($0) }
        if let range = ranges.first(where: { !equality.contains($0) }) {
            full.append(eqKeys + [.column(range)])
        } else if !eqKeys.isEmpty {
            full.append(eqKeys)
        }
        if !keys.sortKeys.isEmpty {
            let remainingSort = keys.sortKeys.filter { key in !equality.contains(key.column ?? "") }
            if !remainingSort.isEmpty { full.append(eqKeys + remainingSort) }
        }
        // On the inner side of a nested loop a join key is an equality, so a range on another column
        // can follow it in the index: `l_partkey = p_partkey AND l_quantity < (correlated subquery)`
        // then reads only the matching rows, and the subquery runs once per outer row, not per joined row.
        let joinRange = ranges.first { !equality.contains($0) && !keys.joinKeys.contains($0) }
        for join in keys.joinKeys where !equality.contains(join) {
            full.append([.column(join)] + (joinRange.map { [CandidateKey.column($0)] } ?? []))
            if !eqKeys.isEmpty { full.append(eqKeys + [.column(join)]) }
        }
        for columns in compositeJoinKeys(keys.predicates, block: block, relation: relation, table: table, excluding: equality) {
            var composite = eqKeys + mostSelectiveFirst(columns, in: table).map { CandidateKey.column($0) }
            if let range = ranges.first(where: { !equality.contains($0) && !columns.contains($0) }) { composite.append(.column(range)) }
            full.append(composite)
        }
        return full
    }

    /// True when `column` refers to `relation` in `block`: by the builder's resolution, by qualifier,
    /// or (unqualified) because this relation is the only one in scope that has the column.
    func belongs(_ column: ColumnRef, to relation: RelationRef, in block: QueryBlock, table: Table) -> Bool {
        if let resolved = column.relation { return resolved.name.name == relation.name.name && resolved.exposedName == relation.exposedName }
        if let qualifier = column.qualifier { return qualifier == relation.exposedName }
        guard table.column(column.name) != nil else { return false }
        let owners = block.relations.filter { catalog.table($0.name)?.column(column.name) != nil }
        return owners.count == 1
    }

    /// Columns of `relation` joined (or correlated) to the same other relation, when there are at least
    /// two: a composite key such as `lineitem (l_partkey, l_suppkey)` against `partsupp`'s
    /// `(ps_partkey, ps_suppkey)`, or a correlated subquery's several outer columns. One index on all of
    /// them finds the matching rows where an index on any one of them only narrows them down.
    func compositeJoinKeys(_ predicates: [Predicate], block: QueryBlock, relation: RelationRef, table: Table,
                           excluding equality: [String]) -> [[String]] {
        var byPartner: [String: [String]] = [:]
        func pair(_ mine: ColumnRef, _ other: ColumnRef) {
            guard !equality.contains(mine.name), belongs(mine, to: relation, in: block, table: table) else { return }
            let partner = other.relation.map { "\($0.name)/\($0.exposedName)" } ?? other.qualifier ?? ""
            if !(byPartner[partner] ?? []).contains(mine.name) { byPartner[partner, default: []].append(mine.name) }
        }
        for p in predicates where p.isEquality {
            if case .column(let other) = p.value { pair(p.column, other) }
        }
        for join in block.joins where join.comparison == .equal {
            pair(join.left, join.right)
            pair(join.right, join.left)
        }
        return byPartner.sorted { $0.key < $1.key }.map(\.value).filter { $0.count >= 2 }
    }

    private func distinct(_ column: String, in table: Table, rows: Double) -> Double {
        if table.primaryKey == [column] { return rows.isFinite && rows > 0 ? rows : .greatestFiniteMagnitude }
        return table.column(column)?.stats?.distinctValues(rows: rows) ?? 0
    }

    /// Every column of `relation` the block reads, when that set is known and small enough that an
    /// index-only scan is plausible; nil with `*` or an unknown expression.
    private func coveringColumns(block: QueryBlock, relation: RelationRef, table: Table) -> [String]? {
        var columns: [String] = []
        func add(_ c: ColumnRef) { if belongs(c, to: relation, in: block, table: table), !columns.contains(c.name) { columns.append(c.name) } }
        for item in block.projection {
            switch item {
            case .star(let qualifier, _):
                if qualifier == nil || qualifier == relation.exposedName { return nil }
            case .column(let c): add(c)
            case .expression(_, let refs, _): refs.forEach(add)
            }
        }
        if columns.isEmpty { return nil }
        for p in block.predicates where belongs(p.column, to: relation, in: block, table: table) {
            if p.isWrapped { return nil }
            add(p.column)
        }
        block.orderBy.compactMap(\.column).forEach(add)
        block.groupBy.forEach(add)
        for join in block.joins { add(join.left); add(join.right) }
        let width = columns.compactMap { table.column($0)?.stats?.averageWidth }.reduce(0, +)
        return width <= 128 ? columns : nil
    }

    private func expressionCandidates(_ predicates: [Predicate], table: Table, eqKeys: [CandidateKey]) -> [IndexCandidate] {
        let usable: Set<PredicateOperator> = ["=", "<", "<=", ">", ">=", "BETWEEN", "IN", "LIKE"]
        var out: [IndexCandidate] = []
        for p in predicates where p.isWrapped && !p.expressionTakesParameters && usable.contains(p.comparison) {
            guard let text = p.expressionText else { continue }
            if case .column = p.value { continue }
            let key = CandidateKey(expression: text)
            out.append(IndexCandidate(table: table.name, keys: [key]))
            if p.comparison == .equal || p.comparison == .in, !eqKeys.isEmpty {
                out.append(IndexCandidate(table: table.name, keys: Array(([key] + eqKeys).prefix(maxColumns))))
            }
        }
        return out
    }

    private func partialCandidates(_ predicates: [Predicate], table: Table, equality: [String], ranges: [String],
                                   sortKeys: [CandidateKey], typical: [Int: String]) -> [IndexCandidate] {
        var out: [IndexCandidate] = []
        for p in predicates where !p.isWrapped {
            guard let stats = table.column(p.column.name)?.stats else { continue }
            let condition: String
            let share: Double
            var value = p.value
            if case .parameter(let n) = p.value, let typical = typical[n] { value = .constant(.string(typical)) }
            if p.comparison == .equal, case .constant(let constant) = value, let literal = sqlLiteral(constant) {
                guard let frequency = frequency(of: constant, in: stats), frequency <= partialMaximumFrequency else { continue }
                condition = "\(quoteIdentifierIfNeeded(p.column.name)) = \(literal)"
                share = frequency
            } else if p.comparison == .isNotNull, stats.nullFraction >= sparseMinimumNullFraction {
                condition = "\(quoteIdentifierIfNeeded(p.column.name)) IS NOT NULL"
                share = 1 - stats.nullFraction
            } else {
                continue
            }
            var keys = equality.filter { $0 != p.column.name }.map { CandidateKey.column($0) }
            if !sortKeys.isEmpty {
                keys += sortKeys.filter { $0.column != p.column.name && !equality.contains($0.column ?? "") }
            } else if let range = ranges.first(where: { $0 != p.column.name && !equality.contains($0) }) {
                keys.append(.column(range))
            }
            if keys.isEmpty { keys = [.column(p.column.name)] }
            out.append(IndexCandidate(table: table.name, keys: Array(keys.prefix(maxColumns)), predicate: condition,
                                      predicateRowShare: share, partialColumn: p.column.name))
        }
        return out
    }

    /// The share of rows holding `constant`: its most-common-values frequency, or, when the list
    /// covers nearly every row and the value is not on it, at most what the list leaves over.
    func frequency(of constant: Constant, in stats: ColumnStats) -> Double? {
        let text: String
        switch constant {
        case .string(let s): text = s
        case .integer(let i): text = String(i)
        case .numeric(let n): text = n
        case .boolean(let b): text = b ? "t" : "f"
        case .null: return nil
        }
        if let i = stats.mostCommonValues.firstIndex(of: text), i < stats.mostCommonFrequencies.count {
            return stats.mostCommonFrequencies[i]
        }
        let covered = stats.mostCommonFrequencies.reduce(0, +) + stats.nullFraction
        return covered >= 0.9 ? max(0, 1 - covered) : nil
    }

    private func sqlLiteral(_ constant: Constant) -> String? {
        switch constant {
        case .string(let s): return quoteLiteral(s)
        case .integer(let i): return String(i)
        case .numeric(let n): return Double(n) != nil ? n : nil
        case .boolean(let b): return b ? "true" : "false"
        case .null: return nil
        }
    }

    private func invertedCandidates(_ predicates: [Predicate], table: Table, into out: inout Output) {
        for p in predicates {
            let type = table.column(p.column.name)?.type ?? ""
            let jsonbOperators: Set<PredicateOperator> = ["@>", "<@", "?", "?|", "?&"]
            let arrayOperators: Set<PredicateOperator> = ["@>", "<@", "&&"]
            if !p.isWrapped && ((type == "jsonb" && jsonbOperators.contains(p.comparison)) || (type.hasSuffix("[]") && arrayOperators.contains(p.comparison))) {
                out.candidates.append(IndexCandidate(table: table.name, method: "gin", keys: [.column(p.column.name)]))
                continue
            }
            switch p.comparison {
            case "@@":
                if !p.isWrapped && type == "tsvector" {
                    out.candidates.append(IndexCandidate(table: table.name, method: "gin", keys: [.column(p.column.name)]))
                } else if let text = p.expressionText, text.hasPrefix("to_tsvector(") {
                    out.candidates.append(IndexCandidate(table: table.name, method: "gin", keys: [CandidateKey(expression: text)]))
                }
            case "LIKE", "ILIKE":
                guard !p.isWrapped, case .constant(.string(let pattern)) = p.value, pattern.hasPrefix("%") || pattern.hasPrefix("_"),
                      pattern.filter({ $0 != "%" && $0 != "_" }).count >= 3 else { continue }
                guard catalog.extensions["pg_trgm"] != nil else {
                    out.notes.append("\(table.name).\(p.column.name) \(p.comparison) '\(pattern)' needs a trigram index, but pg_trgm "
                                     + "is not installed in this database (CREATE EXTENSION pg_trgm; Debian: postgresql-contrib).")
                    continue
                }
                out.candidates.append(IndexCandidate(table: table.name, method: "gin",
                                                     keys: [CandidateKey(column: p.column.name, opclass: "gin_trgm_ops")]))
            default:
                continue
            }
        }
    }

    private func brinCandidates(_ ranges: [String], table: Table) -> [IndexCandidate] {
        guard (table.sizeBytes ?? 0) >= brinMinimumTableBytes else { return [] }
        return ranges.compactMap { column in
            guard let correlation = table.column(column)?.stats?.correlation, abs(correlation) >= brinMinimumCorrelation else { return nil }
            return IndexCandidate(table: table.name, method: "brin", keys: [.column(column)])
        }
    }
}
