import Foundation
import PGAdviseCore
@testable import PGAdviseKit
import PGAdviseReport
import PGAdviseSources
import PGAdviseStore
import PGAdviseTestSupport
import Testing

/// Snapshots of a real pg_stat_statements around a known workload, then the weekly report, all
/// through the pipelines without the binary.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct SnapshotReportPipelineTests {
    static let database = "pgadvise_kit_report"
    static let lookup = "SELECT *, pg_sleep($1::float8) FROM items WHERE id = $2"

    @Test func twoWeeksOfSnapshotsGiveTheCallsAndTheRegression() throws {
        let dsn = try TestDatabase.freshDatabase(Self.database, setupSQL: """
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE TABLE items (id int PRIMARY KEY, note text);
            INSERT INTO items SELECT g, 'note ' || g FROM generate_series(1, 100) g;
            """)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-kit-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try HistoryStore(path: directory.appendingPathComponent("history.sqlite").path, create: true)
        let connection = try PostgresConnection(conninfo: dsn, options: SessionOptions())
        let admin = try TestDatabase.adminConnection(database: Self.database)
        func snapshot(_ at: String) throws -> SnapshotPipeline.Result {
            let takenAt = try #require(ISOTimestamp.parse(at))
            return try SnapshotPipeline(source: .statements(connection, maxStatements: 1_000), takenAt: takenAt).run(store: store)
        }
        let first = try snapshot("2026-11-09T06:00:00Z")
        for id in 1...20 { try admin.query(Self.lookup, ["0.001", String(id)]) }
        _ = try snapshot("2026-11-15T06:00:00Z")
        for id in 1...30 { try admin.query(Self.lookup, ["0.05", String(id)]) }
        let last = try snapshot("2026-11-22T06:00:00Z")

        // The server is its system identifier (the test role may read it); the label is host and port.
        let identity = try ServerIdentity.read(connection)
        #expect(identity.key.hasPrefix("system "))
        #expect(!identity.label.contains("@") && !identity.label.contains("/"))
        #expect(last.snapshot.server == identity.key)
        #expect(last.snapshot.serverLabel == identity.label)
        #expect(last.snapshot.database == Self.database)
        #expect(last.id == first.id + 2)
        #expect(last.warnings.isEmpty)

        let week = try #require(ISOWeek(parsing: "2026-W47"))
        let report = try ReportPipeline(week: week, top: 1).run(store: store)
        let server = try #require(report.servers.first)
        #expect(server.database == Self.database)
        #expect(server.top.count == 1)
        let lookup = try #require(server.top.first)
        #expect(lookup.normalized == Self.lookup)
        #expect(lookup.thisWeek?.calls == 30)
        #expect(lookup.previousWeek?.calls == 20)
        let regression = try #require(server.regressions.first { $0.fingerprint == lookup.fingerprint })
        #expect(regression.findings.map(\.rule).contains("select-star"))
        #expect(report.regressionCount >= 1)
        #expect(report.findingsForExitCode.contains { $0.rule == "select-star" && $0.fingerprint == lookup.fingerprint })
    }
}

/// A snapshot series is labelled by host and port, never by user or password.
struct ServerIdentityLabelTests {
    @Test func theLabelIsHostAndPortEvenForASocketFolder() {
        #expect(ServerIdentity.hostAndPort("monitor@db.example.com:5432/shop") == "db.example.com:5432")
        #expect(ServerIdentity.hostAndPort("postgres@/var/run/postgresql:5433/shop") == "/var/run/postgresql:5433")
    }
}
