/// A statement's words, `$n` parameters and punctuation, for the few places that read SQL text below
/// the parser: string literals, quoted identifiers and dollar-quoted bodies are single `other`
/// tokens and comments (nested ones too) are skipped, so nothing inside them counts. It reads bytes,
/// as PostgreSQL's lexer does: only ASCII space, tab, newline, carriage return and form feed are
/// whitespace, and every non-ASCII byte may be part of a word.
public enum SQLTokens {
    public enum Kind: Equatable, Sendable { case word, parameter, punctuation(Character), other }
    public struct Token: Sendable {
        public var kind: Kind
        public var range: Range<String.Index>
    }

    public static func scan(_ text: String) -> [Token] {
        let bytes = Array(text.utf8)
        let n = bytes.count
        var tokens: [Token] = []
        func add(_ kind: Kind, _ start: Int, _ end: Int) {
            let utf8 = text.utf8
            let lower = utf8.index(utf8.startIndex, offsetBy: start)
            tokens.append(Token(kind: kind, range: lower..<utf8.index(lower, offsetBy: end - start)))
        }
        var i = 0
        while i < n {
            let c = bytes[i]
            let start = i
            if isSpaceByte(c) { i += 1; continue }
            if let after = endOfComment(bytes, at: i, end: n) { i = after; continue }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                i = endOfQuoted(bytes, from: i + 1, end: n, quote: c)
                add(.other, start, i)
            } else if c == UInt8(ascii: "$") {
                i += 1
                if i < n, isDigitByte(bytes[i]) {
                    while i < n, isDigitByte(bytes[i]) { i += 1 }
                    add(.parameter, start, i)
                    continue
                }
                // `$tag$ ... $tag$`: skip to the closing tag.
                while i < n, isWordByte(bytes[i]), !isDigitByte(bytes[i]) || i > start + 1 { i += 1 }
                if i < n, bytes[i] == UInt8(ascii: "$") {
                    i += 1
                    i = endOfDollarQuoted(bytes, tag: bytes[start..<i], from: i, end: n)
                }
                add(.other, start, i)
            } else if isWordByte(c) {
                while i < n, isWordByte(bytes[i]) || bytes[i] == UInt8(ascii: "$") { i += 1 }
                add(.word, start, i)
            } else {
                i += 1
                add(.punctuation(Character(Unicode.Scalar(c))), start, i)
            }
        }
        return tokens
    }

    /// The highest `$n` of a statement (at most 65,535, PostgreSQL's limit); 0 when it has none.
    public static func highestParameter(in text: String) -> Int {
        scan(text).reduce(0) { highest, token in
            guard token.kind == .parameter else { return highest }
            return max(highest, Int(text[token.range].dropFirst().prefix(6)).map { min($0, 65_535) } ?? 0)
        }
    }

    /// The statement's first word, upper-cased (`ANALYZE`, `CREATE`), after leading comments; empty
    /// when it starts with something else.
    public static func leadingKeyword(_ text: String) -> String {
        guard let first = scan(text).first, first.kind == .word else { return "" }
        return text[first.range].prefix { $0.isLetter }.uppercased()
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || isDigitByte(b) || b == UInt8(ascii: "_") || b >= 0x80
    }

    static func isDigitByte(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// After a quoted string or identifier whose opening quote is just before `from`; a doubled quote
    /// stays inside.
    static func endOfQuoted(_ bytes: [UInt8], from: Int, end: Int, quote: UInt8) -> Int {
        var i = from
        while i < end {
            if bytes[i] == quote {
                if i + 1 < end, bytes[i + 1] == quote { i += 2; continue }
                return i + 1
            }
            i += 1
        }
        return end
    }

    static func endOfDollarQuoted(_ bytes: [UInt8], tag: ArraySlice<UInt8>, from: Int, end: Int) -> Int {
        var i = from
        while i + tag.count <= end {
            if bytes[i] == UInt8(ascii: "$"), bytes[i..<(i + tag.count)].elementsEqual(tag) { return i + tag.count }
            i += 1
        }
        return end
    }
}

func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0C }

/// The one SQL comment skipper: when a comment starts at `i` (`-- to the end of the line`, or
/// `/* ... */`, which nest in PostgreSQL), the position just after it; nil when none starts there.
/// Generic over the byte buffer. (FastNormalizer writes the same loop out: see there.)
@inline(__always)
func endOfComment<Bytes: RandomAccessCollection>(_ bytes: Bytes, at i: Int, end: Int) -> Int?
where Bytes.Element == UInt8, Bytes.Index == Int {
    guard i + 1 < end else { return nil }
    let c = bytes[i], next = bytes[i + 1]
    if c == 0x2D, next == 0x2D {
        var j = i
        while j < end, bytes[j] != 0x0A { j += 1 }
        return j
    }
    guard c == 0x2F, next == 0x2A else { return nil }
    var depth = 0
    var j = i
    while j < end {
        if bytes[j] == 0x2F, j + 1 < end, bytes[j + 1] == 0x2A { depth += 1; j += 2; continue }
        if bytes[j] == 0x2A, j + 1 < end, bytes[j + 1] == 0x2F {
            depth -= 1; j += 2
            if depth == 0 { break }
            continue
        }
        j += 1
    }
    return j
}

/// The first byte of a statement's own text: libpg_query counts the whitespace and comments before a
/// statement into it, but a finding about the statement should point at its first word.
func skipSpaceAndComments(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
    var i = start
    while i < end {
        if isSpaceByte(bytes[i]) { i += 1; continue }
        guard let after = endOfComment(bytes, at: i, end: end) else { break }
        i = after
    }
    return i
}
