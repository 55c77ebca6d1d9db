import PGAdviseCore

/// One key of a proposed index: the catalog's own index key (column or expression, direction,
/// operator class), so proposals and existing indexes compare directly.
public typealias CandidateKey = Index.Key

extension Index.Key {
    public static func column(_ name: String, descending: Bool = false) -> CandidateKey {
        CandidateKey(column: name, descending: descending)
    }

    /// The key as it appears in CREATE INDEX: identifiers quoted when needed, expressions parenthesised.
    public var sql: String {
        var s: String
        if let column { s = quoteIdentifierIfNeeded(column) } else { s = "(\(expression ?? ""))" }
        if let opclass { s += " \(opclass)" }
        if descending { s += " DESC" }
        return s
    }

    /// What the key reads, for names and comparisons: the column or the expression's text.
    var label: String { column ?? expression ?? "" }
}

/// A proposed index before costing. Two candidates are the same index when their table, method,
/// keys, included columns and predicate are equal.
public struct IndexCandidate: Hashable, Sendable, CustomStringConvertible {
    public var table: QualifiedName
    public var method: String
    public var keys: [CandidateKey]
    public var include: [String]
    /// The partial-index predicate as SQL, built from quoted identifiers and literals.
    public var predicate: String?
    /// The share of the table's rows the predicate keeps (from pg_stats), for size estimates.
    public var predicateRowShare: Double
    /// The column a partial index's predicate tests.
    public var partialColumn: String?

    public init(table: QualifiedName, method: String = "btree", keys: [CandidateKey], include: [String] = [],
                predicate: String? = nil, predicateRowShare: Double = 1, partialColumn: String? = nil) {
        self.table = table; self.method = method; self.keys = keys; self.include = include; self.predicate = predicate
        self.predicateRowShare = predicateRowShare
        self.partialColumn = partialColumn
    }

    public var kind: IndexKind {
        if method == "gin" { return .gin }
        if method == "brin" { return .brin }
        if keys.contains(where: { $0.expression != nil }) { return .expression }
        if predicate != nil { return .partial }
        if !include.isEmpty { return .covering }
        if keys.count > 1 { return .multicolumn }
        return .btree
    }

    /// Index definition without a name, as HypoPG and CREATE INDEX take it.
    public func definition(name: String? = nil, concurrently: Bool = false) -> String {
        createIndexStatement(on: table, keys: keys.map(\.sql), name: name, method: method, include: include,
                             predicate: predicate, concurrently: concurrently)
    }

    /// A readable name within PostgreSQL's 63-byte limit: `orders_customer_id_created_at_idx`.
    public var suggestedName: String {
        var words = [table.name]
        for key in keys {
            let label = key.label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            words.append(String(label).split(separator: "_").joined(separator: "_"))
        }
        if !include.isEmpty { words.append("incl") }
        if predicate != nil { words.append("partial") }
        let suffix = method == "btree" ? "idx" : method
        let base = identifierPrefix(words.joined(separator: "_"), bytes: 63 - suffix.utf8.count - 1)
        return base + "_" + suffix
    }

    public var description: String { definition() }

    /// Same table, method, keys and predicate; INCLUDE may differ.
    func hasSameKeys(as other: IndexCandidate) -> Bool {
        table == other.table && method == other.method && predicate == other.predicate && keys == other.keys
    }

    /// True when this candidate's keys are a leading prefix of `other`'s (same method and predicate),
    /// so `other` serves every lookup this one serves.
    func isPrefix(of other: IndexCandidate) -> Bool {
        guard table == other.table, method == other.method, predicate == other.predicate,
              keys.count <= other.keys.count else { return false }
        return zip(keys, other.keys).allSatisfy { $0 == $1 } && Set(include).isSubset(of: Set(other.include + other.keys.compactMap(\.column)))
    }
}

/// The longest prefix of whole characters within `bytes` UTF-8 bytes. PostgreSQL cuts longer names
/// to 63 bytes itself; a name cut there, or inside a multi-byte letter, is no longer the name
/// pgadvise gave, so the index could not be found under it (or would collide with another).
func identifierPrefix(_ name: String, bytes: Int) -> String {
    var prefix = name
    while prefix.utf8.count > bytes { prefix.removeLast() }
    return prefix
}
