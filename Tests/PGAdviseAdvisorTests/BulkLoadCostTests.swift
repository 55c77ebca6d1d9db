@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSQL
import Testing

/// A bulk load costs an index at most building it over the whole table: much less than row by row
/// when the load is the table (a fresh load), nothing less for a batch into a large table.
@Suite struct BulkLoadCostTests {
    static let table = QualifiedName(schema: "public", "readings")

    static func overhead(loadedRows: Int64, tableRows: Double) -> WriteOverhead {
        let catalog = Catalog(tables: [
            Table(name: table, columns: ["id", "sensor"].map { Column(name: $0, type: "int") }, rowEstimate: tableRows),
        ])
        var load = statement("INSERT INTO readings SELECT g, g % $1 FROM generate_series($2, $3) g", calls: 1)
        load.rows = loadedRows
        let model = WriteCostModel(catalog: catalog, workload: Workload(source: .pgStatStatements, queries: [load]),
                                   workloadWindowSeconds: nil, tableWindowSeconds: nil)
        let candidate = IndexCandidate(table: table, keys: [.column("sensor")])
        return model.overhead(of: candidate, chosen: [candidate])
    }

    @Test func aFreshLoadIsChargedAsBuildingTheIndex() {
        let overhead = Self.overhead(loadedRows: 300_000, tableRows: 300_000)
        #expect(overhead.statements.map(\.bulkLoad) == [true])
        // 300,000 x (2 x 0.0025 x log2(300,000) + 0.01): about 30,300 instead of 300,000.
        #expect((overhead.estimatedCost / 100).rounded() == 303)
    }

    @Test func aBatchIntoALargeTableIsChargedRowByRow() {
        let overhead = Self.overhead(loadedRows: 20_000, tableRows: 10_000_000)
        #expect(overhead.statements.map(\.bulkLoad) == [true])
        #expect(overhead.estimatedCost == 20_000)
    }
}
