import CPgQuery
import Foundation
import PGAdviseCore

/// A libpg_query error: the parser's message and the 1-based character position it points at.
public struct SQLParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// 1-based character offset into the statement, or nil when libpg_query gave none.
    public var position: Int?

    public var description: String {
        if let position { return "\(message) (at character \(position))" }
        return message
    }
}

/// The real PostgreSQL 15 parser, through libpg_query. Every entry point is thread-safe (libpg_query
/// keeps its memory contexts per thread), which the parallel log reader relies on.
public enum PgQuery {
    /// libpg_query's fingerprint, as 16 lowercase hex digits. Literals, `$n` parameters, IN-list length,
    /// whitespace, case and comments do not change it.
    public static func fingerprint(_ sql: String) -> Result<String, SQLParseError> {
        let result = pg_query_fingerprint(sql)
        defer { pg_query_free_fingerprint_result(result) }
        if let error = parseError(result.error) { return .failure(error) }
        guard let text = result.fingerprint_str else { return .failure(SQLParseError(message: "no fingerprint", position: nil)) }
        return .success(String(cString: text))
    }

    /// The statement with every literal replaced by `$n` (libpg_query numbers them after any existing
    /// parameters). Keeps the author's spelling, spacing and comments.
    public static func normalize(_ sql: String) -> Result<String, SQLParseError> {
        let result = pg_query_normalize(sql)
        defer { pg_query_free_normalize_result(result) }
        if let error = parseError(result.error) { return .failure(error) }
        guard let text = result.normalized_query else { return .failure(SQLParseError(message: "no output", position: nil)) }
        return .success(String(cString: text))
    }

    /// The parse tree, read into values.
    public static func parse(_ sql: String) -> Result<ParseTree, SQLParseError> {
        let result = pg_query_parse(sql)
        defer { pg_query_free_parse_result(result) }
        if let error = parseError(result.error) { return .failure(error) }
        guard let text = result.parse_tree else { return .failure(SQLParseError(message: "no parse tree", position: nil)) }
        let length = strlen(text)
        do {
            let value = try text.withMemoryRebound(to: UInt8.self, capacity: length) {
                try JSONValue.parse(bytes: UnsafeBufferPointer(start: $0, count: length))
            }
            return .success(ParseTree(source: sql, json: value))
        } catch {
            return .failure(SQLParseError(message: "unreadable parse tree: \(error)", position: nil))
        }
    }

    /// Splits a script into statements with the real parser's statement boundaries. Falls back to
    /// the scanner when the script does not parse, so that one bad statement does not hide the rest.
    /// Offsets are UTF-8 byte offsets into `sql`.
    public static func split(_ sql: String) -> [StatementSpan] {
        let parsed = pg_query_split_with_parser(sql)
        defer { pg_query_free_split_result(parsed) }
        if parsed.error == nil { return spans(parsed) }
        let scanned = pg_query_split_with_scanner(sql)
        defer { pg_query_free_split_result(scanned) }
        if scanned.error == nil { return spans(scanned) }
        return []
    }

    private static func spans(_ result: PgQuerySplitResult) -> [StatementSpan] {
        guard let stmts = result.stmts else { return [] }
        return (0..<Int(result.n_stmts)).compactMap { i in
            guard let s = stmts[i]?.pointee else { return nil }
            return StatementSpan(byteOffset: Int(s.stmt_location), byteLength: Int(s.stmt_len))
        }
    }
}

public struct StatementSpan: Sendable, Equatable {
    public var byteOffset: Int
    /// 0 means "to the end of the input" (libpg_query's convention for the last statement).
    public var byteLength: Int

    /// The statement's text within `utf8`, trimmed of surrounding whitespace.
    public func text(in utf8: [UInt8]) -> String {
        let start = Swift.min(byteOffset, utf8.count)
        let end = byteLength == 0 ? utf8.count : Swift.min(start + byteLength, utf8.count)
        return String(decoding: utf8[start..<end], as: UTF8.self).trimmingWhitespace()
    }
}

private func parseError(_ error: UnsafeMutablePointer<PgQueryError>?) -> SQLParseError? {
    guard let e = error?.pointee else { return nil }
    let message = e.message.map { String(cString: $0) } ?? "parse error"
    return SQLParseError(message: message, position: e.cursorpos > 0 ? Int(e.cursorpos) : nil)
}

extension String {
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }
}
