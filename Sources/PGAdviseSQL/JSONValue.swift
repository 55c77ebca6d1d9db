/// A position in a parsed JSON document: the document and the index of one value in it.
///
/// libpg_query hands its parse tree over as JSON, and the lint and log paths read tens of thousands
/// of trees a second. Building a tree of allocated values for each one, and freeing it again, cost
/// more than libpg_query's own parse; so a document is read once into one flat array of entries over
/// its bytes, and a value is only an index into it. Keys are compared as bytes; a String is made only
/// when a caller asks for one. Object members keep their order (trees are small and walked).
public struct JSONValue: Sendable {
    let document: JSONDocument
    let index: Int

    public enum Kind: UInt8, Sendable { case null, bool, number, string, array, object }

    public var kind: Kind { document.entries[index].kind }

    /// A value that is JSON `null`, for `node["x"] ?? .null`.
    public static let null: JSONValue = {
        let bytes = Array("null".utf8)
        return JSONValue(document: JSONDocument(bytes: bytes, entries: [JSONEntry(kind: .null, start: 0, end: 4, next: 1)]), index: 0)
    }()

    // MARK: reading

    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { try parse(bytes: $0) }
    }

    public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var tokenizer = JSONTokenizer(bytes: bytes)
        try tokenizer.readValue()
        tokenizer.skipWhitespace()
        guard tokenizer.index == bytes.count else { throw JSONTokenizer.Failure(offset: tokenizer.index, reason: "trailing data") }
        return JSONValue(document: JSONDocument(bytes: Array(bytes), entries: tokenizer.entries), index: 0)
    }

    // MARK: questions

    /// The member named `key` of an object (the first, if the name repeats); nil for other values.
    public subscript(key: StaticString) -> JSONValue? {
        key.withUTF8Buffer { memberValue(named: $0) }.map { JSONValue(document: document, index: $0) }
    }

    /// The member named `key`, for a name known only at run time.
    public func member(_ key: String) -> JSONValue? {
        var key = key
        return key.withUTF8 { memberValue(named: $0) }.map { JSONValue(document: document, index: $0) }
    }

    /// The position of the value of the first member named `wanted`. This is the reader's hottest
    /// loop (every question a walk asks), so it reads entries and bytes without bounds checks: every
    /// position it visits comes from the tokenizer, which only records positions inside the document.
    private func memberValue(named wanted: UnsafeBufferPointer<UInt8>) -> Int? {
        document.entries.withUnsafeBufferPointer { entries in
            let container = entries[index]
            guard container.kind == .object else { return nil }
            return document.bytes.withUnsafeBufferPointer { bytes in
                var i = index + 1
                while i < container.next {
                    let key = entries[i]
                    if key.escaped {
                        if document.string(at: i, equals: wanted) { return i + 1 }
                    } else if key.end - key.start == wanted.count {
                        var j = 0
                        while j < wanted.count, bytes[key.start + j] == wanted[j] { j += 1 }
                        if j == wanted.count { return i + 1 }
                    }
                    i = entries[i + 1].next
                }
                return nil
            }
        }
    }

    /// Number of elements of an array or members of an object; 0 for other values.
    public var count: Int { Int(document.entries[index].count) }

    /// The elements of an array, or the member values of an object, without making an array.
    public var children: JSONChildren { JSONChildren(document: document, start: index) }

    /// The last element of an array (or last member value of an object), without making an array.
    public var lastChild: JSONValue? {
        var last: JSONValue?
        for child in children { last = child }
        return last
    }

    public var array: [JSONValue]? {
        guard kind == .array else { return nil }
        var items: [JSONValue] = []
        items.reserveCapacity(count)
        for item in children { items.append(item) }
        return items
    }

    public var string: String? {
        guard kind == .string else { return nil }
        return document.decodedString(at: index)
    }

    public var double: Double? {
        guard kind == .number else { return nil }
        return document.number(at: index)
    }

    public var int: Int? {
        guard kind == .number else { return nil }
        if let whole = document.smallInteger(at: index) { return whole }
        guard let n = document.number(at: index), n.isFinite, abs(n) < 9.0e18 else { return nil }
        return Int(n)
    }

    public var bool: Bool? {
        guard kind == .bool else { return nil }
        return document.bytes[document.entries[index].start] == UInt8(ascii: "t")
    }

    public var objectPairs: [(String, JSONValue)]? {
        guard kind == .object else { return nil }
        var pairs: [(String, JSONValue)] = []
        pairs.reserveCapacity(count)
        var i = index + 1
        while i < document.entries[index].next {
            pairs.append((document.decodedString(at: i), JSONValue(document: document, index: i + 1)))
            i = document.entries[i + 1].next
        }
        return pairs
    }

    /// For libpg_query's node wrappers (`{"ColumnRef": {...}}`): the node's type and body.
    public var node: (type: String, body: JSONValue)? {
        guard let (type, body) = nodeKey else { return nil }
        return (type.string, body)
    }

    /// Like `node`, with the type as a name in the document (compared with `==` to a literal) rather
    /// than a String, for walks that look for one or two node types.
    public var nodeKey: (type: JSONKey, body: JSONValue)? {
        let entry = document.entries[index]
        guard entry.kind == .object, entry.count == 1 else { return nil }
        return (JSONKey(document: document, index: index + 1), JSONValue(document: document, index: index + 2))
    }
}

