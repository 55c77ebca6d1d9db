import PGAdviseCore
import PGAdviseSQL

/// A foreign key whose columns lead no index on the referencing table.
public struct MissingForeignKeyIndexRule: CatalogRule {
    public static let description = RuleDescription(
        id: "missing-fk-index", severity: .warning, category: .schema,
        summary: "A foreign key has no index on its referencing columns.",
        rationale: """
        PostgreSQL indexes the referenced key (it must be unique) but not the referencing columns. Every \
        DELETE of a parent row, and every UPDATE of its key, must find the child rows: without an index \
        that is a sequential scan of the child table per parent row, under a lock. Joins from parent to \
        child miss the index too. An index counts when the key's columns, in any order, are its leading \
        columns (composite keys included); partial and invalid indexes do not count.
        """,
        solution: "Create an index whose leading columns are the foreign key's columns.",
        scope: .catalog,
        triggering: [
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY);
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint ↓REFERENCES users (id));
            """),
            Example("""
            CREATE TABLE tenants_users (tenant_id int, user_id bigint, PRIMARY KEY (tenant_id, user_id));
            CREATE TABLE posts (id bigint PRIMARY KEY, tenant_id int, user_id bigint);
            CREATE INDEX posts_user_id_idx ON posts (user_id);
            ALTER TABLE posts ADD ↓CONSTRAINT posts_author_fk FOREIGN KEY (tenant_id, user_id) REFERENCES tenants_users;
            """),
        ],
        nonTriggering: [
            Example("""
            CREATE TABLE users (id bigint PRIMARY KEY);
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));
            CREATE INDEX orders_user_id_created_idx ON orders (user_id, id);
            """),
            Example("""
            CREATE TABLE tenants_users (tenant_id int, user_id bigint, PRIMARY KEY (tenant_id, user_id));
            CREATE TABLE memberships (user_id bigint, tenant_id int, role text, PRIMARY KEY (user_id, tenant_id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES tenants_users);
            """),
        ])

    public init() {}

    public func check(_ catalog: Catalog) -> [Violation] {
        var out: [Violation] = []
        for table in catalog.tables {
            for key in table.foreignKeys where !isCovered(key, in: table) {
                let columns = key.columns.map(quoteIdentifierIfNeeded).joined(separator: ", ")
                out.append(Violation(
                    message: "Foreign key \(key.name) (\(columns)) on \(table.name) has no index starting with its "
                        + "columns: each delete or key update in \(key.referencedTable) scans \(table.name) for "
                        + "referencing rows.",
                    evidence: "FOREIGN KEY (\(columns)) REFERENCES \(key.referencedTable)",
                    fix: createIndexSQL(on: table.name, keys: columns),
                    table: table.name.description, constraint: key.name))
            }
        }
        return out
    }

    func isCovered(_ key: ForeignKey, in table: Table) -> Bool {
        let wanted = Set(key.columns)
        return table.indexes.contains { index in
            guard index.valid, index.predicate == nil, index.method == "btree" || (index.method == "hash" && wanted.count == 1) else {
                return false
            }
            let leading = index.leadingColumns
            return leading.count >= wanted.count && Set(leading.prefix(wanted.count)) == wanted
        }
    }
}
