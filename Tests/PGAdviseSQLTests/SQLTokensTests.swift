import Testing
@testable import PGAdviseSQL

/// The one comment and token skipper that every reader of SQL text below the parser shares.
@Suite struct SQLTokensTests {
    @Test func commentsNestAndHideTheirContent() {
        let sql = "/* outer /* inner $9 */ still $8 */ -- $7\nSELECT 'x $6', \"q $5\", $$ $4 $$, $1 + $2"
        #expect(SQLTokens.highestParameter(in: sql) == 2)
        #expect(SQLTokens.scan(sql).filter { $0.kind == .word }.map { String(sql[$0.range]) } == ["SELECT"])
        #expect(SQLTokens.leadingKeyword("/* nightly */ -- job\n analyze t") == "ANALYZE")
        #expect(SQLTokens.leadingKeyword("(SELECT 1)") == "")
        let bytes = Array("  -- a\n /* b /* c */ */ DELETE".utf8)
        #expect(skipSpaceAndComments(bytes, from: 0, to: bytes.count) == bytes.count - 6)
    }

    @Test func nonASCIILettersStayInWordsAndUnclosedQuotesEndTheText() {
        let sql = "SELECT größe FROM t WHERE a = 'open"
        #expect(SQLTokens.scan(sql).map { String(sql[$0.range]) } == ["SELECT", "größe", "FROM", "t", "WHERE", "a", "=", "'open"])
    }
}
