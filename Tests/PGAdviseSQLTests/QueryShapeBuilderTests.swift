import PGAdviseCore
import Testing
@testable import PGAdviseSQL

/// Byte offset of the first occurrence of `needle`.
func offset(of needle: String, in text: String) -> Int {
    let bytes = Array(text.utf8), target = Array(needle.utf8)
    for i in 0...(bytes.count - target.count) where Array(bytes[i..<i + target.count]) == target { return i }
    return -1
}

@Suite struct QueryShapeBuilderTests {
    func shape(_ sql: String) throws -> QueryShape {
        let shapes = try QueryShape.build(sql: sql).get()
        try #require(shapes.count == 1)
        return shapes[0]
    }

    @Test func predicatesWithOperatorsValuesAndWrappers() throws {
        let s = try shape("""
        SELECT u.id FROM users u
        WHERE lower(u.email) = $1 AND u.created_at::date >= '2024-01-01' AND u.status IN ('a', 'b', 'c')
          AND u.org_id = ANY($2) AND u.name LIKE '%smith' AND u.deleted_at IS NULL AND u.tags @> ARRAY['x']
          AND u.doc ? 'key' AND u.tsv @@ to_tsquery('english', $3) AND 10 < u.age AND u.score BETWEEN 1 AND 5
        """)
        let p = s.blocks[0].predicates
        #expect(p.map(\.comparison.rawValue) == ["=", ">=", "IN", "IN", "LIKE", "IS NULL", "@>", "?", "@@", ">", "BETWEEN"])
        #expect(p.map(\.column.name) == ["email", "created_at", "status", "org_id", "name", "deleted_at", "tags", "doc", "tsv", "age", "score"])
        #expect(p.allSatisfy { $0.column.relation?.name.name == "users" })
        #expect(p[0].wrappers == [.function(name: "lower")])
        #expect(p[0].expressionText == "lower(email)")
        #expect(p[0].value == .parameter(1))
        #expect(p[0].conditionText == "lower(u.email) = $1")
        #expect(p[1].wrappers == [.cast(type: "date")])
        #expect(p[1].expressionText == "created_at::date")
        #expect(p[1].value == .constant(.string("2024-01-01")))
        #expect(p[2].value == .list(count: 3, constants: [.string("a"), .string("b"), .string("c")]))
        #expect(p[2].isEquality)
        #expect(p[3].value == .arrayParameter(2))
        #expect(p[4].value == .constant(.string("%smith")))
        #expect(p[5].value == PredicateValue.none)
        #expect(p[8].value == .expression("to_tsquery('english', $3)"))
        #expect(p[9].value == .constant(.integer(10)))
        #expect(p[10].value == .list(count: 2, constants: [.integer(1), .integer(5)]))
        #expect(s.blocks[0].inLists.count == 1)
        #expect(s.blocks[0].inLists[0].count == 3)
        #expect(p.allSatisfy { !$0.underOr })
    }

    @Test func wrappersOuterFirstAndUnderOr() throws {
        let s = try shape("SELECT 1 FROM t WHERE date_trunc('day', ts) = $1 OR (price * 1.1)::int > 5 OR name COLLATE \"C\" = 'x' OR extract(year FROM d) = 2020")
        let p = s.blocks[0].predicates
        #expect(p.count == 4)
        #expect(p.allSatisfy { $0.underOr })
        #expect(p[0].wrappers == [.function(name: "date_trunc")])
        #expect(p[0].expressionText == "date_trunc('day', ts)")
        #expect(p[1].wrappers == [.cast(type: "integer"), .arithmetic(op: "*")])
        #expect(p[1].expressionText == "(price * 1.1)::integer")
        #expect(p[2].wrappers == [.collate("C")])
        #expect(p[3].expressionText == "EXTRACT(year FROM d)")
    }

    @Test func joinsAliasesAndUnjoinedPairs() throws {
        let s = try shape("""
        SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN items i USING (order_id), products p
        WHERE o.status = 'paid'
        """)
        let b = s.blocks[0]
        #expect(b.relations.map(\.exposedName) == ["o", "u", "i", "p"])
        #expect(b.joins.count == 1)
        #expect(b.joins[0].left.relation?.name.name == "users")
        #expect(b.joins[0].right.relation?.name.name == "orders")
        #expect(b.unjoinedRelationPairs.map { [$0.0, $0.1] } == [["o", "p"]])
        let linked = try shape("SELECT 1 FROM a, b WHERE a.id = b.a_id")
        #expect(linked.blocks[0].unjoinedRelationPairs.isEmpty)
        #expect(linked.blocks[0].joins.count == 1)
        let cross = try shape("SELECT 1 FROM a CROSS JOIN b, generate_series(1, 3) g, LATERAL (SELECT 1) l")
        #expect(cross.blocks[0].unjoinedRelationPairs.isEmpty)
        let uncertain = try shape("SELECT 1 FROM a, b WHERE x = y")
        #expect(uncertain.blocks[0].unjoinedRelationPairs.isEmpty)
        let correlated = try shape("SELECT 1 FROM a, b WHERE EXISTS (SELECT 1 FROM c WHERE c.a = a.id AND c.b = b.id)")
        #expect(correlated.blocks[0].unjoinedRelationPairs.isEmpty)
    }

