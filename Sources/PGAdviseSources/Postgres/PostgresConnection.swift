import CLibPQ
import Foundation
import PGAdviseCore

/// How a pgadvise session behaves on the server. Defaults are safe for production: read-only,
/// short statement and lock timeouts, and a recognisable application_name.
public struct SessionOptions: Sendable, Equatable {
    public var statementTimeoutMs: Int
    public var lockTimeoutMs: Int
    /// False only when the user asked for a writing mode by flag (`--measure`, `--create-extension`).
    public var readOnly: Bool
    public var applicationName: String
    /// Seconds libpq waits for the server to answer a connection attempt (unless the conninfo says).
    public var connectTimeoutSeconds: Int
    /// True for a server that is no PostgreSQL backend, PgBouncer's admin console: it accepts no
    /// SET, no set_config and no extended protocol, so the session is left as the conninfo made it
    /// (application_name still goes in the startup packet) and only `execute` (PQexec) may be used.
    public var skipSessionSetup: Bool = false

    public init(statementTimeoutMs: Int = 30_000, lockTimeoutMs: Int = 1_000, readOnly: Bool = true,
                applicationName: String = "pgadvise", connectTimeoutSeconds: Int = 10) {
        self.statementTimeoutMs = statementTimeoutMs; self.lockTimeoutMs = lockTimeoutMs
        self.readOnly = readOnly; self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// A session for PgBouncer's admin console (see `skipSessionSetup`).
    public static func adminConsole(applicationName: String = "pgadvise", connectTimeoutSeconds: Int = 10) -> SessionOptions {
        var options = SessionOptions(applicationName: applicationName, connectTimeoutSeconds: connectTimeoutSeconds)
        options.skipSessionSetup = true
        return options
    }
}

/// A server error with its SQLSTATE, so callers can tell "permission denied" (42501) from
/// "statement timeout" (57014) from "undefined table" (42P01) and say what to do.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?

    public var description: String {
        var s = message
        if let detail, !detail.isEmpty { s += " (\(detail))" }
        if let hint, !hint.isEmpty { s += " Hint: \(hint)" }
        return s
    }

    public var isPermissionDenied: Bool { sqlState == "42501" }
    public var isStatementTimeout: Bool { sqlState == "57014" }
    public var isLockTimeout: Bool { sqlState == "55P03" }
    /// The server is ending the session (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
    /// connect now, 57P04 database dropped) or the connection failed (class 08): nothing more can
    /// run on it, whatever libpq's status says yet.
    public var endsSession: Bool { (sqlState ?? "").hasPrefix("57P") || (sqlState ?? "").hasPrefix("08") }
}

/// Rows of one result, all values as PostgreSQL's text output (NULL is nil).
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    public var isEmpty: Bool { rows.isEmpty }

    /// Rows with values looked up by column name.
    public var records: [Record] {
        var position: [String: Int] = [:]
        for (i, c) in columns.enumerated() where position[c] == nil { position[c] = i }
        return rows.map { Record(values: $0, position: position) }
    }
}

public struct Record: Sendable {
    let values: [String?]
    let position: [String: Int]

    public subscript(_ column: String) -> String? {
        guard let i = position[column], i < values.count else { return nil }
        return values[i]
    }

    public func int(_ column: String) -> Int64? { self[column].flatMap { Int64($0) } }
    public func double(_ column: String) -> Double? { self[column].flatMap { Double($0) } }
    public func bool(_ column: String) -> Bool? { self[column].map { $0 == "t" || $0 == "true" } }
    public func string(_ column: String) -> String? { self[column] }
    /// A PostgreSQL text array (`{a,"b c",NULL}`) as Swift strings; NULL elements are dropped.
    public func textArray(_ column: String) -> [String] { self[column].map(parsePostgresArray) ?? [] }
}

/// A libpq connection. Not shared between threads; open one per concurrent task.
public final class PostgresConnection {
    private let handle: OpaquePointer
    public let options: SessionOptions
    /// `server_version_num`, e.g. 150004.
    public private(set) var serverVersionNumber: Int = 0
    /// Statements sent since the connection opened (session setup included): the benchmark's proof
    /// that a scan's round trips do not grow with the number of tables.
    public private(set) var roundTrips: Int = 0
    /// The connection's entry in `Interruption`, which cancels its running statement on a signal.
    private var interruptionToken: Int?
    /// Set once the server went away (restart, pg_terminate_backend): every later statement fails
    /// with it at once, so a step that skips failures cannot carry on as if it had a session, and
    /// what was read over the connection is not stored as if whole.
    public private(set) var lostError: PGAdviseError?

