import Foundation
import PGAdviseCore

/// The one entry point for EXPLAIN output, whatever its format and wrapping: text or JSON, raw or
/// as psql prints it (`QUERY PLAN` header, dashes, `(N rows)` footer, `+` wrap markers), pasted
/// from pgAdmin (each line in double quotes) or from a log (`duration: 12.3 ms  plan:` and a
/// `Query Text:` before the plan). YAML and XML are recognised and refused with a clear message.
public enum ExplainParser {
    public enum Format: String, Sendable { case text, json, yaml, xml }

    /// Every plan in `text`, or a `PGAdviseError(.input)` saying what was found instead.
    public static func parseAll(_ text: String) throws -> [Plan] {
        // Raw JSON (a file saved from EXPLAIN (FORMAT JSON), possibly tens of MB) goes straight to
        // the JSON reader: nothing around it to unwrap.
        if let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
           first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            return try ExplainJSONParser.parseAll(text)
        }
        let lines = unwrap(text)
        switch try detect(lines) {
        case .json:
            let start = lines.firstIndex { isJSONStart($0) } ?? 0
            return try ExplainJSONParser.parseAll(lines[start...].joined(separator: "\n"))
        case .text:
            return try ExplainTextParser.parseAll(lines)
        case .yaml:
            throw PGAdviseError(.input, "this is an EXPLAIN plan in YAML format, which pgadvise does not read: "
                                + "capture it again with EXPLAIN (FORMAT TEXT) or (FORMAT JSON)")
        case .xml:
            throw PGAdviseError(.input, "this is an EXPLAIN plan in XML format, which pgadvise does not read: "
                                + "capture it again with EXPLAIN (FORMAT TEXT) or (FORMAT JSON)")
        }
    }

    /// Plan levels read at most, in either format. Every reader of a plan (the tree's assembly, the
    /// analysis, the rules, the renderers) recurses once per level, and a text plan 1,500 levels deep
    /// (6.8 MB) overflowed the stack (signal 11); in a debug build the JSON reader alone takes 8.6 kB a
    /// level, so 500 levels keep it within half of the main thread's 8 MB.
    static let deepestLevel = 500

    static func tooDeep(where place: String) -> PGAdviseError {
        PGAdviseError(.input, "\(place): the plan nests deeper than \(deepestLevel) levels, more than pgadvise reads")
    }

    /// The first plan in `text`.
    public static func parse(_ text: String) throws -> Plan {
        guard let first = try parseAll(text).first else { throw PGAdviseError(.input, "the EXPLAIN output holds no plan") }
        return first
    }

    /// The format of the first plan-like line: a node line, the start of JSON, YAML or XML. A node
    /// line with figures wins over one that only starts with a node name (a logged query's text
    /// before its plan may hold such a line), so names alone are tried only when nothing else is found.
    public static func detect(_ lines: [String]) throws -> Format {
        for requireFigures in [true, false] {
            for line in lines {
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.hasPrefix("<explain") || trimmed.hasPrefix("<?xml") { return .xml }
                if trimmed.hasPrefix("[") || trimmed.hasPrefix("{") { return .json }
                if trimmed.hasPrefix("- Plan:") || trimmed == "Plan:" || trimmed.hasPrefix("Node Type: ") { return .yaml }
                if ExplainTextParser.looksLikeNode(trimmed, requireFigures: requireFigures) { return .text }
            }
        }
        let sample = lines.first { !$0.allSatisfy(\.isWhitespace) }.map { String($0.prefix(60)) } ?? "empty input"
        throw PGAdviseError(.input, "not an EXPLAIN plan: no plan node (such as `Seq Scan on t  (cost=...)`) and no "
                            + "EXPLAIN JSON found; the input starts with: \(sample)")
    }

    static func isJSONStart(_ line: String) -> Bool {
        guard let first = line.first(where: { !$0.isWhitespace }) else { return false }
        return first == "[" || first == "{"
    }

    /// The lines of the plan without what psql, pgAdmin or a terminal added around them. Runs over
    /// every line of inputs of many MB, so it trims with Substring operations rather than Foundation.
    static func unwrap(_ text: String) -> [String] {
        // Split on the byte: a split on the Character "\n" never cut at "\r\n" (one Character), so a
        // plan pasted with Windows line ends read as one line; and it cost a closure call per Character.
        var lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { bytes -> Substring in
            var s = Substring(bytes)
            while let last = s.last, last.isWhitespace { s = s.dropLast() }
            return s
        }
        // pgAdmin copies each row of its grid as a quoted CSV field.
        let filled = lines.filter { !$0.isEmpty }
        if !filled.isEmpty, filled.allSatisfy({ $0.count >= 2 && $0.hasPrefix("\"") && $0.hasSuffix("\"") }) {
            lines = lines.map { $0.count >= 2 ? Substring($0.dropFirst().dropLast().replacingOccurrences(of: "\"\"", with: "\"")) : $0 }
        }
        // psql's aligned format marks a cell's inner line breaks with `+` at the end of the padded
        // line (right after the text on the longest one). When most lines end so, every one does.
        let wrapped = lines.filter { $0.hasSuffix("+") }.count * 2 > filled.count
        return lines.compactMap { line in
            var s = line
            if wrapped, s.hasSuffix("+") { s = s.dropLast(); while let last = s.last, last.isWhitespace { s = s.dropLast() } }
            let trimmed = String(s.drop { $0 == " " || $0 == "\t" })
            if trimmed == "QUERY PLAN" || isRule(trimmed) || isRowCountFooter(trimmed) || isTimingLine(trimmed) { return nil }
            return String(s)
        }
    }

    /// psql's line under the header: dashes, with `+` where columns meet.
    static func isRule(_ s: String) -> Bool { s.count >= 3 && s.allSatisfy { $0 == "-" || $0 == "+" } && s.contains("-") }

    /// `(12 rows)`, `(1 row)`.
    static func isRowCountFooter(_ s: String) -> Bool {
        guard s.hasPrefix("("), s.hasSuffix(" rows)") || s.hasSuffix(" row)") else { return false }
        return s.dropFirst().prefix { $0 != " " }.allSatisfy(\.isNumber)
    }

    /// psql's `\timing` line, `Time: 12.345 ms` or `Time: 1234.5 ms (00:01.235)`.
    static func isTimingLine(_ s: String) -> Bool { s.hasPrefix("Time: ") && s.contains(" ms") }
}
