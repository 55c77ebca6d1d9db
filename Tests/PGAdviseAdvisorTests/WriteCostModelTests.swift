@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSQL
import Testing

/// `shop.orders` with its primary key and an index on `customer_id`; `audit` with no workload DML but
/// write counters.
private let ordersTable = QualifiedName(schema: "shop", "orders")
private let auditTable = QualifiedName(schema: "shop", "audit")
private let writeCatalog = Catalog(tables: [
    Table(name: ordersTable, columns: ["id", "customer_id", "status", "created_at", "note"].map { Column(name: $0, type: "text") },
          indexes: [Index(name: "orders_pkey", table: ordersTable, keys: [.column("id")], unique: true, primary: true),
                    Index(name: "orders_customer_id_idx", table: ordersTable, keys: [.column("customer_id")])]),
    Table(name: auditTable, columns: ["id", "at", "actor", "body"].map { Column(name: $0, type: "text") },
          indexes: [Index(name: "audit_pkey", table: auditTable, keys: [.column("id")], unique: true, primary: true)],
          usage: TableUsage(inserts: 10_000, updates: 500, deletes: 0, hotUpdates: 300)),
])

private let writeWorkload = Workload(source: .pgStatStatements, queries: [
    statement("UPDATE shop.orders SET status = $1 WHERE id = $2", calls: 2000),
    statement("UPDATE shop.orders SET note = $1 WHERE id = $2", calls: 3000),
    statement("UPDATE shop.orders SET customer_id = $1 WHERE id = $2", calls: 500),
    statement("INSERT INTO shop.orders (id, customer_id, status, created_at) VALUES ($1, $2, $3, $4)", calls: 1000),
    statement("DELETE FROM shop.orders WHERE id = $1", calls: 100),
    statement("SELECT * FROM shop.orders WHERE status = $1 ORDER BY created_at LIMIT 50", calls: 5000),
])

/// The partial index of the benchmark: one row in a hundred is pending.
private let pendingByDate = IndexCandidate(table: ordersTable, keys: [.column("created_at")], predicate: "status = 'pending'",
                                           predicateRowShare: 0.01, partialColumn: "status")
private let byDate = IndexCandidate(table: ordersTable, keys: [.column("created_at")])

private struct WriteSummary: Equatable, CustomStringConvertible {
    var text: String
    var losesHot: Bool
    var indexes: Int
    var cost: Double
    var description: String { "\(text) hot-lost \(losesHot) indexes \(indexes) cost \(cost)" }
}

private func summary(_ overhead: WriteOverhead) -> [WriteSummary] {
    overhead.statements.map {
        WriteSummary(text: $0.text, losesHot: $0.losesHot, indexes: $0.indexesMaintained, cost: ($0.estimatedCost * 100).rounded() / 100)
    }
}

@Suite struct WriteCostModelTests {
    let model = WriteCostModel(catalog: writeCatalog, workload: writeWorkload, workloadWindowSeconds: 3_600, tableWindowSeconds: 36_000)