    /// Connects with a conninfo string or a `postgres://` URI (empty: libpq's `PG*` environment
    /// variables, `.pgpass` and defaults, as psql does), then applies the session options.
    public init(conninfo: String, options: SessionOptions = SessionOptions()) throws {
        self.options = options
        // Later keywords override those inside the expanded conninfo; earlier ones are defaults
        // the user's conninfo can override.
        let pairs: [(String, String)] = [
            ("connect_timeout", String(options.connectTimeoutSeconds)),
            ("dbname", conninfo),
            ("application_name", options.applicationName),
        ]
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keywordPointers = keywords.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = values.map { UnsafePointer<CChar>($0) } + [nil]
        guard let conn = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw PGAdviseError(.connection, "could not allocate a libpq connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)
            throw PGAdviseError(.connection, Self.explainConnectionFailure(message))
        }
        handle = conn
        // libpq's default notice processor prints to stderr, which would add a second line
        // ("FATAL: terminating connection ...") to pgadvise's one-line errors.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        serverVersionNumber = Int(PQserverVersion(conn))
        if let cancel = PQgetCancel(conn) { interruptionToken = Interruption.shared.register(cancel: cancel) }
        if !options.skipSessionSetup { try applySessionOptions() }
    }

    /// A handle that cancels this connection's running statement from any thread (PQcancel is
    /// thread-safe; the connection itself is not), e.g. when the user presses Ctrl-C.
    public func makeCanceller() -> PostgresCanceller? {
        PQgetCancel(handle).map(PostgresCanceller.init)
    }

    deinit {
        if let interruptionToken { Interruption.shared.unregister(interruptionToken) }
        PQfinish(handle)
    }

    /// Who and where, for reports: never includes the password.
    public var description: String {
        let user = PQuser(handle).map { String(cString: $0) } ?? "?"
        let db = PQdb(handle).map { String(cString: $0) } ?? "?"
        let host = PQhost(handle).map { String(cString: $0) } ?? "?"
        let port = PQport(handle).map { String(cString: $0) } ?? "?"
        return "\(user)@\(host):\(port)/\(db)"
    }

    public var databaseName: String { PQdb(handle).map { String(cString: $0) } ?? "" }

    private func applySessionOptions() throws {
        _ = try query(pgadviseStatementMarker + "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false),"
                      + " set_config('default_transaction_read_only', $3, false), set_config('application_name', $4, false)",
                      [String(options.statementTimeoutMs), String(options.lockTimeoutMs),
                       options.readOnly ? "on" : "off", options.applicationName])
        // idle_in_transaction_session_timeout guards a pgadvise killed mid-transaction (e.g. --measure)
        // from holding locks: the server ends such a session on its own.
        _ = try query(pgadviseStatementMarker + "SELECT set_config('idle_in_transaction_session_timeout', $1, false)",
                      [String(max(options.statementTimeoutMs * 2, 60_000))])
    }

