@testable import PGAdviseAdvisor
import Testing

/// pg_qualstats prints each constant as PostgreSQL deparses it, and says where it stood in the
/// statement's text: both are read back to a parameter number and a value.
struct QualstatsConstantTests {
    @Test func printedConstantsBecomeParameterValues() {
        #expect(IndexAdvisor.constantValue("'failed'::text") == "failed")
        #expect(IndexAdvisor.constantValue("'it''s'::text") == "it's")
        #expect(IndexAdvisor.constantValue("42::integer") == "42")
        #expect(IndexAdvisor.constantValue("'2026-01-01 00:00:00+00'::timestamp with time zone") == "2026-01-01 00:00:00+00")
        // Truncated by pg_qualstats: not a constant any more, so not used.
        #expect(IndexAdvisor.constantValue("'unterminated") == nil)
        #expect(IndexAdvisor.constantValue("NULL::text") == nil)
    }

    @Test func aConstantPositionNamesTheParameterAtThatByte() {
        let text = "SELECT * FROM jobs WHERE owner = $2 AND status = $10 ORDER BY created_at"
        #expect(IndexAdvisor.parameterNumber(in: text, at: 33) == 2)
        #expect(IndexAdvisor.parameterNumber(in: text, at: 49) == 10)
        #expect(IndexAdvisor.parameterNumber(in: text, at: 32) == nil)
        #expect(IndexAdvisor.parameterNumber(in: text, at: 500) == nil)
        // Positions are bytes: a multi-byte character before the parameter shifts it.
        #expect(IndexAdvisor.parameterNumber(in: "SELECT 'é', x FROM t WHERE y = $1", at: 32) == 1)
    }
}