extension JSONValue: Equatable {
    /// Equal when the two values are the same JSON (object members compared in order).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        guard a.kind == b.kind, a.count == b.count else { return false }
        switch a.kind {
        case .null: return true
        case .bool: return a.bool == b.bool
        case .number: return a.double == b.double
        case .string: return a.string == b.string
        case .array: return zip(a.children, b.children).allSatisfy { $0 == $1 }
        case .object:
            guard let x = a.objectPairs, let y = b.objectPairs else { return false }
            return zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        }
    }
}

/// Walks over a whole subtree visit its entries in document order (which is depth-first order)
/// instead of recursing: what is inside the value at position `p` ends at `end(p)`, so a walk skips a
/// subtree it has no use for by jumping there.
extension JSONValue {
    /// The position just past this value and everything inside it.
    var end: Int { document.entries[index].next }

    func end(of position: Int) -> Int { document.entries[position].next }

    func at(_ position: Int) -> JSONValue { JSONValue(document: document, index: position) }

    /// Whether the value at `position` is a libpg_query node wrapper (`{"type": {...}}`) of that type.
    func isNode(at position: Int, _ type: StaticString) -> Bool {
        let entry = document.entries[position]
        guard entry.kind == .object, entry.count == 1 else { return false }
        return type.withUTF8Buffer { document.string(at: position + 1, equals: $0) }
    }

    /// Whether the entry at `position` is an object member's name equal to `key`.
    func isKey(at position: Int, _ key: StaticString) -> Bool {
        guard document.entries[position].isKey else { return false }
        return key.withUTF8Buffer { document.string(at: position, equals: $0) }
    }
}

/// An object member's name in a document.
public struct JSONKey: Sendable {
    let document: JSONDocument
    let index: Int

    public var string: String { document.decodedString(at: index) }

    public static func == (key: JSONKey, literal: StaticString) -> Bool {
        literal.withUTF8Buffer { key.document.string(at: key.index, equals: $0) }
    }
}

/// The elements of an array or the member values of an object, in order.
public struct JSONChildren: Sequence, IteratorProtocol, Sendable {
    let document: JSONDocument
    var position: Int
    let end: Int
    let isObject: Bool

    init(document: JSONDocument, start: Int) {
        self.document = document
        let entry = document.entries[start]
        position = start + 1
        isObject = entry.kind == .object
        end = entry.kind == .object || entry.kind == .array ? entry.next : start + 1
    }

    public mutating func next() -> JSONValue? {
        guard position < end else { return nil }
        let value = isObject ? position + 1 : position
        position = document.entries[value].next
        return JSONValue(document: document, index: value)
    }
}

/// One value (or object key) of a document. Containers are followed by their contents: an array by
/// its elements, an object by key, value, key, value; `next` is the index just past the value and
/// everything inside it, which is how a reader steps over a member without looking into it.
struct JSONEntry: Sendable {
    var kind: JSONValue.Kind
    /// The string has a backslash escape and must be decoded, not just copied.
    var escaped = false
    /// The string is an object member's name, not a value.
    var isKey = false
    /// Strings: the bytes between the quotes; numbers, literals: the token's bytes; containers: unused.
    // 32-bit offsets keep an entry at 20 bytes; the tokenizer refuses documents of 2 GB or more.
    var rawStart: Int32
    var rawEnd: Int32
    var rawNext: Int32
    /// Elements or members of a container.
    var count: Int32 = 0

    init(kind: JSONValue.Kind, start: Int, end: Int, next: Int) {
        self.kind = kind
        rawStart = Int32(truncatingIfNeeded: start)
        rawEnd = Int32(truncatingIfNeeded: end)
        rawNext = Int32(truncatingIfNeeded: next)
    }

    var start: Int { Int(rawStart) }
    var end: Int { Int(rawEnd) }
    var next: Int { Int(rawNext) }
}

/// The bytes of one JSON text and its entries. Immutable once read.
final class JSONDocument: Sendable {
    let bytes: [UInt8]
    let entries: [JSONEntry]

    init(bytes: [UInt8], entries: [JSONEntry]) {
        self.bytes = bytes
        self.entries = entries
    }

    func string(at index: Int, equals wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let entry = entries[index]
        if entry.escaped { return Array(decodedString(at: index).utf8).elementsEqual(wanted) }
        let start = entry.start, end = entry.end
        guard end - start == wanted.count else { return false }
        return bytes.withUnsafeBufferPointer { all in
            var i = 0
            while i < wanted.count {
                if all[start + i] != wanted[i] { return false }
                i += 1
            }
            return true
        }
    }

