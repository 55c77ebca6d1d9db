import Foundation
import PGAdviseTestSupport
import Testing

/// Store, output and input arguments that name something pgadvise cannot use as given: exit 2, one
/// line saying what was expected, and nothing created (not even a folder).
@Suite struct PathArgumentTests {
    /// Runs the binary in a new empty folder, so anything it creates there shows.
    struct Run { var exitCode: Int32; var stdout: String; var stderr: String }

    func runInEmptyFolder(_ arguments: [String], environment: [String: String] = [:]) throws -> (Run, [String]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("SELECT 1;\n".utf8).write(to: folder.appendingPathComponent("input.sql"))
        let process = Process()
        process.executableURL = RepositoryPaths.binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env["PGADVISE_STORE"] = nil
        env["XDG_DATA_HOME"] = folder.appendingPathComponent("xdg").path
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let left = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0 != "input.sql" }.sorted()
        return (Run(exitCode: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                              stderr: String(decoding: stderr, as: UTF8.self)), left)
    }

    func expectRefused(_ arguments: [String], environment: [String: String] = [:], saying expected: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (result, created) = try runInEmptyFolder(arguments, environment: environment)
        #expect(result.exitCode == 2, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr == "pgadvise: \(expected)\n", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(created.isEmpty, "\(arguments) created \(created)", sourceLocation: sourceLocation)
    }

    @Test func aDatabaseURIAsTheStoreIsRefusedAndNoFolderNamedAfterItAppears() throws {
        let expected = "--store expects the path of a pgadvise history file (SQLite), not a postgresql:// URI"
        try expectRefused(["snapshot", "--store", "postgresql://user@host/db", "--logs", "input.sql"], saying: expected)
        try expectRefused(["snapshot", "host=127.0.0.1 port=1", "--store", "postgresql://user@host/db"], saying: expected)
        try expectRefused(["report", "--store", "postgresql://user@host/db"], saying: expected)
        try expectRefused(["report"], environment: ["PGADVISE_STORE": "sqlite://history.db"],
                          saying: "PGADVISE_STORE expects the path of a pgadvise history file (SQLite), not a sqlite:// URI")
    }

    @Test func aStoreThatIsAFolderOrInAMissingFolderIsRefused() throws {
        try expectRefused(["snapshot", "--store", "/tmp", "--logs", "input.sql"],
                          saying: "--store /tmp is a directory: expected the path of a pgadvise history file (SQLite)")
        try expectRefused(["snapshot", "--store", "missing/history.sqlite", "--logs", "input.sql"],
                          saying: "--store missing/history.sqlite: the folder missing does not exist; "
                            + "expected the path of a pgadvise history file (SQLite) in an existing folder")
    }

    @Test func anOutputThatIsAFolderAURIOrInAMissingFolderIsRefusedBeforeAnyWork() throws {
        try expectRefused(["lint", "input.sql", "--output", "/tmp"],
                          saying: "--output /tmp is a directory: expected a file to write the report to")
        try expectRefused(["lint", "input.sql", "--output", "s3://bucket/report.txt"],
                          saying: "--output expects a file to write the report to, not a s3:// URI")
        try expectRefused(["lint", "input.sql", "--output", "/nonexistent-pgadvise/report.txt"],
                          saying: "--output /nonexistent-pgadvise/report.txt: the folder /nonexistent-pgadvise does not exist; "
                            + "expected a file to write the report to in an existing folder")
        // Checked before connecting: port 1 would otherwise be exit 3.
        try expectRefused(["scan", "host=127.0.0.1 port=1", "--output", "/tmp"],
                          saying: "--output /tmp is a directory: expected a file to write the report to")
        try expectRefused(["indexes", "host=127.0.0.1 port=1", "--output", "/nonexistent-pgadvise/x.json"],
                          saying: "--output /nonexistent-pgadvise/x.json: the folder /nonexistent-pgadvise does not exist; "
                            + "expected a file to write the report to in an existing folder")
    }

    @Test func inputsThatAreURIsOrFoldersWhereALogIsExpectedAreRefused() throws {
        try expectRefused(["logs", "https://example.com/postgresql.log"],
                          saying: "log expects a PostgreSQL log file (or - for standard input), not a https:// URI")
        try expectRefused(["indexes", "host=127.0.0.1 port=1", "--logs", "/tmp"],
                          saying: "--logs /tmp is a directory: expected a PostgreSQL log file (or - for standard input)")
        try expectRefused(["lint", "file:///schema.sql"],
                          saying: "lint expects a .sql file or a folder of them, not a file:// URI")
    }
}