    @Test func anUpdateOfThePredicateColumnLosesHOTAndPaysForEveryIndex() {
        let overhead = model.overhead(of: pendingByDate, chosen: [pendingByDate])
        // The UPDATE of `note` sets no indexed column: it stays HOT and is not listed.
        #expect(summary(overhead) == [
            WriteSummary(text: "UPDATE shop.orders SET status = $1 WHERE id = $2", losesHot: true, indexes: 3, cost: 4020),
            WriteSummary(text: "UPDATE shop.orders SET customer_id = $1 WHERE id = $2", losesHot: false, indexes: 1, cost: 5),
            WriteSummary(text: "INSERT INTO shop.orders (id, customer_id, status, created_at) VALUES ($1, $2, $3, $4)",
                         losesHot: false, indexes: 1, cost: 10),
            WriteSummary(text: "DELETE FROM shop.orders WHERE id = $1", losesHot: false, indexes: 1, cost: 1),
        ], "\(summary(overhead))")
        #expect(overhead.losingHot.map(\.kind) == ["update"])
        #expect(overhead.rowsWritten == 6600)
        #expect((overhead.estimatedCost * 100).rounded() / 100 == 4036)
        #expect(overhead.source == "workload")
        #expect(overhead.extrapolation == nil)
    }

    @Test func anotherChosenIndexOnTheTableIsMaintainedToo() {
        let overhead = model.overhead(of: pendingByDate, chosen: [byDate, pendingByDate])
        #expect(overhead.losingHot.map(\.indexesMaintained) == [4])
        #expect(overhead.losingHot.map(\.estimatedCost) == [2000 * 3.01])
    }

    @Test func anIndexOnUntouchedColumnsLeavesTheUpdatesHOT() {
        let overhead = model.overhead(of: byDate, chosen: [byDate])
        #expect(overhead.losingHot.isEmpty)
        #expect(overhead.statements.map(\.kind) == ["update", "insert", "delete"])
        #expect(overhead.estimatedCost == 500 + 1000 + 100)
    }

    /// The selection charges a step what it adds to the table's maintenance, existing indexes included.
    @Test func theSelectionChargesTheDifference() {
        let before = model.cost(of: [], tables: [ordersTable])
        let after = model.cost(of: [pendingByDate], tables: [ordersTable])
        #expect(before == 2 * (500 + 1000 + 100))
        #expect(((after - before) * 100).rounded() / 100 == 4036)
        // Once the partial index made the status update non-HOT, a second index costs it one entry per row.
        let both = model.cost(of: [pendingByDate, byDate], tables: [ordersTable])
        #expect(((both - after) * 100).rounded() / 100 == 2000 + 500 + 1000 + 100)
    }

    /// After a load at fillfactor 100 no page has room for a new row version: 50 updates, none HOT.
    @Test func onATableWhoseUpdatesAreNeverHOTNoUpdateLosesHOT() {
        var catalog = writeCatalog
        catalog.tables[0].usage = TableUsage(updates: 50, hotUpdates: 0)
        let full = WriteCostModel(catalog: catalog, workload: writeWorkload, workloadWindowSeconds: nil, tableWindowSeconds: nil)
        let overhead = full.overhead(of: pendingByDate, chosen: [pendingByDate])
        #expect(overhead.losingHot.isEmpty)
        // Every UPDATE writes an entry in every index, the one of `note` included.
        #expect(overhead.statements.map(\.indexesMaintained) == [1, 1, 1, 1, 1])
        #expect(overhead.statements.filter { $0.kind == "update" }.count == 3)
        #expect(overhead.hotNote?.hasPrefix("none of the 50 updates pg_stat_user_tables counted on shop.orders was HOT") == true)
        #expect(model.overhead(of: pendingByDate, chosen: [pendingByDate]).hotNote == nil)
    }

    @Test func countersAreScaledToTheWorkloadWindowAndSaidSo() {
        let audit = IndexCandidate(table: auditTable, keys: [.column("actor")])
        let overhead = model.overhead(of: audit, chosen: [audit])
        // 10,000 inserts and 200 non-HOT updates in 10 hours, over the workload's 1 hour.
        #expect(overhead.source == "pg_stat_user_tables")
        #expect(overhead.estimatedCost == 1000 + 20)
        #expect(overhead.statements.isEmpty)
        #expect(overhead.extrapolation == "no statement of the workload writes shop.audit; pg_stat_user_tables counted 10000 "
                + "inserts, 500 updates (300 HOT) and 0 deletes in 10.0 hours, scaled to the workload's 60 minutes (x0.1); "
                + "the 30 HOT updates are not charged: which columns they set is unknown, and any that set actor would lose HOT")
    }

    @Test func countersOverAnUnknownWindowAreNotCharged() {
        let unknown = WriteCostModel(catalog: writeCatalog, workload: writeWorkload, workloadWindowSeconds: nil, tableWindowSeconds: 36_000)
        let audit = IndexCandidate(table: auditTable, keys: [.column("actor")])
        #expect(unknown.overhead(of: audit, chosen: [audit]).estimatedCost == 0)
        #expect(unknown.uncharged(workloadWindowSeconds: nil, tableWindowSeconds: 36_000) == [auditTable])
    }

    @Test func expressionAndPredicateColumnsCount() {
        let table = writeCatalog.table(ordersTable)!
        #expect(WriteCostModel.columnsMentioned(in: "lower((note)::text) || 'status'", of: table) == ["note"])
        #expect(WriteCostModel.columnsMentioned(in: "\"status\" = 'pending' AND created_at IS NOT NULL", of: table) == ["status", "created_at"])
    }

    @Test func assignmentsOfEachKindOfWrite() throws {
        func assignments(_ sql: String) -> [String] {
            (buildShape(sql)?.assignments ?? []).map { "\($0.column)=\($0.value)" }
        }
        #expect(assignments("UPDATE t SET (a, b) = ($1, 2), c = c + 1 WHERE id = $3")
                == ["a=parameter(1)", "b=constant(PGAdviseSQL.Constant.integer(2))", "c=expression(\"c + 1\")"])
        #expect(assignments("INSERT INTO t (id, a) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET a = 'x'")
                == ["a=constant(PGAdviseSQL.Constant.string(\"x\"))"])
        #expect(buildShape("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET b = s.b "
                           + "WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)")?.assignedColumns == ["b"])
    }
}
