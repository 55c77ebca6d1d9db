import Foundation
import PGAdviseCore
import PGAdviseSources

/// Paths inside the repository, independent of the directory `swift test` runs in.
public enum RepositoryPaths {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/PGAdviseTestSupport/TestSupport.swift
        return url
    }()

    public static func fixture(_ relative: String) -> URL {
        root.appendingPathComponent("fixtures").appendingPathComponent(relative)
    }

    /// The built `pgadvise` binary: next to the test bundle, where SwiftPM puts every product.
    public static var binary: URL {
        if let explicit = ProcessInfo.processInfo.environment["PGADVISE_BIN"] { return URL(fileURLWithPath: explicit) }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("pgadvise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/pgadvise")
    }
}

/// The result of running the real binary.
public struct CommandOutput: Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the built `pgadvise` with arguments and optional standard input, as a user would.
public func runPGAdvise(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> CommandOutput {
    let process = Process()
    process.executableURL = RepositoryPaths.binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    // Drain both pipes while the process runs so a large report cannot block it.
    var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    group.wait()
    return CommandOutput(exitCode: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// The real PostgreSQL 15 that `scripts/test.sh` starts, reached through `PGADVISE_TEST_DSN`
/// (a superuser conninfo). Integration tests are enabled only when it is set; under CI it must be.
public enum TestDatabase {
    public static var dsn: String? {
        let value = ProcessInfo.processInfo.environment["PGADVISE_TEST_DSN"]
        return (value?.isEmpty ?? true) ? nil : value
    }

    /// True when integration tests can run. Under `CI=true` a missing server is a failure, not a skip:
    /// `scripts/test.sh` always starts one, so its absence means the harness is broken.
    public static var isAvailable: Bool {
        if dsn != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            FileHandle.standardError.write(Data("PGADVISE_TEST_DSN is not set under CI: integration tests cannot run\n".utf8))
            exit(1)
        }
        return false
    }

    /// A conninfo for database `name` on the test server (same host, port and user as the DSN).
    public static func dsn(database name: String) -> String {
        "\(dsn ?? "") dbname=\(name)"
    }

    /// A writable superuser connection to the test server's default database.
    public static func adminConnection(database: String? = nil) throws -> PostgresConnection {
        guard let base = dsn else { throw PGAdviseError(.connection, "PGADVISE_TEST_DSN is not set") }
        let conninfo = database.map { "\(base) dbname=\($0)" } ?? base
        return try PostgresConnection(conninfo: conninfo, options: SessionOptions(statementTimeoutMs: 600_000, readOnly: false))
    }

    /// A LOGIN role whose only privilege is `pg_monitor`, as a monitoring tool gets in production.
    /// Roles are server-wide, so it is created once and reused.
    public static func ensureMonitoringRole(_ role: String) throws {
        let admin = try adminConnection()
        let exists = try admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])
        if exists.isEmpty { try admin.execute("CREATE ROLE \(quoteIdentifier(role)) LOGIN") }
        try admin.execute("GRANT pg_monitor TO \(quoteIdentifier(role))")
    }

    /// Drops and recreates database `name`, runs `setupSQL` in it, and returns its conninfo.
    /// Each test suite owns its database, so suites can run in parallel.
    @discardableResult
    public static func freshDatabase(_ name: String, setupSQL: String = "") throws -> String {
        let admin = try adminConnection()
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name])
        try admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name))")
        try admin.execute("CREATE DATABASE \(quoteIdentifier(name))")
        if !setupSQL.isEmpty {
            let db = try adminConnection(database: name)
            try db.execute(setupSQL)
        }
        return dsn(database: name)
    }

    /// A fresh database whose tables are vacuumed and analysed and whose pg_stat_statements entries
    /// are reset, so that what a test runs next is all the workload it holds. pg_qualstats is not
    /// reset: its reset empties every database's entries, those of suites running beside this one
    /// too, and a fresh database's statements have query ids of their own.
    public static func freshAnalysedDatabase(_ name: String, setupSQL: String) throws -> String {
        let dsn = try freshDatabase(name, setupSQL: setupSQL)
        let admin = try adminConnection(database: name)
        try admin.execute("VACUUM ANALYZE")
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        return dsn
    }
}

/// Debian's `chromium-headless-shell`, to check that an HTML report renders in a real browser.
public enum HeadlessBrowser {
    public static var path: String? {
        ["/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// True when the browser is installed. Under `CI=true` a missing browser is a failure, not a skip:
    /// `scripts/setup.sh` installs it.
    public static var isAvailable: Bool {
        if path != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            FileHandle.standardError.write(Data("chromium-headless-shell is not installed under CI: HTML tests cannot run\n".utf8))
            exit(1)
        }
        return false
    }

    /// The DOM after the page loaded and ran its scripts, as the browser serializes it. The page is
    /// loaded from a file with the network blocked, so a report that needs an external resource
    /// shows it missing.
    public static func renderedDOM(html: String, screenshot: URL? = nil) throws -> String {
        guard let browser = path else { throw PGAdviseError(.input, "chromium-headless-shell is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        var arguments = ["--no-sandbox", "--headless", "--disable-gpu", "--user-data-dir=\(dir.path)/profile",
                         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
        if let screenshot { arguments += ["--screenshot=\(screenshot.path)", "--window-size=1280,2000"] } else { arguments += ["--dump-dom"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = arguments + [page.absoluteString]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PGAdviseError(.input, "chromium-headless-shell exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The real PgBouncer that `scripts/test.sh` starts in front of the test server (pool_mode
/// transaction, default_pool_size 5, max_client_conn 100, auth trust, postgres as admin user),
/// reached through `PGADVISE_TEST_PGBOUNCER_DSN` and, for its admin console, `..._ADMIN_DSN`.
public enum TestPgBouncer {
    static func variable(_ name: String) -> String? {
        let value = ProcessInfo.processInfo.environment[name]
        return (value?.isEmpty ?? true) ? nil : value
    }

    public static var dsn: String? { variable("PGADVISE_TEST_PGBOUNCER_DSN") }
    public static var adminDSN: String? { variable("PGADVISE_TEST_PGBOUNCER_ADMIN_DSN") }

    /// Like `TestDatabase.isAvailable`: under `CI=true` a missing PgBouncer is a failure, not a skip.
    public static var isAvailable: Bool {
        if dsn != nil && adminDSN != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            FileHandle.standardError.write(Data("PGADVISE_TEST_PGBOUNCER_DSN is not set under CI: PgBouncer tests cannot run\n".utf8))
            exit(1)
        }
        return false
    }

    /// A conninfo for database `name` through PgBouncer.
    public static func dsn(database name: String) -> String { "\(dsn ?? "") dbname=\(name)" }
}
