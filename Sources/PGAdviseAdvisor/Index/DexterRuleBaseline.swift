import PGAdviseCore
import PGAdviseSQL

/// How indexes are chosen. `dexterRule` exists to be compared against in Benchmarks/indexes.
public enum SelectionStrategy: String, Sendable, CaseIterable {
    /// Whole-workload greedy search by benefit per byte (the default).
    case extend
    /// Dexter's rule, statement by statement: the best single- or two-column B-tree on the columns the
    /// statement filters, joins or sorts on, kept when it halves the statement's estimated cost. No
    /// budget, no write penalty, no other index kinds.
    case dexterRule = "dexter-rule"
}

struct DexterRuleBaseline {
    let session: WhatIfSession
    let statements: [CostedStatement]
    let catalog: Catalog

    func select() throws -> [IndexCandidate] {
        let generator = CandidateGenerator(catalog: catalog)
        var chosen: [IndexCandidate] = []
        for statement in statements {
            let base = try session.plan(statement, with: []).totalCost
            var best: (candidate: IndexCandidate, cost: Double)?
            for candidate in candidates(for: statement, generator: generator) {
                guard let cost = try? session.plan(statement, with: [candidate]).totalCost else { continue }
                if cost < best?.cost ?? .infinity { best = (candidate, cost) }
            }
            guard let best, best.cost <= base * 0.5 else { continue }
            if chosen.contains(where: { best.candidate.isPrefix(of: $0) }) { continue }
            chosen.removeAll { $0.isPrefix(of: best.candidate) }
            chosen.append(best.candidate)
        }
        return chosen
    }

    /// Every column the statement compares with a value, joins on or sorts by, per table; then each
    /// column alone and every ordered pair of columns of the same table.
    func candidates(for statement: CostedStatement, generator: CandidateGenerator) -> [IndexCandidate] {
        var columns: [QualifiedName: [String]] = [:]
        func add(_ column: ColumnRef, _ block: QueryBlock) {
            for relation in block.relations {
                guard let table = catalog.table(relation.name), generator.belongs(column, to: relation, in: block, table: table) else { continue }
                if !(columns[table.name] ?? []).contains(column.name) { columns[table.name, default: []].append(column.name) }
            }
        }
        for block in statement.shape.blocks {
            for p in block.predicates where !p.isWrapped && !p.underOr && (p.isEquality || p.isRange) { add(p.column, block) }
            for join in block.joins { add(join.left, block); add(join.right, block) }
            for key in block.orderBy { if let c = key.column { add(c, block) } }
        }
        var out: [IndexCandidate] = []
        for (table, names) in columns.sorted(by: { $0.key < $1.key }) {
            for a in names {
                out.append(IndexCandidate(table: table, keys: [.column(a)]))
                for b in names where b != a { out.append(IndexCandidate(table: table, keys: [.column(a), .column(b)])) }
            }
        }
        return out
    }
}
