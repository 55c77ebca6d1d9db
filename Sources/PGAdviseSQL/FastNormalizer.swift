import Foundation

/// A byte-level pre-scan that turns a statement into a grouping key in one pass, without the parser:
/// literals and `$n` become `?`, comments go, whitespace runs shrink to one space (or one newline),
/// unquoted words are lowercased, and parenthesised lists of two or more bare literals become `?,?`.
///
/// It exists so that a log with millions of statements calls libpg_query once per distinct key rather
/// than once per statement. It must never put two statements with different libpg_query fingerprints
/// under one key (it may split one fingerprint over several keys; the aggregator merges those after
/// fingerprinting each key once). The tests check that on a broad corpus. To stay on the safe side
/// only plain DML (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, TABLE) is rewritten; any other
/// statement's key is its exact text, because utility statements keep some literals in the parse
/// tree (file names, NOTIFY payloads, option values) that the fingerprint includes.
public struct FastNormalizer {
    /// The key of the last `normalize` call. Reused between calls to avoid allocation.
    public private(set) var key: [UInt8] = []
    /// Byte ranges of the first literals in the input (for sample values), at most `maxLiteralRanges`.
    public private(set) var literalRanges: [Range<Int>] = []
    public private(set) var literalCount = 0
    /// Whether the statement was rewritten (plain DML) or kept verbatim.
    public private(set) var rewritten = false
    /// The explicit parameters (`$n`) of a rewritten statement, and a hash of where they stand among its
    /// literals, in the order written. One key (one fingerprint) can bind its values in different places:
    /// `IN ($1, $2) AND status = $3` against `IN ($1, $2, $3) AND status = $4`, or `$2 … $1` written the
    /// other way round. Equal layouts bind `$n` to the same place.
    public private(set) var parameterCount = 0
    public private(set) var parameterLayout: UInt64 = 0

    public static let maxLiteralRanges = 4
    private var openLists: [Int] = []

    public init() {
        key.reserveCapacity(4096)
        literalRanges.reserveCapacity(Self.maxLiteralRanges)
    }

    /// Builds the key for `text` and returns its 64-bit hash.
    @discardableResult
    public mutating func normalize(_ text: UnsafeBufferPointer<UInt8>) -> UInt64 {
        key.removeAll(keepingCapacity: true)
        literalRanges.removeAll(keepingCapacity: true)
        literalCount = 0
        parameterCount = 0
        parameterLayout = 0
        openLists.removeAll(keepingCapacity: true)
        guard let base = text.baseAddress, text.count > 0 else { rewritten = false; return keyHash() }
        rewritten = Self.startsWithDML(base, text.count)
        if rewritten {
            scan(base, text.count)
        } else {
            var end = text.count
            while end > 0, isSpace(base[end - 1]) { end -= 1 }
            var start = 0
            while start < end, isSpace(base[start]) { start += 1 }
            key.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
        }
        return keyHash()
    }

    public mutating func normalize(_ text: String) -> UInt64 {
        var copy = text
        return copy.withUTF8 { normalize($0) }
    }

    public var keyString: String { String(decoding: key, as: UTF8.self) }

    // MARK: - Scanner

    // Longer than 60 lines on purpose: the per-byte hot loop of log reading; one switch over the
    // first byte of each token keeps it a single pass without calls the optimizer cannot inline.
    private mutating func scan(_ p: UnsafePointer<UInt8>, _ n: Int) {
        var i = 0
        var pending: UInt8 = 0   // whitespace seen since the last token: 0, space or newline
        while i < n {
            let c = p[i]
            if isSpace(c) {
                if c == 0x0A || c == 0x0D { pending = 0x0A } else if pending == 0 { pending = 0x20 }
                i += 1
                continue
            }
            // Comments as `endOfComment` (SQLTokens.swift) reads them, written out here: sharing the
            // function cost this loop about 5% of its CPU time on the logs benchmark.
            if c == 0x2D, i + 1 < n, p[i + 1] == 0x2D {           // -- comment to end of line
                while i < n, p[i] != 0x0A { i += 1 }
                if pending == 0 { pending = 0x20 }
                continue
            }
            if c == 0x2F, i + 1 < n, p[i + 1] == 0x2A {           // /* nested comment */
                var depth = 0
                while i < n {
                    if p[i] == 0x2F, i + 1 < n, p[i + 1] == 0x2A { depth += 1; i += 2; continue }
                    if p[i] == 0x2A, i + 1 < n, p[i + 1] == 0x2F { depth -= 1; i += 2; if depth == 0 { break }; continue }
                    i += 1
                }
                if pending == 0 { pending = 0x20 }
                continue
            }
            if pending != 0 {
                if !key.isEmpty { key.append(pending) }
                pending = 0
            }
            switch c {
            case 0x27:                                              // 'standard string'
                let start = i
                i = skipQuoted(p, n, from: i + 1, quote: 0x27, backslashEscapes: false)
                emitOperandLiteral(p, start..<i)
            case 0x22:                                              // "quoted identifier": verbatim
                let start = i
                i = skipQuoted(p, n, from: i + 1, quote: 0x22, backslashEscapes: false)
                key.append(contentsOf: UnsafeBufferPointer(start: p + start, count: i - start))
            case 0x30...0x39:
                let start = i
                i = skipNumber(p, n, from: i)
                emitNumber(p, start..<i)
            case 0x2E where i + 1 < n && isDigit(p[i + 1]):
                let start = i
                i = skipNumber(p, n, from: i)
                emitNumber(p, start..<i)
            case 0x24:                                              // $n, $tag$...$tag$, or a lone $
                if i + 1 < n, isDigit(p[i + 1]) {
                    let start = i
                    i += 1
                    var number = 0
                    while i < n, isDigit(p[i]) {
                        number = min(number &* 10 &+ Int(p[i] &- 0x30), 1 << 20)
                        i += 1
                    }
                    noteParameter(number)
                    emitOperandLiteral(p, start..<i)
                } else if let end = skipDollarQuoted(p, n, from: i) {
                    emitOperandLiteral(p, i..<end)
                    i = end
                } else {
                    key.append(c)
                    i += 1
                }
            case 0x28, 0x5B:                                        // ( [
                key.append(c)
                openLists.append(key.count)
                i += 1
            case 0x29, 0x5D:                                        // ) ]
                if let open = openLists.popLast() { collapseLiteralList(from: open) }
                key.append(c)
                i += 1
            default:
                if isIdentifierStart(c) {
                    i = scanWord(p, n, from: i)
                } else {
                    key.append(c)
                    i += 1
                }
            }
        }
    }

