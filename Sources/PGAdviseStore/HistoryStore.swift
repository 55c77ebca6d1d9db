import Foundation
import GRDB
import PGAdviseCore

/// The history of pg_stat_statements and log snapshots in one SQLite file (WAL mode). A file that
/// is not a pgadvise store is never written to: opening it fails with a message, the bytes stay.
public final class HistoryStore {
    /// The schema version this build writes (the number of migrations).
    public static let schemaVersion = 1
    /// SQLite's `application_id` header field: "pgad". Marks the file as ours before any table is read.
    static let applicationID: Int32 = 0x7067_6164

    public let path: String
    private let writer: any DatabaseWriter

    /// `$PGADVISE_STORE`, else `$XDG_DATA_HOME/pgadvise/history.sqlite`, else `~/.local/share/pgadvise/history.sqlite`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["PGADVISE_STORE"], !explicit.isEmpty { return explicit }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"].map { $0 + "/.local/share" } ?? NSHomeDirectory() + "/.local/share")
        return dataHome + "/pgadvise/history.sqlite"
    }

    /// Opens the store at `path`. With `create`, a missing file (and its folder) is created and
    /// migrated; without it, a missing file is an error (a report has nothing to read).
    public init(path: String, create: Bool) throws {
        self.path = path
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            throw PGAdviseError(.input, "the history store \(path) is a directory; give a file path with --store")
        }
        if !exists {
            guard create else {
                throw PGAdviseError(.input, "no history store at \(path): run `pgadvise snapshot` first, or give --store PATH")
            }
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do {
                    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw PGAdviseError(.input, "cannot create the folder of the history store \(path): \(error.localizedDescription)")
                }
            }
        } else {
            try Self.checkOwnership(path)
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw PGAdviseError(.input, "cannot open the history store \(path): \(describe(error))")
        }
        try migrate()
    }

    /// A file we may use: absent, empty, or SQLite with our application id or no table at all.
    /// Read through a read-only connection, so a foreign or damaged file is not changed (no WAL switch).
    private static func checkOwnership(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PGAdviseError(.input, "cannot read the history store \(path): permission denied?")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        if header.isEmpty { return }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw PGAdviseError(.input, "\(path) is not a pgadvise history store (not an SQLite file); "
                + "it was left untouched: give another path with --store or PGADVISE_STORE")
        }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { db in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                if applicationID != Self.applicationID, tables > 0 {
                    throw PGAdviseError(.input, "\(path) is an SQLite database of another application, not a pgadvise "
                        + "history store; it was left untouched: give another path with --store or PGADVISE_STORE")
                }
            }
            try queue.close()
        } catch let error as PGAdviseError {
            throw error
        } catch {
            throw PGAdviseError(.input, "the history store \(path) cannot be read (\(describe(error))); "
                + "it was left untouched: restore it from a backup or give another path with --store")
        }
    }

    private var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: snapshots, statements, snapshot_statements") { db in
            try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
            try db.execute(sql: """
                CREATE TABLE snapshot (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    taken_at TEXT NOT NULL,
                    period_start TEXT,
                    source TEXT NOT NULL,
                    server TEXT NOT NULL,
                    server_label TEXT NOT NULL,
                    database TEXT NOT NULL,
                    stats_reset TEXT
                );
                CREATE INDEX snapshot_series ON snapshot (server, database, source, taken_at);
                -- One row per fingerprint: the normalized text is stored once, not in every snapshot.
                CREATE TABLE statement (
                    fingerprint TEXT PRIMARY KEY,
                    normalized TEXT NOT NULL
                );
                CREATE TABLE snapshot_statement (
                    snapshot_id INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    fingerprint TEXT NOT NULL REFERENCES statement(fingerprint),
                    query_id INTEGER,
                    calls INTEGER NOT NULL,
                    total_ms REAL NOT NULL,
                    p95_ms REAL,
                    rows INTEGER,
                    shared_blks_hit INTEGER,
                    shared_blks_read INTEGER,
                    temp_blks_written INTEGER,
                    PRIMARY KEY (snapshot_id, fingerprint)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    private func migrate() throws {
        let migrator = migrator
        do {
            if try writer.read({ try migrator.hasBeenSuperseded($0) }) {
                throw PGAdviseError(.input, "the history store \(path) was written by a newer pgadvise (schema newer than "
                    + "version \(Self.schemaVersion)); upgrade pgadvise to read it")
            }
            try migrator.migrate(writer)
            try writer.write { db in try db.execute(sql: "PRAGMA user_version = \(Self.schemaVersion)") }
        } catch let error as PGAdviseError {
            throw error
        } catch {
            throw PGAdviseError(.input, "cannot prepare the history store \(path): \(describe(error))")
        }
    }

    /// The schema version recorded in the file (`PRAGMA user_version`).
    public func storedSchemaVersion() throws -> Int {
        try guarded { try writer.read { try Int.fetchOne($0, sql: "PRAGMA user_version") ?? 0 } }
    }

    /// SQLite's journal mode for the file (`wal`).
    public func journalMode() throws -> String {
        try guarded { try writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" } }
    }

    /// The names of the migrations applied to the file, in order.
    public func appliedMigrations() throws -> [String] {
        let migrator = migrator
        return try guarded { try writer.read { try migrator.appliedMigrations($0) } }
    }

    // MARK: - Writing

    /// Stores a snapshot with its statements in one transaction and returns its id. `beforeCommit`
    /// may throw to roll the whole snapshot back (an interruption): a snapshot is stored whole or not at all.
    @discardableResult
    public func insert(_ snapshot: HistorySnapshot, beforeCommit: () throws -> Void = {}) throws -> Int64 {
        try guarded {
            try writer.write { db in
                try db.execute(sql: """
                    INSERT INTO snapshot (taken_at, period_start, source, server, server_label, database, stats_reset)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [ISOTimestamp.format(snapshot.takenAt), snapshot.periodStart.map(ISOTimestamp.format),
                                     snapshot.source.rawValue, snapshot.server, snapshot.serverLabel, snapshot.database,
                                     snapshot.statsReset])
                let id = db.lastInsertedRowID
                for s in snapshot.statements {
                    try db.execute(sql: "INSERT INTO statement (fingerprint, normalized) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                   arguments: [s.fingerprint, s.normalized])
                    try db.execute(sql: """
                        INSERT INTO snapshot_statement (snapshot_id, fingerprint, query_id, calls, total_ms, p95_ms, rows,
                                                        shared_blks_hit, shared_blks_read, temp_blks_written)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (snapshot_id, fingerprint) DO UPDATE SET
                            calls = calls + excluded.calls, total_ms = total_ms + excluded.total_ms
                        """, arguments: [id, s.fingerprint, s.queryId, s.calls, s.totalMs, s.p95Ms, s.rows,
                                         s.sharedBlocksHit, s.sharedBlocksRead, s.tempBlocksWritten])
                }
                try beforeCommit()
                return id
            }
        }
    }

    // MARK: - Reading

    /// Every snapshot taken before `end`, statements included, oldest first per series. A cumulative
    /// series needs the snapshot just before a week to measure the week, so nothing earlier than
    /// `start` is cut except cumulative snapshots older than the last one before `start`.
    public func snapshots(from start: Date, to end: Date) throws -> [HistorySnapshot] {
        let startText = ISOTimestamp.format(start), endText = ISOTimestamp.format(end)
        return try guarded {
            try writer.read { db in
                // Snapshots that end inside [start, end), plus per cumulative series the last one before start.
                let rows = try Row.fetchAll(db, sql: """
                    SELECT s.* FROM snapshot s
                    WHERE s.taken_at < ? AND (s.taken_at >= ? OR s.id = (
                        SELECT p.id FROM snapshot p
                        WHERE p.server = s.server AND p.database = s.database AND p.source = s.source AND p.taken_at < ?
                        ORDER BY p.taken_at DESC, p.id DESC LIMIT 1))
                    ORDER BY s.server, s.database, s.source, s.taken_at, s.id
                    """, arguments: [endText, startText, startText])
                return try rows.map { row in
                    let id: Int64 = row["id"]
                    let statements = try Row.fetchAll(db, sql: """
                        SELECT ss.*, st.normalized FROM snapshot_statement ss JOIN statement st USING (fingerprint)
                        WHERE ss.snapshot_id = ? ORDER BY ss.fingerprint
                        """, arguments: [id]).map { r in
                        SnapshotStatement(
                            fingerprint: r["fingerprint"], normalized: r["normalized"], queryId: r["query_id"],
                            calls: r["calls"], totalMs: r["total_ms"], p95Ms: r["p95_ms"], rows: r["rows"],
                            sharedBlocksHit: r["shared_blks_hit"], sharedBlocksRead: r["shared_blks_read"],
                            tempBlocksWritten: r["temp_blks_written"])
                    }
                    let takenAt: String = row["taken_at"]
                    let periodStart: String? = row["period_start"]
                    let source: String = row["source"]
                    return HistorySnapshot(
                        id: id, takenAt: ISOTimestamp.parse(takenAt) ?? Date(timeIntervalSince1970: 0),
                        periodStart: periodStart.flatMap(ISOTimestamp.parse),
                        source: WorkloadSource(rawValue: source) ?? .pgStatStatements, server: row["server"],
                        serverLabel: row["server_label"], database: row["database"], statsReset: row["stats_reset"],
                        statements: statements)
                }
            }
        }
    }

    /// How many snapshots the store holds.
    public func snapshotCount() throws -> Int {
        try guarded { try writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM snapshot") ?? 0 } }
    }

    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PGAdviseError {
            throw error
        } catch {
            throw PGAdviseError(.input, "the history store \(path) failed: \(describe(error))")
        }
    }
}

private func describe(_ error: Error) -> String {
    if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
    return "\(error)"
}
