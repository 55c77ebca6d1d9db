import PGAdviseCore
import Testing
@testable import PGAdviseSQL

@Suite struct SchemaLoaderTests {
    static let ddl = """
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE TABLE users (
        id bigserial PRIMARY KEY,
        email varchar(255) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE app.orders (
        id bigint GENERATED ALWAYS AS IDENTITY,
        user_id bigint NOT NULL REFERENCES users,
        tenant_id int,
        total numeric(12,2),
        CONSTRAINT orders_pk PRIMARY KEY (id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES tenants_users (tenant_id, user_id)
    );
    CREATE INDEX orders_created ON app.orders USING brin (id);
    CREATE UNIQUE INDEX CONCURRENTLY ON users (lower(email)) INCLUDE (id) WHERE created_at > '2020-01-01';
    CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
    ALTER TABLE app.orders ADD COLUMN note text, ADD CONSTRAINT orders_note_key UNIQUE (note);
    ALTER TABLE ONLY app.orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
    DROP INDEX app.orders_created;
    INSERT INTO users (email) VALUES ('x');
    """

    @Test func buildsTablesColumnsConstraintsAndIndexes() throws {
        var loader = SchemaLoader()
        try loader.load(sql: Self.ddl, file: "schema.sql").get()
        let catalog = loader.catalog
        #expect(catalog.extensions.keys.sorted() == ["pg_trgm"])
        let users = try #require(catalog.table(QualifiedName("users")))
        #expect(users.columns.map(\.name) == ["id", "email", "created_at"])
        #expect(users.columns.map(\.type) == ["bigint", "character varying(255)", "timestamp with time zone"])
        #expect(users.columns.map(\.notNull) == [true, true, true])
        #expect(users.primaryKey == ["id"])
        #expect(users.uniqueConstraints == [["email"]])
        #expect(users.indexes.map(\.name) == ["users_pkey", "users_email_key", "users_lower_idx", "users_email_trgm"])
        let expression = users.indexes[2]
        #expect(expression.keys == [Index.Key(expression: "lower(email)")])
        #expect(expression.include == ["id"])
        #expect(expression.predicate == "created_at > '2020-01-01'")
        #expect(expression.unique)
        #expect(users.indexes[3].method == "gin")
        #expect(users.indexes[3].keys == [Index.Key(column: "email", opclass: "gin_trgm_ops")])

        let orders = try #require(catalog.table(QualifiedName(schema: "app", "orders")))
        #expect(orders.primaryKey == ["id"])
        #expect(orders.columns.map(\.name) == ["id", "user_id", "tenant_id", "total", "note"])
        #expect(orders.columns[3].type == "numeric(12,2)")
        #expect(orders.foreignKeys.map(\.name) == ["orders_user_id_fkey", "orders_tenant_id_user_id_fkey", "orders_user_fk"])
        #expect(orders.foreignKeys[0].referencedColumns == ["id"])
        #expect(orders.foreignKeys[1].columns == ["tenant_id", "user_id"])
        #expect(orders.indexes.map(\.name) == ["orders_pk", "orders_note_key"])
        #expect(loader.location(ofConstraint: "orders_user_fk", on: orders.name) == SchemaLocation(file: "schema.sql", line: 19, column: 33))
        #expect(loader.location(ofIndex: "users_email_trgm", on: users.name) == SchemaLocation(file: "schema.sql", line: 17, column: 1))
    }

    @Test func collatedKeysAreNotPlainColumns() throws {
        var loader = SchemaLoader()
        try loader.load(sql: """
            CREATE TABLE t (name text, code text);
            CREATE INDEX t_name_c ON t (name COLLATE "C");
            CREATE INDEX t_code ON t (code DESC);
            """, file: "t.sql").get()
        let indexes = try #require(loader.catalog.table(QualifiedName("t"))).indexes
        #expect(indexes[0].keys == [Index.Key(expression: "name COLLATE \"C\"")])
        #expect(indexes[0].leadingColumns.isEmpty)
        #expect(indexes[1].keys == [Index.Key(column: "code", descending: true)])
    }

    @Test func unparsableSchemaIsAnError() {
        var loader = SchemaLoader()
        guard case let .failure(error) = loader.load(sql: "CREATE TABLE (", file: "x.sql") else {
            Issue.record("expected a parse error")
            return
        }
        #expect(error.message.contains("syntax error"))
        #expect(loader.catalog.tables.isEmpty)
    }

    @Test func lineIndexCountsCharacters() {
        let index = LineIndex("ab\nçd\n\nx")
        #expect(index.lineAndColumn(ofByteOffset: 0) == (1, 1))
        #expect(index.lineAndColumn(ofByteOffset: 6) == (2, 3))
        #expect(index.lineAndColumn(ofByteOffset: 8) == (4, 1))
    }
}