    /// A word, or a string literal with a one-letter prefix (E'', B'', X'', N'', U&'').
    private mutating func scanWord(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int {
        var i = start + 1
        while i < n, isIdentifierPart(p[i]) { i += 1 }
        if i - start == 1 {
            let letter = p[start] | 0x20
            if i < n, p[i] == 0x27 {
                switch letter {
                case 0x65:   // e
                    let end = skipQuoted(p, n, from: i + 1, quote: 0x27, backslashEscapes: true)
                    key.append(letter)
                    emitLiteral(start..<end)
                    return end
                case 0x62, 0x78, 0x6E:   // b x n
                    let end = skipQuoted(p, n, from: i + 1, quote: 0x27, backslashEscapes: false)
                    key.append(letter)
                    emitLiteral(start..<end)
                    return end
                default: break
                }
            }
            if letter == 0x75, i + 1 < n, p[i] == 0x26 {   // u&
                if p[i + 1] == 0x27 {
                    let end = skipQuoted(p, n, from: i + 2, quote: 0x27, backslashEscapes: false)
                    // `u&'` with its quote: `u&?` is also `u & 1`, an operator on a column named u
                    // (found by Benchmarks/fuzz, FuzzPreScan).
                    key.append(contentsOf: [0x75, 0x26, 0x27])
                    emitLiteral(start..<end)
                    return end
                }
                if p[i + 1] == 0x22 {
                    let end = skipQuoted(p, n, from: i + 2, quote: 0x22, backslashEscapes: false)
                    key.append(contentsOf: UnsafeBufferPointer(start: p + start, count: end - start))
                    return end
                }
            }
        }
        for j in start..<i {
            let b = p[j]
            key.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
        }
        return i
    }

    private mutating func emitLiteral(_ range: Range<Int>) {
        key.append(0x3F)
        if literalRanges.count < Self.maxLiteralRanges { literalRanges.append(range) }
        literalCount += 1
    }

    /// A string or `$n` literal. After a minus it is kept verbatim: the grammar folds a minus into the
    /// number after it (`-1` is one constant) but keeps it as an operator before anything else
    /// (`-'1'`, `-$1`), so `-?` must not stand for both. (Found by Benchmarks/fuzz, FuzzPreScan.)
    private mutating func emitOperandLiteral(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) {
        var j = key.count - 1
        while j >= 0, key[j] == 0x20 || key[j] == 0x0A { j -= 1 }
        if j >= 0, key[j] == 0x2D {
            key.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        } else {
            emitLiteral(range)
        }
    }

    /// `$n` and how many literals come before it: where each parameter stands among the statement's
    /// literals, without a cost per literal (literals after the last parameter move none of them).
    private mutating func noteParameter(_ number: Int) {
        parameterCount += 1
        parameterLayout = (parameterLayout ^ UInt64(truncatingIfNeeded: number << 24 | literalCount)) &* 0x100_0000_01B3 &+ 1
    }

    /// Numbers are literals except where the grammar turns them into part of a type or function:
    /// `float(24)` picks float4 or float8, `current_time(3)` and friends keep the precision.
    private mutating func emitNumber(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) {
        if precedingWordTakesPrecision() {
            key.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        } else {
            emitLiteral(range)
        }
    }

    private func precedingWordTakesPrecision() -> Bool {
        var j = key.count - 1
        while j >= 0, key[j] == 0x20 || key[j] == 0x0A { j -= 1 }
        guard j >= 0, key[j] == 0x28 else { return false }
        j -= 1
        while j >= 0, key[j] == 0x20 || key[j] == 0x0A { j -= 1 }
        let end = j + 1
        while j >= 0, isIdentifierPart(key[j]) { j -= 1 }
        let word = key[(j + 1)..<end]
        for candidate in ["float", "current_time", "current_timestamp", "localtime", "localtimestamp"] as [StaticString]
            where candidate.utf8CodeUnitCount == word.count {
            if word.elementsEqual(UnsafeBufferPointer(start: candidate.utf8Start, count: candidate.utf8CodeUnitCount)) { return true }
        }
        return false
    }

    /// `( ?, ?, ? )` → `(?,?)`: libpg_query ignores constants and parameters inside a list, so lists of
    /// two or more of them fingerprint alike whatever their length. A single literal stays `(?)`,
    /// because `(1)` is a bare constant while `(1, 2)` is a row.
    private mutating func collapseLiteralList(from open: Int) {
        var items = 0
        var expectItem = true
        var j = open
        while j < key.count {
            let b = key[j]
            if b == 0x3F {
                guard expectItem else { return }
                items += 1
                expectItem = false
            } else if b == 0x2C {
                guard !expectItem else { return }
                expectItem = true
            } else if b != 0x20 && b != 0x0A {
                return
            }
            j += 1
        }
        guard items >= 2, !expectItem else { return }
        key.removeSubrange(open...)
        key.append(contentsOf: [0x3F, 0x2C, 0x3F])
    }

    // MARK: - Lexical helpers (mirroring PostgreSQL's scan.l)

    private func skipQuoted(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, quote: UInt8, backslashEscapes: Bool) -> Int {
        var i = start
        while i < n {
            let b = p[i]
            if backslashEscapes && b == 0x5C { i += 2; continue }
            if b == quote {
                if i + 1 < n, p[i + 1] == quote { i += 2; continue }
                return i + 1
            }
            i += 1
        }
        return n
    }

    private func skipNumber(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int {
        var i = start
        while i < n, isDigit(p[i]) { i += 1 }
        if i < n, p[i] == 0x2E, !(i + 1 < n && p[i + 1] == 0x2E) {
            i += 1
            while i < n, isDigit(p[i]) { i += 1 }
        }
        if i < n, p[i] | 0x20 == 0x65 {
            var j = i + 1
            if j < n, p[j] == 0x2B || p[j] == 0x2D { j += 1 }
            if j < n, isDigit(p[j]) {
                i = j
                while i < n, isDigit(p[i]) { i += 1 }
            }
        }
        return min(i, n)
    }

    /// The end of a `$tag$ ... $tag$` string starting at `start`, or nil when `$` does not open one.
    private func skipDollarQuoted(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
        var i = start + 1
        if i < n, p[i] != 0x24 {
            guard isIdentifierStart(p[i]) else { return nil }
            while i < n, isIdentifierPart(p[i]), p[i] != 0x24 { i += 1 }
        }
        guard i < n, p[i] == 0x24 else { return nil }
        let tagLength = i - start + 1
        i += 1
        while i < n {
            if p[i] == 0x24, i + tagLength <= n, memcmp(p + i, p + start, tagLength) == 0 { return i + tagLength }
            i += 1
        }
        return n
    }

    static func startsWithDML(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n {
            let c = p[i]
            if isSpace(c) || c == 0x28 { i += 1; continue }
            if c == 0x2D, i + 1 < n, p[i + 1] == 0x2D {
                while i < n, p[i] != 0x0A { i += 1 }
                continue
            }
            if c == 0x2F, i + 1 < n, p[i + 1] == 0x2A {
                var depth = 0
                while i < n {
                    if p[i] == 0x2F, i + 1 < n, p[i + 1] == 0x2A { depth += 1; i += 2; continue }
                    if p[i] == 0x2A, i + 1 < n, p[i + 1] == 0x2F { depth -= 1; i += 2; if depth == 0 { break }; continue }
                    i += 1
                }
                continue
            }
            break
        }
        var end = i
        while end < n, isIdentifierPart(p[end]) { end += 1 }
        // Compared byte by byte (no shared arrays on this path: it runs on every core at once).
        func word(_ w: StaticString) -> Bool {
            guard end - i == w.utf8CodeUnitCount else { return false }
            for k in 0..<(end - i) where p[i + k] | 0x20 != w.utf8Start[k] { return false }
            return true
        }
        switch end - i {
        case 4: return word("with")
        case 5: return word("table")
        case 6: return word("select") || word("insert") || word("update") || word("delete") || word("values")
        default: return false
        }
    }

    private func keyHash() -> UInt64 { hashBytes(key) }
}

/// A fast 64-bit hash of bytes (word-at-a-time multiply-xorshift); keys are always compared for
/// equality after a hash match, so this only has to spread well.
public func hashBytes(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { hashBytes($0) }
}

public func hashBytes(_ raw: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
    guard let base = raw.baseAddress else { return h }
    var i = 0
    let n = raw.count
    while i + 8 <= n {
        let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
        tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
        shift += 8
        i += 1
    }
    h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 29
    return h
}

@inline(__always) func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) func isIdentifierStart(_ c: UInt8) -> Bool {
    (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c >= 0x80
}
@inline(__always) func isIdentifierPart(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) || c == 0x24 }