    /// Runs one statement with text parameters (`$1`, `$2`, ...). Values are never spliced into SQL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        try beginStatement(sql)
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer<CChar>($0) }
        let result: OpaquePointer? = pointers.withUnsafeMutableBufferPointer { buffer in
            PQexecParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result, sql)
    }

    /// Runs a script of several statements with no parameters (`SET ...; BEGIN; ...`); returns the last result.
    @discardableResult
    public func execute(_ script: String) throws -> QueryResult {
        try beginStatement(script)
        return try consume(PQexec(handle, script), script)
    }

    /// Statements that undo work (ROLLBACK, DEALLOCATE, hypopg_reset) still run after a signal, so
    /// the unwinding code can roll back; any other statement is refused once a signal arrived.
    static func undoes(_ sql: String) -> Bool {
        let text = sql.hasPrefix(pgadviseStatementMarker) ? String(sql.dropFirst(pgadviseStatementMarker.count)) : sql
        return ["ROLLBACK", "DEALLOCATE", "SELECT hypopg_reset()"].contains { text.hasPrefix($0) }
    }

    private func beginStatement(_ sql: String) throws {
        if let lostError { throw lostError }
        if let interruptionToken, !Self.undoes(sql) { try Interruption.shared.setBusy(interruptionToken, true) }
        roundTrips += 1
    }

    /// Reads and frees a result; a failed one becomes a PostgresError, a lost connection a
    /// PGAdviseError, and any result once a signal arrived an InterruptedError (the statement was
    /// most likely cancelled: 57014 must not pass for a statement timeout).
    private func consume(_ result: OpaquePointer?, _ sql: String) throws -> QueryResult {
        if let interruptionToken { try? Interruption.shared.setBusy(interruptionToken, false) }
        guard let result else { throw connectionLost() }
        defer { PQclear(result) }
        if !Self.undoes(sql) { try Interruption.shared.checkpoint() }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.read(result)
        default:
            let error = Self.error(from: result)
            if PQstatus(handle) != CONNECTION_OK || error.endsSession { throw connectionLost() }
            throw error
        }
    }

    /// True when the server is a standby (`pg_is_in_recovery()`).
    public func isInRecovery() throws -> Bool {
        try query("SELECT pg_is_in_recovery() AS r").records.first?.bool("r") ?? false
    }

    /// One line: libpq's message runs over several ("FATAL: terminating connection due to
    /// administrator command" then "server closed the connection unexpectedly ...").
    private func connectionLost() -> PGAdviseError {
        let raw = String(cString: PQerrorMessage(handle))
        let firstLine = raw.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let reason = firstLine.replacingOccurrences(of: #"^(FATAL|ERROR):\s*"#, with: "", options: .regularExpression)
        let error = PGAdviseError(.connection, "lost the connection to the server (\(reason.isEmpty ? "no reason given" : reason)): "
                                  + "the server rolls back whatever pgadvise had open and nothing was stored; retry when the server is back")
        lostError = error
        PostgresConnection.recordLostConnection(error)
        return error
    }

    private static let lostLock = NSLock()
    nonisolated(unsafe) private static var firstLost: PGAdviseError?

    private static func recordLostConnection(_ error: PGAdviseError) {
        lostLock.withLock { if firstLost == nil { firstLost = error } }
    }

    /// The first lost connection of this process, if any: a command that caught the failure and
    /// finished anyway still exits 3 with it (see `main`).
    public static var lostConnection: PGAdviseError? { lostLock.withLock { firstLost } }

    private static func read(_ result: OpaquePointer) -> QueryResult {
        let nFields = Int(PQnfields(result))
        let nRows = Int(PQntuples(result))
        let columns = (0..<nFields).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            var row: [String?] = []
            row.reserveCapacity(nFields)
            for c in 0..<nFields {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            rows.append(row)
        }
        return QueryResult(columns: columns, rows: rows)
    }

    private static func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(sqlState: field("C"), message: primary, detail: field("D"), hint: field("H"))
    }

    /// One line that says what to do. libpq's messages never contain the password, but they can
    /// quote a whole conninfo on syntax errors, so such messages are replaced.
    static func explainConnectionFailure(_ raw: String) -> String {
        let firstLine = raw.split(separator: "\n").first.map(String.init) ?? raw
        let lower = raw.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed") {
            return "cannot connect: \(firstLine). Check the user name and password (a ~/.pgpass entry or PGPASSWORD works)."
        }
        if lower.contains("does not exist") && lower.contains("database") {
            return "cannot connect: \(firstLine). Name an existing database (dbname=... or the path of a postgres:// URI)."
        }
        if lower.contains("connection refused") || lower.contains("no such file or directory") || lower.contains("could not translate host name") {
            return "cannot connect: \(firstLine). Is the server running and are host and port right (PGHOST, PGPORT)?"
        }
        if lower.contains("timeout expired") {
            return "cannot connect: the server did not answer within the connect timeout. Check host, port and firewalls."
        }
        if lower.contains("invalid connection option") || lower.contains("missing \"=\"") || lower.contains("invalid uri")
            || lower.contains("invalid integer value") || lower.contains("invalid sslmode") {
            return "cannot connect: the connection string is malformed (\(Self.redactingValues(firstLine))). Use key=value pairs or a postgres:// URI."
        }
        if lower.contains("no pg_hba.conf entry") {
            return "cannot connect: \(firstLine). The server's pg_hba.conf does not allow this user from this host."
        }
        return "cannot connect: \(firstLine)"
    }

    private static func redactingValues(_ message: String) -> String {
        // Messages like `missing "=" after "secret" in connection info string` quote user text.
        message.replacingOccurrences(of: #""[^"]*""#, with: "\"…\"", options: .regularExpression)
    }
}

/// Cancels the statement a connection is running; usable from another thread than the connection's.
public final class PostgresCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer

    init(_ cancel: OpaquePointer) { self.cancel = cancel }

    deinit { PQfreeCancel(cancel) }

    /// Asks the server to cancel; false when the request could not be sent.
    @discardableResult
    public func cancelRunningStatement() -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(cancel, &buffer, Int32(buffer.count)) == 1
    }
}

/// Leads every statement pgadvise itself sends, so that pg_stat_statements entries it causes (its
/// own catalog queries, and the nested entries EXPLAIN of a prepared statement records) can be told
/// apart from the application's and left out of the workload.
public let pgadviseStatementMarker = "/* pgadvise */ "

/// Parses PostgreSQL's text form of a one-dimensional array: `{a,"b,c",NULL,"x\"y"}`.
public func parsePostgresArray(_ text: String) -> [String] {
    var chars = Substring(text)
    if chars.first == "[", let eq = chars.firstIndex(of: "=") { chars = chars[chars.index(after: eq)...] }
    guard chars.first == "{", chars.last == "}" else { return text.isEmpty ? [] : [text] }
    let body = chars.dropFirst().dropLast()
    var items: [String] = []
    var current = ""
    var quoted = false
    var wasQuoted = false
    var escape = false
    for ch in body {
        if escape { current.append(ch); escape = false; continue }
        if ch == "\\" { escape = true; continue }
        if ch == "\"" { quoted.toggle(); wasQuoted = true; continue }
        if ch == "," && !quoted {
            if wasQuoted || current != "NULL" { items.append(current) }
            current = ""; wasQuoted = false
            continue
        }
        current.append(ch)
    }
    if !body.isEmpty, wasQuoted || current != "NULL" { items.append(current) }
    return items
}
