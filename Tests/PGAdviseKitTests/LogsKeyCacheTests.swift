import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The pre-scan cache of distinct statement texts is bounded (LRU): a text evicted and seen again is
/// normalised again and its figures join its fingerprint's, so a tiny cache gives the same report.
@Suite struct LogsKeyCacheTests {
    static func report(_ names: [String], capacity: Int? = nil) throws -> LogReport {
        var options = LogAnalysisOptions()
        options.jobs = 1
        if let capacity { options.keyCacheCapacity = capacity }
        return try LogsPipeline(paths: names.map { RepositoryPaths.fixture("logs/\($0)").path }, options: options).run()
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test(arguments: [["stderr-default.log"], ["stderr-log-statement.log"], ["stderr-auto-explain-analyze.log"],
                      ["csvlog.csv", "stderr-pgbadger.log"]])
    func aTinyCacheGivesTheSameReport(_ names: [String]) throws {
        let roomy = try Self.report(names)
        for capacity in [1, 2, 5] {
            let tiny = try Self.report(names, capacity: capacity)
            #expect(try Self.json(tiny.queries) == Self.json(roomy.queries), "capacity \(capacity)")
            #expect(try Self.json(tiny.findings) == Self.json(roomy.findings), "capacity \(capacity)")
            #expect(tiny.nPlusOne == roomy.nPlusOne, "capacity \(capacity)")
            #expect(tiny.tempFiles == roomy.tempFiles && tiny.lockWaits == roomy.lockWaits, "capacity \(capacity)")
            #expect(tiny.planInsights == roomy.planInsights, "capacity \(capacity)")
            #expect(tiny.summary.distinctQueries == roomy.summary.distinctQueries)
        }
    }

    /// Distinct texts cycling through a cache smaller than their number: each eviction and return lands
    /// in the same fingerprint (libpg_query ignores the digits of partition names), counted exactly.
    @Test func textsCyclingThroughASmallCacheAggregateExactly() throws {
        var log = ""
        for i in 0..<600 {
            let day = i % 30 + 1
            log += String(format: "2024-01-01 00:%02d:%02d.000 UTC [%d] LOG:  duration: %d.000 ms  statement: ", i / 60, i % 60, 100 + i % 7, i % 10 + 1)
            log += String(format: "SELECT sum(amount) FROM payments_202401%02d WHERE account_id = %d;\n", day, i)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-keycache-\(UUID().uuidString).log")
        try Data(log.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var options = LogAnalysisOptions()
        options.jobs = 1
        options.keyCacheCapacity = 8
        let r = try LogsPipeline(paths: [url.path], options: options).run()
        #expect(r.queries.count == 1)
        let q = try #require(r.queries.first)
        #expect(q.calls == 600)
        #expect(q.totalMs == 600 * 5.5)
        #expect(q.minMs == 1 && q.maxMs == 10)
        #expect(q.slowest?.line == 10)
    }

    /// Two workers over pieces of 2 MB with a tiny cache, folding their evicted keys into the shared
    /// aggregates, give the serial report byte for byte: durations are summed exactly, samples are the
    /// earliest in the input and normalized texts the first by `TextRank` whichever core adds them
    /// first, and bind values are counted from the same statements.
    @Test(arguments: ["stderr-default.log", "stderr-log-statement.log", "bind-values-skewed.log", "bind-values-in-lists.log"])
    func twoWorkersWithATinyCacheGiveTheSerialReport(_ name: String) throws {
        let original = try Data(contentsOf: RepositoryPaths.fixture("logs/\(name)"))
        var big = Data()
        // Pieces are split over the workers from 1 MB up: blocks of 2 MB cut a little short of that.
        while big.count < 7 << 20 { big.append(original) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-two-workers-\(UUID().uuidString).log")
        try big.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        func run(jobs: Int, capacity: Int) throws -> LogReport {
            var options = LogAnalysisOptions()
            options.jobs = jobs
            options.keyCacheCapacity = capacity
            options.blockSize = 2 << 20
            options.queriesKept = nil
            return try LogsPipeline(paths: [url.path], options: options).run()
        }
        let serial = try run(jobs: 1, capacity: 10_000)
        let parallel = try run(jobs: 2, capacity: 4)
        #expect(!serial.queries.isEmpty)
        #expect(try Self.json(parallel) == Self.json(serial))
    }
}
