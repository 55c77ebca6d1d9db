import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSources
import Testing

/// Size estimates on a loaded TPC-H SF1 database (Benchmarks/tpch), read-only: set
/// `PGADVISE_TPCH_DSN` to run. Prints the figures BENCHMARKS.md quotes, in MB of 10^6 bytes as it does.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PGADVISE_TPCH_DSN"] != nil))
struct TPCHSizeEstimateTests {
    static let columnSets: [(table: String, columns: [String])] = [
        ("lineitem", ["l_partkey", "l_suppkey"]), ("lineitem", ["l_orderkey", "l_partkey"]),
        ("lineitem", ["l_orderkey", "l_suppkey"]), ("lineitem", ["l_suppkey", "l_shipdate"]),
        ("lineitem", ["l_partkey", "l_quantity"]), ("orders", ["o_custkey", "o_orderdate"]),
    ]

    @Test func partSupplierPairsAreEstimatedNearTheirBuiltSize() throws {
        let dsn = try #require(ProcessInfo.processInfo.environment["PGADVISE_TPCH_DSN"])
        let connection = try PostgresConnection(conninfo: dsn)
        let catalog = try CatalogCollector(connection: connection).collect()
        var sampled: [IndexCandidate: Int64] = [:]
        for (name, columns) in Self.columnSets {
            let table = try #require(catalog.table(QualifiedName(name)))
            let rows = try #require(table.rowEstimate)
            let candidate = IndexCandidate(table: table.name, keys: columns.map { .column($0) })
            let set = KeyColumnSet(table: table.name, columns: columns)
            let percent = DistinctKeySampler.samplePercent(rows: rows, bytes: try #require(table.sizeBytes))
            let started = Date()
            let sample = try DistinctKeySampler(connection: connection).sample(table: table.name, columns: columns, percent: percent)
            let seconds = Date().timeIntervalSince(started)
            let distinct = try #require(sample.estimatedDistinct(totalRows: rows))
            let worthSampling = SizeEstimator().columnSetsWorthSampling([candidate], catalog: catalog) == [set]
            sampled[candidate] = SizeEstimator(distinctKeyCounts: [set: DistinctKeyCount(distinct, from: .sample)]).estimate(candidate, table: table)
            print(String(format: "%@: independent %.1f MB, sampled %.1f MB (%.4f%% sample in %.2f s: %.0f rows, n %.0f, d %.0f, "
                         + "f1 %.0f, estimate %.0f keys)%@", set.description,
                         Double(SizeEstimator().estimate(candidate, table: table)) / 1e6,
                         Double(sampled[candidate] ?? 0) / 1e6, percent, seconds, sample.sampledRows, sample.keyPages,
                         sample.distinct, sample.onOnePage, distinct, worthSampling ? "" : "; the advisor would not sample it"))
        }
        // Built on the same data (BENCHMARKS.md, TPC-H): (l_partkey, l_suppkey) 61 MB, 800,000 pairs of
        // 7.5 rows; (l_suppkey) 42.6 MB and (l_partkey) 45.1 MB, which need no sample.
        let lineitem = try #require(catalog.table(QualifiedName(schema: "public", "lineitem")))
        for (column, builtMB) in [("l_suppkey", 42.6), ("l_partkey", 45.1)] {
            let single = Double(SizeEstimator().estimate(IndexCandidate(table: lineitem.name, keys: [.column(column)]), table: lineitem))
            print(String(format: "public.lineitem (%@): %.1f MB, built %.1f MB", column, single / 1e6, builtMB))
            #expect(abs(single / 1e6 - builtMB) < 0.1 * builtMB)
        }
        let partSupplier = IndexCandidate(table: QualifiedName(schema: "public", "lineitem"), keys: [.column("l_partkey"), .column("l_suppkey")])
        let built = 61e6
        #expect(abs(Double(sampled[partSupplier] ?? 0) - built) < 0.1 * built)
    }
}
