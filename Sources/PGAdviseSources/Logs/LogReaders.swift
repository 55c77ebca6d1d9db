import Foundation

/// Reads complete records from `[start, end)` of a buffer and hands them to a worker. Each reader also
/// knows where records begin, so a buffer can be cut between records for streaming and for splitting
/// one file over several cores.
protocol RecordReader {
    func process(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, firstLine: Int, into worker: LogWorker)
    /// The offset of a record start at or after `from` (or `end`).
    func nextRecordStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int
    /// A copy that shares no storage with this one (one per core).
    func independentCopy() -> RecordReader
    /// Equal for readers that read alike.
    var identity: String { get }
}

/// The start of the first whole line at or after `from` (or `end`): where a record starts in a
/// format of one record per line.
func nextLineStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
    if from == 0 || p[from - 1] == 0x0A { return from }
    return min(end, lineEnd(p, from, end) + 1)
}

@inline(__always)
func lineEnd(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
    guard from < end, let hit = memchr(p + from, 0x0A, end - from) else { return end }
    return UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
}

func countLines(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
    var count = 0
    var i = start
    while i < end {
        let e = lineEnd(p, i, end)
        if e < end { count += 1 }
        i = e + 1
    }
    return count
}

/// Where to cut a streamed block so that `[0, cut)` holds only complete records: the start of the last
/// record whose first line is complete. 0 when no such record exists (the caller reads more).
func lastCompleteCut(_ reader: RecordReader, _ p: UnsafePointer<UInt8>, _ end: Int) -> Int {
    var lastNewline = end - 1
    while lastNewline >= 0, p[lastNewline] != 0x0A { lastNewline -= 1 }
    guard lastNewline >= 0 else { return 0 }
    var lineStop = lastNewline
    while true {
        var s = lineStop
        while s > 0, p[s - 1] != 0x0A { s -= 1 }
        // The reader is shown line s alone: the lines after it are known not to start a record, and
        // letting it walk over them again from every earlier line was quadratic in a record's lines
        // (a statement of 20,000 continuation lines took seconds to cut).
        if s > 0, reader.nextRecordStart(p, from: s, end: lineStop + 1) == s { return s }
        if s == 0 { return 0 }
        lineStop = s - 1
    }
}

// MARK: - stderr

/// Plain stderr logs (and everything converted to them): `<prefix><SEVERITY>:  <message>`, with
/// continuation lines starting with a tab.
struct StderrReader: RecordReader {
    let prefix: LinePrefix?
    /// Prefixes met on lines that did not fit `prefix` (after a reload changed log_line_prefix, or in a
    /// file that joins two servers' logs), learnt from those lines; per reader, so per core.
    let alternates = AlternatePrefixes()

    init(prefix: LinePrefix?) { self.prefix = prefix }

    func independentCopy() -> RecordReader { StderrReader(prefix: prefix.map { LinePrefix(format: $0.format) }) }
    var identity: String { "stderr:" + (prefix?.format ?? "*") }

    func process(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, firstLine: Int, into worker: LogWorker) {
        var i = start
        var line = firstLine
        while i < end {
            var e = lineEnd(p, i, end)
            let first = e
            var lines = 1
            while e + 1 < end, p[e + 1] == 0x09 {
                e = lineEnd(p, e + 1, end)
                lines += 1
            }
            var lineStop = first
            if lineStop > i, p[lineStop - 1] == 0x0D { lineStop -= 1 }
            var event = LogEvent()
            event.line = line
            var parsed = parseHeader(p + i, lineStop - i, into: &event)
            if !parsed, prefix != nil, lineStop > i, parseOtherShape(p + i, lineStop - i, into: &event) {
                parsed = true
                worker.otherShapeLines += 1
            }
            if parsed {
                let messageStart = event.message.base.map { $0 - p } ?? i
                var stop = e
                if stop > messageStart, p[stop - 1] == 0x0D { stop -= 1 }
                event.message = ByteSlice(base: p + messageStart, count: max(0, stop - messageStart))
                worker.consume(&event)
            } else if lineStop > i {
                worker.skippedLines += lines
            }
            worker.lines += lines
            line += lines
            i = e + 1
        }
    }

