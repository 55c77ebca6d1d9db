import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Every shape of index the catalog query takes apart position by position: expression and
/// partial keys, INCLUDE columns, several keys with DESC and NULLS FIRST bits, a non-default
/// operator class, hash and GiST methods, unique and exclusion constraints, and a partitioned
/// table whose parent indexes have no size and no scan counter of their own.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct CatalogIndexShapesTests {
    static let prepared: Result<String, Error> = Result {
        try TestDatabase.freshDatabase("pgadvise_catalog_index_shapes", setupSQL: """
            CREATE TABLE events (id int NOT NULL, kind text, body text, at timestamptz, area box,
                CONSTRAINT events_kind_at_key UNIQUE (kind, at),
                CONSTRAINT events_no_overlap EXCLUDE USING gist (area WITH &&));
            CREATE INDEX events_multi ON events (kind DESC NULLS LAST, at NULLS FIRST, id);
            CREATE INDEX events_pattern ON events (body text_pattern_ops) INCLUDE (id, at);
            CREATE INDEX events_expr_partial ON events ((kind || ':' || body), lower(body) DESC) WHERE at IS NOT NULL;
            CREATE INDEX events_hash ON events USING hash (kind);
            CREATE TABLE metrics (id int, day date NOT NULL, v int, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
            CREATE TABLE metrics_2026 PARTITION OF metrics FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE INDEX metrics_v ON metrics (v DESC) WHERE v > 0;
            CREATE TABLE plain_log (line text);
            """)
    }

    func catalog() throws -> Catalog {
        try CatalogCollector(connection: PostgresConnection(conninfo: try Self.prepared.get())).collect()
    }

    /// The indexes without their sizes (which depend on the access method's page layout), after
    /// checking that a partitioned parent's index is 0 bytes and every other one has pages.
    func indexesWithoutSizes(_ table: String, _ catalog: Catalog) throws -> [Index] {
        let indexes = try #require(catalog.table(QualifiedName(table))).indexes
        for index in indexes {
            #expect(table == "metrics" ? index.sizeBytes == 0 : (index.sizeBytes ?? 0) > 0, "\(index.name)")
        }
        return indexes.map { var index = $0; index.sizeBytes = nil; return index }
    }

    @Test func everyIndexShapeReadsBackExactly() throws {
        let catalog = try catalog()
        let events = QualifiedName(schema: "public", "events")
        #expect(try indexesWithoutSizes("events", catalog) == [
            Index(name: "events_expr_partial", table: events,
                  keys: [Index.Key(expression: "((kind || ':'::text) || body)"), Index.Key(expression: "lower(body)", descending: true)],
                  predicate: "at IS NOT NULL",
                  definition: "CREATE INDEX events_expr_partial ON public.events USING btree ((((kind || ':'::text) || body)), lower(body) DESC) WHERE (at IS NOT NULL)",
                  scans: 0),
            Index(name: "events_hash", table: events, method: "hash", keys: [Index.Key(column: "kind")],
                  definition: "CREATE INDEX events_hash ON public.events USING hash (kind)", scans: 0),
            Index(name: "events_kind_at_key", table: events, keys: [Index.Key(column: "kind"), Index.Key(column: "at")],
                  unique: true, constraintName: "events_kind_at_key",
                  definition: "CREATE UNIQUE INDEX events_kind_at_key ON public.events USING btree (kind, at)", scans: 0),
            Index(name: "events_multi", table: events,
                  keys: [Index.Key(column: "kind", descending: true), Index.Key(column: "at"), Index.Key(column: "id")],
                  definition: "CREATE INDEX events_multi ON public.events USING btree (kind DESC NULLS LAST, at NULLS FIRST, id)",
                  scans: 0),
            Index(name: "events_no_overlap", table: events, method: "gist", keys: [Index.Key(column: "area")],
                  constraintName: "events_no_overlap",
                  definition: "CREATE INDEX events_no_overlap ON public.events USING gist (area)", scans: 0),
            Index(name: "events_pattern", table: events, keys: [Index.Key(column: "body", opclass: "text_pattern_ops")],
                  include: ["id", "at"],
                  definition: "CREATE INDEX events_pattern ON public.events USING btree (body text_pattern_ops) INCLUDE (id, at)",
                  scans: 0),
        ])
    }

    @Test func partitionedParentAndPartitionIndexes() throws {
        let catalog = try catalog()
        let parent = QualifiedName(schema: "public", "metrics"), partition = QualifiedName(schema: "public", "metrics_2026")
        #expect(try indexesWithoutSizes("metrics", catalog) == [
            Index(name: "metrics_pkey", table: parent, keys: [Index.Key(column: "id"), Index.Key(column: "day")],
                  unique: true, primary: true, constraintName: "metrics_pkey",
                  definition: "CREATE UNIQUE INDEX metrics_pkey ON ONLY public.metrics USING btree (id, day)"),
            Index(name: "metrics_v", table: parent, keys: [Index.Key(column: "v", descending: true)], predicate: "v > 0",
                  definition: "CREATE INDEX metrics_v ON ONLY public.metrics USING btree (v DESC) WHERE (v > 0)"),
        ])
        #expect(try indexesWithoutSizes("metrics_2026", catalog) == [
            Index(name: "metrics_2026_pkey", table: partition, keys: [Index.Key(column: "id"), Index.Key(column: "day")],
                  unique: true, primary: true, constraintName: "metrics_2026_pkey",
                  definition: "CREATE UNIQUE INDEX metrics_2026_pkey ON public.metrics_2026 USING btree (id, day)", scans: 0),
            Index(name: "metrics_2026_v_idx", table: partition, keys: [Index.Key(column: "v", descending: true)],
                  predicate: "v > 0",
                  definition: "CREATE INDEX metrics_2026_v_idx ON public.metrics_2026 USING btree (v DESC) WHERE (v > 0)",
                  scans: 0),
        ])
    }

    /// pg_stat_all_tables' index counters are sums over the table's indexes; a table without one
    /// still has the table's own counters.
    @Test func tableUsageWithAndWithoutIndexes() throws {
        let catalog = try catalog()
        let plain = try #require(catalog.table(QualifiedName("plain_log"))?.usage)
        #expect(plain.indexScans == 0 && plain.indexTuplesFetched == 0 && plain.seqScans == 0)
        #expect(catalog.table(QualifiedName("events"))?.usage?.indexScans == 0)
        #expect(catalog.table(QualifiedName("metrics"))?.usage?.indexScans == 0)
    }
}
