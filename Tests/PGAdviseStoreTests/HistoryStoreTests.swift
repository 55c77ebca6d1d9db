import Foundation
import PGAdviseCore
import PGAdviseStore
import Testing

@Suite struct HistoryStoreTests {
    static func temporaryPath(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func aFreshFileIsMigratedToTheCurrentSchemaInWALMode() throws {
        let path = try Self.temporaryPath("nested/history.sqlite")
        let store = try HistoryStore(path: path, create: true)
        #expect(try store.appliedMigrations() == ["v1: snapshots, statements, snapshot_statements"])
        #expect(try store.storedSchemaVersion() == HistoryStore.schemaVersion)
        #expect(try store.journalMode() == "wal")
        #expect(try store.snapshotCount() == 0)
        // Opening it again applies nothing twice.
        let again = try HistoryStore(path: path, create: true)
        #expect(try again.appliedMigrations().count == 1)
    }

    @Test func snapshotsRoundTripWithEveryField() throws {
        let path = try Self.temporaryPath("history.sqlite")
        let store = try HistoryStore(path: path, create: true)
        var log = HistorySnapshot(takenAt: TestSnapshots.date("2026-11-17T23:59:00Z"),
                                  periodStart: TestSnapshots.date("2026-11-17T00:00:01.250Z"), source: .logs,
                                  server: "logs", serverLabel: "logs", database: "",
                                  statements: [TestSnapshots.statement("f", calls: 7, totalMs: 70.5, p95Ms: 19.25)])
        var stats = TestSnapshots.twoWeeks[2]
        stats.id = try store.insert(stats)
        log.id = try store.insert(log)
        let read = try HistoryStore(path: path, create: false)
            .snapshots(from: TestSnapshots.date("2026-11-16T00:00:00Z"), to: TestSnapshots.date("2026-11-23T00:00:00Z"))
        #expect(read.count == 2)
        let readLog = try #require(read.first { $0.source == .logs })
        let readStats = try #require(read.first { $0.source == .pgStatStatements })
        #expect(readLog == log)
        #expect(readStats == stats)
    }

    @Test func readingAWeekKeepsTheLastCumulativeSnapshotBeforeItAsBaseline() throws {
        let store = try HistoryStore(path: try Self.temporaryPath("history.sqlite"), create: true)
        let older = TestSnapshots.pgss("2026-11-01T06:00:00Z", [TestSnapshots.statement("a", calls: 1, totalMs: 1)])
        for s in [older] + TestSnapshots.twoWeeks { try store.insert(s) }
        let read = try store.snapshots(from: TestSnapshots.date("2026-11-16T00:00:00Z"), to: TestSnapshots.date("2026-11-23T00:00:00Z"))
        #expect(read.map(\.takenAt) == [TestSnapshots.date("2026-11-15T23:00:00Z"), TestSnapshots.date("2026-11-22T23:00:00Z")])
    }

    @Test func aMissingStoreIsAnErrorWhenNotCreating() throws {
        let path = try Self.temporaryPath("absent.sqlite")
        let error = #expect(throws: PGAdviseError.self) { try HistoryStore(path: path, create: false) }
        #expect(error?.exitCode == 2)
        #expect(error?.message.contains("no history store at \(path)") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aTextFileAtThePathIsRefusedAndLeftUntouched() throws {
        let path = try Self.temporaryPath("notes.txt")
        let content = Data("my precious notes\n".utf8)
        try content.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: PGAdviseError.self) { try HistoryStore(path: path, create: true) }
        #expect(error?.exitCode == 2)
        #expect(error?.message == "\(path) is not a pgadvise history store (not an SQLite file); it was left untouched: "
            + "give another path with --store or PGADVISE_STORE")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func anotherApplicationsSQLiteDatabaseIsRefusedAndLeftUntouched() throws {
        // A database with tables whose header names another application (application_id 0).
        let path = try Self.temporaryPath("other.sqlite")
        do {
            let store = try HistoryStore(path: path, create: true)
            try store.insert(TestSnapshots.twoWeeks[0])
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // The last connection to close checkpoints the WAL into the file and removes it.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        bytes.replaceSubrange(68..<72, with: [0, 0, 0, 0])
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: PGAdviseError.self) { try HistoryStore(path: path, create: true) }
        #expect(error?.message.contains("is an SQLite database of another application, not a pgadvise history store") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func aCorruptFileIsRefusedAndLeftUntouched() throws {
        let path = try Self.temporaryPath("corrupt.sqlite")
        var bytes = Data("SQLite format 3\0".utf8)
        bytes.append(Data((0..<4080).map { UInt8(truncatingIfNeeded: $0 &* 37) }))
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: PGAdviseError.self) { try HistoryStore(path: path, create: true) }
        #expect(error?.exitCode == 2)
        #expect(error?.message.contains("the history store \(path) cannot be read") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func defaultPathFollowsTheEnvironment() {
        #expect(HistoryStore.defaultPath(environment: ["PGADVISE_STORE": "/srv/h.sqlite", "HOME": "/home/u"]) == "/srv/h.sqlite")
        #expect(HistoryStore.defaultPath(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/u"]) == "/data/pgadvise/history.sqlite")
        #expect(HistoryStore.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/pgadvise/history.sqlite")
    }
}