    /// Fills the prefix fields and the severity; `event.message.base` points at the message start.
    @inline(__always)
    func parseHeader(_ p: UnsafePointer<UInt8>, _ n: Int, into event: inout LogEvent) -> Bool {
        if let prefix {
            guard let after = prefix.match(p, n, into: &event), let (messageStart, severity) = severityEnd(p, n, at: after) else { return false }
            event.severity = severity
            event.message = ByteSlice(base: p + messageStart, count: 0)
            return true
        }
        // No known prefix: find the severity marker anywhere, and the usual fields before it.
        var i = 0
        while i < n {
            guard let hit = memchr(p + i, 0x3A, n - i) else { return false }
            let colon = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
            var w = colon
            while w > 0, p[w - 1] >= 0x41, p[w - 1] <= 0x5A || isDigit(p[w - 1]) { w -= 1 }
            // After anything but a word character: `] LOG:`, `-LOG:` (Azure's '%t-%c-'), `|LOG:`.
            if w < colon, w == 0 || !((p[w - 1] | 0x20) >= 0x61 && (p[w - 1] | 0x20) <= 0x7A || p[w - 1] == 0x5F),
               let (messageStart, severity) = severityEnd(p, n, at: w) {
                event.severity = severity
                event.message = ByteSlice(base: p + messageStart, count: 0)
                if w > 0, isDigit(p[0]), let tsEnd = scanTimestamp(p, w, from: 0) { event.timestamp = ByteSlice(base: p, count: tsEnd) }
                if let open = memchr(p, 0x5B, w) {
                    let o = UnsafePointer<UInt8>(open.assumingMemoryBound(to: UInt8.self)) - p + 1
                    var j = o
                    while j < w, isDigit(p[j]) { j += 1 }
                    if j > o { event.session = ByteSlice(base: p + o, count: j - o) }
                }
                return true
            }
            i = colon + 1
        }
        return false
    }

    /// A line that the prefix does not explain: a prefix learnt from an earlier such line, else the
    /// severity found anywhere (see `parseHeader` without a prefix), whose prefix is then learnt.
    func parseOtherShape(_ p: UnsafePointer<UInt8>, _ n: Int, into event: inout LogEvent) -> Bool {
        let line = event.line
        for alternate in alternates.prefixes {
            var candidate = LogEvent()
            if let after = alternate.match(p, n, into: &candidate), let (messageStart, severity) = severityEnd(p, n, at: after) {
                candidate.severity = severity
                candidate.message = ByteSlice(base: p + messageStart, count: 0)
                candidate.line = line
                event = candidate
                return true
            }
        }
        var generic = LogEvent()
        guard StderrReader(prefix: nil).parseHeader(p, n, into: &generic), let message = generic.message.base else { return false }
        generic.line = line
        event = generic
        if alternates.prefixes.count < AlternatePrefixes.limit {
            let learnt = LinePrefix(format: inferPrefix(fromSample: prefixBytes(p, messageStart: message - p)))
            var check = LogEvent()
            if let after = learnt.match(p, n, into: &check), severityEnd(p, n, at: after) != nil {
                alternates.prefixes.append(learnt)
                check.severity = generic.severity
                check.message = generic.message
                check.line = line
                event = check
            }
        }
        return true
    }

    func nextRecordStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var i = from
        if i > 0, p[i - 1] != 0x0A { i = lineEnd(p, i, end) + 1 }
        while i < end {
            let e = lineEnd(p, i, end)
            if p[i] != 0x09 {
                var event = LogEvent()
                let ok = parseHeader(p + i, e - i, into: &event)
                if !ok || !event.severity.isSecondary { return i }
            }
            i = e + 1
        }
        return end
    }
}

/// The text of a line before its `SEVERITY:  ` marker, given where the message starts.
func prefixBytes(_ p: UnsafePointer<UInt8>, messageStart: Int) -> [UInt8] {
    var start = messageStart
    while start > 0, p[start - 1] == 0x20 { start -= 1 }
    start -= 1
    while start > 0, p[start - 1] >= 0x41, p[start - 1] <= 0x5A || isDigit(p[start - 1]) { start -= 1 }
    return Array(UnsafeBufferPointer(start: p, count: max(0, start)))
}

final class AlternatePrefixes {
    /// Enough for a few reloads; a line that fits none of them is still read through the generic shape.
    static let limit = 8
    var prefixes: [LinePrefix] = []
}

// MARK: - csvlog

