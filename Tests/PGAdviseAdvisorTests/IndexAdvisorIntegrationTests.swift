import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A schema where each kind of index has exactly one statement that needs it, and an existing index
/// that must suppress a duplicate. Sizes are chosen so that every table is large enough for the
/// planner to prefer an index (and `events` large enough for BRIN).
let seededSchema = """
    CREATE EXTENSION hypopg;
    CREATE EXTENSION pg_trgm;
    CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, country text NOT NULL);
    INSERT INTO customers SELECT i, 'User' || i || '@Example.com', 'name ' || i, (ARRAY['fr','de','us','jp'])[1 + i % 4]
      FROM generate_series(1, 100000) i;
    CREATE INDEX customers_name_idx ON customers (name);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, status text NOT NULL,
                         created_at timestamptz NOT NULL, total numeric(10,2) NOT NULL, note text);
    INSERT INTO orders SELECT i, 1 + (i::bigint * 7919) % 1000,
        CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 5 = 0 THEN 'delivered' ELSE 'shipped' END,
        timestamptz '2024-01-01' + ((i::bigint * 104729) % 300000) * interval '1 minute', (i % 1000) / 10.0, repeat('x', 40)
      FROM generate_series(1, 400000) i;
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    CREATE TABLE products (id int PRIMARY KEY, sku text NOT NULL, tags text[] NOT NULL, attrs jsonb NOT NULL, description text NOT NULL);
    INSERT INTO products SELECT i, 'SKU-' || i, ARRAY['t' || (i % 97), 't' || (i % 89)],
        jsonb_build_object('color', 'c' || (i % 53), 'size', i % 7), md5(i::text) || ' ' || md5((i * 3)::text)
      FROM generate_series(1, 100000) i;
    CREATE TABLE events (id bigint, recorded_at timestamptz NOT NULL, value float8 NOT NULL);
    INSERT INTO events SELECT i, timestamptz '2024-01-01' + i * interval '1 second', i % 100
      FROM generate_series(1, 1000000) i;
    """

/// Creates database `name` from `schema`, then sets the visibility map and statistics (VACUUM cannot
/// run inside the implicit transaction of a multi-statement script) and clears the write counters the
/// load left, as a real workload's counters would not include a bulk load.
func seededDatabase(_ name: String, schema: String) throws -> String {
    let dsn = try TestDatabase.freshDatabase(name, setupSQL: schema)
    let db = try TestDatabase.adminConnection(database: name)
    try db.execute("VACUUM ANALYZE")
    // Index-only scans (and so covering proposals) need an all-visible map; a transaction of another
    // suite running at the same moment can keep VACUUM from setting it, so vacuum until it holds.
    for _ in 0..<10 {
        let pending = try db.query("SELECT count(*) AS n FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
                                   + "AND relallvisible < relpages").records.first?.int("n") ?? 0
        if pending == 0 { break }
        Thread.sleep(forTimeInterval: 1)
        try db.execute("VACUUM")
    }
    // The loading backend flushes its counters when it exits, which can land after a reset.
    for _ in 0..<20 {
        try db.query("SELECT pg_stat_reset()")
        Thread.sleep(forTimeInterval: 0.2)
        let written = try db.query("SELECT coalesce(sum(n_tup_ins), 0) AS n FROM pg_stat_user_tables").records.first?.int("n") ?? 0
        if written == 0 { break }
    }
    return dsn
}

/// One workload statement: normalized text, calls, and (for literal values) the logged sample.
func statement(_ normalized: String, calls: Int, sample: String? = nil) -> QueryStats {
    QueryStats(fingerprint: String(format: "%016llx", UInt64(bitPattern: Int64(normalized.hashValue))), normalized: normalized,
               calls: calls, totalMs: Double(calls), slowest: sample.map { QuerySample(text: $0) })
}

let traceIndexTests = ProcessInfo.processInfo.environment["PGADVISE_TRACE"] == "index"

/// What a test compares: the recommendation's identity as a DBA reads it.
struct Proposed: Hashable, CustomStringConvertible {
    var kind: IndexKind
    var table: String
    var columns: [String]
    var include: [String] = []
    var predicate: String? = nil
    var description: String { "\(kind.rawValue) \(table)(\(columns.joined(separator: ", "))) include \(include) where \(predicate ?? "-")" }
}

func proposed(_ advice: IndexAdvice) -> Set<Proposed> {
    Set(advice.recommendations.map { Proposed(kind: $0.kind, table: $0.table, columns: $0.columns, include: $0.include, predicate: $0.predicate) })
}

