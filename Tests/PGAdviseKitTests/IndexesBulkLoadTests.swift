import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A freshly loaded table: pg_stat_statements holds the load (one INSERT ... SELECT of every row)
/// and a lookup by an unindexed key. The load is a burst, not a write rate, and must not veto the
/// lookup's index.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesBulkLoadTests {
    static let database = "pgadvise_kit_bulk_load"

    /// The advice after `load` filled `shipments` in one statement and twenty lookups by
    /// tracking_code ran.
    func advice(afterLoading load: String) throws -> IndexAdvice {
        let dsn = try TestDatabase.freshDatabase(Self.database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE EXTENSION hypopg;
            CREATE TABLE shipments (id int PRIMARY KEY, tracking_code int NOT NULL, note text NOT NULL);
            """)
        let admin = try TestDatabase.adminConnection(database: Self.database)
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        try admin.execute(load)
        try admin.execute("ANALYZE shipments")
        for code in 1...20 {
            try admin.query("SELECT id, note FROM shipments WHERE tracking_code = $1", [String(code * 7)])
        }
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        return try IndexesPipeline(connection: connection, options: IndexAdvisorOptions(maxColumns: 1)).run()
    }

    /// What both loads must give: the lookup's index, and the load reported and charged as a bulk
    /// load: building the index over 300,000 rows (a sort and the leaves written in order), about a
    /// tenth of 300,000 row-by-row entries.
    func expectTheLookupIndexAndABulkLoad(_ advice: IndexAdvice) throws {
        #expect(advice.recommendations.map(\.ddl) == ["CREATE INDEX CONCURRENTLY shipments_tracking_code_idx ON public.shipments (tracking_code)"])
        #expect(advice.bulkLoads.map(\.table) == ["public.shipments"])
        #expect(advice.bulkLoads.map(\.rows) == [300_000])
        #expect(advice.bulkLoads.map(\.calls) == [1])
        let load = try #require(advice.recommendations.first?.writeOverhead?.statements.first)
        #expect(load.bulkLoad == true)
        #expect(load.rows == 300_000)
        #expect(load.estimatedCost > 20_000 && load.estimatedCost < 40_000)
    }

    @Test func aOneOffLoadIsReportedAsABulkLoadAndTheLookupGetsItsIndex() throws {
        try expectTheLookupIndexAndABulkLoad(
            try advice(afterLoading: "INSERT INTO shipments SELECT g, g % 150000, 'shipment ' || g FROM generate_series(1, 300000) g"))
    }

    /// The same load by COPY ... FROM (server-side, from a program, as a superuser may): pg_stat_statements
    /// records it as a utility statement whose rows are the rows copied.
    @Test func aCopyIntoTheTableIsABulkLoadToo() throws {
        let copy = #"COPY shipments FROM PROGRAM 'seq 300000 | awk ''{ print $1 "," $1 % 150000 ",shipment " $1 }''' (FORMAT csv)"#
        let advice = try advice(afterLoading: copy)
        try expectTheLookupIndexAndABulkLoad(advice)
        #expect(advice.bulkLoads.map(\.text) == [copy])
    }
}
