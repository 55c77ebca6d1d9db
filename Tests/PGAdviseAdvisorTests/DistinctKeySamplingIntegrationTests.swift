import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Two strongly correlated columns: 2,000 values of `a`, 30 of `b` for each, 60,000 (a, b) pairs of
/// 4 rows each among 240,000 rows. `b` alone has only 210 values, so neither the column statistics'
/// product (240,000 keys: no deduplication) nor the larger column (2,000 keys) gives the size.
/// `sorted_pairs` holds the same rows in key order, each pair's copies on one page, where a block
/// sample counted by rows would see every pair repeated. `counted_pairs` has extended statistics on
/// (a, b), which are used instead of a sample.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct DistinctKeySamplingIntegrationTests {
    static let schema = """
        CREATE EXTENSION hypopg;
        CREATE TABLE pairs (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, payload text NOT NULL);
        INSERT INTO pairs SELECT i, i % 2000, ((i / 2000) % 30) * 1000 + (i % 2000) % 7, 'row ' || i
          FROM generate_series(1, 240000) i;
        CREATE TABLE sorted_pairs AS SELECT * FROM pairs ORDER BY a, b;
        CREATE TABLE counted_pairs AS SELECT * FROM pairs;
        CREATE STATISTICS counted_pairs_a_b (ndistinct) ON a, b FROM counted_pairs;
        """

    static let seeded: Result<String, Error> = Result { try seededDatabase("pgadvise_distinct_key_sampling", schema: schema) }

    static let pairs = QualifiedName(schema: "public", "pairs")

    /// The size of the index on (a, b) once built, in a transaction that is rolled back.
    static func builtSize(dsn: String, table: String = "pairs") throws -> Int64 {
        let admin = try PostgresConnection(conninfo: dsn, options: SessionOptions(statementTimeoutMs: 60_000, readOnly: false))
        try admin.execute("BEGIN")
        defer { _ = try? admin.execute("ROLLBACK") }
        try admin.execute("CREATE INDEX pairs_a_b_built ON \(quoteIdentifier(table)) (a, b)")
        return try admin.query("SELECT pg_relation_size('pairs_a_b_built') AS bytes").records.first?.int("bytes") ?? 0
    }

    @Test(arguments: ["pairs", "sorted_pairs"])
    func theSampledEstimateIsNearTheBuiltSizeAndTheIndependentOneIsNot(tableName: String) throws {
        let dsn = try Self.seeded.get()
        let connection = try PostgresConnection(conninfo: dsn)
        let catalog = try CatalogCollector(connection: connection).collect()
        let name = QualifiedName(schema: "public", tableName)
        let table = try #require(catalog.table(name))
        let rows = try #require(table.rowEstimate)
        let ab = IndexCandidate(table: name, keys: [.column("a"), .column("b")])

        let set = KeyColumnSet(table: name, columns: ["b", "a"])
        #expect(SizeEstimator().columnSetsWorthSampling([ab], catalog: catalog) == [set])
        let sample = try DistinctKeySampler(connection: connection).sample(
            table: name, columns: set.columns,
            percent: DistinctKeySampler.samplePercent(rows: rows, bytes: try #require(table.sizeBytes)))
        let distinct = try #require(sample.estimatedDistinct(totalRows: rows))
        #expect(abs(distinct - 60_000) < 6_000, "sample \(sample) estimated \(distinct) pairs")

        let built = Double(try Self.builtSize(dsn: dsn, table: tableName))
        let sampled = Double(SizeEstimator(distinctKeyCounts: [set: DistinctKeyCount(distinct, from: .sample)]).estimate(ab, table: table))
        let independent = Double(SizeEstimator().estimate(ab, table: table))
        #expect(abs(sampled - built) < 0.25 * built, "sampled \(sampled) bytes, built \(built)")
        #expect(abs(independent - built) > 0.25 * built, "independent \(independent) bytes, built \(built)")
    }

    /// Index advice for a workload of (a, b) lookups in `table`, and the catalog it was given.
    static func adviceForPairLookups(in table: String, conninfo: String) throws -> (IndexAdvice, Catalog) {
        let connection = try PostgresConnection(conninfo: conninfo, options: SessionOptions(statementTimeoutMs: 60_000))
        let catalog = try CatalogCollector(connection: connection).collect()
        let workload = Workload(source: .pgStatStatements, queries: [
            statement("SELECT id FROM \(quoteIdentifier(table)) WHERE a = $1 AND b = $2", calls: 10_000),
        ])
        let options = IndexAdvisorOptions(budgetBytes: 64 << 20)
        return (try IndexAdvisor(connection: connection, catalog: catalog, options: options).advise(workload), catalog)
    }

    @Test(arguments: [("pairs", "pg_stats+sample"), ("counted_pairs", "pg_stats_ext")])
    func theAdvisorCountsTheKeysAndSaysHow(tableName: String, source: String) throws {
        let dsn = try Self.seeded.get()
        let (advice, _) = try Self.adviceForPairLookups(in: tableName, conninfo: dsn)
        let recommendation = try #require(advice.recommendations.first, "no recommendation; notes: \(advice.notes)")
        #expect(advice.recommendations.count == 1)
        #expect(Set(recommendation.columns) == ["a", "b"])
        #expect(recommendation.sizeSource == source)
        let built = Double(try Self.builtSize(dsn: dsn, table: tableName))
        #expect(abs(Double(recommendation.sizeBytes) - built) < 0.25 * built, "estimated \(recommendation.sizeBytes), built \(built)")
    }

    @Test func aSampleThatFailsLeavesTheIndependentEstimateAndANote() throws {
        let dsn = try Self.seeded.get()
        // Column privileges let a role plan and read pg_stats for (id, a, b) but not read ctid,
        // which the sample counts pages by.
        let role = "pgadvise_sizes_column_reader"
        let admin = try TestDatabase.adminConnection(database: "pgadvise_distinct_key_sampling")
        if try admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]).isEmpty {
            try admin.execute("CREATE ROLE \(quoteIdentifier(role)) LOGIN")
        }
        try admin.execute("GRANT SELECT (id, a, b) ON pairs TO \(quoteIdentifier(role))")
        let (advice, catalog) = try Self.adviceForPairLookups(in: "pairs", conninfo: "\(dsn) user=\(role)")
        let recommendation = try #require(advice.recommendations.first, "no recommendation; notes: \(advice.notes)")
        #expect(recommendation.sizeSource == "pg_stats")
        let table = try #require(catalog.table(Self.pairs))
        let candidate = IndexCandidate(table: Self.pairs, keys: recommendation.columns.map { .column($0) })
        #expect(recommendation.sizeBytes == SizeEstimator().estimate(candidate, table: table))
        #expect(advice.notes.contains("Could not count distinct key combinations in a sample for 1 column set (public.pairs (a, b): "
                                      + "permission denied for table pairs); its size estimate assumes independent columns and "
                                      + "may be too large."), "\(advice.notes)")
    }

    @Test func extendedStatisticsAreReadForEveryColumnCombination() throws {
        let dsn = try Self.seeded.get()
        let counts = try DistinctKeySampler(connection: try PostgresConnection(conninfo: dsn)).extendedStatisticsDistinct()
        #expect(counts.map { "\($0.table) \($0.columns)" } == ["public.counted_pairs [\"a\", \"b\"]"])
        #expect(abs((counts.first?.distinct ?? 0) - 60_000) < 6_000)
    }
}
