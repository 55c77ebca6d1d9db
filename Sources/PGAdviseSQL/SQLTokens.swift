/// A statement's words, `$n` parameters and punctuation, for the few places that read SQL text below
/// the parser: string literals, quoted identifiers and dollar-quoted bodies are single `other`
/// tokens and comments (nested ones too) are skipped, so nothing inside them counts.
public enum SQLTokens {
    public enum Kind: Equatable, Sendable { case word, parameter, punctuation(Character), other }
    public struct Token: Sendable {
        public var kind: Kind
        public var range: Range<String.Index>
    }

    public static func scan(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var i = text.startIndex
        func isWordByte(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while i < text.endIndex {
            let c = text[i]
            let start = i
            if c.isWhitespace { i = text.index(after: i); continue }
            if c == "'" || c == "\"" {
                i = text.index(after: i)
                while i < text.endIndex {
                    if text[i] == c {
                        let next = text.index(after: i)
                        if next < text.endIndex, text[next] == c { i = text.index(after: next); continue }
                        i = next
                        break
                    }
                    i = text.index(after: i)
                }
                tokens.append(Token(kind: .other, range: start..<i))
            } else if text[i...].hasPrefix("--") {
                while i < text.endIndex, text[i] != "\n" { i = text.index(after: i) }
            } else if text[i...].hasPrefix("/*") {
                var depth = 0
                while i < text.endIndex {
                    if text[i...].hasPrefix("/*") { depth += 1; i = text.index(i, offsetBy: 2); continue }
                    if text[i...].hasPrefix("*/") { depth -= 1; i = text.index(i, offsetBy: 2); if depth == 0 { break }; continue }
                    i = text.index(after: i)
                }
            } else if c == "$" {
                i = text.index(after: i)
                if i < text.endIndex, text[i].isNumber {
                    while i < text.endIndex, text[i].isNumber { i = text.index(after: i) }
                    tokens.append(Token(kind: .parameter, range: start..<i))
                    continue
                }
                // `$tag$ ... $tag$`: skip to the closing tag.
                while i < text.endIndex, isWordByte(text[i]), !text[i].isNumber || i > text.index(after: start) { i = text.index(after: i) }
                if i < text.endIndex, text[i] == "$" {
                    i = text.index(after: i)
                    let tag = text[start..<i]
                    if let close = text[i...].range(of: tag) { i = close.upperBound } else { i = text.endIndex }
                }
                tokens.append(Token(kind: .other, range: start..<i))
            } else if isWordByte(c) {
                while i < text.endIndex, isWordByte(text[i]) || text[i] == "$" { i = text.index(after: i) }
                tokens.append(Token(kind: .word, range: start..<i))
            } else {
                i = text.index(after: i)
                tokens.append(Token(kind: .punctuation(c), range: start..<i))
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
}