/// csvlog (PostgreSQL 14+ column order). Quoted fields may span lines.
struct CSVReader: RecordReader {
    func independentCopy() -> RecordReader { CSVReader() }
    var identity: String { "csv" }

    func process(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, firstLine: Int, into worker: LogWorker) {
        var i = start
        var line = firstLine
        var fields = [ByteSlice](repeating: .empty, count: 26)
        while i < end {
            let recordLine = line
            var field = 0
            var fieldStart = i
            var complete = false
            worker.scratch.reset(capacity: 0)
            for f in 0..<fields.count { fields[f] = .empty }
            while i < end {
                let c = p[i]
                if c == 0x22 {   // quoted field: unescape "" into scratch when needed
                    var j = i + 1
                    var hasEscapes = false
                    while j < end {
                        if p[j] == 0x22 {
                            if j + 1 < end, p[j + 1] == 0x22 { hasEscapes = true; j += 2; continue }
                            break
                        }
                        if p[j] == 0x0A { line += 1 }
                        j += 1
                    }
                    if field < fields.count {
                        fields[field] = hasEscapes ? worker.scratch.unescapeCSV(p + i + 1, j - i - 1)
                                                   : ByteSlice(base: p + i + 1, count: j - i - 1)
                    }
                    i = min(j + 1, end)
                    fieldStart = -1
                    continue
                }
                if c == 0x2C || c == 0x0A {
                    if fieldStart >= 0, field < fields.count {
                        var stop = i
                        if c == 0x0A, stop > fieldStart, p[stop - 1] == 0x0D { stop -= 1 }
                        fields[field] = ByteSlice(base: p + fieldStart, count: stop - fieldStart)
                    }
                    field += 1
                    i += 1
                    fieldStart = i
                    if c == 0x0A { line += 1; complete = true; break }
                    continue
                }
                i += 1
            }
            if !complete, fieldStart >= 0, fieldStart < end, field < fields.count {
                fields[field] = ByteSlice(base: p + fieldStart, count: end - fieldStart)
                field += 1
            } else if !complete { field += 1 }
            worker.lines += line - recordLine + (complete ? 0 : 1)
            // 22 columns up to PostgreSQL 12's application_name... 26 from 14 on; the later ones are not read.
            guard field >= 22, scanTimestamp(p, end, from: fields[0].base.map { $0 - p } ?? end) != nil || fields[0].count >= 19 else {
                worker.skippedLines += max(1, line - recordLine)
                continue
            }
            var event = LogEvent()
            event.line = recordLine
            event.timestamp = fields[0]
            event.user = fields[1]
            event.database = fields[2]
            event.session = fields[5].isEmpty ? fields[3] : fields[5]
            event.severity = LogSeverity(name: fields[11])
            event.sqlstate = fields[12]
            event.message = fields[13]
            event.detail = fields[14]
            event.statement = fields[19]
            event.application = fields[22]
            worker.consume(&event)
        }
    }

    /// A line starting with csvlog's timestamp column (quoted or not). Heuristic: a line inside a quoted multi-line
    /// field that itself starts with a timestamp would be taken for a record start, and a block or core
    /// split there would cut that record in two (its pieces then count as skipped lines).
    func nextRecordStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var i = from
        if i > 0, p[i - 1] != 0x0A { i = lineEnd(p, i, end) + 1 }
        while i < end {
            let t = i < end && p[i] == 0x22 ? i + 1 : i
            if end - t >= 20, isDigit(p[t]), p[t + 4] == 0x2D, p[t + 10] == 0x20, p[t + 13] == 0x3A { return i }
            i = lineEnd(p, i, end) + 1
        }
        return end
    }
}

// MARK: - JSON lines (jsonlog, CloudNativePG)

struct JSONLinesReader: RecordReader {
    let format: LogFormat

    func independentCopy() -> RecordReader { JSONLinesReader(format: format) }
    var identity: String { "json:" + format.rawValue }

    func process(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, firstLine: Int, into worker: LogWorker) {
        var i = start
        var line = firstLine
        while i < end {
            var e = lineEnd(p, i, end)
            let next = e + 1
            if e > i, p[e - 1] == 0x0D { e -= 1 }
            worker.lines += 1
            var event = LogEvent()
            event.line = line
            worker.scratch.reset(capacity: e - i)
            var scanner = FlatJSONScanner(p: p, end: e, scratch: worker.scratch)
            if scanner.readObject(from: i, into: &event, format: format), event.severity != .unknown || !event.message.isEmpty {
                worker.consume(&event)
            } else if e > i {
                worker.skippedLines += 1
            }
            line += 1
            i = next
        }
    }

