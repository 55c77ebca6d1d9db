import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A statement always called for the same day: pg_qualstats (preloaded by scripts/pg-temp.sh,
/// every execution sampled) records the range constants, and --measure runs the statement with
/// them instead of histogram bounds, which would read another share of the table.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesMeasuredRangeTests {
    static let schema = """
        CREATE EXTENSION pg_stat_statements;
        CREATE EXTENSION pg_qualstats;
        CREATE EXTENSION hypopg;
        CREATE TABLE tasks (id int PRIMARY KEY, created_at timestamptz NOT NULL, payload text NOT NULL);
        INSERT INTO tasks SELECT i, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute', 'task ' || i
            FROM generate_series(1, 300000) i;
        """

    @Test func measureRunsARangeWithTheConstantsTheCallsUsed() throws {
        let name = "pgadvise_indexes_measured_range"
        let dsn = try TestDatabase.freshDatabase(name, setupSQL: Self.schema)
        let admin = try TestDatabase.adminConnection(database: name)
        try admin.execute("VACUUM ANALYZE tasks")
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        // No pg_qualstats_reset(): it empties every database's entries, those of suites running
        // beside this one too; a fresh database's statements have query ids of their own.
        let app = try PostgresConnection(conninfo: dsn)
        for _ in 0..<20 {
            try app.query("SELECT count(*), max(payload) FROM tasks WHERE created_at >= $1 AND created_at < $2",
                          ["2026-07-20 00:00:00+00", "2026-07-21 00:00:00+00"])
        }
        let json = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "1", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        let rec = try #require(advice.recommendations.first { $0.columns.first == "created_at" }, "\(json.stdout)")
        let measured = try #require(rec.statements.compactMap(\.measured).first)
        #expect(measured.parameters.count == 2 && measured.parameters[0].hasPrefix("2026-07-20")
                && measured.parameters[1].hasPrefix("2026-07-21"), "\(measured.parameters)")
    }

    /// Without observed values the window comes from pg_stats, with its lower end below its upper.
    @Test func withoutObservedValuesTheWindowIsTheHistogramsTopTenth() throws {
        let name = "pgadvise_indexes_measured_window"
        let dsn = try TestDatabase.freshDatabase(name, setupSQL: Self.schema.replacingOccurrences(of: "CREATE EXTENSION pg_qualstats;\n", with: ""))
        let admin = try TestDatabase.adminConnection(database: name)
        try admin.execute("VACUUM ANALYZE tasks")
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        let app = try PostgresConnection(conninfo: dsn)
        for _ in 0..<20 {
            try app.query("SELECT count(*), max(payload) FROM tasks WHERE created_at >= $1 AND created_at < $2",
                          ["2026-07-20 00:00:00+00", "2026-07-21 00:00:00+00"])
        }
        let json = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "1", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        let rec = try #require(advice.recommendations.first { $0.columns.first == "created_at" }, "\(json.stdout)")
        let parameters = try #require(rec.statements.compactMap(\.measured).first?.parameters)
        // Timestamps in one zone and format compare as text.
        #expect(parameters.count == 2 && parameters[0] < parameters[1], "\(parameters)")
    }
}
