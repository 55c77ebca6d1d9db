import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import Testing

/// TPC-H SF1 `lineitem` as pg_stats describes it: 6M rows, 200k parts, 10k suppliers, and each part
/// sold by 4 suppliers, so 800k (part, supplier) pairs where independent columns would give 2 billion.
let lineitemTable = Table(name: QualifiedName(schema: "public", "lineitem"), columns: [
    Column(name: "l_orderkey", type: "integer", notNull: true, stats: ColumnStats(averageWidth: 4, nDistinct: 1_500_000)),
    Column(name: "l_linenumber", type: "integer", notNull: true, stats: ColumnStats(averageWidth: 4, nDistinct: 7)),
    Column(name: "l_partkey", type: "integer", notNull: true, stats: ColumnStats(averageWidth: 4, nDistinct: 200_000)),
    Column(name: "l_suppkey", type: "integer", notNull: true, stats: ColumnStats(averageWidth: 4, nDistinct: 10_000)),
    Column(name: "l_returnflag", type: "character(1)", notNull: true, stats: ColumnStats(averageWidth: 2, nDistinct: 3)),
    Column(name: "l_linestatus", type: "character(1)", notNull: true, stats: ColumnStats(averageWidth: 2, nDistinct: 2)),
], primaryKey: ["l_orderkey", "l_linenumber"], rowEstimate: 6_000_000, sizeBytes: 922 << 20)

private let partSupplier = IndexCandidate(table: lineitemTable.name, keys: [.column("l_partkey"), .column("l_suppkey")])
private let partSupplierSet = KeyColumnSet(table: lineitemTable.name, columns: ["l_partkey", "l_suppkey"])

struct SampledSizeEstimateTests {
    @Test func aSampledDistinctCountGivesThePostingListSize() {
        let sampled = SizeEstimator(distinctKeyCounts: [partSupplierSet: DistinctKeyCount(800_000, from: .sample)])
        // 800k keys of 7.5 rows: one posting tuple each, align8(16-byte key part + 7.5 × 6) + 4 = 68 bytes;
        // 54,400,000 bytes over 7,336.8 usable bytes a leaf = 7,415 leaves, + 75 internal + metapage.
        #expect(sampled.estimate(partSupplier, table: lineitemTable) == 7_491 * 8192)
        #expect(sampled.sizeSource(of: partSupplier) == "pg_stats+sample")
        // The same columns in the other order share the count.
        let reversed = IndexCandidate(table: lineitemTable.name, keys: [.column("l_suppkey"), .column("l_partkey")])
        #expect(sampled.estimate(reversed, table: lineitemTable) == 7_491 * 8192)
    }

    @Test func withoutASampleColumnsAreIndependentAndNothingIsDeduplicated() {
        let independent = SizeEstimator()
        // 200k × 10k pairs exceed the rows: 6M plain 20-byte tuples = 16,356 leaves + 164 + 1 (135 MB,
        // where the index builds at 61 MB).
        #expect(independent.estimate(partSupplier, table: lineitemTable) == 16_521 * 8192)
        #expect(independent.sizeSource(of: partSupplier) == "pg_stats")
    }

    @Test func aSampleBelowTheLargestColumnsDistinctCountIsRaisedToIt() {
        // A block sample of key-ordered data under-counts; l_partkey alone has 200k values.
        let low = SizeEstimator(distinctKeyCounts: [partSupplierSet: DistinctKeyCount(50_000, from: .sample)])
        // 200k keys of 30 rows: align8(16 + 180) + 4 = 204 bytes; 40,800,000 bytes = 5,562 leaves + 56 + 1.
        #expect(low.estimate(partSupplier, table: lineitemTable) == 5_619 * 8192)
    }

