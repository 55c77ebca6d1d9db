import Foundation
import PGAdviseCore
import PGAdviseRules
import PGAdviseSources

extension ScanPipeline {
    /// The connection rules on the scan's one `pg_stat_activity` snapshot of its database, with the
    /// database's session counters since reset: rules that need a sampled window (how few backends
    /// are *ever* active) stay silent on one snapshot.
    func connectionFindings(activity: ActivitySnapshot?, server: ServerInfo) -> [Finding] {
        guard let activity else { return [] }
        let counters = try? ConnectionActivityCollector(connection: connection, currentDatabaseOnly: true).sessionCounters()
        let observation = PoolObservation(
            samples: 1, maxConnections: server.setting("max_connections").flatMap { Int($0.setting) } ?? 100,
            connectionsPeak: activity.totalSessions, byState: activity.sessionsByState,
            byDatabase: [server.database: activity.totalSessions], activePeak: activity.sessionsByState["active"] ?? 0,
            activeP95: Double(activity.sessionsByState["active"] ?? 0), activeMean: Double(activity.sessionsByState["active"] ?? 0),
            oldestIdleInTransaction: activity.longestIdleInTransactionMs.map {
                IdleTransaction(pid: 0, transactionAgeMs: $0, idleMs: $0, database: server.database)
            },
            sessionsSinceReset: counters ?? nil)
        return applyConnectionRules(observation)
    }
}
