import Foundation

/// A view of bytes inside a reader's buffer. Only valid while the event that holds it is being
/// consumed; the aggregator copies what it keeps. This is what keeps the hot path free of Strings.
public struct ByteSlice {
    public var base: UnsafePointer<UInt8>?
    public var count: Int

    public static let empty = ByteSlice(base: nil, count: 0)

    public init(base: UnsafePointer<UInt8>?, count: Int) {
        self.base = base
        self.count = count
    }

    public init(_ buffer: UnsafeBufferPointer<UInt8>) {
        base = buffer.baseAddress
        count = buffer.count
    }

    public var isEmpty: Bool { count == 0 }
    public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    public subscript(i: Int) -> UInt8 { base.map { $0[i] } ?? 0 }

    public func dropFirst(_ n: Int) -> ByteSlice {
        guard let base, n < count else { return .empty }
        return ByteSlice(base: base + n, count: count - n)
    }

    public func prefix(_ n: Int) -> ByteSlice { ByteSlice(base: base, count: Swift.min(n, count)) }

    public func hasPrefix(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard n <= count, let base else { return n == 0 }
        return memcmp(base, literal.utf8Start, n) == 0
    }

    /// The first occurrence of `literal`, as an offset.
    public func firstIndex(of literal: StaticString, from start: Int = 0) -> Int? {
        let n = literal.utf8CodeUnitCount
        guard let base, n > 0, count >= n else { return nil }
        let first = literal.utf8Start[0]
        var i = start
        while i + n <= count {
            guard let hit = memchr(base + i, Int32(first), count - n + 1 - i) else { return nil }
            let offset = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
            if memcmp(base + offset, literal.utf8Start, n) == 0 { return offset }
            i = offset + 1
        }
        return nil
    }

    public func trimmingTrailingWhitespace() -> ByteSlice {
        var n = count
        while n > 0, let base, base[n - 1] == 0x20 || base[n - 1] == 0x0A || base[n - 1] == 0x0D || base[n - 1] == 0x09 { n -= 1 }
        return ByteSlice(base: base, count: n)
    }

    /// A String copy; invalid UTF-8 becomes U+FFFD.
    public var string: String { String(decoding: buffer, as: UTF8.self) }

    /// A String copy of a stderr message, without the tab PostgreSQL puts after each newline.
    public var messageString: String {
        guard let base, count > 0 else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var i = 0
        while i < count {
            let b = base[i]
            bytes.append(b)
            if b == 0x0A, i + 1 < count, base[i + 1] == 0x09 { i += 1 }
            i += 1
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var bytes: [UInt8] { Array(buffer) }

    public func parseInt() -> Int? {
        guard count > 0, count < 19, let base else { return nil }
        var value = 0
        var i = 0
        var negative = false
        if base[0] == 0x2D { negative = true; i = 1 }
        guard i < count else { return nil }
        while i < count {
            let d = base[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int(d)
            i += 1
        }
        return negative ? -value : value
    }
}

public enum LogSeverity: UInt8, Sendable {
    case log, error, fatal, panic, warning, notice, info, debug
    case detail, hint, statement, context, query, location
    case unknown

    /// Secondary lines belong to the message just before them (stderr writes them separately).
    public var isSecondary: Bool {
        switch self {
        case .detail, .hint, .statement, .context, .query, .location: return true
        default: return false
        }
    }

    public var isError: Bool { self == .error || self == .fatal || self == .panic }

    public var name: String {
        switch self {
        case .log: return "LOG"
        case .error: return "ERROR"
        case .fatal: return "FATAL"
        case .panic: return "PANIC"
        case .warning: return "WARNING"
        case .notice: return "NOTICE"
        case .info: return "INFO"
        case .debug: return "DEBUG"
        case .detail: return "DETAIL"
        case .hint: return "HINT"
        case .statement: return "STATEMENT"
        case .context: return "CONTEXT"
        case .query: return "QUERY"
        case .location: return "LOCATION"
        case .unknown: return "UNKNOWN"
        }
    }

    /// Recognises a severity word (`LOG`, `DEBUG2`, ...) in `bytes[start..<end]`.
    static func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> LogSeverity? {
        let n = end - start
        guard n >= 3, n <= 9 else { return nil }
        func equals(_ word: StaticString) -> Bool {
            word.utf8CodeUnitCount == n && memcmp(p + start, word.utf8Start, n) == 0
        }
        switch p[start] {
        case 0x4C: return equals("LOG") ? .log : (equals("LOCATION") ? .location : nil)
        case 0x45: return equals("ERROR") ? .error : nil
        case 0x46: return equals("FATAL") ? .fatal : nil
        case 0x50: return equals("PANIC") ? .panic : nil
        case 0x57: return equals("WARNING") ? .warning : nil
        case 0x4E: return equals("NOTICE") ? .notice : nil
        case 0x49: return equals("INFO") ? .info : nil
        case 0x44:
            if equals("DETAIL") { return .detail }
            if n >= 5, memcmp(p + start, "DEBUG", 5) == 0 { return .debug }
            return nil
        case 0x48: return equals("HINT") ? .hint : nil
        case 0x53: return equals("STATEMENT") ? .statement : nil
        case 0x43: return equals("CONTEXT") ? .context : nil
        case 0x51: return equals("QUERY") ? .query : nil
        default: return nil
        }
    }

    public init(name: ByteSlice) {
        guard let base = name.base, let s = LogSeverity.parse(base, 0, name.count) else { self = .unknown; return }
        self = s
    }
}

/// One log record, the same for every format. For stderr, DETAIL/STATEMENT lines arrive as their own
/// events right after the message they belong to; csvlog and jsonlog carry them in `detail` and
/// `statement`.
public struct LogEvent {
    public var timestamp: ByteSlice = .empty
    /// Process id or session id (`%c`): what ties a session's statements together.
    public var session: ByteSlice = .empty
    public var user: ByteSlice = .empty
    public var database: ByteSlice = .empty
    public var application: ByteSlice = .empty
    public var sqlstate: ByteSlice = .empty
    public var severity: LogSeverity = .unknown
    public var message: ByteSlice = .empty
    public var detail: ByteSlice = .empty
    public var statement: ByteSlice = .empty
    /// 1-based line in the (decompressed) input where the record starts.
    public var line: Int = 0

    public init() {}
}

public enum LogFormat: String, Codable, Sendable, CaseIterable {
    case stderr, csvlog, jsonlog, syslog, cloudnativepg, cloudsql, pgbouncer
}
