@testable import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseSQL
import Testing

/// The values `--measure` runs a normalized statement with: from pg_stats for the parameters that
/// decide the rows read, '1' for those that only shape what is computed from them, and none (the
/// statement is not measured) where the statistics say nothing.
struct RepresentativeValuesTests {
    /// A lineitem as pg_stats describes it: dates with a histogram, a quantity of 1 to 50 that is all
    /// most common values (so no histogram), a ship mode of seven values.
    static let catalog = Catalog(tables: [
        Table(name: QualifiedName(schema: "public", "lineitem"), columns: [
            Column(name: "l_shipdate", type: "date", stats: ColumnStats(
                nDistinct: 2500, histogramBounds: (0..<100).map { "1995-01-\(String(format: "%03d", $0))" })),
            Column(name: "l_quantity", type: "numeric", stats: ColumnStats(
                nDistinct: 50, mostCommonValues: (1...50).reversed().map(String.init), mostCommonFrequencies: Array(repeating: 0.02, count: 50))),
            Column(name: "l_shipmode", type: "character(10)", stats: ColumnStats(
                nDistinct: 7, mostCommonValues: ["AIR", "MAIL", "SHIP", "TRUCK", "RAIL", "FOB", "REG AIR"],
                mostCommonFrequencies: Array(repeating: 0.14, count: 7))),
            Column(name: "l_discount", type: "numeric", stats: ColumnStats(
                nDistinct: 11, histogramBounds: ["0.00", "0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.07", "0.08", "0.09", "0.10"])),
            Column(name: "l_comment", type: "text", stats: ColumnStats(nDistinct: -0.5)),
            Column(name: "l_extendedprice", type: "numeric", stats: ColumnStats(nDistinct: -0.2)),
        ], rowEstimate: 6_000_000),
    ])

    static func statement(_ sql: String, parameters: Int) throws -> CostedStatement {
        let shape = try #require(try QueryShape.build(sql: sql).get().first).resolved(with: catalog)
        return CostedStatement(id: 0, query: QueryStats(fingerprint: "f", normalized: sql, calls: 1, totalMs: 1), shape: shape,
                               text: sql, mode: .generic, tables: [QualifiedName(schema: "public", "lineitem")], parameterCount: parameters)
    }

    @Test func everyParameterOfATPCHLikeStatementGetsAValue() throws {
        let s = try Self.statement("""
            SELECT sum(l_extendedprice * ($1 - l_discount)), sum(CASE WHEN l_shipmode = $2 THEN $3 ELSE $4 END)
            FROM lineitem
            WHERE l_shipdate >= $5::date AND l_shipdate < $6::date + $7::interval
              AND l_discount BETWEEN $8 - $9 AND $10 + $11 AND l_quantity < $12 AND l_shipmode IN ($13, $14) AND l_shipmode <> $15
            """, parameters: 15)
        #expect(s.shape.filteringParameters == Set(5...15))
        let values = try #require(representativeValues(for: s, catalog: Self.catalog))
        // Output only: $1 to $4. Bounds on both sides: the top tenth of the histogram, the interval
        // zero; BETWEEN's bound expressions reduce to $8 and $10; the quantity's values sorted as
        // numbers (a tenth up: 6); the IN list gets distinct common values, <> a middle one.
        #expect(values == ["1", "1", "1", "1", "1995-01-090", "1995-01-099", "0", "0.09", "0", "0.10", "0", "6", "AIR", "MAIL", "TRUCK"])
    }

    /// A pattern or a comparison with a column pg_stats has no values for cannot be made up.
    @Test func aFilteringParameterWithoutStatisticsLeavesTheStatementUnmeasured() throws {
        let s = try Self.statement("SELECT $1 * count(*) FROM lineitem WHERE l_comment LIKE $2 AND l_quantity = $3", parameters: 3)
        #expect(representativeValues(for: s, catalog: Self.catalog) == nil)
        #expect(unrepresentedParameters(of: s, catalog: Self.catalog) == [2])
    }
}
