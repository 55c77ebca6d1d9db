import PGAdviseSQL
import Testing

@Suite struct ExpressionColumnsTests {
    @Test func indexExpressionsAsPgGetIndexdefPrintsThem() {
        #expect(columnsReferenced(inExpression: "lower((email)::text)") == ["email"])
        #expect(columnsReferenced(inExpression: "date_trunc('day'::text, created_at)") == ["created_at"])
        #expect(columnsReferenced(inExpression: "(total * (1 - discount))") == ["total", "discount"])
    }

    @Test func predicatesKeepQuotedNamesAndDropQualifiersAndLiterals() {
        #expect(columnsReferenced(inExpression: "(status = 'pending'::text) AND (deleted_at IS NULL)") == ["status", "deleted_at"])
        #expect(columnsReferenced(inExpression: "o.region = 'status' AND \"Größe\" > 3") == ["region", "Größe"])
        #expect(columnsReferenced(inExpression: "STATUS <> 'x'") == ["status"])
    }

    @Test func functionNamesAndStarsAreNotColumns() {
        #expect(columnsReferenced(inExpression: "status(note)") == ["note"])
        #expect(columnsReferenced(inExpression: "now() > '2026-01-01'") == [])
    }

    @Test func textThatIsNotOneExpressionIsNil() {
        #expect(columnsReferenced(inExpression: "lower(") == nil)
        #expect(columnsReferenced(inExpression: "a, b") == nil)
        #expect(columnsReferenced(inExpression: "1; DROP TABLE t") == nil)
    }
}
