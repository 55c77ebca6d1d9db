import Foundation

/// A `log_line_prefix` compiled into parts, able to take a stderr line apart without allocating.
public struct LinePrefix: Sendable, CustomStringConvertible {
    enum Part: Sendable, Equatable {
        case literal([UInt8])
        case placeholder(UInt8)   // the letter after %

        var letter: UInt8? { if case .placeholder(let letter) = self { letter } else { nil } }
    }

    let parts: [Part]
    /// The prefix as a user would write it in postgresql.conf.
    public let format: String

    public var description: String { format }

    /// Parses `'%m [%p] '` style text. Unknown escapes are matched as free text.
    public init(format: String) {
        self.format = format
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(format.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x25, i + 1 < bytes.count {          // %
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x2D || isDigit(bytes[j]) { j += 1 }   // %-10u padding
                guard j < bytes.count else { break }
                let letter = bytes[j]
                if letter == 0x25 { literal.append(0x25) } else {
                    if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
                    parts.append(.placeholder(letter))
                }
                i = j + 1
            } else {
                literal.append(bytes[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    public func has(_ placeholder: Character) -> Bool {
        guard let ascii = placeholder.asciiValue else { return false }
        return parts.contains(.placeholder(ascii))
    }

    /// What ties a session's statements together in this prefix, if anything.
    public var sessionPlaceholder: Character? { has("c") ? "c" : (has("p") ? "p" : nil) }

    /// Matches the prefix at the start of `line` and fills the event's prefix fields; returns the
    /// offset just after the prefix, where the severity starts, or nil when the line does not match.
    /// Past a `%q` (or wherever the rest of the prefix is missing and a severity follows, as for
    /// background processes), the remaining parts are optional.
    func match(_ p: UnsafePointer<UInt8>, _ n: Int, into event: inout LogEvent) -> Int? {
        var stoppedEarly = false
        return match(p, n, into: &event, stoppedEarly: &stoppedEarly)
    }

    func match(_ p: UnsafePointer<UInt8>, _ n: Int, into event: inout LogEvent, stoppedEarly: inout Bool) -> Int? {
        var i = 0
        var k = 0
        var sessionFromC = false
        while k < parts.count {
            switch parts[k] {
            case .literal(let lit):
                guard i + lit.count <= n else { return stopEarly(i, p, n, &stoppedEarly) }
                let same = lit.withUnsafeBufferPointer { memcmp(p + i, $0.baseAddress!, lit.count) == 0 }
                guard same else { return stopEarly(i, p, n, &stoppedEarly) }
                i += lit.count
            case .placeholder(let letter):
                let start = i
                switch letter {
                case 0x71: // q: background processes print nothing after it
                    if severityEnd(p, n, at: i) != nil { stoppedEarly = true; return i }
                case 0x6D, 0x74, 0x73: // m t s: timestamps
                    guard let end = scanTimestamp(p, n, from: i) else { return stopEarly(i, p, n, &stoppedEarly) }
                    i = end
                    if letter != 0x73 { event.timestamp = ByteSlice(base: p + start, count: end - start) }
                case 0x6E: // n: epoch.millis
                    while i < n, isDigit(p[i]) || p[i] == 0x2E { i += 1 }
                    event.timestamp = ByteSlice(base: p + start, count: i - start)
                case 0x70, 0x6C, 0x78, 0x50: // p l x P
                    while i < n, isDigit(p[i]) { i += 1 }
                    if i == start, letter != 0x50 { return stopEarly(i, p, n, &stoppedEarly) }
                    if letter == 0x70, !sessionFromC { event.session = ByteSlice(base: p + start, count: i - start) }
                case 0x51: // Q: query id, may be negative
                    if i < n, p[i] == 0x2D { i += 1 }
                    while i < n, isDigit(p[i]) { i += 1 }
                case 0x63: // c: session id hex.hex
                    while i < n, isHex(p[i]) || p[i] == 0x2E { i += 1 }
                    if i == start { return stopEarly(i, p, n, &stoppedEarly) }
                    event.session = ByteSlice(base: p + start, count: i - start)
                    sessionFromC = true
                case 0x65: // e: SQLSTATE
                    guard i + 5 <= n else { return stopEarly(i, p, n, &stoppedEarly) }
                    event.sqlstate = ByteSlice(base: p + i, count: 5)
                    i += 5
                default: // u d a h r i b v and anything unknown: free text up to the next literal
                    i = scanText(p, n, from: i, partIndex: k)
                    let slice = ByteSlice(base: p + start, count: i - start)
                    switch letter {
                    case 0x75: event.user = slice
                    case 0x64: event.database = slice
                    case 0x61: event.application = slice
                    default: break
                    }
                }
            }
            k += 1
        }
        return i
    }

    /// A line whose prefix stops at a part boundary right before its severity comes from a process
    /// without a session (checkpointer, autovacuum): what %q does, and what prefixes inferred from
    /// client lines cannot know about.
    private func stopEarly(_ i: Int, _ p: UnsafePointer<UInt8>, _ n: Int, _ stoppedEarly: inout Bool) -> Int? {
        var at = i
        while at < n, p[at] == 0x20 { at += 1 }
        guard i > 0, severityEnd(p, n, at: at) != nil else { return nil }
        stoppedEarly = true
        return at
    }

    private func scanText(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, partIndex k: Int) -> Int {
        var next: [UInt8]? = nil
        if k + 1 < parts.count, case .literal(let lit) = parts[k + 1] { next = lit }
        var i = start
        if let lit = next {
            let first = lit[0]
            while i < n {
                if p[i] == first, i + lit.count <= n,
                   lit.withUnsafeBufferPointer({ memcmp(p + i, $0.baseAddress!, lit.count) == 0 }) { return i }
                i += 1
            }
            return n
        }
        while i < n, p[i] != 0x20 { i += 1 }
        return i
    }

    /// A field of an inferred prefix not known to be any of PostgreSQL's escapes: read as free text,
    /// shown as `%?` (PostgreSQL has no such escape).
    static let unlabelledField = "%?"

    /// The prefix with each `%?` named from the lines' own evidence: a session's `connection received`
    /// and `connection authorized` messages name its host, user, database and application, so the field
    /// whose value is the session's user on its lines is `%u`, and so on. Only a value that is one of
    /// them and none of the others counts (a user named like its database tells nothing). A field never
    /// named that holds command tags (`SELECT`, `idle`) is `%i`; any other stays `%?`, still matched,
    /// attributed to nothing.
    func namingUnlabelledFields(_ p: UnsafePointer<UInt8>, lines: [Range<Int>]) -> LinePrefix {
        let fields = parts.indices.filter { parts[$0] == .placeholder(0x3F) }
        guard !fields.isEmpty else { return self }
        let labels: [(letter: UInt8, key: String)] = [(0x75, "user="), (0x64, "database="), (0x61, "application_name="), (0x68, "host=")]
        var taken = Set(labels.indices.filter { parts.contains(.placeholder(labels[$0].letter)) })
        var votes = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: fields.count)
        var commandTags = [Bool](repeating: true, count: fields.count)
        let named: Set<UInt8> = [0x75, 0x64, 0x61]
        for (f, index) in fields.enumerated() {
            // This field read as the user, and nothing else: the prefix's own user is set aside.
            var probe = parts.map { named.contains($0.letter ?? 0) ? Part.placeholder(0x3F) : $0 }
            probe[index] = .placeholder(0x75)
            let reader = LinePrefix(parts: probe)
            var sessions: [String: [String?]] = [:]
            for r in lines {
                let line = p + r.lowerBound
                var event = LogEvent()
                guard let after = reader.match(line, r.count, into: &event), let (messageStart, _) = severityEnd(line, r.count, at: after) else { continue }
                let value = event.user.string
                if !Self.isCommandTag(value) { commandTags[f] = false }
                let message = String(decoding: UnsafeBufferPointer(start: line + messageStart, count: r.count - messageStart), as: UTF8.self)
                // What the message itself says, and what the session's earlier messages said (where
                // the prefix has a session: the application is set only after authorization).
                var own: [String?]?
                if message.hasPrefix("connection received: ") || message.hasPrefix("connection authorized: ") || message.hasPrefix("disconnection: ") {
                    own = labels.map { Self.value(of: $0.key, in: message) }
                }
                let session = event.session.string
                if !session.isEmpty, let own {
                    var known = message.hasPrefix("connection received: ") ? [nil, nil, nil, nil] : sessions[session] ?? [nil, nil, nil, nil]
                    for label in labels.indices where own[label] != nil { known[label] = own[label] }
                    sessions[session] = known
                }
                guard let evidence = session.isEmpty ? own : sessions[session] ?? own else { continue }
                let matching = evidence.indices.filter { evidence[$0] == value }
                if matching.count == 1 { votes[f][matching[0]] += 1 }
            }
        }
        var result = parts
        var namedFields = Set<Int>()
        // The strongest evidence first, each escape given to one field.
        let ranked = fields.indices.flatMap { f in labels.indices.map { (f, $0, votes[f][$0]) } }.filter { $0.2 > 0 }.sorted { $0.2 > $1.2 }
        for (f, label, _) in ranked where !taken.contains(label) && !namedFields.contains(f) {
            result[fields[f]] = .placeholder(labels[label].letter)
            taken.insert(label)
            namedFields.insert(f)
        }
        for f in fields.indices where !namedFields.contains(f) && commandTags[f] { result[fields[f]] = .placeholder(0x69) }
        return LinePrefix(parts: result)
    }

    /// What `%i` shows: a command tag (`SELECT`, `CREATE TABLE`, `SELECT waiting`) or a backend's state.
    private static func isCommandTag(_ value: String) -> Bool {
        let states: Set<Substring> = ["idle", "in", "transaction", "(aborted)", "authentication", "startup", "waiting"]
        return value.split(separator: " ").allSatisfy { word in states.contains(word) || word.allSatisfy { $0.isUppercase } }
    }

    /// `user=postgres` → `postgres` in a connection message; nil when absent.
    private static func value(of key: String, in message: String) -> String? {
        guard let range = message.range(of: " " + key) else { return nil }
        let rest = message[range.upperBound...]
        return String(rest.prefix { $0 != " " })
    }

    init(parts: [Part]) {
        self.parts = parts
        format = parts.map { part in
            switch part {
            case .literal(let bytes): String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "%", with: "%%")
            case .placeholder(let letter): "%" + String(UnicodeScalar(letter))
            }
        }.joined()
    }

    /// Common prefixes, most specific first; detection also tries prefixes inferred from the lines.
    static let known: [String] = [
        "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
        "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
        "%m [%p]: [%l-1] db=%d,user=%u ",
        "%t [%p]: [%l-1] db=%d,user=%u ",
        "%m [%p]: user=%u,db=%d,app=%a,client=%h ",
        "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
        "%t:%r:%u@%d:[%p]:",
        "%m:%r:%u@%d:[%p]:",
        "%m [%p] %q%u@%d ",
        "%t [%p] %q%u@%d ",
        "%m [%p] ",
        "%t [%p] ",
        "%m [%p]: ",
        "%t [%p]: ",
        "%m ",
        "%t ",
        "",
    ]
}

/// `YYYY-MM-DD HH:MM:SS[.fff] ZONE` (the zone is always there in PostgreSQL's output).
func scanTimestamp(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
    guard start + 19 <= n,
          p[start + 4] == 0x2D, p[start + 7] == 0x2D, p[start + 10] == 0x20 || p[start + 10] == 0x54,
          p[start + 13] == 0x3A, p[start + 16] == 0x3A, isDigit(p[start]), isDigit(p[start + 18]) else { return nil }
    var i = start + 19
    if i < n, p[i] == 0x2E {
        i += 1
        while i < n, isDigit(p[i]) { i += 1 }
    }
    if i < n, p[i] == 0x5A { return i + 1 }            // Z
    if i < n, p[i] == 0x2B || p[i] == 0x2D {             // +02, -05:30
        i += 1
        while i < n, isDigit(p[i]) || p[i] == 0x3A { i += 1 }
        return i
    }
    if i + 1 < n, p[i] == 0x20, isZoneStart(p[i + 1]) {
        // An abbreviation (UTC, CEST), an offset (+03, -05:30) or both. The offset is at most four
        // digits and ends at a delimiter: in Azure's '%t-%c-' the zone is followed by `-6b156d52.3027-`.
        var j = i + 1
        while j < n, (p[j] | 0x20) >= 0x61, (p[j] | 0x20) <= 0x7A { j += 1 }
        if j < n, p[j] == 0x2B || p[j] == 0x2D {
            var k = j + 1
            while k < n, k - j <= 4, isDigit(p[k]) { k += 1 }
            if k < n, p[k] == 0x3A, k + 2 < n, isDigit(p[k + 1]), isDigit(p[k + 2]) { k += 3 }
            if k > j + 1, k - j <= 7, k >= n || !(isDigit(p[k]) || p[k] == 0x2E || (p[k] | 0x20 >= 0x61 && p[k] | 0x20 <= 0x7A)) { j = k }
        }
        // "ERROR:" is not a zone: zones never end with a colon directly followed by spaces.
        if j < n, p[j] == 0x3A, j + 1 < n, p[j + 1] == 0x20, j - (i + 1) >= 3, LogSeverity.parse(p, i + 1, j) != nil { return i }
        return j
    }
    return i
}

@inline(__always) private func isZoneStart(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2B || c == 0x2D }
@inline(__always) func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }
@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

/// If a severity marker (`LOG:  `, `ERROR:  `, ...) starts at `i`, the offset of its message and the severity.
@inline(__always)
func severityEnd(_ p: UnsafePointer<UInt8>, _ n: Int, at i: Int) -> (Int, LogSeverity)? {
    guard i < n, p[i] >= 0x41, p[i] <= 0x5A else { return nil }
    var j = i
    let limit = Swift.min(n, i + 10)
    while j < limit, (p[j] >= 0x41 && p[j] <= 0x5A) || isDigit(p[j]) { j += 1 }
    guard j + 2 < n || (j + 1 <= n && j < n && p[j] == 0x3A), j < n, p[j] == 0x3A,
          let severity = LogSeverity.parse(p, i, j) else { return nil }
    var m = j + 1
    if m < n, p[m] == 0x20 { m += 1 }
    if m < n, p[m] == 0x20 { m += 1 }
    return (m, severity)
}

/// The labels prefixes write before a field (`user=%u`), and the field each names.
private let keyPlaceholders: [String: String] = [
    "user": "%u", "usr": "%u", "u": "%u", "db": "%d", "database": "%d", "dbname": "%d", "d": "%d",
    "app": "%a", "application": "%a", "application_name": "%a", "appname": "%a", "a": "%a",
    "client": "%h", "host": "%h", "remote": "%r", "h": "%h", "r": "%r", "pid": "%p", "p": "%p",
    "session": "%c", "sessionid": "%c", "session_id": "%c", "sid": "%c", "c": "%c",
    "xid": "%x", "txid": "%x", "x": "%x", "vxid": "%v", "v": "%v", "state": "%e", "sqlstate": "%e",
    "code": "%e", "e": "%e", "qid": "%Q", "query_id": "%Q", "queryid": "%Q", "line": "%l", "l": "%l",
    "tag": "%i", "cmd": "%i", "i": "%i", "backend": "%b", "b": "%b", "sql_error_code": "%e",
]

/// Guesses a log_line_prefix from a line's text before its severity, e.g.
/// `2024-01-02 10:00:00.123 UTC [123] app=psql ` → `%m [%p] app=%a `. A bare word (`%u %d` without a
/// `user=` label) is literal text, or with `bareWordsAsFields` a field not yet named, `%?`, which
/// `LinePrefix.namingUnlabelledFields` names from the lines' own evidence.
func inferPrefix(fromSample sample: [UInt8], bareWordsAsFields: Bool = false) -> String {
    var out = ""
    var i = 0
    let n = sample.count
    var hasPID = false
    sample.withUnsafeBufferPointer { buf in
        guard let p = buf.baseAddress else { return }
        while i < n {
            if isDigit(p[i]), let end = scanTimestamp(p, n, from: i) {
                let hasMillis = end > i + 19 && p[i + 19] == 0x2E
                out += hasMillis ? "%m" : "%t"
                i = end
                continue
            }
            // key=value
            if isIdentStart(p[i]) {
                var j = i
                while j < n, isIdentStart(p[j]) || isDigit(p[j]) { j += 1 }
                let word = String(decoding: UnsafeBufferPointer(start: p + i, count: j - i), as: UTF8.self)
                // `key=value`, or `key = value` as Heroku writes `sql_error_code = 00000`.
                let spaced = j + 2 < n && p[j] == 0x20 && p[j + 1] == 0x3D && p[j + 2] == 0x20
                if (j < n && p[j] == 0x3D) || spaced, let placeholder = keyPlaceholders[word.lowercased()] {
                    let separator = spaced ? " = " : "="
                    out += word + separator + placeholder
                    let j = spaced ? j + 2 : j
                    if placeholder == "%p" { hasPID = true }
                    var k = j + 1
                    while k < n, !isDelimiter(p[k]) { k += 1 }
                    i = k
                    continue
                }
                if j < n, p[j] == 0x40 {      // user@db
                    var k = j + 1
                    while k < n, !isDelimiter(p[k]) { k += 1 }
                    out += "%u@%d"
                    i = k
                    continue
                }
                // A hex session id such as 6b043993.27f3.
                var k = i
                while k < n, isHex(p[k]) { k += 1 }
                if k < n, k > i, p[k] == 0x2E, k + 1 < n, isHex(p[k + 1]) {
                    k += 1
                    while k < n, isHex(p[k]) { k += 1 }
                    out += "%c"
                    i = k
                    continue
                }
                out += bareWordsAsFields ? LinePrefix.unlabelledField : word.replacingOccurrences(of: "%", with: "%%")
                i = j
                continue
            }
            if isDigit(p[i]), let end = virtualTransactionEnd(p, n, from: i) {
                out += "%v"   // backend id/local xid: a slot reused by later sessions, not a process id
                i = end
                continue
            }
            if isDigit(p[i]), let end = dottedNumberEnd(p, n, from: i, parts: 4, lastDigits: 1...3) {
                out += "%h"   // an IPv4 client address
                i = end
                continue
            }
            if isDigit(p[i]), let end = dottedNumberEnd(p, n, from: i, parts: 2, lastDigits: 3...3), end - i >= 13 {
                out += "%n"   // epoch seconds with milliseconds, not a session id's hex.hex
                i = end
                continue
            }
            if isDigit(p[i]) || (p[i] == 0x2D && i + 1 < n && isDigit(p[i + 1])) {
                var k = i + 1
                while k < n, isHex(p[k]) { k += 1 }
                if k < n, p[k] == 0x2E, k + 1 < n, isHex(p[k + 1]) {
                    k += 1
                    while k < n, isHex(p[k]) { k += 1 }
                    out += p[i] == 0x2D ? "-%c" : "%c"   // a dash before a session id is literal text ('%t-%c-')
                } else if !hasPID, p[i] != 0x2D {
                    out += "%p"
                    hasPID = true
                } else if p[i] == 0x2D {
                    // A query id is long; a short negative number is literal text such as the "-1" of "[%l-1]".
                    // As a field, `-N` is the line number of `[%p-%l]`; `-1` stays the literal of `[%l-1]`.
                    let text = String(decoding: sample[i..<k], as: UTF8.self)
                    out += k - i > 4 ? "%Q" : bareWordsAsFields && text != "-1" ? "-%l" : text
                } else {
                    out += "%l"
                }
                i = k
                continue
            }
            if p[i] == 0x25 { out += "%%" } else { out.unicodeScalars.append(UnicodeScalar(p[i])) }
            i += 1
        }
    }
    return out
}

/// The end of a virtual transaction id (`3/14`) starting at `start`; nil otherwise.
private func virtualTransactionEnd(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
    var i = start
    while i < n, isDigit(p[i]) { i += 1 }
    guard i < n, p[i] == 0x2F, i + 1 < n, isDigit(p[i + 1]) else { return nil }
    i += 1
    while i < n, isDigit(p[i]) { i += 1 }
    return i < n && (isHex(p[i]) || p[i] == 0x2E || p[i] == 0x2F) ? nil : i
}

/// The end of `parts` runs of decimal digits joined by dots starting at `start`, the last of
/// `lastDigits` digits and followed by no further digit, dot or hex letter; nil otherwise.
private func dottedNumberEnd(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, parts: Int, lastDigits: ClosedRange<Int>) -> Int? {
    var i = start
    for part in 0..<parts {
        let runStart = i
        while i < n, isDigit(p[i]) { i += 1 }
        guard i > runStart, i - runStart <= (parts == 4 ? 3 : 12) else { return nil }
        if part == parts - 1 {
            guard lastDigits.contains(i - runStart), i >= n || !(isHex(p[i]) || p[i] == 0x2E) else { return nil }
        } else {
            guard i < n, p[i] == 0x2E else { return nil }
            i += 1
        }
    }
    return i
}

@inline(__always) private func isIdentStart(_ c: UInt8) -> Bool { (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F }
@inline(__always) private func isDelimiter(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x2C || c == 0x3B || c == 0x5D || c == 0x29 || c == 0x7C || c == 0x3A || c == 0x40
}
