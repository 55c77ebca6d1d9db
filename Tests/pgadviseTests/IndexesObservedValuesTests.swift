import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// A skewed status column ('done' 98% of the rows, 'pending' 2%, 'failed' 0.1%) whose statement is
/// called with the rare values only. pg_qualstats (preloaded by scripts/pg-temp.sh, every execution
/// sampled) records which: the statement is costed with them, weighted by their executions.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesObservedValuesTests {
    static let schema = """
        CREATE EXTENSION pg_stat_statements;
        CREATE EXTENSION pg_qualstats;
        CREATE EXTENSION hypopg;
        CREATE TABLE jobs (id int PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);
        INSERT INTO jobs SELECT i, CASE WHEN i % 1000 = 0 THEN 'failed' WHEN i % 50 = 0 THEN 'pending' ELSE 'done' END,
            timestamptz '2026-01-01' + i * interval '1 minute', 'job ' || i FROM generate_series(1, 300000) i;
        -- ANALYZE samples 300 x the statistics target rows: at 1000 it reads every row, so the
        -- statistics, and the sizes and costs estimated from them, are the same on every run.
        ALTER TABLE jobs ALTER COLUMN id SET STATISTICS 1000, ALTER COLUMN status SET STATISTICS 1000,
            ALTER COLUMN created_at SET STATISTICS 1000, ALTER COLUMN payload SET STATISTICS 1000;
        """

    /// A recommendation's table and keys: what the observed values decide. Whether `INCLUDE (id,
    /// payload)` also pays for its bytes is the index-only scan's trade-off, which turns on how much
    /// of the table the visibility map has marked when the advice runs: seen both ways.
    static func keyed(_ rec: IndexRecommendation) -> [String] { [rec.table] + rec.columns }

    /// The statement, run as an application runs it (extended protocol, one unnamed statement per
    /// call, so each call gets a custom plan whose constant pg_qualstats records).
    static let seeded: Result<String, Error> = Result {
        let name = "pgadvise_indexes_observed_values"
        let dsn = try TestDatabase.freshAnalysedDatabase(name, setupSQL: schema)
        let app = try PostgresConnection(conninfo: dsn)
        for call in 0..<40 {
            try app.query("SELECT id, payload FROM jobs WHERE status = $1 ORDER BY created_at LIMIT 20",
                          [call % 4 == 3 ? "pending" : "failed"])
        }
        return dsn
    }

    @Test func theValuesPgQualstatsSawAreCostedWithTheirWeights() throws {
        let dsn = try Self.seeded.get()
        let text = try runPGAdvise(["indexes", dsn, "--max-columns", "2"])
        #expect(text.exitCode == 0, "\(text.stderr)")
        let folded = foldedWhitespace(text.stdout)
        // The keys are what the values decide; see `keyed` for INCLUDE.
        #expect(folded.contains(" ON public.jobs (status, created_at)"), "\(text.stdout)")
        #expect(folded.contains("was costed under custom plans for the values of $1 (status) from pg_qualstats, each weighing its "
                                + "share of the executions: 'failed' 75%, 'pending' 25%."), "\(text.stdout)")
        #expect(folded.contains("custom plan for $1 = 'failed' (75% of executions (30 of 40), from pg_qualstats): cost "), "\(text.stdout)")
        // Listed once, with a line per plan.
        #expect(folded.components(separatedBy: "> SELECT id, payload FROM jobs").count == 2, "\(text.stdout)")
        #expect(!folded.contains("from pg_stats"))

        let json = try runPGAdvise(["indexes", dsn, "--max-columns", "2", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        let observed = try #require(advice.observedValues.first)
        #expect(advice.observedValues.count == 1)
        #expect(observed.values == ObservedParameterValues(parameter: 1, column: "status", source: .pgQualstats, values: [
            ObservedValue(value: "failed", executions: 30), ObservedValue(value: "pending", executions: 10),
        ]))
        #expect(advice.recommendations.map(Self.keyed) == [["public.jobs", "status", "created_at"]])
    }

    /// Measured with the value it was called with most ('failed'), not with a middle most-common value
    /// of pg_stats: the figures are those of the calls the application makes. LIMIT's 20 is a
    /// parameter too, which no source observes: it gets 10.
    @Test func measureRunsTheStatementWithTheValueItWasCalledWithMost() throws {
        let dsn = try Self.seeded.get()
        let json = try runPGAdvise(["indexes", dsn, "--max-columns", "2", "--measure", "--measure-runs", "1", "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        let rec = try #require(advice.recommendations.first)
        #expect(Self.keyed(rec) == ["public.jobs", "status", "created_at"])
        let measured = rec.statements.compactMap(\.measured)
        #expect(!measured.isEmpty && measured.allSatisfy { $0.parameters == ["failed", "10"] }, "\(measured.map(\.parameters))")
        // One run for the statement's two custom plans: its figures and plan verdict are shown once.
        let text = try runPGAdvise(["indexes", dsn, "--max-columns", "2", "--measure", "--measure-runs", "1"])
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect(text.stdout.components(separatedBy: "Plan: ").count == 2, "\(text.stdout)")
        #expect(text.stdout.components(separatedBy: "     custom plan for $1 = ").count == 3, "\(text.stdout)")
    }

    /// The same table and statement, known from a log whose bind values say which statuses were
    /// passed (fixtures/logs/bind-values-skewed.log, captured from a real server): 30 executions
    /// with 'failed', 10 with 'pending'. No pg_qualstats here.
    @Test func theLoggedBindValuesAreCostedWithTheirWeights() throws {
        let name = "pgadvise_indexes_logged_values"
        let dsn = try TestDatabase.freshAnalysedDatabase(name, setupSQL: Self.schema.replacingOccurrences(of: "CREATE EXTENSION pg_qualstats;\n", with: ""))
        let log = RepositoryPaths.fixture("logs/bind-values-skewed.log").path
        let json = try runPGAdvise(["indexes", dsn, "--max-columns", "2", "--logs", log, "--format", "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let advice = try JSONDecoder().decode(IndexAdvice.self, from: Data(json.stdout.utf8))
        #expect(advice.observedValues.map(\.values) == [ObservedParameterValues(parameter: 1, source: .log, values: [
            ObservedValue(value: "failed", executions: 30), ObservedValue(value: "pending", executions: 10),
        ])])
        #expect(advice.recommendations.map(Self.keyed) == [["public.jobs", "status", "created_at"]])
        let plans = advice.recommendations.first?.statements.compactMap(\.customPlan) ?? []
        #expect(plans.sorted() == ["$1 = 'failed' (75% of executions (30 of 40), from the log's bind values)",
                                   "$1 = 'pending' (25% of executions (10 of 40), from the log's bind values)"])
        #expect(advice.notes.contains("Statement \(advice.observedValues.first?.fingerprint ?? "") was costed under custom plans for the "
                                      + "values of $1 from the log's bind values, each weighing its share of the executions: "
                                      + "'failed' 75%, 'pending' 25%."))
    }
}
