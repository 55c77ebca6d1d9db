import PGAdviseCore
import PGAdviseSQL

/// An index another index on the same table already makes unnecessary.
public struct DuplicateIndexRule: CatalogRule {
    public static let description = RuleDescription(
        id: "duplicate-index", severity: .warning, category: .schema,
        summary: "An index duplicates another, or is a prefix of another, on the same table.",
        rationale: """
        Every index is written on each insert and on each update of its columns, takes space in memory \
        and in backups, and is one more choice for the planner. An index with the same definition as \
        another (same method, keys, operator classes, order and predicate), or whose keys are the leading \
        keys of another B-tree with the same predicate, serves no query the other does not. A unique \
        index is kept unless another unique index has the same keys, since it enforces a constraint.
        """,
        solution: "Drop the redundant index (after checking that no constraint or hint relies on its name).",
        scope: .catalog,
        triggering: [
            Example("""
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, created_at timestamptz);
            CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at);
            ↓CREATE INDEX orders_user_id_idx ON orders (user_id);
            """),
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY, email text);
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));
            ↓CREATE INDEX users_lower_email_idx ON users (LOWER(email));
            """),
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY, email text);
            ↓CREATE UNIQUE INDEX users_id_uniq ON users (id);
            """),
        ],
        nonTriggering: [
            Example("""
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, created_at timestamptz);
            CREATE INDEX orders_created_at_user_id_idx ON orders (created_at, user_id);
            CREATE INDEX orders_user_id_idx ON orders (user_id);
            """),
            Example("""
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text);
            CREATE INDEX orders_user_id_idx ON orders (user_id);
            CREATE INDEX orders_open_user_id_idx ON orders (user_id, status) WHERE status = 'open';
            """),
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);
            CREATE UNIQUE INDEX users_email_key ON users (email);
            CREATE INDEX users_email_name_idx ON users (email, name);
            """),
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY, name text);
            CREATE INDEX users_name_idx ON users (name);
            CREATE INDEX users_name_c_idx ON users (name COLLATE "C");
            """),
            Example("""
            CREATE TABLE docs (id bigint PRIMARY KEY, body jsonb);
            CREATE INDEX docs_body_idx ON docs USING gin (body);
            CREATE INDEX docs_body_path_idx ON docs USING gin (body jsonb_path_ops);
            """),
        ])

    public init() {}

    public func check(_ catalog: Catalog) -> [Violation] {
        var out: [Violation] = []
        for table in catalog.tables {
            let indexes = table.indexes.filter(\.valid)
            for (i, candidate) in indexes.enumerated() {
                // The first index (in definition order) that makes this one redundant; of two identical
                // indexes, the later one (or the one backing no constraint) is reported.
                let keeper = indexes.enumerated().first { j, other in
                    guard i != j, isRedundant(candidate, given: other) else { return false }
                    guard isRedundant(other, given: candidate) else { return true }
                    if candidate.primary != other.primary { return other.primary }
                    if (candidate.constraintName == nil) != (other.constraintName == nil) { return candidate.constraintName == nil }
                    return j < i
                }
                guard let keeper = keeper?.element else { continue }
                let sameKeys = candidate.keys.count == keeper.keys.count
                out.append(Violation(
                    message: "Index \(candidate.name) on \(table.name) "
                        + (sameKeys ? "has the same keys as \(keeper.name)" : "is a prefix of \(keeper.name)")
                        + ": every query it serves, \(keeper.name) serves too, while each write maintains both.",
                    evidence: candidate.definition.isEmpty ? nil : candidate.definition,
                    solution: candidate.constraintName.map {
                        "Drop the redundant constraint \($0) (ALTER TABLE ... DROP CONSTRAINT), which drops its index."
                    },
                    fix: candidate.constraintName == nil
                        ? "DROP INDEX CONCURRENTLY \(QualifiedName(schema: table.name.schema, candidate.name));"
                        : "ALTER TABLE \(table.name) DROP CONSTRAINT \(quoteIdentifierIfNeeded(candidate.constraintName ?? ""));",
                    table: table.name.description, index: candidate.name,
                    constraint: candidate.constraintName))
            }
        }
        return out
    }

    /// True when `other` serves every lookup `index` serves and keeps any uniqueness it enforces.
    func isRedundant(_ index: Index, given other: Index) -> Bool {
        guard !index.primary || other.primary, index.method == other.method,
              predicateKey(index.predicate) == predicateKey(other.predicate),
              index.keys.count <= other.keys.count else { return false }
        let mine = index.keys.map(keyIdentity), theirs = other.keys.map(keyIdentity)
        guard Array(theirs.prefix(mine.count)) == mine else { return false }
        if mine.count < theirs.count && index.method != "btree" { return false }
        if index.unique && !(other.unique && mine.count == theirs.count) { return false }
        let covered = Set(other.keys.compactMap(\.column) + other.include)
        return index.include.allSatisfy(covered.contains)
    }

    func keyIdentity(_ key: Index.Key) -> String {
        let expression = key.column.map(quoteIdentifierIfNeeded) ?? key.expression.flatMap(canonicalExpressionKey) ?? key.expression ?? "?"
        return expression + " " + (key.opclass ?? "") + (key.descending ? " DESC" : "")
    }

    func predicateKey(_ predicate: String?) -> String? {
        predicate.map { canonicalExpressionKey($0) ?? $0 }
    }
}
