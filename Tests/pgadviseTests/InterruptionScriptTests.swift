import Foundation
import PGAdviseTestSupport
import Testing

/// Runs scripts/interrupt-test.sh with a small count: SIGINT and SIGTERM at random points of
/// `indexes --measure`, `indexes`, `scan`, `snapshot`, `pool --measure --script` and
/// `explain --sql ... --allow-writes`, then server restarts and
/// pg_terminate_backend under them, each followed by checks that nothing was left on the server or
/// in the history store. The script starts a throwaway server of its own (restarting the shared
/// test server would break the other suites); INTERRUPT_COUNT and FAILURE_COUNT raise the counts.
@Suite(.enabled(if: TestDatabase.isAvailable))
struct InterruptionScriptTests {
    @Test func interruptionsAndServerFailuresLeaveNothingBehind() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [RepositoryPaths.root.appendingPathComponent("scripts/interrupt-test.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["PGADVISE_BIN"] = RepositoryPaths.binary.path
        environment["INTERRUPT_COUNT"] = environment["INTERRUPT_COUNT"] ?? "5"
        environment["FAILURE_COUNT"] = environment["FAILURE_COUNT"] ?? "2"
        process.environment = environment
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("interrupt-test: all checks passed"), "\(output)")
        // Every signal got an answer: one line or a finished run, tallied by where it landed.
        #expect(output.contains("where the signals and failures landed:"), "\(output)")
    }
}
