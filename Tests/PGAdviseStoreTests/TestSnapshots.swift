import Foundation
import PGAdviseCore

/// Snapshots built by hand, with counters chosen so that every delta is a round number.
enum TestSnapshots {
    static func date(_ text: String) -> Date {
        guard let d = ISOTimestamp.parse(text) else { preconditionFailure("bad test date \(text)") }
        return d
    }

    /// A statement whose fingerprint is its letter repeated (`aaaaaaaaaaaaaaaa`) and whose text names it.
    static func statement(_ letter: String, calls: Int64, totalMs: Double, text: String? = nil, p95Ms: Double? = nil) -> SnapshotStatement {
        SnapshotStatement(fingerprint: String(repeating: letter, count: 16),
                          normalized: text ?? "SELECT \(letter) FROM t WHERE id = $1",
                          queryId: Int64(letter.unicodeScalars.first?.value ?? 0), calls: calls, totalMs: totalMs,
                          p95Ms: p95Ms, rows: calls, sharedBlocksHit: calls * 10, sharedBlocksRead: calls, tempBlocksWritten: 0)
    }

    static func pgss(_ at: String, reset: String? = "2026-11-01T00:00:00Z", _ statements: [SnapshotStatement]) -> HistorySnapshot {
        HistorySnapshot(takenAt: date(at), source: .pgStatStatements, server: "system 7300000000000000001",
                        serverLabel: "db1:5432", database: "shop", statsReset: reset, statements: statements)
    }

    static func fingerprint(_ letter: String) -> String { String(repeating: letter, count: 16) }

    /// Two weeks of one server: A regressed (mean 10 -> 20 ms), B held, C disappeared, D got faster
    /// (100 -> 25 ms), E is new and carries markup in its text.
    static let twoWeeks: [HistorySnapshot] = [
        pgss("2026-11-08T23:00:00Z", [statement("a", calls: 100, totalMs: 1_000), statement("b", calls: 50, totalMs: 500),
                                       statement("c", calls: 10, totalMs: 100), statement("d", calls: 20, totalMs: 2_000)]),
        pgss("2026-11-15T23:00:00Z", [statement("a", calls: 200, totalMs: 2_000), statement("b", calls: 150, totalMs: 1_500),
                                       statement("c", calls: 20, totalMs: 200), statement("d", calls: 40, totalMs: 4_000)]),
        pgss("2026-11-22T23:00:00Z", [statement("a", calls: 300, totalMs: 4_000), statement("b", calls: 250, totalMs: 2_500),
                                       statement("d", calls: 60, totalMs: 4_500),
                                       statement("e", calls: 30, totalMs: 300, text: "SELECT '<script>alert(1)</script>' FROM t")]),
    ]
}
