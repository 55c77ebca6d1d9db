@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSQL
import Testing

/// A log holds only the writes slow enough to be logged: DML known only from a log undercounts the
/// write rate, so the table's counters, scaled to the window, are charged instead.
@Suite struct LoggedWritesCostTests {
    static let table = QualifiedName(schema: "public", "visits")
    static let catalog = Catalog(tables: [
        Table(name: table, columns: ["id", "page", "at"].map { Column(name: $0, type: "text") },
              indexes: [Index(name: "visits_pkey", table: table, keys: [.column("id")], unique: true, primary: true)],
              usage: TableUsage(inserts: 360_000, updates: 0, deletes: 0, hotUpdates: 0)),
    ])
    static let byPage = IndexCandidate(table: table, keys: [.column("page")])

    static func model(insertSeenBy queryId: Int64?) -> WriteCostModel {
        var insert = statement("INSERT INTO visits (id, page, at) VALUES ($1, $2, $3)", calls: 3)
        insert.queryId = queryId
        return WriteCostModel(catalog: catalog, workload: Workload(source: .logs, queries: [insert]),
                              workloadWindowSeconds: 600, tableWindowSeconds: 3_600)
    }

    @Test func dmlSeenOnlyInALogIsChargedFromTheTableCountersScaledToTheWindow() {
        let overhead = Self.model(insertSeenBy: nil).overhead(of: Self.byPage, chosen: [Self.byPage])
        #expect(overhead.source == "pg_stat_user_tables")
        // 360,000 inserts in an hour, over the log's ten minutes: 60,000.
        #expect(overhead.rowsWritten == 60_000)
        #expect(overhead.estimatedCost == 60_000)
        #expect(overhead.extrapolation?.hasPrefix("the writes to public.visits are known only from the log") == true)
        #expect(Self.model(insertSeenBy: nil).cost(of: [Self.byPage], tables: [Self.table]) == 120_000)
    }

    @Test func dmlThatPgStatStatementsCountedIsChargedAsItRan() {
        let overhead = Self.model(insertSeenBy: 42).overhead(of: Self.byPage, chosen: [Self.byPage])
        #expect(overhead.source == "workload")
        #expect(overhead.rowsWritten == 3)
        #expect(overhead.estimatedCost == 3)
    }
}
