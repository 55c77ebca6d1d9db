import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Each logged execution's bind values are counted per parameter, so the advisor can weigh the
/// values a statement was really called with.
struct LogBoundValuesTests {
    @Test func executionsAreCountedPerBoundValue() throws {
        let analyzer = LogAnalyzer()
        try analyzer.add(path: RepositoryPaths.fixture("logs/bind-values-skewed.log").path)
        let report = try analyzer.report()
        // parse and bind steps log the parameters too, but only executions count.
        #expect(report.workload.queries.map(\.calls) == [40])
        #expect(report.workload.queries.first?.observedValues == [ObservedParameterValues(parameter: 1, source: .log, values: [
            ObservedValue(value: "failed", executions: 30), ObservedValue(value: "pending", executions: 10),
        ])])
    }

    /// One fingerprint, two places for its parameters: an IN list of three ids then the status as `$4`,
    /// and an IN list of two then the status as `$3`. Values are counted only where the text shown binds
    /// them (the shorter list, though the longer one came first), never a status among the ids.
    @Test func inListsOfOtherLengthsDoNotMixTheirParameters() throws {
        let analyzer = LogAnalyzer()
        try analyzer.add(path: RepositoryPaths.fixture("logs/bind-values-in-lists.log").path)
        let query = try #require(try analyzer.report().workload.queries.first)
        #expect(query.calls == 12)
        #expect(query.normalized == "SELECT id FROM orders WHERE customer_id IN ($1, $2) AND status = $3;")
        #expect(query.observedValues == [
            ObservedParameterValues(parameter: 1, source: .log, values: [ObservedValue(value: "21", executions: 4), ObservedValue(value: "11", executions: 2)]),
            ObservedParameterValues(parameter: 2, source: .log, values: [ObservedValue(value: "22", executions: 4), ObservedValue(value: "31", executions: 2)]),
            ObservedParameterValues(parameter: 3, source: .log, values: [ObservedValue(value: "shipped", executions: 4), ObservedValue(value: "open", executions: 2)]),
        ])
    }

    /// A key looked up by ever new values (ids) keeps a bounded count: the most used values first,
    /// the values seen after the first 64 distinct ones counted together.
    @Test func manyDistinctValuesKeepABoundedCount() throws {
        var lines: [String] = []
        for i in 0..<200 {
            let id = i % 3 == 0 ? 7 : 1000 + i
            lines.append("2026-12-06 03:00:00.\(String(format: "%03d", i % 1000)) UTC [42] LOG:  duration: 0.050 ms  execute <unnamed>: SELECT name FROM accounts WHERE id = $1")
            lines.append("2026-12-06 03:00:00.\(String(format: "%03d", i % 1000)) UTC [42] DETAIL:  parameters: $1 = '\(id)'")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-bound-\(getpid()).log")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let analyzer = LogAnalyzer()
        try analyzer.add(path: file.path)
        let observed = try #require(try analyzer.report().workload.queries.first?.observedValues?.first)
        #expect(observed.values.count == ObservedParameterValues.maxKept)
        #expect(observed.values.first == ObservedValue(value: "7", executions: 67))
        #expect(observed.totalExecutions == 200)
        // 7 and 63 other ids were counted one by one; the 70 ids seen after them only as other.
        #expect(observed.otherExecutions == 200 - 67 - 4)
    }
}
