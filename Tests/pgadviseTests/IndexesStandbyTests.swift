import Foundation
import PGAdviseCore
import PGAdviseTestSupport
import Testing

/// Runs `script` with bash in the repository root, arguments as $1...; returns its stdout. Output
/// goes to files and the child is reaped with waitpid: the server the script starts outlives it, and
/// Process.waitUntilExit was seen to hang on the exited bash under the test runner.
private func bash(_ script: String, _ arguments: [String] = []) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-standby-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script, "bash"] + arguments
    process.currentDirectoryURL = RepositoryPaths.root
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    var status: Int32 = 0
    let exitCode: Int32
    if waitpid(process.processIdentifier, &status, 0) == process.processIdentifier {
        exitCode = (status >> 8) & 0xff
    } else {
        process.waitUntilExit()
        exitCode = process.terminationStatus
    }
    guard exitCode == 0 else {
        throw PGAdviseError(.database, "bash failed (\(exitCode)): " + ((try? String(contentsOf: errURL, encoding: .utf8)) ?? ""))
    }
    return try String(contentsOf: outURL, encoding: .utf8)
}

/// `--measure` builds indexes, which a hot standby cannot: pgadvise must refuse with a message that
/// says what to do, and must still advise read-only there. The standby is a pg_basebackup clone of the
/// test server (scripts/pg-temp.sh), taken after this suite's small database exists.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct IndexesStandbyTests {
    @Test func measureRefusesOnAStandbyAndReadOnlyAdviceStillRuns() throws {
        let primary = try #require(TestDatabase.dsn)
        let port = try #require(primary.split(separator: " ").first { $0.hasPrefix("port=") }?.dropFirst(5),
                                "PGADVISE_TEST_DSN names no port: \(primary)")
        try TestDatabase.freshDatabase("pgadvise_indexes_standby", setupSQL: """
            CREATE EXTENSION pg_stat_statements;
            CREATE EXTENSION hypopg;
            CREATE TABLE tickets (id int PRIMARY KEY, assignee int NOT NULL);
            INSERT INTO tickets SELECT g, g % 50 FROM generate_series(1, 1000) g;
            """)
        let started = try bash("""
            source scripts/pg-temp.sh && pg_temp_start_standby "$1" >&2 && echo "$PGTEMP_STANDBY_PORT $PGTEMP_STANDBY_DIR"
            """, [String(port)]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(started.count == 2)
        defer { _ = try? bash("source scripts/pg-temp.sh && PGTEMP_STANDBY_DIR=\"$1\" pg_temp_stop_standby", [started[1]]) }
        let standby = "host=127.0.0.1 port=\(started[0]) user=postgres dbname=pgadvise_indexes_standby"

        let refused = try runPGAdvise(["indexes", standby, "--measure"])
        #expect(refused.exitCode == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        #expect(foldedWhitespace(refused.stderr).contains(
            "--measure builds indexes and this server is a standby (pg_is_in_recovery() is true); "
            + "run it against a writable staging copy of the database"), "\(refused.stderr)")

        let advised = try runPGAdvise(["indexes", standby])
        #expect(advised.exitCode == 0, "\(advised.stderr)")
        #expect(advised.stdout.hasPrefix("Recommended indexes: "))
    }
}
