import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseSources
import PGAdviseStore

/// `--store PATH`: the same on `snapshot` and `report`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The history file (SQLite).",
        discussion: "Default: $PGADVISE_STORE, else $XDG_DATA_HOME/pgadvise/history.sqlite, else ~/.local/share/pgadvise/history.sqlite."))
    var store: String?

    var path: String { store ?? HistoryStore.defaultPath() }
}

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Store today's pg_stat_statements counters (or a log's statements) in the history file for `pgadvise report`.",
        discussion: """
        Run it daily from cron: each run reads pg_stat_statements of one database in a read-only session \
        (as `pgadvise scan` does) and stores every statement's cumulative counters with the server's identity \
        (its system identifier, host and port; never a password) and pg_stat_statements' stats_reset. \
        `pgadvise report` takes the differences between snapshots, so the first snapshot is only a baseline. \
        With --logs it stores the statements of PostgreSQL logs instead, as one snapshot covering the logs' \
        time span (counted in the week its last line falls in: snapshot one day's log at a time to split weeks \
        exactly). --taken-at backfills: it records the snapshot as taken at that time instead of now. \
        Exit codes: 0 stored, 2 bad usage, unreadable log or store, pg_stat_statements unusable, 3 cannot connect.
        """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .long, parsing: .upToNextOption, help: "Store these PostgreSQL log files instead of pg_stat_statements.")
    var logs: [String] = []

    @Option(name: .long, help: "With --logs: the server name to file the log under (default: logs).")
    var server: String = "logs"

    @Option(name: .long, help: "With --logs: the database name to file the log under (default: all databases in the log).")
    var database: String = ""

    @Option(name: .long, help: "Record the snapshot as taken at this ISO 8601 time (2026-11-16T06:00:00Z), for backfills.")
    var takenAt: String?

    @Option(name: .long, help: "Most pg_stat_statements entries to store (heaviest by total time, calls and mean time).")
    var maxStatements: Int = 100_000

    func validate() throws {
        if !logs.isEmpty, !connection.conninfo.isEmpty {
            throw ValidationError("give either a conninfo (pg_stat_statements) or --logs FILE..., not both")
        }
        if takenAt != nil, parsedTakenAt == nil {
            throw ValidationError("--taken-at \(takenAt ?? ""): expected an ISO 8601 time such as 2026-11-16T06:00:00Z")
        }
        guard maxStatements > 0 else { throw ValidationError("--max-statements must be at least 1") }
    }

    private var parsedTakenAt: Date? { takenAt.flatMap(ISOTimestamp.parse) }

    func run() throws {
        // The store is checked first: a foreign file at the path stops us before any work.
        // An interruption anywhere before the commit leaves the store as it was.
        let activity = Interruption.shared.begin("the snapshot (nothing was stored in \(storeOptions.path))")
        defer { Interruption.shared.end(activity) }
        let store = try HistoryStore(path: storeOptions.path, create: true)
        let snapshot = logs.isEmpty ? try collectStatements() : try readLogs()
        let id = try store.insert(snapshot, beforeCommit: Interruption.shared.commit)
        Interruption.shared.end(activity)
        let source = snapshot.source == .logs ? "logs" : "pg_stat_statements"
        print("snapshot \(id): \(snapshot.statements.count) statements from \(source) of \(snapshot.serverLabel)"
            + "\(snapshot.database.isEmpty ? "" : "/" + snapshot.database) at \(ISOTimestamp.format(snapshot.takenAt)), stored in \(store.path)")
    }

    private func collectStatements() throws -> HistorySnapshot {
        let conn = try connection.connect()
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
            printError("warning: \(collection.status.hiddenStatements) pg_stat_statements entries of other roles are hidden "
                + "from this role and not stored: GRANT pg_read_all_stats to it")
        }
        let identity = try ServerIdentity.read(conn)
        return HistorySnapshot(
            takenAt: parsedTakenAt ?? Date(), source: .pgStatStatements, server: identity.key, serverLabel: identity.label,
            database: conn.databaseName, statsReset: collection.status.statsReset,
            statements: collection.workload.queries.map(SnapshotStatement.init))
    }

    private func readLogs() throws -> HistorySnapshot {
        let analyzer = LogAnalyzer(options: LogAnalysisOptions())
        for file in logs { try analyzer.add(path: file) }
        let report = try analyzer.report()
        let first = report.summary.firstTimestamp.flatMap(ISOTimestamp.parseLogged)
        let last = report.summary.lastTimestamp.flatMap(ISOTimestamp.parseLogged)
        guard let end = parsedTakenAt ?? last else {
            throw PGAdviseError(.input, "the log's timestamps (\(report.summary.lastTimestamp ?? "none")) cannot be read "
                + "as times: give --taken-at with the time its last line was written")
        }
        return HistorySnapshot(
            takenAt: end, periodStart: parsedTakenAt == nil ? first : nil, source: .logs, server: server,
            serverLabel: server, database: database,
            statements: report.queries.filter { $0.calls > 0 }.map(SnapshotStatement.init))
    }
}

/// Who the server is, for tying snapshots into one series: its system identifier when the role may
/// read it (a standby shares its primary's identifier but not its statistics, so host and port are
/// added there), else host and port. Never the password.
struct ServerIdentity {
    var key: String
    var label: String

    static func read(_ conn: PostgresConnection) throws -> ServerIdentity {
        // description is "user@host:port/db"; the host may be a socket folder with slashes of its own.
        var label = conn.description
        if let at = label.firstIndex(of: "@") { label = String(label[label.index(after: at)...]) }
        if let slash = label.lastIndex(of: "/") { label = String(label[..<slash]) }
        // pg_control_system() may be denied to a monitoring role: then host and port identify the server.
        let row = (try? conn.query(pgadviseStatementMarker + """
            SELECT (SELECT system_identifier::text FROM pg_control_system()) AS id, pg_is_in_recovery() AS standby
            """))?.records.first
        guard let identifier = row?["id"] else { return ServerIdentity(key: label, label: label) }
        let standby = row?.bool("standby") ?? false
        return ServerIdentity(key: "system \(identifier)" + (standby ? " standby \(label)" : ""), label: label)
    }
}
