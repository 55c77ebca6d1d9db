import CPgQuery
import PGAdviseCore

/// A script cut into statements by PostgreSQL's own parser, so that each statement can then be parsed
/// and analysed alone: small trees, memory freed statement by statement, however large the file.
public struct SplitScript: Sendable {
    public var text: String
    public var utf8: [UInt8]
    public var spans: [StatementSpan]

    /// The statement's text as the parser delimited it (leading comments included, `;` excluded).
    public func statementText(_ span: StatementSpan) -> String {
        let start = Swift.min(span.byteOffset, utf8.count)
        let end = span.byteLength == 0 ? utf8.count : Swift.min(start + span.byteLength, utf8.count)
        return String(decoding: utf8[start..<end], as: UTF8.self)
    }

    /// The statement's first key word, lower-cased (`select`, `create` ...), after comments.
    public func firstKeyword(_ span: StatementSpan) -> String {
        let start = Swift.min(span.byteOffset, utf8.count)
        let end = span.byteLength == 0 ? utf8.count : Swift.min(start + span.byteLength, utf8.count)
        var i = skipSpaceAndComments(utf8, from: start, to: end)
        var word: [UInt8] = []
        while i < end, word.count < 16 {
            let b = utf8[i]
            if (b >= 0x41 && b <= 0x5A) { word.append(b + 0x20) } else if b >= 0x61 && b <= 0x7A { word.append(b) } else { break }
            i += 1
        }
        return String(decoding: word, as: UTF8.self)
    }
}

extension PgQuery {
    /// The statements of a script, cut by the scanner (fast: no grammar), or by the parser when `exact`.
    /// The scanner knows quotes, dollar quotes and comments but not `BEGIN ATOMIC ... END` bodies, so
    /// a statement that then fails to parse should be split again exactly. On failure: the parser's
    /// error, its position counting characters from the start of the script as PostgreSQL reports it.
    public static func splitStatements(_ sql: String, exact: Bool = false) -> Result<SplitScript, SQLParseError> {
        let result = exact ? pg_query_split_with_parser(sql) : pg_query_split_with_scanner(sql)
        defer { pg_query_free_split_result(result) }
        if let error = result.error?.pointee {
            let message = error.message.map { String(cString: $0) } ?? "parse error"
            return .failure(SQLParseError(message: message, position: error.cursorpos > 0 ? Int(error.cursorpos) : nil))
        }
        var spans: [StatementSpan] = []
        if let stmts = result.stmts {
            spans.reserveCapacity(Int(result.n_stmts))
            for i in 0..<Int(result.n_stmts) {
                guard let s = stmts[i]?.pointee else { continue }
                spans.append(StatementSpan(byteOffset: Int(s.stmt_location), byteLength: Int(s.stmt_len)))
            }
        }
        return .success(SplitScript(text: sql, utf8: Array(sql.utf8), spans: spans))
    }
}

