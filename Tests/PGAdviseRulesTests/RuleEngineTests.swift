import PGAdviseCore
import PGAdviseSQL
import Testing
@testable import PGAdviseRules

@Suite struct RuleEngineTests {
    static let catalog: Catalog = {
        var loader = SchemaLoader()
        loader.load(sql: """
            CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
            CREATE INDEX users_email_idx ON users (email);
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);
            """, file: "schema.sql")
        return loader.catalog
    }()

    @Test func workloadFindingsCarryFingerprintAndWeight() {
        let workload = Workload(source: .pgStatStatements, queries: [
            QueryStats(fingerprint: "aaaaaaaaaaaaaaaa", normalized: "SELECT * FROM users WHERE lower(email) = $1",
                       calls: 1200, totalMs: 5400),
            QueryStats(fingerprint: "bbbbbbbbbbbbbbbb", normalized: "SELECT id FROM users WHERE id = $1", calls: 9000, totalMs: 90),
            QueryStats(fingerprint: "u0123", normalized: "SELEC garbage", parsed: false, calls: 1, totalMs: 1),
            // From a log, the table may be a session's temporary table: no non-concurrent-index finding.
            QueryStats(fingerprint: "dddddddddddddddd", normalized: "CREATE INDEX ON tmp_import (id)", calls: 3, totalMs: 9),
        ])
        let findings = RuleEngine.check(workload: workload, catalog: Self.catalog)
        #expect(findings.map(\.rule) == ["function-on-indexed-column", "select-star"])
        #expect(findings.allSatisfy { $0.fingerprint == "aaaaaaaaaaaaaaaa" && $0.calls == 1200 && $0.totalMs == 5400 })
        #expect(findings.allSatisfy { $0.file == nil && $0.line == nil })
        #expect(findings[0].index == "users_email_idx")
        // Without a catalog the index-aware rule stays silent.
        #expect(RuleEngine.check(workload: workload).map(\.rule) == ["select-star"])
    }

    @Test func slowestSampleShowsWhatParametersHide() {
        var stats = QueryStats(fingerprint: "cccccccccccccccc", normalized: "SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2",
                               calls: 10, totalMs: 20)
        // From pg_stat_statements alone, OFFSET $2 may be paging.
        #expect(RuleEngine.check(workload: Workload(source: .pgStatStatements, queries: [stats])).map(\.rule) == ["offset-pagination"])
        // The logged statement shows it was OFFSET 0.
        stats.slowest = QuerySample(text: "SELECT id FROM users ORDER BY id LIMIT 10 OFFSET 0", durationMs: 3)
        #expect(RuleEngine.check(workload: Workload(source: .logs, queries: [stats])).isEmpty)
    }

    @Test func catalogRulesOnALoadedSchema() {
        let findings = RuleEngine.check(catalog: Self.catalog)
        #expect(findings.map(\.rule) == ["missing-fk-index"])
        #expect(findings[0].table == "orders")
        #expect(findings[0].fix == "CREATE INDEX CONCURRENTLY ON orders (user_id);")
    }
}
