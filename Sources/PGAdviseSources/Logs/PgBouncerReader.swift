import Foundation
import PGAdviseCore

/// PgBouncer's own log (`logfile`, or its stderr): `<time> [pid] LEVEL <message>`, the level without
/// the colon PostgreSQL writes (`LOG`, `WARNING`, `ERROR`, `FATAL`, `NOISE`, `DEBUG`), one line each.
struct PgBouncerReader: RecordReader {
    func independentCopy() -> RecordReader { PgBouncerReader() }
    var identity: String { "pgbouncer" }

    func process(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, firstLine: Int, into worker: LogWorker) {
        var i = start
        var line = firstLine
        while i < end {
            var e = lineEnd(p, i, end)
            let next = e + 1
            if e > i, p[e - 1] == 0x0D { e -= 1 }
            worker.lines += 1
            if let header = PgBouncerReader.parseHeader(p, i, e) {
                let timestamp = header.timestamp.map { ByteSlice(base: p + $0.lowerBound, count: $0.count) } ?? .empty
                worker.pgbouncerLine(timestamp: timestamp, level: header.level,
                                     message: ByteSlice(base: p + header.message, count: e - header.message), line: line)
            } else if e > i {
                worker.skippedLines += 1
            }
            line += 1
            i = next
        }
    }

    func nextRecordStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int { nextLineStart(p, from: from, end: end) }

    static let levels: [StaticString] = ["LOG", "WARNING", "ERROR", "FATAL", "NOISE", "DEBUG"]

    /// `2024-01-02 10:00:00.123 UTC [1234] LOG ` (the time is absent when PgBouncer logs to a journal).
    static func parseHeader(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (timestamp: Range<Int>?, level: LogSeverity, message: Int)? {
        var i = start
        var timestamp: Range<Int>?
        if i < end, isDigit(p[i]), let tsEnd = scanTimestamp(p, end, from: i) {
            timestamp = i..<tsEnd
            i = tsEnd
            while i < end, p[i] == 0x20 { i += 1 }
        }
        guard i < end, p[i] == 0x5B else { return nil }
        i += 1
        let pidStart = i
        while i < end, isDigit(p[i]) { i += 1 }
        guard i > pidStart, i + 1 < end, p[i] == 0x5D, p[i + 1] == 0x20 else { return nil }
        i += 2
        var w = i
        while w < end, p[w] >= 0x41, p[w] <= 0x5A { w += 1 }
        guard w < end, p[w] == 0x20 else { return nil }
        let n = w - i
        for level in levels where level.utf8CodeUnitCount == n && memcmp(p + i, level.utf8Start, n) == 0 {
            let severity: LogSeverity
            switch p[i] {
            case 0x57: severity = .warning
            case 0x45: severity = .error
            case 0x46: severity = .fatal
            case 0x4E, 0x44: severity = .debug
            default: severity = .log
            }
            return (timestamp, severity, w + 1)
        }
        return nil
    }
}

/// What one core collected from PgBouncer lines; merged across cores, then turned into a PgBouncerSummary.
struct PgBouncerCollector {
    struct Period {
        var ms: Double?
        var order: (file: Int, line: Int)
        var values: PgBouncerStatsPeriod
    }
    var periods: [Period] = []
    var clientLogins = 0
    var serverConnections = 0
    var poolerErrors: [String: Int] = [:]
    var clientDisconnections: [String: Int] = [:]
    var serverDisconnections: [String: Int] = [:]
    var lines = 0

    mutating func consume(_ message: ByteSlice, ms: Double?, file: Int, line: Int) {
        lines += 1
        if message.hasPrefix("stats: ") || message.hasPrefix("Stats: ") {
            if let values = PgBouncerCollector.parseStats(message.dropFirst(7).string) {
                periods.append(Period(ms: ms, order: (file, line), values: values))
            }
            return
        }
        // `C-0x55d0c1a2b3c4: db/user@addr:port <event>` for a client, `S-0x...` for a server connection.
        guard message.count > 4, message[0] == 0x43 || message[0] == 0x53, message[1] == 0x2D else { return }
        let isClient = message[0] == 0x43
        let text = message.string
        guard let colon = text.range(of: ": ") else { return }
        var event = text[colon.upperBound...]
        // The `db/user@host:port ` that follows; `(nodb)/(nouser)@...` before login.
        if let space = event.firstIndex(of: " "), event[..<space].contains("@") { event = event[event.index(after: space)...] }
        if event.hasPrefix("login attempt:") {
            clientLogins += 1
        } else if event.hasPrefix("new connection to server") {
            serverConnections += 1
        } else if event.hasPrefix("pooler error: ") {
            poolerErrors[String(event.dropFirst(14)), default: 0] += 1
        } else if event.hasPrefix("closing because: ") {
            var reason = event.dropFirst(17)
            if let age = reason.range(of: " (age=", options: .backwards) { reason = reason[..<age.lowerBound] }
            if isClient { clientDisconnections[String(reason), default: 0] += 1 } else { serverDisconnections[String(reason), default: 0] += 1 }
        }
    }

