import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// No output format, error message or stored snapshot holds the password of a conninfo, a URI,
/// PGPASSWORD or a .pgpass file. The test server trusts 127.0.0.1, so the password is passed to
/// libpq (and would be sent if asked for) without being checked: what matters is that pgadvise
/// never prints or stores it, on success and on every kind of failure.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct SecretsTests {
    static let password = "Pgadvise-S3cret-xyzzy-7781"
    static let role = "pgadvise_secret_role"
    static let database = "pgadvise_secrets"

    /// Host and port of the test server, from PGADVISE_TEST_DSN.
    static func server() throws -> (host: String, port: String) {
        let dsn = TestDatabase.dsn ?? ""
        func value(_ key: String) -> String? {
            dsn.split(separator: " ").first { $0.hasPrefix("\(key)=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        return (value("host") ?? "127.0.0.1", try #require(value("port")))
    }

    static func prepare() throws {
        try TestDatabase.freshDatabase(database, setupSQL: """
            CREATE EXTENSION pg_stat_statements;
            CREATE TABLE accounts (id int PRIMARY KEY, owner int NOT NULL, note text);
            INSERT INTO accounts SELECT g, g % 700, 'n' || g FROM generate_series(1, 20000) g;
            ANALYZE accounts;
            """)
        let admin = try TestDatabase.adminConnection()
        if try admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]).isEmpty {
            try admin.execute("CREATE ROLE \(quoteIdentifier(role)) LOGIN")
        }
        // The role has a real password: were the server to ask for it, this is what libpq would send.
        try admin.execute("ALTER ROLE \(quoteIdentifier(role)) PASSWORD \(quoteLiteral(password))")
        try admin.execute("GRANT pg_monitor TO \(quoteIdentifier(role))")
        let app = try TestDatabase.adminConnection(database: database)
        for owner in 1...10 { try app.query("SELECT id, note FROM accounts WHERE owner = $1", [String(owner)]) }
    }

    /// Every way a password reaches pgadvise: (conninfo argument, extra environment).
    static func credentials(folder: URL) throws -> [(String, String, [String: String])] {
        let (host, port) = try server()
        let pgpass = folder.appendingPathComponent("pgpass")
        try Data("\(host):\(port):*:\(role):\(password)\n".utf8).write(to: pgpass)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass.path)
        return [
            ("conninfo", "host=\(host) port=\(port) user=\(role) password=\(password) dbname=\(database)", [:]),
            ("URI", "postgresql://\(role):\(password)@\(host):\(port)/\(database)", [:]),
            ("PGPASSWORD", "host=\(host) port=\(port) user=\(role) dbname=\(database)", ["PGPASSWORD": password]),
            (".pgpass", "host=\(host) port=\(port) user=\(role) dbname=\(database)", ["PGPASSFILE": pgpass.path]),
        ]
    }

    /// The same credentials with something wrong: no such database, nothing listening, a malformed
    /// conninfo that quotes a word after the password, a URI with a bad port.
    static func failingTargets(_ conninfo: String) -> [String] {
        if conninfo.hasPrefix("postgresql://") {
            return [conninfo.replacingOccurrences(of: "/\(database)", with: "/no_such_db"),
                    conninfo.replacingOccurrences(of: #":\d+/"#, with: ":1/", options: .regularExpression),
                    conninfo.replacingOccurrences(of: #":\d+/"#, with: ":notaport/", options: .regularExpression)]
        }
        return [conninfo.replacingOccurrences(of: "dbname=\(database)", with: "dbname=no_such_db"),
                conninfo.replacingOccurrences(of: #"port=\d+"#, with: "port=1", options: .regularExpression),
                conninfo + " \(password)", conninfo + " sslmode=\(password)"]
    }

    @Test func noOutputErrorOrSnapshotHoldsThePassword() throws {
        try Self.prepare()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("history.sqlite").path
        var checked = 0
        func expectNoPassword(_ arguments: [String], environment: [String: String], succeeds: Bool?) throws {
            let result = try runPGAdvise(arguments, environment: environment.merging(["PGADVISE_STORE": store]) { a, _ in a })
            checked += 1
            if let succeeds {
                #expect((result.exitCode == 0 || result.exitCode == 1) == succeeds, "\(arguments.first ?? ""): exit \(result.exitCode) \(result.stderr)")
            }
            #expect(!result.stdout.contains(Self.password), "password in the output of \(arguments.prefix(1)) \(arguments.dropFirst(2))")
            #expect(!result.stderr.contains(Self.password), "password in the error of \(arguments.prefix(1)): \(result.stderr)")
        }
        for (_, conninfo, environment) in try Self.credentials(folder: folder) {
            for format in ["text", "json", "markdown", "sarif"] {
                try expectNoPassword(["scan", conninfo, "--format", format], environment: environment, succeeds: true)
            }
            for format in ["text", "json", "markdown"] {
                try expectNoPassword(["indexes", conninfo, "--format", format], environment: environment, succeeds: true)
            }
            try expectNoPassword(["snapshot", conninfo], environment: environment, succeeds: true)
            for target in Self.failingTargets(conninfo) {
                for command in [["scan"], ["indexes"], ["snapshot"], ["indexes", "--measure"]] {
                    try expectNoPassword([command[0], target] + command.dropFirst(), environment: environment, succeeds: false)
                }
            }
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisWeek = String(format: "%04d-W%02d", calendar.component(.yearForWeekOfYear, from: Date()),
                              calendar.component(.weekOfYear, from: Date()))
        for format in ["text", "json", "markdown", "html"] {
            let report = try runPGAdvise(["report", "--store", store, "--format", format, "--week", thisWeek])
            #expect(report.stdout.contains(Self.database), "the report shows the snapshots: \(report.stdout.prefix(300))")
            #expect(report.exitCode == 0, "\(report.stderr)")
            #expect(!report.stdout.contains(Self.password) && !report.stderr.contains(Self.password))
        }
        // The store and its write-ahead log, byte for byte.
        for file in [store, store + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(Self.password.utf8)) == nil, "password stored in \(file)")
        }
        // Four ways to pass it, eight successful runs and twelve or sixteen failing ones each.
        #expect(checked == 4 * 8 + 3 * 16 + 12)
    }
}