    @Test func onlyMulticolumnBTreesTheStatisticsLeaveOpenAreSampled() {
        let catalog = Catalog(tables: [lineitemTable])
        let table = lineitemTable.name
        let candidates = [
            partSupplier,
            IndexCandidate(table: table, keys: [.column("l_suppkey"), .column("l_partkey")]),
            // Covering: its full key list is not deduplicated, its two-key prefix is (l_partkey, l_orderkey).
            IndexCandidate(table: table, keys: [.column("l_partkey"), .column("l_orderkey"), .column("l_suppkey")],
                           include: ["l_returnflag"]),
            // Contains the primary key: every combination is unique.
            IndexCandidate(table: table, keys: [.column("l_linenumber"), .column("l_orderkey"), .column("l_returnflag")]),
            // At most 6 combinations among 6M rows: the size is all heap pointers either way.
            IndexCandidate(table: table, keys: [.column("l_returnflag"), .column("l_linestatus")]),
            // A sample of the whole table says nothing about a partial index's rows.
            IndexCandidate(table: table, keys: [.column("l_suppkey"), .column("l_returnflag")],
                           predicate: "l_linestatus = 'O'", predicateRowShare: 0.5),
            IndexCandidate(table: table, keys: [.column("l_suppkey")]),
        ]
        // Widest size spread first: (l_partkey, l_suppkey) may be 46 to 135 MB, (l_orderkey, l_partkey) 74 to 135 MB.
        #expect(SizeEstimator().columnSetsWorthSampling(candidates, catalog: catalog).map(\.description) == [
            "public.lineitem (l_partkey, l_suppkey)",
            "public.lineitem (l_orderkey, l_partkey)",
        ])
    }

    @Test func aUniqueConstraintSettlesTheKeysOnlyOnNotNullColumns() {
        // Most accounts have no external id; the unique constraint allows any number of NULLs, which
        // an index on (external_id, region) stores as one deduplicated key per region.
        func accounts(externalIdNotNull: Bool) -> Catalog {
            Catalog(tables: [Table(name: QualifiedName(schema: "public", "accounts"), columns: [
                Column(name: "external_id", type: "bigint", notNull: externalIdNotNull,
                       stats: ColumnStats(nullFraction: externalIdNotNull ? 0 : 0.9, averageWidth: 8, nDistinct: -0.1)),
                Column(name: "region", type: "integer", notNull: true, stats: ColumnStats(averageWidth: 4, nDistinct: 20)),
            ], uniqueConstraints: [["external_id"]], rowEstimate: 1_000_000)])
        }
        let candidate = IndexCandidate(table: QualifiedName(schema: "public", "accounts"),
                                       keys: [.column("external_id"), .column("region")])
        #expect(SizeEstimator().columnSetsWorthSampling([candidate], catalog: accounts(externalIdNotNull: false)).count == 1)
        #expect(SizeEstimator().columnSetsWorthSampling([candidate], catalog: accounts(externalIdNotNull: true)).isEmpty)
    }

    @Test func duj1OnAPartialSample() {
        // lineitem (l_partkey, l_suppkey) in a 0.5% block sample of TPC-H SF1: 30,082 rows on 30,081
        // (pair, page) units, so N = 30,081 × 6,001,398 / 30,082 units.
        let tpch = DistinctKeySample(sampledRows: 30_082, keyPages: 30_081, distinct: 29_561, onOnePage: 29_049)
        #expect(tpch.estimatedDistinct(totalRows: 6_001_398) == 755_111)
        // 2000 · 1500 / (800 + 1200 · 2000 / 100000) = 3,000,000 / 824.
        let scattered = DistinctKeySample(sampledRows: 2_000, keyPages: 2_000, distinct: 1_500, onOnePage: 1_200)
        #expect(scattered.estimatedDistinct(totalRows: 100_000) == 3_641)
    }

    @Test func keysStoredTogetherAreCountedByPageNotByRow() {
        // The integration test's 60,000 pairs stored sorted: each pair's 4 rows share a page. By rows,
        // almost every sampled pair repeats, and Duj1 would give about the 12,693 pairs seen; by
        // page, almost every pair is on one page only: N = 12,746 × 240,000 / 50,030 units and
        // 12,746 · 12,693 / (106 + 12,640 · 12,746 / N) pairs.
        let sorted = DistinctKeySample(sampledRows: 50_030, keyPages: 12_746, distinct: 12_693, onOnePage: 12_640)
        #expect(sorted.estimatedDistinct(totalRows: 240_000) == 59_026)
    }

    @Test func duj1SpecialCasesAsAnalyze() {
        // Nothing repeated: taken as unique, every unit its own key.
        #expect(DistinctKeySample(sampledRows: 500, keyPages: 500, distinct: 500, onOnePage: 500).estimatedDistinct(totalRows: 1e6) == 1e6)
        // ... where a unit is all of a key's rows on one page: 2 rows each, on one page each.
        #expect(DistinctKeySample(sampledRows: 1_000, keyPages: 500, distinct: 500, onOnePage: 500).estimatedDistinct(totalRows: 1e6) == 5e5)
        // Everything repeated: the sample saw every key.
        #expect(DistinctKeySample(sampledRows: 500, keyPages: 500, distinct: 40, onOnePage: 0).estimatedDistinct(totalRows: 1e6) == 40)
        // The whole table read: the count is exact.
        #expect(DistinctKeySample(sampledRows: 1_000, keyPages: 1_000, distinct: 300, onOnePage: 100).estimatedDistinct(totalRows: 1_000) == 300)
        // Statistics older than the rows read: never fewer keys than seen.
        #expect(DistinctKeySample(sampledRows: 1_000, keyPages: 1_000, distinct: 300, onOnePage: 100).estimatedDistinct(totalRows: 800) == 300)
        #expect(DistinctKeySample(sampledRows: 0, keyPages: 0, distinct: 0, onOnePage: 0).estimatedDistinct(totalRows: 1e6) == nil)
    }

    @Test func theSampleReadsAboutThirtyThousandRowsOrThreeHundredPages() {
        // lineitem, 51 rows a page: 30,000 of its 6M rows are 0.5% (590 pages).
        #expect(abs(DistinctKeySampler.samplePercent(rows: 6_000_000, bytes: 922 << 20) - 0.5) < 1e-9)
        // 250 rows a page: 300 pages rather than 120.
        #expect(DistinctKeySampler.samplePercent(rows: 2_500_000, bytes: 10_000 * 8192) == 3)
        #expect(DistinctKeySampler.samplePercent(rows: 20_000, bytes: 100 * 8192) == 100)
        // A partitioned table has no pages of its own: 2.91M rows fill at least 10,000 pages.
        #expect(DistinctKeySampler.samplePercent(rows: 2_910_000, bytes: 0) == 3)
    }
}