    /// `12 xacts/s, 12 queries/s, [N client parses/s, N server parses/s, N binds/s,] in 336 B/s, out 358 B/s,
    /// xact 527 us, query 527 us, wait 1640 us` (1.18 writes the middle three only from 1.21 on).
    static func parseStats(_ text: String) -> PgBouncerStatsPeriod? {
        var values: [String: Int] = [:]
        for piece in text.split(separator: ",") {
            let words = piece.split(separator: " ")
            guard words.count >= 2 else { continue }
            if let number = Int(words[0]) {
                values[words.dropFirst().joined(separator: " "), default: 0] = number
            } else if let number = Int(words[words.count - 2]) {
                values[words[0..<(words.count - 2)].joined(separator: " ").lowercased(), default: 0] = number
            }
        }
        guard let xacts = values["xacts/s"], let queries = values["queries/s"] ?? values["req/s"] else { return nil }
        return PgBouncerStatsPeriod(timestamp: nil, xactsPerSecond: xacts, queriesPerSecond: queries,
                                    clientParsesPerSecond: values["client parses/s"], serverParsesPerSecond: values["server parses/s"],
                                    bindsPerSecond: values["binds/s"], bytesInPerSecond: values["in"] ?? 0,
                                    bytesOutPerSecond: values["out"] ?? 0, xactMicros: values["xact"] ?? 0,
                                    queryMicros: values["query"] ?? 0, waitMicros: values["wait"] ?? 0)
    }

    mutating func merge(_ other: PgBouncerCollector) {
        periods += other.periods
        clientLogins += other.clientLogins
        serverConnections += other.serverConnections
        lines += other.lines
        for (k, v) in other.poolerErrors { poolerErrors[k, default: 0] += v }
        for (k, v) in other.clientDisconnections { clientDisconnections[k, default: 0] += v }
        for (k, v) in other.serverDisconnections { serverDisconnections[k, default: 0] += v }
    }

    /// Pooler errors that refused a login rather than a pool limit (PgBouncer's own wording).
    static func isLoginFailure(_ message: String) -> Bool {
        message.contains("authentication failed") || message.hasPrefix("no such database") || message.hasPrefix("no such user")
            || message.hasPrefix("login rejected") || message.contains("password") || message.hasPrefix("SASL")
    }

    func summary(zone: String?) -> PgBouncerSummary? {
        guard lines > 0 else { return nil }
        var s = PgBouncerSummary()
        s.statsPeriods = periods.sorted { $0.order < $1.order }.map { p in
            var v = p.values
            v.timestamp = p.ms.flatMap { formatWall($0, zone: zone) }
            return v
        }
        let stats = s.statsPeriods
        s.peakXactsPerSecond = stats.map(\.xactsPerSecond).max() ?? 0
        s.peakQueriesPerSecond = stats.map(\.queriesPerSecond).max() ?? 0
        // In floating point: a stats line holds whatever digits it holds, and integer products and sums
        // of them trapped on overflow.
        let xacts = stats.reduce(0.0) { $0 + Double($1.xactsPerSecond) }
        let queries = stats.reduce(0.0) { $0 + Double($1.queriesPerSecond) }
        if xacts > 0 { s.meanXactMicros = stats.reduce(0.0) { $0 + Double($1.xactsPerSecond) * Double($1.xactMicros) } / xacts }
        if queries > 0 { s.meanQueryMicros = stats.reduce(0.0) { $0 + Double($1.queriesPerSecond) * Double($1.queryMicros) } / queries }
        let busy = stats.filter { $0.xactsPerSecond > 0 || $0.queriesPerSecond > 0 }
        if !busy.isEmpty { s.meanWaitMicros = busy.reduce(0.0) { $0 + Double($1.waitMicros) } / Double(busy.count) }
        s.maxWaitMicros = stats.map(\.waitMicros).max() ?? 0
        s.clientLogins = clientLogins
        s.serverConnections = serverConnections
        s.loginFailures = poolerErrors.reduce(0) { $0 + (PgBouncerCollector.isLoginFailure($1.key) ? $1.value : 0) }
        func counted(_ d: [String: Int]) -> [PgBouncerMessageCount] {
            d.map { PgBouncerMessageCount(message: $0.key, count: $0.value) }
                .sorted { ($0.count, $1.message) > ($1.count, $0.message) }
        }
        s.poolerErrors = counted(poolerErrors)
        s.clientDisconnections = counted(clientDisconnections)
        s.serverDisconnections = counted(serverDisconnections)
        return s
    }
}
