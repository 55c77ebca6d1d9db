import PGAdviseCore

extension QueryShape {
    /// The same shape with unqualified columns attributed to their table where the catalog makes it
    /// certain: the innermost block whose tables include exactly one with that column (then the outer
    /// blocks, as PostgreSQL resolves correlated names). A column that could also come from a derived
    /// table or an unknown table is left unresolved.
    public func resolved(with catalog: Catalog) -> QueryShape {
        let resolver = ColumnResolver(blocks: blocks, catalog: catalog)
        var copy = self
        for i in copy.blocks.indices {
            var block = resolver.resolveColumns(of: copy.blocks[i], at: i)
            Self.readJoinsAndCorrelations(in: &block)
            copy.blocks[i] = block
        }
        return copy
    }

    /// `WHERE p_partkey = l_partkey` names a join only once the catalog says which table each column
    /// is in (the builder records joins between qualified columns). And a correlation written outer
    /// column first (`p_partkey = l_partkey` inside the subquery) reads as this block's column
    /// compared with an outer value, as `l_partkey = p_partkey` does.
    static func readJoinsAndCorrelations(in block: inout QueryBlock) {
        let relations = block.relations
        func isInBlock(_ column: ColumnRef) -> Bool {
            guard let relation = column.relation else { return false }
            return relations.contains { $0.name == relation.name && $0.exposedName == relation.exposedName }
        }
        for (n, p) in block.predicates.enumerated() where p.comparison == .equal && !p.isWrapped && !p.underOr {
            guard case let .column(other) = p.value, other.relation != nil, p.column.relation != nil else { continue }
            if isInBlock(p.column), isInBlock(other), p.column.relation?.exposedName != other.relation?.exposedName {
                let join = JoinCondition(left: p.column, right: other)
                if p.clause == .where && !block.joins.contains(where: { Set([$0.left, $0.right]) == Set([join.left, join.right]) }) {
                    block.joins.append(join)
                }
            } else if !isInBlock(p.column), isInBlock(other) {
                block.predicates[n].column = other
                block.predicates[n].value = .column(p.column)
            }
        }
    }
}

/// Attributes unqualified columns to their table: the innermost block whose tables include exactly
/// one with that column, then the outer blocks.
struct ColumnResolver {
    let blocks: [QueryBlock]
    let tablesByBlock: [[(ref: RelationRef, table: Table?)]]

    init(blocks: [QueryBlock], catalog: Catalog) {
        self.blocks = blocks
        tablesByBlock = blocks.map { block in block.relations.map { ($0, catalog.table($0.name)) } }
    }

    func resolve(_ column: ColumnRef, from start: Int) -> ColumnRef {
        guard column.relation == nil, column.qualifier == nil else { return column }
        var current: Int? = start
        while let b = current, b < blocks.count {
            let candidates = tablesByBlock[b].filter { $0.table?.column(column.name) != nil }
            if candidates.count == 1 {
                var out = column
                out.relation = candidates[0].ref
                return out
            }
            if candidates.count > 1 { return column }
            // Not in this block's known tables: it may still be in a derived table or a table the
            // catalog does not know, which PostgreSQL would search before the outer blocks.
            if !blocks[b].nonTableItems.isEmpty || tablesByBlock[b].contains(where: { $0.table == nil }) { return column }
            current = blocks[b].parent
        }
        return column
    }

    /// Every column reference of block `i` (predicates, joins, ORDER BY, GROUP BY, SELECT list, IN lists).
    func resolveColumns(of block: QueryBlock, at i: Int) -> QueryBlock {
        var block = block
        block.predicates = block.predicates.map { p in
            var p = p
            p.column = resolve(p.column, from: i)
            if case let .column(c) = p.value { p.value = .column(resolve(c, from: i)) }
            return p
        }
        block.joins = block.joins.map { j in
            var j = j
            j.left = resolve(j.left, from: i)
            j.right = resolve(j.right, from: i)
            return j
        }
        block.orderBy = block.orderBy.map { k in
            var k = k
            if let c = k.column { k.column = resolve(c, from: i) }
            return k
        }
        block.groupBy = block.groupBy.map { resolve($0, from: i) }
        block.projection = block.projection.map { item in
            switch item {
            case let .column(c): return .column(resolve(c, from: i))
            case let .expression(text, columns, location):
                return .expression(text: text, columns: columns.map { resolve($0, from: i) }, location: location)
            case .star: return item
            }
        }
        block.inLists = block.inLists.map { entry in
            (column: entry.column.map { resolve($0, from: i) }, count: entry.count, location: entry.location)
        }
        return block
    }
}

extension QueryShape {
    /// True when some unqualified column is not yet attributed to a table, i.e. `resolved(with:)`
    /// could change something.
    public var hasUnresolvedColumns: Bool {
        func open(_ c: ColumnRef) -> Bool { c.relation == nil && c.qualifier == nil }
        for block in blocks {
            for p in block.predicates {
                if open(p.column) { return true }
                if case let .column(c) = p.value, open(c) { return true }
            }
            for item in block.projection {
                switch item {
                case let .column(c): if open(c) { return true }
                case let .expression(_, columns, _): if columns.contains(where: open) { return true }
                case .star: continue
                }
            }
            if block.orderBy.contains(where: { $0.column.map(open) ?? false }) || block.groupBy.contains(where: open) { return true }
            if block.joins.contains(where: { open($0.left) || open($0.right) }) { return true }
            if block.inLists.contains(where: { $0.column.map(open) ?? false }) { return true }
        }
        return false
    }
}

extension Catalog {
    /// The table and column a resolved column reference names, when the catalog has them.
    public func lookup(_ column: ColumnRef) -> (table: Table, column: Column)? {
        guard let relation = column.relation, let table = table(relation.name), let c = table.column(column.name) else {
            return nil
        }
        return (table, c)
    }
}
