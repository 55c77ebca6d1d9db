import PGAdviseSQL
import Testing

/// Parameters PostgreSQL cannot type in TPC-H's normalized statements, typed from their context.
struct ParameterTypeInferenceTests {
    static let types = ["o_orderdate": "date", "l_discount": "numeric(15,2)", "l_quantity": "numeric(15,2)",
                        "l_extendedprice": "numeric(15,2)", "o_orderpriority": "character(15)", "l_shipmode": "character(10)",
                        "recorded_at": "timestamp with time zone"]

    func typed(_ text: String) -> ParameterTypeInference.Typed? {
        ParameterTypeInference.typed(text, columnType: { Self.types[$0] })
    }

    @Test func anExtractFieldBecomesALiteralAndTheOtherParametersAreRenumbered() {
        let result = typed("select extract($1 from o_orderdate) as o_year, l_extendedprice * ($2 - l_discount) from orders, lineitem")
        #expect(result?.text == "select extract('year' from o_orderdate) as o_year, l_extendedprice * ($1::numeric - l_discount) "
                + "from orders, lineitem")
        #expect(result?.inferences == ["$1 is an extract() field, costed as 'year'", "$2 as numeric"])
        // pg_qualstats and the logs name the stored text's parameters: $2 there is $1 here.
        #expect(result?.numbers == [2: 1])
    }

    @Test func twoUnknownOperandsTakeTheTypeOfWhatTheyAreComparedWith() {
        let result = typed("select 1 from lineitem where l_quantity <= $1 + $2 and l_discount between $3 - $4 and $5")
        #expect(result?.text == "select 1 from lineitem where l_quantity <= $1::numeric + $2::numeric "
                + "and l_discount between $3::numeric - $4::numeric and $5::numeric")
        #expect(result?.numbers == [1: 1, 2: 2, 3: 3, 4: 4, 5: 5])
    }

    @Test func caseBranchesOfUnknownsInsideSumAreNumeric() {
        let result = typed("select l_shipmode, sum(case when o_orderpriority = $1 then $2 else $3 end) from orders, lineitem group by l_shipmode")
        #expect(result?.text == "select l_shipmode, sum(case when o_orderpriority = $1::bpchar then $2::numeric else $3::numeric end) "
                + "from orders, lineitem group by l_shipmode")
    }

    @Test func aCaseBranchOfKnownTypeTypesTheOthers() {
        let result = typed("select sum(case when o_orderpriority = $1 then l_extendedprice * ($2 - l_discount) else $3 end) from lineitem, orders")
        #expect(result?.text == "select sum(case when o_orderpriority = $1::bpchar then l_extendedprice * ($2::numeric - l_discount) "
                + "else $3::numeric end) from lineitem, orders")
    }

    @Test func anIntervalPrecisionGoesWithItsLiteral() {
        #expect(TypedParameters.preparable("select 1 from lineitem where l_shipdate <= date $1 - interval $2 day ($3) and l_quantity < $4")
                == "select 1 from lineitem where l_shipdate <= $1::date - $2::interval and l_quantity < $3")
    }

    /// pgbench's `:h + 1` hours after a start, as pg_stat_statements stores it: the sum of two unknowns
    /// scales an interval, so both are numbers (double precision), not intervals.
    @Test func unknownsThatScaleAnIntervalAreNumbers() {
        let result = typed("select avg(value) from events where recorded_at < $3::timestamptz + ($2 + $5) * $6::interval")
        #expect(result?.text == "select avg(value) from events where recorded_at < $3::timestamptz + "
                + "($2::double precision + $5::double precision) * $6::interval")
    }

    @Test func aTimestampMovesByAnIntervalAndADateByDays() {
        #expect(typed("select 1 from events where recorded_at > $1::timestamptz - $2")?.text
                == "select 1 from events where recorded_at > $1::timestamptz - $2::interval")
        #expect(typed("select 1 from orders where o_orderdate > $1::date + $2")?.text
                == "select 1 from orders where o_orderdate > $1::date + $2::integer")
        #expect(typed("select 1 from events where recorded_at > $1 - $2")?.text
                == "select 1 from events where recorded_at > $1::timestamp with time zone - $2::interval")
    }

    @Test func aStatementWithoutParametersNeedsNothing() {
        #expect(typed("select o_orderdate from orders where o_orderdate > now()") == nil)
    }
}