    func nextRecordStart(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int { nextLineStart(p, from: from, end: end) }
}

/// Scratch space for unescaped field values; grows only between records, so slices stay valid while
/// an event is consumed.
final class ScratchBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var used = 0

    init() {
        capacity = 1 << 16
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    func reset(capacity needed: Int) {
        used = 0
        if needed + 16 > capacity {
            base.deallocate()
            capacity = max(needed + 16, capacity * 2)
            base = .allocate(capacity: capacity)
        }
    }

    func ensure(_ extra: Int) -> Bool { used + extra <= capacity }

    func unescapeCSV(_ p: UnsafePointer<UInt8>, _ n: Int) -> ByteSlice {
        if !ensure(n) { return ByteSlice(base: p, count: n) }
        let start = used
        var i = 0
        while i < n {
            base[used] = p[i]
            used += 1
            i += (p[i] == 0x22 && i + 1 < n && p[i + 1] == 0x22) ? 2 : 1
        }
        return ByteSlice(base: UnsafePointer(base + start), count: used - start)
    }

    func append(_ b: UInt8) { base[used] = b; used += 1 }
    func appendUTF8(_ scalar: UInt32) {
        let s = UnicodeScalar(scalar) ?? "\u{FFFD}"
        for b in String(Character(s)).utf8 { append(b) }
    }
}

/// Just enough JSON for one log record per line: string/number values at the top level and inside
/// `record` (CloudNativePG). Unknown keys and nested values are skipped.
struct FlatJSONScanner {
    let p: UnsafePointer<UInt8>
    let end: Int
    let scratch: ScratchBuffer

    mutating func readObject(from start: Int, into event: inout LogEvent, format: LogFormat) -> Bool {
        var i = skipSpace(start)
        guard i < end, p[i] == 0x7B else { return false }
        return readMembers(from: i + 1, into: &event, format: format, nested: false, end: &i)
    }

    private mutating func readMembers(from start: Int, into event: inout LogEvent, format: LogFormat, nested: Bool, end out: inout Int) -> Bool {
        var i = skipSpace(start)
        if i < end, p[i] == 0x7D { out = i + 1; return true }
        while i < end {
            guard p[i] == 0x22, let (key, afterKey) = readString(from: i) else { return false }
            i = skipSpace(afterKey)
            guard i < end, p[i] == 0x3A else { return false }
            i = skipSpace(i + 1)
            guard i < end else { return false }
            if p[i] == 0x7B {
                if !nested, key.hasPrefix("record"), key.count == 6 {
                    var after = i
                    guard readMembers(from: i + 1, into: &event, format: format, nested: true, end: &after) else { return false }
                    i = after
                } else {
                    guard let after = skipValue(from: i) else { return false }
                    i = after
                }
            } else {
                var value = ByteSlice.empty
                if p[i] == 0x22 {
                    guard let (s, after) = readString(from: i) else { return false }
                    value = s
                    i = after
                } else {
                    guard let after = skipValue(from: i) else { return false }
                    value = ByteSlice(base: p + i, count: after - i)
                    if value.hasPrefix("null") { value = .empty }
                    i = after
                }
                assign(key, value, to: &event)
            }
            i = skipSpace(i)
            guard i < end else { return false }
            if p[i] == 0x2C { i = skipSpace(i + 1); continue }
            if p[i] == 0x7D { out = i + 1; return true }
            return false
        }
        return false
    }

