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
    static let schemaWithoutQualstats = schema.replacingOccurrences(of: "CREATE EXTENSION pg_qualstats;\n", with: "")

    /// The recommendation on `tasks (created_at)` that `indexes --measure` gives for the database.
    func createdAtRecommendation(_ dsn: String) throws -> IndexRecommendation {
        let json = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "1", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        return try #require(advice.recommendations.first { $0.columns.first == "created_at" }, "\(json.stdout)")
    }

    /// The parameters --measure ran the day's statement with, in a fresh database of `schema`
    /// where the statement was called 20 times for 2026-07-20.
    func measuredParameters(database name: String, schema: String) throws -> [String] {
        let dsn = try TestDatabase.freshAnalysedDatabase(name, setupSQL: schema)
        let app = try PostgresConnection(conninfo: dsn)
        for _ in 0..<20 {
            try app.query("SELECT count(*), max(payload) FROM tasks WHERE created_at >= $1 AND created_at < $2",
                          ["2026-07-20 00:00:00+00", "2026-07-21 00:00:00+00"])
        }
        let rec = try createdAtRecommendation(dsn)
        return try #require(rec.statements.compactMap(\.measured).first?.parameters)
    }

    @Test func measureRunsARangeWithTheConstantsTheCallsUsed() throws {
        let parameters = try measuredParameters(database: "pgadvise_indexes_measured_range", schema: Self.schema)
        #expect(parameters.count == 2 && parameters[0].hasPrefix("2026-07-20") && parameters[1].hasPrefix("2026-07-21"), "\(parameters)")
    }

    /// Without observed values the window comes from pg_stats, with its lower end below its upper.
    @Test func withoutObservedValuesTheWindowIsTheHistogramsTopTenth() throws {
        let parameters = try measuredParameters(database: "pgadvise_indexes_measured_window",
                                                schema: Self.schemaWithoutQualstats)
        // Timestamps in one zone and format compare as text.
        #expect(parameters.count == 2 && parameters[0] < parameters[1], "\(parameters)")
    }

    /// A bound computed from parameters has no value any source gives: the note says which (the
    /// interval and the 1 are parameters too once pg_stat_statements has normalized the text).
    @Test func parametersInsideAnExpressionAreNamedWhenNotMeasured() throws {
        let name = "pgadvise_indexes_measured_expression"
        let dsn = try TestDatabase.freshAnalysedDatabase(name, setupSQL: Self.schemaWithoutQualstats)
        let app = try PostgresConnection(conninfo: dsn)
        for _ in 0..<20 {
            try app.query("SELECT count(*), max(payload) FROM tasks WHERE created_at >= $1::timestamptz + $2::int * interval '1 day' "
                          + "AND created_at < $1::timestamptz + ($2::int + 1) * interval '1 day'", ["2026-07-01 00:00:00+00", "19"])
        }
        let rec = try createdAtRecommendation(dsn)
        #expect(rec.notes.contains { $0.contains(" not measured: no value to run it with for $1, $2, $3, $4, $5 (") }, "\(rec.notes)")
    }

    /// A statement sent with literals reaches pg_stat_statements as arithmetic on parameters (the
    /// interval is one too): the carrier takes the bound, the other term zero, and the window
    /// back from now the interval from that bound to now.
    @Test func arithmeticOnParametersIsMeasuredThroughNeutralValues() throws {
        let name = "pgadvise_indexes_measured_arithmetic"
        let dsn = try TestDatabase.freshAnalysedDatabase(name, setupSQL: Self.schemaWithoutQualstats)
        let app = try PostgresConnection(conninfo: dsn)
        for _ in 0..<20 {
            try app.execute("SELECT count(*), max(payload) FROM tasks WHERE created_at >= timestamptz '2026-07-20 00:00:00+00' - interval '1 day'")
            try app.execute("SELECT count(*), min(payload) FROM tasks WHERE created_at > now() - interval '150 days'")
        }
        let rec = try createdAtRecommendation(dsn)
        let measured = rec.statements.compactMap(\.measured)
        #expect(rec.notes.filter { $0.contains("not measured") }.isEmpty, "\(rec.notes)")
        #expect(measured.count == 2, "\(rec.statements)")
        let byText = Dictionary(rec.statements.compactMap { s in s.measured.map { (s.text.contains("now()"), $0.parameters) } },
                                uniquingKeysWith: { a, _ in a })
        let dated = try #require(byText[false])
        #expect(dated.count == 2 && dated[0].hasPrefix("2026-") && dated[1] == "0", "\(dated)")
        let relative = try #require(byText[true])
        #expect(relative.count == 1 && relative[0].hasSuffix(" seconds"), "\(relative)")
    }
}