@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexAdvisorIntegrationTests {
    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_index_kinds", schema: seededSchema) }

    static let workload = Workload(source: .pgStatStatements, queries: [
        statement("SELECT id, country FROM customers WHERE name = $1", calls: 5000),
        statement("SELECT id FROM customers WHERE lower(email) = $1", calls: 5000),
        statement("SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10", calls: 20000),
        statement("SELECT * FROM orders WHERE status = $1 ORDER BY created_at LIMIT 50", calls: 5000,
                  sample: "SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50"),
        statement("SELECT customer_id, sum(total) FROM orders WHERE created_at >= $1 AND created_at < $2 GROUP BY customer_id",
                  calls: 2000),
        statement("SELECT id, description FROM products WHERE sku = $1", calls: 5000),
        statement("SELECT id FROM products WHERE attrs @> $1", calls: 500),
        statement("SELECT id FROM products WHERE tags && $1", calls: 500),
        statement("SELECT id FROM products WHERE description LIKE $1", calls: 500,
                  sample: "SELECT id FROM products WHERE description LIKE '%abcde%'"),
        statement("SELECT avg(value) FROM events WHERE recorded_at >= $1 AND recorded_at < $2", calls: 1000),
    ])

    func advise(_ workload: Workload, options: IndexAdvisorOptions = IndexAdvisorOptions()) throws -> IndexAdvice {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: !options.measure))
        let catalog = try CatalogCollector(connection: connection).collect()
        return try IndexAdvisor(connection: connection, catalog: catalog, options: options).advise(workload)
    }

    /// HypoPG cannot cost GIN: a measured GIN proposal must stay out of the workload's estimate too.
    @Test func aMeasuredGINProposalIsVerifiedAndLeftOutOfTheEstimate() throws {
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id, description FROM products WHERE sku = $1", calls: 5000),
            statement("SELECT id FROM products WHERE tags && $1", calls: 500,
                      sample: "SELECT id FROM products WHERE tags && ARRAY['t5']"),
        ])
        let advice = try advise(workload, options: IndexAdvisorOptions(budgetBytes: 64 << 20, measure: true, measureRuns: 1))
        let gin = try #require(advice.recommendations.first { $0.method == "gin" })
        #expect(gin.ddl == "CREATE INDEX CONCURRENTLY products_tags_gin ON public.products USING gin (tags)")
        #expect(gin.verified == true)
        #expect(gin.measured.map { $0.afterMs < $0.beforeMs } == true)
        let after = try #require(advice.workloadCostAfter), before = try #require(advice.workloadCostBefore)
        #expect(after < before)
    }

    /// A GIN proposal that does not fit is listed with what it needs, as a B-tree would be.
    @Test func aGINProposalOverTheBudgetIsListedAsLeftOut() throws {
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id FROM products WHERE tags && $1", calls: 500, sample: "SELECT id FROM products WHERE tags && ARRAY['t5']"),
        ])
        let advice = try advise(workload, options: IndexAdvisorOptions(budgetBytes: 8192))
        #expect(advice.recommendations.isEmpty)
        let gin = try #require(advice.rejected.first { $0.definition == "CREATE INDEX ON public.products USING gin (tags)" })
        #expect(gin.gate == "budget" && gin.budgetLeftBytes == 8192 && gin.sizeBytes > 8192)
        #expect(gin.reason.hasSuffix("of the budget is left (a GIN index: HypoPG cannot cost it, so it gets what the costed "
                                     + "indexes leave, after at most half the budget set aside for GIN)"))
    }

    @Test func recommendsEachKindExactlyOnce() throws {
        let advice = try advise(Self.workload, options: IndexAdvisorOptions(budgetBytes: 64 << 20))
        if traceIndexTests { print(String(decoding: try JSONEncoder().encode(advice), as: UTF8.self)) }
        let expected: Set<Proposed> = [
            Proposed(kind: .expression, table: "public.customers", columns: ["(lower(email))"]),
            Proposed(kind: .multicolumn, table: "public.orders", columns: ["customer_id", "created_at DESC"]),
            Proposed(kind: .partial, table: "public.orders", columns: ["created_at"], predicate: "status = 'pending'"),
            Proposed(kind: .covering, table: "public.orders", columns: ["created_at"], include: ["customer_id", "total"]),
            Proposed(kind: .btree, table: "public.products", columns: ["sku"]),
            Proposed(kind: .gin, table: "public.products", columns: ["attrs"]),
            Proposed(kind: .gin, table: "public.products", columns: ["tags"]),
            Proposed(kind: .gin, table: "public.products", columns: ["description gin_trgm_ops"]),
            Proposed(kind: .brin, table: "public.events", columns: ["recorded_at"]),
        ]
        #expect(proposed(advice) == expected, "\(proposed(advice).map(\.description).sorted())")
        // customers(name) exists: nothing for `WHERE name = $1`; orders(customer_id) is now a prefix of
        // the recommended multicolumn index, so it is reported redundant.
        #expect(advice.redundant.map(\.index) == ["orders_customer_id_idx"])
        #expect(advice.redundant.first?.ddl == "DROP INDEX CONCURRENTLY public.orders_customer_id_idx")
        let multicolumn = advice.recommendations.first { $0.kind == .multicolumn }
        #expect(multicolumn?.ddl == "CREATE INDEX CONCURRENTLY orders_customer_id_created_at_idx ON public.orders (customer_id, created_at DESC)")
        #expect(multicolumn?.verified == true)
        for rec in advice.recommendations where rec.method == "gin" {
            #expect(rec.verified == false)
            #expect(rec.estimatedCostAfter == nil)
        }
        for rec in advice.recommendations where rec.method != "gin" {
            let before = try #require(rec.estimatedCostBefore), after = try #require(rec.estimatedCostAfter)
            #expect(after <= before * 0.8, "\(rec.name): \(before) -> \(after)")
            #expect(!rec.statements.isEmpty)
        }
    }
}