    @inline(__always)
    private func assign(_ key: ByteSlice, _ value: ByteSlice, to event: inout LogEvent) {
        func named(_ s: StaticString) -> Bool {
            key.count == s.utf8CodeUnitCount && memcmp(key.base!, s.utf8Start, key.count) == 0
        }
        switch key.count {
        case 3: if named("pid") { if event.session.isEmpty { event.session = value } }
        case 4: if named("user") { event.user = value }
        case 6: if named("dbname") { event.database = value } else if named("detail") { event.detail = value }
        case 7: if named("message") { event.message = value }
        case 5: if named("query") { event.statement = value }
        case 8: if named("log_time") { event.timestamp = value }
        case 9: if named("timestamp") { if event.timestamp.isEmpty { event.timestamp = value } } else if named("user_name") { event.user = value } else if named("statement") { event.statement = value }
        case 10: if named("state_code") { event.sqlstate = value } else if named("process_id") { if event.session.isEmpty { event.session = value } } else if named("session_id") { event.session = value }
        case 14: if named("error_severity") { event.severity = LogSeverity(name: value) } else if named("sql_state_code") { event.sqlstate = value }
        case 13: if named("database_name") { event.database = value }
        case 16: if named("application_name") { event.application = value }
        default: break
        }
    }

    private func skipSpace(_ start: Int) -> Int {
        var i = start
        while i < end, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D || p[i] == 0x0A { i += 1 }
        return i
    }

    /// A string value, unescaped into scratch only when it has escapes.
    func readString(from start: Int) -> (ByteSlice, Int)? {
        var i = start + 1
        var escaped = false
        while i < end {
            let c = p[i]
            if c == 0x5C { escaped = true; i += 2; continue }
            if c == 0x22 { break }
            i += 1
        }
        guard i < end else { return nil }
        if !escaped { return (ByteSlice(base: p + start + 1, count: i - start - 1), i + 1) }
        guard scratch.ensure(i - start) else { return (ByteSlice(base: p + start + 1, count: i - start - 1), i + 1) }
        let out = scratch.used
        var j = start + 1
        while j < i {
            let c = p[j]
            if c == 0x5C, j + 1 < i {
                let e = p[j + 1]
                switch e {
                case 0x6E: scratch.append(0x0A)
                case 0x74: scratch.append(0x09)
                case 0x72: scratch.append(0x0D)
                case 0x62: scratch.append(0x08)
                case 0x66: scratch.append(0x0C)
                case 0x75:
                    if j + 5 < i, let v = hex4(j + 2) {
                        var scalar = v
                        var consumed = 6
                        if v >= 0xD800, v < 0xDC00, j + 11 < i, p[j + 6] == 0x5C, p[j + 7] == 0x75, let low = hex4(j + 8), low >= 0xDC00, low < 0xE000 {
                            scalar = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                            consumed = 12
                        }
                        scratch.appendUTF8(scalar)
                        j += consumed
                        continue
                    }
                    scratch.append(e)
                default: scratch.append(e)
                }
                j += 2
                continue
            }
            scratch.append(c)
            j += 1
        }
        return (ByteSlice(base: UnsafePointer(scratch.base + out), count: scratch.used - out), i + 1)
    }

