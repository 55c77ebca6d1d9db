import PGAdviseSQL
import Testing

struct TypedParametersTests {
    /// TPC-H Q5 as pg_stat_statements stores it: the typed literals lost their strings.
    @Test func typedLiteralParametersBecomeCasts() {
        let stored = "select n_name from orders where r_name = $2 and o_orderdate >= date $3\n"
            + "\tand o_orderdate < date $4 + interval $5 year group by n_name"
        #expect(TypedParameters.preparable(stored) == "select n_name from orders where r_name = $2 and o_orderdate >= $3::date\n"
            + "\tand o_orderdate < $4::date + $5::interval group by n_name")
    }

    @Test func multiWordTypesAndIntervalFieldsAreOneLiteral() {
        #expect(TypedParameters.rewrite("SELECT * FROM t WHERE at > TIMESTAMP WITH TIME ZONE $1 - INTERVAL $2 YEAR TO MONTH")
            == "SELECT * FROM t WHERE at > $1::timestamp with time zone - $2::interval")
        #expect(TypedParameters.rewrite("SELECT double precision $1, jsonb $2 ? 'k'") == "SELECT $1::double precision, $2::jsonb ? 'k'")
    }

    @Test func columnsStringsCommentsAndOtherParametersAreLeftAlone() {
        #expect(TypedParameters.rewrite("SELECT t.date, x FROM t WHERE id = $1 LIMIT $2") == nil)
        #expect(TypedParameters.rewrite("SELECT 'date $1', \"date $2\" /* date $3 */ FROM t -- date $4\n") == nil)
        #expect(TypedParameters.rewrite("SELECT $$ date $1 $$, $f$ interval $2 day $f$") == nil)
        let plain = "SELECT * FROM t WHERE created_at > $1::date"
        #expect(TypedParameters.preparable(plain) == plain)
    }

    @Test func libpgQueryReadsTheStoredTextButTheServerGetsTheRewrite() throws {
        let stored = "select count(*) from lineitem where l_shipdate <= date $1 - interval $2 day"
        let original = "select count(*) from lineitem where l_shipdate <= date '1998-12-01' - interval '90' day"
        let rewritten = TypedParameters.preparable(stored)
        #expect(rewritten == "select count(*) from lineitem where l_shipdate <= $1::date - $2::interval")
        #expect(try PgQuery.fingerprint(stored).get() == PgQuery.fingerprint(original).get())
    }
}