/// `--measure` against real executions: `stale` has statistics from before every row's `code` was set
/// to 1, so HypoPG believes an index on `code` finds one row, while measurement (which ANALYZEs after
/// building) finds that it reads every row either way.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexMeasurementIntegrationTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE stale (id int PRIMARY KEY, code int NOT NULL, payload text NOT NULL) WITH (autovacuum_enabled = off);
        INSERT INTO stale SELECT i, i, repeat('p', 60) FROM generate_series(1, 200000) i;
        CREATE TABLE accounts (id int PRIMARY KEY, login text NOT NULL, balance int NOT NULL);
        INSERT INTO accounts SELECT i, 'login' || i, i % 1000 FROM generate_series(1, 200000) i;
        """

    static let seeded: Result<String, Error> = Result {
        let dsn = try seededDatabase("pgadvise_index_measure", schema: schema)
        let db = try TestDatabase.adminConnection(database: "pgadvise_index_measure")
        try db.execute("UPDATE stale SET code = 1")
        return dsn
    }

    @Test func measurementKeepsTheRealGainWithdrawsTheUselessIndexAndRollsBack() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: false))
        let indexesBefore = try connection.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1").rows
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id, payload FROM stale WHERE code = $1", calls: 10000,
                      sample: "SELECT id, payload FROM stale WHERE code = 1"),
            statement("SELECT id, balance FROM accounts WHERE login = $1", calls: 10000),
            // A logged "sample" that is really two statements must never reach the server as such.
            statement("SELECT id FROM accounts WHERE balance = $1", calls: 1,
                      sample: "SELECT id FROM accounts WHERE balance = 1; DROP TABLE accounts"),
        ])
        let advice = try IndexAdvisor(connection: connection, catalog: catalog,
                                      options: IndexAdvisorOptions(maxColumns: 1, measure: true, measureRuns: 3)).advise(workload)
        if traceIndexTests { print(String(decoding: try JSONEncoder().encode(advice), as: UTF8.self)) }

        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY accounts_login_idx ON public.accounts (login)"])
        let kept = try #require(advice.recommendations.first?.measured)
        #expect(kept.runs == 3)
        #expect(kept.afterMs < kept.beforeMs * 0.9)
        #expect(kept.afterBuffers < kept.beforeBuffers)
        #expect(advice.recommendations.first?.statements.first?.measured?.parameters.count == 1)

        #expect(advice.withdrawn.map(\.recommendation.name) == ["stale_code_idx"])
        let withdrawn = try #require(advice.withdrawn.first)
        #expect(withdrawn.reason.hasPrefix("not used"), "\(withdrawn.reason)")
        #expect(withdrawn.recommendation.measured != nil)
        #expect(advice.notes.contains { $0.contains("meant for a staging copy") })

        // Every index was built inside a transaction that was rolled back.
        let indexesAfter = try connection.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1").rows
        #expect(indexesAfter == indexesBefore)
        #expect(try connection.query("SELECT to_regclass('public.accounts') IS NOT NULL AS present").records.first?.bool("present") == true)
    }

    /// A budget that holds either index but not both: the search first takes `stale (code)` (more
    /// estimated gain per byte); measurement withdraws it, and the budget it leaves goes to the next best.
    @Test func aWithdrawnIndexLeavesItsBudgetToTheNextBest() throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 120_000, readOnly: false))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id, payload FROM stale WHERE code = $1", calls: 10000,
                      sample: "SELECT id, payload FROM stale WHERE code = 1"),
            statement("SELECT id, balance FROM accounts WHERE login = $1", calls: 10000),
        ])
        let unlimited = try IndexAdvisor(connection: connection, catalog: catalog,
                                         options: IndexAdvisorOptions(maxColumns: 1)).advise(workload)
        let sizes = unlimited.recommendations.map(\.sizeBytes)
        try #require(sizes.count == 2)
        let budget = try #require(sizes.max())
        let estimated = try IndexAdvisor(connection: connection, catalog: catalog,
                                         options: IndexAdvisorOptions(budgetBytes: budget, maxColumns: 1)).advise(workload)
        try #require(estimated.recommendations.map(\.name) == ["stale_code_idx"])

        let measured = try IndexAdvisor(connection: connection, catalog: catalog, options: IndexAdvisorOptions(
            budgetBytes: budget, maxColumns: 1, measure: true, measureRuns: 1)).advise(workload)
        #expect(measured.withdrawn.map(\.recommendation.name) == ["stale_code_idx"])
        #expect(measured.recommendations.map(\.name) == ["accounts_login_idx"])
        #expect(measured.recommendations.first?.verified == true)
        #expect(measured.notes.contains("Selection round 2 ran without the 1 withdrawn index (--measure)."))
    }
}