    private func hex4(_ at: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = p[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    private func skipValue(from start: Int) -> Int? {
        var i = start
        var depth = 0
        while i < end {
            let c = p[i]
            if c == 0x22 {
                guard let (_, after) = readStringBounds(from: i) else { return nil }
                i = after
                if depth == 0 { return i }
                continue
            }
            if c == 0x7B || c == 0x5B { depth += 1 }
            else if c == 0x7D || c == 0x5D {
                if depth == 0 { return i }
                depth -= 1
                if depth == 0 { return i + 1 }
            } else if depth == 0, c == 0x2C { return i }
            i += 1
        }
        return depth == 0 ? i : nil
    }

    private func readStringBounds(from start: Int) -> (Int, Int)? {
        var i = start + 1
        while i < end {
            if p[i] == 0x5C { i += 2; continue }
            if p[i] == 0x22 { return (start, i + 1) }
            i += 1
        }
        return nil
    }
}

// MARK: - Converters to stderr lines

/// Formats that wrap stderr-style lines: each raw line becomes zero or more stderr lines.
protocol StderrConverter {
    /// Appends the stderr text for the complete raw lines in `[start, end)` to `out`.
    func convert(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8], skipped: inout Int)
}

/// rsyslog lines: `Nov 23 13:02:51 host postgres[123]: [4-1] <prefix>LOG:  ...`, with `[4-2]`
/// continuation lines whose leading tab rsyslog writes as `#011`. The header's pid is put in front
/// as `[pid] ` so that logs with an empty log_line_prefix still have sessions.
struct SyslogConverter: StderrConverter {
    func convert(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8], skipped: inout Int) {
        var i = start
        while i < end {
            var e = lineEnd(p, i, end)
            let next = e + 1
            if e > i, p[e - 1] == 0x0D { e -= 1 }
            defer { i = next }
            guard let header = SyslogConverter.parseHeader(p, i, e) else {
                if e > i { skipped += 1 }
                out.append(0x0A)   // keep line numbers aligned: an empty line is skipped silently
                continue
            }
            var body = header.body
            // PostgreSQL splits one message at its newlines into [N-1], [N-2], ...: a line of a
            // multi-line statement starts with a tab (`#011` once rsyslog escapes it); a DETAIL or
            // STATEMENT line of the same message starts with the prefix, like a line of its own.
            var continuation = false
            if header.part > 1 {
                if body + 4 <= e, memcmp(p + body, "#011", 4) == 0 { body += 4; continuation = true }
                if body < e, p[body] == 0x09 { continuation = true }
                while body < e, p[body] == 0x09 { body += 1 }
            }
            if continuation {
                out.append(0x09)
            } else {
                // RFC 3339 header timestamps (rsyslog's high-precision format) carry the year: keep them.
                let ts = header.timestamp
                if let tsEnd = scanTimestamp(p, e, from: ts), p[ts + 10] == 0x54 {
                    out.append(contentsOf: UnsafeBufferPointer(start: p + ts, count: 10))
                    out.append(0x20)
                    out.append(contentsOf: UnsafeBufferPointer(start: p + ts + 11, count: tsEnd - ts - 11))
                    out.append(0x20)
                }
                out.append(0x5B)
                out.append(contentsOf: UnsafeBufferPointer(start: p + header.pid.lowerBound, count: header.pid.count))
                out.append(contentsOf: [0x5D, 0x20])
            }
            out.append(contentsOf: UnsafeBufferPointer(start: p + body, count: e - body))
            out.append(0x0A)
        }
    }

    /// `2024-01-02T10:00:00.123456+00:00` (RFC 3339) or `Jan  2 10:00:00` (BSD).
    static func startsWithSyslogTimestamp(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        if end - start > 20, isDigit(p[start]), p[start + 4] == 0x2D, p[start + 10] == 0x54 { return true }
        guard end - start > 16 else { return false }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let head = String(decoding: UnsafeBufferPointer(start: p + start, count: 3), as: UTF8.self)
        return months.contains(head) && p[start + 3] == 0x20 && p[start + 9] == 0x3A && p[start + 12] == 0x3A
    }

    /// Where a line's timestamp starts: after the frame of a Heroku logplex HTTPS drain (RFC 6587's octet
    /// count, then RFC 5424's `<PRI>1 `) when there is one, else at the line's start.
    static func timestampStart(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = start
        var j = i
        while j < end, isDigit(p[j]) { j += 1 }
        if j > i, j + 1 < end, p[j] == 0x20, p[j + 1] == 0x3C { i = j + 1 }
        guard i < end, p[i] == 0x3C else { return start }
        var k = i + 1
        while k < end, isDigit(p[k]) { k += 1 }
        guard k < end, p[k] == 0x3E else { return start }
        k += 1
        while k < end, isDigit(p[k]) { k += 1 }
        return k < end && p[k] == 0x20 ? k + 1 : start
    }

