/// One parsed script: the source text and libpg_query's tree for it.
public struct ParseTree: Sendable {
    public var source: String
    public var json: JSONValue

    public init(source: String, json: JSONValue) {
        self.source = source
        self.json = json
    }

    /// The statements, each as its node (`{"SelectStmt": {...}}`), with its byte offset in `source`.
    public var statements: [(node: JSONValue, byteOffset: Int)] {
        (json["stmts"]?.array ?? []).compactMap { raw in
            guard let node = raw["stmt"] else { return nil }
            return (node, raw["stmt_location"]?.int ?? 0)
        }
    }
}

/// 1-based line and column of a UTF-8 byte offset (libpg_query locations are byte offsets).
public func lineAndColumn(ofByteOffset offset: Int, in text: String) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    var i = 0
    for byte in text.utf8 {
        if i >= offset { break }
        if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        i += 1
    }
    return (line, column)
}
