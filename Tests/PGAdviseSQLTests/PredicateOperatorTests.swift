import Testing
@testable import PGAdviseSQL

/// Operators are typed: rules compare with `.equal`, `.notIn` ..., and turned-around comparisons
/// keep their meaning.
@Suite struct PredicateOperatorTests {
    @Test func builderRecordsTypedOperators() throws {
        let shape = try #require(try QueryShape.build(sql: """
            SELECT id FROM t WHERE 5 < a AND b != $1 AND c = ANY($2) AND d <> ALL(ARRAY[1, 2]) AND e NOT LIKE 'x%' \
            AND f IS NOT NULL AND g <@ '{1}' AND $3 @> h
            """).get().first)
        #expect(shape.blocks[0].predicates.map(\.comparison)
            == [.greater, .notEqual, .in, .notIn, "NOT LIKE", .isNotNull, .containedBy, .containedBy])
        #expect(shape.blocks[0].predicates.map(\.comparison.rawValue) == [">", "<>", "IN", "NOT IN", "NOT LIKE", "IS NOT NULL", "<@", "<@"])
    }

    @Test func commutedOperators() {
        #expect(PredicateOperator.lessOrEqual.commuted == .greaterOrEqual)
        #expect(PredicateOperator.equal.commuted == .equal)
        #expect(PredicateOperator.like.commuted == nil)
    }
}
