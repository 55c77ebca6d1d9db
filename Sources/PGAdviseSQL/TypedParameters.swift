/// pg_stat_statements (and libpg_query's normalize) replace the string of a typed literal with a
/// parameter: `date '1998-12-01' - interval '90' day` is stored as `date $1 - interval $2 day`,
/// which libpg_query parses (its grammar takes a parameter there, so normalized texts parse again)
/// but PostgreSQL does not: such a statement could not be prepared, and every statement with a typed
/// literal would be lost to plan collection and index advice. PostgreSQL reads `type 'string'` as
/// `'string'::type`, so `date $1` is rewritten to `$1::date`: the same statement, parameterised.
/// Only the written form changes; the interval's field (`day`) is dropped with the string, since it
/// only tells how to read that string. A rewrite is kept only when libpg_query parses it.
public enum TypedParameters {
    /// Type names PostgreSQL accepts before a string literal, longest first so that
    /// `timestamp with time zone` wins over `timestamp`. Lowercase, words separated by one space.
    static let typeNames: [[String]] = [
        ["timestamp", "without", "time", "zone"], ["timestamp", "with", "time", "zone"],
        ["time", "without", "time", "zone"], ["time", "with", "time", "zone"],
        ["double", "precision"], ["character", "varying"], ["bit", "varying"],
        ["date"], ["time"], ["timestamp"], ["timestamptz"], ["timetz"], ["interval"],
        ["int"], ["integer"], ["int2"], ["int4"], ["int8"], ["smallint"], ["bigint"], ["numeric"], ["decimal"],
        ["real"], ["float4"], ["float8"], ["bool"], ["boolean"], ["text"], ["varchar"], ["char"], ["character"],
        ["bpchar"], ["uuid"], ["json"], ["jsonb"], ["inet"], ["cidr"], ["macaddr"], ["bytea"], ["money"],
        ["tsquery"], ["tsvector"], ["point"], ["oid"], ["regclass"], ["name"], ["xml"],
    ]
    static let intervalFields: Set<String> = ["year", "month", "day", "hour", "minute", "second"]

    /// `text` with every `type $n` written `$n::type`; nil when there is none.
    public static func rewrite(_ text: String) -> String? {
        let tokens = SQLTokens.scan(text)
        var out = ""
        var changed = false
        var copiedUpTo = text.startIndex
        var i = 0
        while i < tokens.count {
            guard case .word = tokens[i].kind,
                  let (typeWords, parameterIndex) = typedParameter(at: i, in: tokens, text: text) else { i += 1; continue }
            var end = parameterIndex + 1
            let isInterval = typeWords == ["interval"]
            if isInterval {
                // `interval $1 day`, `interval $1 year to month`, `interval $1 second(3)` are one literal.
                while end < tokens.count, case .word = tokens[end].kind,
                      intervalFields.contains(text[tokens[end].range].lowercased()) || text[tokens[end].range].lowercased() == "to" {
                    end += 1
                }
                // `interval $2 day ($3)`: the fractional-second precision the stored text replaced
                // is part of the literal's syntax, not a value, and goes with it.
                if end + 2 < tokens.count, case .punctuation("(") = tokens[end].kind, case .parameter = tokens[end + 1].kind,
                   case .punctuation(")") = tokens[end + 2].kind {
                    end += 3
                }
            }
            out += text[copiedUpTo..<tokens[i].range.lowerBound]
            out += text[tokens[parameterIndex].range] + "::" + typeWords.joined(separator: " ")
            copiedUpTo = tokens[end - 1].range.upperBound
            changed = true
            i = end
        }
        guard changed else { return nil }
        out += text[copiedUpTo...]
        return out
    }

    /// The statement as the server can prepare it: the rewrite when there is one and it parses (its
    /// parameters renumbered when an interval's precision went with its literal), else the text as it is.
    public static func preparable(_ text: String) -> String {
        guard let rewritten = rewrite(text).flatMap({ ParameterTypeInference.renumbered($0, original: text) }) else { return text }
        return rewritten
    }

    private static func typedParameter(at i: Int, in tokens: [SQLTokens.Token], text: String) -> ([String], Int)? {
        // A type name right after `.` is a column (`t.date $1` is no literal); after `::` or `AS` it
        // is a cast target, which a parameter cannot follow either, so neither is special-cased.
        if i > 0, case .punctuation(".") = tokens[i - 1].kind { return nil }
        for words in typeNames where i + words.count < tokens.count {
            var matches = true
            for (offset, word) in words.enumerated() {
                guard case .word = tokens[i + offset].kind, text[tokens[i + offset].range].lowercased() == word else {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            let next = i + words.count
            if case .parameter = tokens[next].kind { return (words, next) }
        }
        return nil
    }
}
