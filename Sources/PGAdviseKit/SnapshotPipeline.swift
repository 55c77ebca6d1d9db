import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseStore

/// `pgadvise snapshot`: today's pg_stat_statements counters (or the statements of PostgreSQL logs)
/// as one snapshot, stored in the history file that `pgadvise report` reads.
public struct SnapshotPipeline {
    public enum Source {
        /// pg_stat_statements of the connected database, at most `maxStatements` entries.
        case statements(PostgresConnection, maxStatements: Int)
        /// The statements of these log files, filed under `server` and `database`.
        case logs([String], server: String, database: String)
    }

    /// The stored snapshot, its id in the store, and what the user should know about what was left out.
    public struct Result {
        public var id: Int64
        public var snapshot: HistorySnapshot
        public var warnings: [String]
    }

    public let source: Source
    /// Record the snapshot as taken at this time instead of now (backfills).
    public let takenAt: Date?

    public init(source: Source, takenAt: Date? = nil) {
        self.source = source
        self.takenAt = takenAt
    }

    /// `beforeCommit` runs inside the store's transaction, just before it commits: the point after
    /// which an interruption no longer undoes the snapshot.
    public func run(store: HistoryStore, beforeCommit: () throws -> Void = {}) throws -> Result {
        var warnings: [String] = []
        let snapshot: HistorySnapshot
        switch source {
        case .statements(let connection, let maxStatements):
            snapshot = try collectStatements(connection, maxStatements: maxStatements, warnings: &warnings)
            // A reading that carried on without an optional answer (a lost connection swallowed)
            // is not a whole snapshot.
            if let lost = connection.lostError { throw lost }
        case .logs(let paths, let server, let database):
            snapshot = try readLogs(paths, server: server, database: database)
        }
        let id = try store.insert(snapshot, beforeCommit: beforeCommit)
        return Result(id: id, snapshot: snapshot, warnings: warnings)
    }

    func collectStatements(_ conn: PostgresConnection, maxStatements: Int, warnings: inout [String]) throws -> HistorySnapshot {
        let collection: StatementStatsCollection
        do {
            collection = try PgStatStatementsCollector(connection: conn).collect(limit: maxStatements)
        } catch let error as PostgresError {
            throw PGAdviseError(error.isPermissionDenied ? .input : .database,
                                "cannot read pg_stat_statements: \(error.message)"
                                + (error.isPermissionDenied ? " (GRANT pg_monitor to the role pgadvise connects as)" : ""))
        }
        guard collection.status.availability == .available else {
            throw PGAdviseError(.input, "pg_stat_statements cannot be read (\(collection.status.availability.rawValue)): "
                + (collection.status.remedy ?? "install and preload the extension"))
        }
        if collection.status.hiddenStatements > 0 {
            warnings.append("\(collection.status.hiddenStatements) pg_stat_statements entries of other roles are hidden "
                + "from this role and not stored: GRANT pg_read_all_stats to it")
        }
        let identity = try ServerIdentity.read(conn)
        return HistorySnapshot(
            takenAt: takenAt ?? Date(), source: .pgStatStatements, server: identity.key, serverLabel: identity.label,
            database: conn.databaseName, statsReset: collection.status.statsReset,
            statements: collection.workload.queries.map(SnapshotStatement.init))
    }

    func readLogs(_ paths: [String], server: String, database: String) throws -> HistorySnapshot {
        let analyzer = LogAnalyzer(options: LogAnalysisOptions())
        for file in paths { try analyzer.add(path: file) }
        let report = try analyzer.report()
        let first = report.summary.firstTimestamp.flatMap(ISOTimestamp.parseLogged)
        let last = report.summary.lastTimestamp.flatMap(ISOTimestamp.parseLogged)
        guard let end = takenAt ?? last else {
            throw PGAdviseError(.input, "the log's timestamps (\(report.summary.lastTimestamp ?? "none")) cannot be read "
                + "as times: give --taken-at with the time its last line was written")
        }
        return HistorySnapshot(
            takenAt: end, periodStart: takenAt == nil ? first : nil, source: .logs, server: server,
            serverLabel: server, database: database,
            statements: report.queries.filter { $0.calls > 0 }.map(SnapshotStatement.init))
    }
}

/// Who the server is, for tying snapshots into one series: its system identifier when the role may
/// read it (a standby shares its primary's identifier but not its statistics, so host and port are
/// added there), else host and port. Never the password.
public struct ServerIdentity: Equatable {
    public var key: String
    public var label: String

    public static func read(_ conn: PostgresConnection) throws -> ServerIdentity {
        let label = hostAndPort(conn.description)
        guard let system = try ServerInfoCollector(connection: conn).systemIdentity() else {
            return ServerIdentity(key: label, label: label)
        }
        return ServerIdentity(key: "system \(system.identifier)" + (system.standby ? " standby \(label)" : ""), label: label)
    }

    /// `host:port` of a connection's description ("user@host:port/db"); the host may be a socket
    /// folder with slashes of its own.
    static func hostAndPort(_ description: String) -> String {
        var label = description
        if let at = label.firstIndex(of: "@") { label = String(label[label.index(after: at)...]) }
        if let slash = label.lastIndex(of: "/") { label = String(label[..<slash]) }
        return label
    }
}