    @Test func orderLimitOffsetProjection() throws {
        let s = try shape("SELECT id, u.*, count(*) AS n, lower(name) FROM users u GROUP BY 1 ORDER BY 2 DESC NULLS LAST, random() LIMIT 20 OFFSET $1")
        let b = s.blocks[0]
        #expect(b.projection.count == 4)
        #expect(b.projection[1] == .star(qualifier: "u", location: 11))
        #expect(b.hasAggregates)
        #expect(b.groupBy.map(\.name) == ["id"])
        #expect(b.orderBy.count == 2)
        #expect(b.orderBy[0].column == nil)
        #expect(b.orderBy[0].descending && b.orderBy[0].nullsFirst == false)
        #expect(b.orderBy[1].expressionText == "random()")
        #expect(b.limit == .literal(20))
        #expect(b.offset == .parameter(1))
        #expect(b.offsetLocation == s.text.utf8.count - 2)
        let all = try shape("SELECT a FROM t ORDER BY a LIMIT ALL OFFSET 0")
        #expect(all.blocks[0].limit == .all)
        #expect(all.blocks[0].offset == .literal(0))
    }

    @Test func subqueriesCtesAndSetOperationsAreBlocks() throws {
        let s = try shape("""
        WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')
        SELECT r.id FROM recent r WHERE r.user_id NOT IN (SELECT id FROM banned)
          AND EXISTS (SELECT * FROM payments p WHERE p.order_id = r.id)
          AND r.total > (SELECT avg(total) FROM orders)
        UNION ALL
        SELECT id FROM archive
        """)
        let contexts = s.blocks.map(\.context)
        #expect(contexts == [.top, .cte(name: "recent"), .setOperationArm, .inSubquery(negated: true),
                             .exists(negated: false), .scalarSubquery, .setOperationArm])
        #expect(s.blocks[2].relations.isEmpty)
        #expect(s.blocks[2].nonTableItems == ["r"])
        #expect(s.blocks[4].predicates[0].value == .column(ColumnRef(qualifier: "r", name: "id", relation: nil,
                                                                     location: offset(of: "r.id)", in: s.text))))
        #expect(s.blocks[3].parent == 2)
        #expect(s.blocks[5].returnsOneRow)
        #expect(s.allRelations.map(\.name.name) == ["orders", "banned", "payments", "orders", "archive"])
        let notIn = s.blocks[2].predicates.first { $0.comparison == .notIn }
        #expect(notIn?.value == .subquery)
        #expect(s.blocks[3].location == offset(of: "NOT IN (SELECT id", in: s.text))
    }

    @Test func writesHaveTargets() throws {
        let update = try shape("UPDATE accounts a SET balance = 0 FROM users u WHERE u.id = a.user_id")
        #expect(update.kind == .update)
        #expect(update.target?.name.name == "accounts")
        #expect(update.blocks[0].hasWhere)
        #expect(update.blocks[0].unjoinedRelationPairs.isEmpty)
        let delete = try shape("DELETE FROM ONLY s.logs")
        #expect(delete.kind == .delete)
        #expect(delete.target?.name == QualifiedName(schema: "s", "logs"))
        #expect(!delete.blocks[0].hasWhere)
        let insert = try shape("INSERT INTO archive SELECT * FROM orders WHERE id < 10")
        #expect(insert.kind == .insert)
        #expect(insert.blocks.map(\.context) == [.top, .insertSource])
        let merge = try shape("MERGE INTO products p USING (SELECT 1 AS id) s ON p.id = s.id WHEN MATCHED THEN DELETE")
        #expect(merge.kind == .merge && merge.target?.name.name == "products")
        #expect(merge.blocks[0].unjoinedRelationPairs.isEmpty)
        let sampled = try shape("SELECT id FROM users u TABLESAMPLE BERNOULLI (10) WHERE u.id > 5")
        #expect(sampled.blocks[0].relations.map(\.exposedName) == ["u"])
        #expect(sampled.blocks[0].predicates.first?.column.relation?.name.name == "users")
        let utility = try shape("CREATE INDEX ON t (a)")
        #expect(utility.kind == .utility && utility.blocks.isEmpty)
    }

    @Test func statementsOfAScriptKeepTheirOffsets() throws {
        let sql = "SELECT 1;\n\n  -- next\nDELETE FROM t WHERE id = -3;"
        let shapes = try QueryShape.build(sql: sql).get()
        #expect(shapes.count == 2)
        #expect(shapes[1].text == "DELETE FROM t WHERE id = -3")
        #expect(shapes[1].byteOffset == 21)
        #expect(shapes[1].blocks[0].predicates[0].value == .constant(.integer(-3)))
        #expect(shapes[1].blocks[0].predicates[0].location == 23)
    }

    @Test func catalogResolvesUnqualifiedColumns() throws {
        let catalog = Catalog(tables: [
            Table(name: QualifiedName("users"), columns: [Column(name: "id", type: "bigint"), Column(name: "email", type: "text")]),
            Table(name: QualifiedName("orders"), columns: [Column(name: "id", type: "bigint"), Column(name: "user_id", type: "bigint")]),
        ])
        let s = try shape("SELECT email FROM users u JOIN orders o ON o.user_id = u.id WHERE email = $1 AND id = 1")
        #expect(s.blocks[0].predicates.first { $0.column.name == "email" }?.column.relation == nil)
        let r = s.resolved(with: catalog)
        #expect(r.blocks[0].predicates.first { $0.column.name == "email" }?.column.relation?.name.name == "users")
        // `id` is in both tables: ambiguous, left alone.
        #expect(r.blocks[0].predicates.first { $0.column.name == "id" && $0.column.qualifier == nil }?.column.relation == nil)
        let correlated = try shape("SELECT 1 FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE user_id = email)").resolved(with: catalog)
        let inner = correlated.blocks[1].predicates[0]
        #expect(inner.column.relation?.name.name == "orders")
        #expect(inner.value == .column(ColumnRef(name: "email", relation: RelationRef(name: QualifiedName("users"), location: 14), location: 71)))
    }

    @Test func expressionKeysMatchIndexDefinitions() {
        #expect(canonicalExpressionKey("lower((email)::text)") == canonicalExpressionKey("LOWER( u.email )"))
        #expect(canonicalExpressionKey("date_trunc('day'::text, created_at)") == "date_trunc('day', created_at)")
        #expect(canonicalExpressionKey("((created_at)::date)") == "created_at::date")
        #expect(canonicalExpressionKey("(data ->> 'email'::text)") == "data ->> 'email'")
        #expect(canonicalExpressionKey("lower(email)") != canonicalExpressionKey("upper(email)"))
        #expect(canonicalExpressionKey("EXTRACT(year FROM d)") == "EXTRACT(year FROM d)")
        #expect(canonicalExpressionKey("(a + b) * c") != canonicalExpressionKey("a + (b * c)"))
    }

    /// pg_stat_statements turns constant arithmetic into arithmetic on parameters; each shape below
    /// must come back to one parameter that carries the compared value.
    @Test func valueSidesOfArithmeticOnParametersReduceToOneParameter() throws {
        let s = try shape("""
        SELECT 1 FROM t
        WHERE a <= $1::date - $2::interval AND b = $4::text || $3 || $5 AND c >= $6::timestamptz + $7 * $8::interval
          AND now() - $9::interval < d AND e = $10 AND f @> jsonb_build_object($11::text, $12) AND g > $13 - 5
          AND h = $14::text || ($15 || upper(h))
        """)
        let fills = Dictionary(uniqueKeysWithValues: s.blocks[0].predicates.map { ($0.column.name, $0.valueFill) })
        #expect(fills["a"] == ParameterFill(carrier: 1, neutral: [2: "0"]))
        #expect(fills["b"] == ParameterFill(carrier: 4, neutral: [3: "", 5: ""]))
        #expect(fills["c"] == ParameterFill(carrier: 6, neutral: [7: "0", 8: "1"]))
        #expect(fills["d"] == ParameterFill(carrier: 9, beforeNow: true))
        #expect(s.blocks[0].predicates.first { $0.column.name == "d" }?.comparison == .greater)
        // A plain parameter needs no fill; an argument of a function and a constant term cannot be neutralised.
        #expect(fills["e"] == .some(nil))
        #expect(fills["f"] == .some(nil))
        #expect(fills["g"] == .some(nil))
        // '' does not make `$15 || upper(h)` vanish.
        #expect(fills["h"] == .some(nil))
    }
}