    func decodedString(at index: Int) -> String {
        let entry = entries[index]
        let start = entry.start, end = entry.end
        if !entry.escaped {
            return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\"), i + 1 < end else { out.append(b); i += 1; continue }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                // The tokenizer checked that four hex digits follow every \u.
                var scalar = hex4(at: i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= end,
                   bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(at: i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) &+ (low &- 0xDC00)
                }
                let decoded = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(Character(decoded)).utf8)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func hex4(at position: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in position..<Swift.min(position + 4, bytes.count) { v = v << 4 | UInt32(hexDigitValue(bytes[i]) ?? 0) }
        return v
    }

    /// A whole number of at most 15 digits read straight from the bytes (every one is exact as a
    /// Double too, so this agrees with `number(at:)`); nil for anything else.
    func smallInteger(at index: Int) -> Int? {
        let entry = entries[index]
        var i = entry.start
        let end = entry.end
        let negative = i < end && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard end > i, end - i <= 15 else { return nil }
        var value = 0
        while i < end {
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int(d)
            i += 1
        }
        return negative ? -value : value
    }

    func number(at index: Int) -> Double? {
        if let whole = smallInteger(at: index) { return Double(whole) }
        let entry = entries[index]
        return Double(String(decoding: bytes[entry.start..<entry.end], as: UTF8.self))
    }
}

func hexDigitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}

/// Reads JSON text into entries, checking it as it goes: malformed input is a thrown Failure.
struct JSONTokenizer {
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    var entries: [JSONEntry] = []

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // libpg_query's trees run about one entry per eight bytes; one allocation, rarely a second.
        entries.reserveCapacity(bytes.count / 6 + 4)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func readValue() throws {
        skipWhitespace()
        guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try readContainer(.object, close: UInt8(ascii: "}"))
        case UInt8(ascii: "["): try readContainer(.array, close: UInt8(ascii: "]"))
        case UInt8(ascii: "\""): try readString()
        case UInt8(ascii: "t"): try readWord("true", kind: .bool)
        case UInt8(ascii: "f"): try readWord("false", kind: .bool)
        case UInt8(ascii: "n"): try readWord("null", kind: .null)
        default: try readNumber()
        }
    }

    mutating func readWord(_ word: StaticString, kind: JSONValue.Kind) throws {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw Failure(offset: index, reason: "unexpected end") }
        let w = word.utf8Start
        for i in 0..<n where bytes[index + i] != w[i] { throw Failure(offset: index, reason: "bad literal") }
        entries.append(JSONEntry(kind: kind, start: index, end: index + n, next: entries.count + 1))
        index += n
    }

    mutating func readContainer(_ kind: JSONValue.Kind, close: UInt8) throws {
        depth += 1
        defer { depth -= 1 }
        // Parse trees of deeply nested expressions stay far below this; it guards the stacks of the
        // recursive walks over the document.
        if depth > 2000 { throw Failure(offset: index, reason: "nesting too deep") }
        // Offsets are kept in 32 bits; no statement's tree comes near 2 GB.
        guard bytes.count < Int(Int32.max) else { throw Failure(offset: 0, reason: "document too large") }
        let container = entries.count
        entries.append(JSONEntry(kind: kind, start: index, end: index, next: 0))
        index += 1
        var count: Int32 = 0
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
        } else {
            while true {
                if kind == .object {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Failure(offset: index, reason: "expected key") }
                    try readString()
                    entries[entries.count - 1].isKey = true
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Failure(offset: index, reason: "expected ':'") }
                    index += 1
                }
                try readValue()
                count += 1
                skipWhitespace()
                guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == close { index += 1; break }
                throw Failure(offset: index, reason: kind == .object ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
        entries[container].count = count
        entries[container].rawNext = Int32(truncatingIfNeeded: entries.count)
        entries[container].rawEnd = Int32(truncatingIfNeeded: index)
    }

    mutating func readString() throws {
        let open = index
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                var entry = JSONEntry(kind: .string, start: start, end: index, next: entries.count + 1)
                entry.escaped = escaped
                entries.append(entry)
                index += 1
                return
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard index + 1 < bytes.count else { break }
                if bytes[index + 1] == UInt8(ascii: "u") {
                    guard index + 6 <= bytes.count,
                          (2..<6).allSatisfy({ hexDigitValue(bytes[index + $0]) != nil }) else {
                        throw Failure(offset: index, reason: "bad \\u escape")
                    }
                    index += 6
                } else {
                    index += 2
                }
                continue
            }
            index += 1
        }
        throw Failure(offset: open, reason: "unterminated string")
    }

    mutating func readNumber() throws {
        let start = index
        var plainInteger = true
        scan: while index < bytes.count {
            switch bytes[index] {
            case 0x30...0x39: index += 1
            case UInt8(ascii: "-") where index == start: index += 1
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                plainInteger = false
                index += 1
            default:
                break scan
            }
        }
        let digits = index - start - (start < index && bytes[start] == UInt8(ascii: "-") ? 1 : 0)
        // Anything but a plain integer is checked the way it will be read.
        if !plainInteger || digits == 0 {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard !text.isEmpty, Double(text) != nil else { throw Failure(offset: start, reason: "bad number") }
        }
        entries.append(JSONEntry(kind: .number, start: start, end: index, next: entries.count + 1))
    }
}
