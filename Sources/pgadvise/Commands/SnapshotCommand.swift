import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
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
        let source: SnapshotPipeline.Source = logs.isEmpty
            ? .statements(try connection.connect(), maxStatements: maxStatements)
            : .logs(logs, server: server, database: database)
        let result = try SnapshotPipeline(source: source, takenAt: parsedTakenAt).run(store: store, beforeCommit: Interruption.shared.commit)
        Interruption.shared.end(activity)
        for warning in result.warnings { printError("warning: " + warning) }
        let snapshot = result.snapshot
        let from = snapshot.source == .logs ? "logs" : "pg_stat_statements"
        print("snapshot \(result.id): \(snapshot.statements.count) statements from \(from) of \(snapshot.serverLabel)"
            + "\(snapshot.database.isEmpty ? "" : "/" + snapshot.database) at \(ISOTimestamp.format(snapshot.takenAt)), stored in \(store.path)")
    }
}