    /// `ident[1234]: [N-M] ` (rsyslog), Heroku logplex's `app[postgres.1234]: [COLOR] [N-M] ` as `heroku logs`
    /// prints it, or the same record as a logplex drain delivers it (RFC 5424 fields:
    /// `<time> <drain token> app postgres.1234 - [COLOR] [N-M] `).
    static func parseHeader(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (pid: Range<Int>, part: Int, body: Int, timestamp: Int)? {
        let timestamp = timestampStart(p, start, end)
        if timestamp == start, let bracketed = parseBracketedHeader(p, start, end) {
            return (bracketed.pid, bracketed.part, bracketed.body, start)
        }
        return parseStructuredHeader(p, timestamp, end)
    }

    private static func parseBracketedHeader(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (pid: Range<Int>, part: Int, body: Int)? {
        var i = start
        while i + 4 < end {
            guard let hit = memchr(p + i, 0x5D, end - i) else { return nil }
            let close = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
            if close + 3 < end, p[close + 1] == 0x3A, p[close + 2] == 0x20, p[close + 3] == 0x5B {
                var digits = close
                while digits > start, isDigit(p[digits - 1]) { digits -= 1 }
                var open = digits - 1
                if open > start, p[open] == 0x2E {      // postgres.1234
                    while open > start, p[open] != 0x5B, p[open] != 0x20 { open -= 1 }
                }
                guard open >= start, p[open] == 0x5B, digits < close,
                      let (part, body) = parseSequence(p, close + 2, end) else { return nil }
                return (digits..<close, part, body)
            }
            i = close + 1
        }
        return nil
    }

    /// RFC 5424 after the timestamp: hostname, app-name, procid (`postgres.1234`), msgid (`-`), message.
    private static func parseStructuredHeader(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (pid: Range<Int>, part: Int, body: Int, timestamp: Int)? {
        guard startsWithSyslogTimestamp(p, start, end) else { return nil }
        var i = start
        var tokens: [Range<Int>] = []
        while tokens.count < 5, i < end {
            var j = i
            while j < end, p[j] != 0x20 { j += 1 }
            tokens.append(i..<j)
            i = j + 1
        }
        guard tokens.count == 5, tokens[4].count == 1, p[tokens[4].lowerBound] == 0x2D else { return nil }
        let procid = tokens[3]
        var digits = procid.upperBound
        while digits > procid.lowerBound, isDigit(p[digits - 1]) { digits -= 1 }
        guard digits < procid.upperBound, let (part, body) = parseSequence(p, tokens[4].upperBound, end) else { return nil }
        return (digits..<procid.upperBound, part, body, start)
    }

    /// ` [COLOR] [N-M] ` from `at` (a space before the first bracket): the part number M and where the text starts.
    private static func parseSequence(_ p: UnsafePointer<UInt8>, _ at: Int, _ end: Int) -> (part: Int, body: Int)? {
        var j = at
        guard j + 1 < end, p[j] == 0x20, p[j + 1] == 0x5B else { return nil }
        j += 1
        // Heroku puts the database's color name before the sequence: `[BRONZE] `.
        if j + 1 < end, p[j + 1] >= 0x41, p[j + 1] <= 0x5A {
            var k = j + 1
            while k < end, p[k] != 0x5D { k += 1 }
            guard k + 2 < end, p[k + 1] == 0x20, p[k + 2] == 0x5B else { return nil }
            j = k + 2
        }
        j += 1
        while j < end, isDigit(p[j]) { j += 1 }
        guard j < end, p[j] == 0x2D else { return nil }
        j += 1
        var part = 0
        while j < end, isDigit(p[j]), part < 1_000_000 { part = part * 10 + Int(p[j] - 0x30); j += 1 }
        guard j < end, p[j] == 0x5D else { return nil }
        j += 1
        // One space, or two as some Heroku plans write before `sql_error_code`; a continuation's tab stays.
        while j < end, p[j] == 0x20 { j += 1 }
        return (part, j)
    }
}

/// Cloud SQL's Cloud Logging export: one JSON entry per line whose `textPayload` is a stderr message.
struct CloudSQLConverter: StderrConverter {
    func convert(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8], skipped: inout Int) {
        let scratch = ScratchBuffer()
        var i = start
        while i < end {
            let e = lineEnd(p, i, end)
            defer { i = e + 1 }
            scratch.reset(capacity: e - i)
            guard let payload = CloudSQLConverter.textPayload(p, i, e, scratch) else {
                if e > i { skipped += 1 }
                out.append(0x0A)
                continue
            }
            var first = true
            var j = 0
            let text = payload.buffer
            while j < text.count || first {
                var k = j
                while k < text.count, text[k] != 0x0A { k += 1 }
                if !first {
                    if k == j, k >= text.count { break }
                    if text[j] != 0x09 { out.append(0x09) }
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: text[j..<k]))
                out.append(0x0A)
                first = false
                j = k + 1
            }
        }
    }

    static func textPayload(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ scratch: ScratchBuffer) -> ByteSlice? {
        let line = ByteSlice(base: p + start, count: end - start)
        guard let at = line.firstIndex(of: "\"textPayload\"") else { return nil }
        var i = start + at + 13
        while i < end, p[i] == 0x20 || p[i] == 0x3A { i += 1 }
        guard i < end, p[i] == 0x22 else { return nil }
        return FlatJSONScanner(p: p, end: end, scratch: scratch).readString(from: i)?.0
    }
}
