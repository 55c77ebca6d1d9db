import Testing
@testable import PGAdviseSQL

@Suite struct PgQueryTests {
    @Test func fingerprintIgnoresLiteralsParametersAndInListLength() throws {
        let a = try PgQuery.fingerprint("SELECT * FROM t WHERE id IN (1,2,3) AND name='x'").get()
        let b = try PgQuery.fingerprint("select *\n from t where id in ($1, $2) and name = $3").get()
        #expect(a == b)
        #expect(a.count == 16)
        let c = try PgQuery.fingerprint("SELECT * FROM t WHERE id = 1").get()
        #expect(a != c)
    }

    @Test func normalizeReplacesLiterals() throws {
        #expect(try PgQuery.normalize("SELECT a FROM t WHERE b = 'x' OFFSET 10").get() == "SELECT a FROM t WHERE b = $1 OFFSET $2")
    }

    @Test func parseErrorCarriesPosition() {
        guard case let .failure(error) = PgQuery.parse("SELECT * FROM WHERE") else {
            Issue.record("expected a parse error")
            return
        }
        #expect(error.message.contains("syntax error"))
        #expect(error.position == 15)
    }

    @Test func parseTreeIsReadable() throws {
        let tree = try PgQuery.parse("SELECT a FROM t; DELETE FROM u").get()
        #expect(tree.statements.count == 2)
        #expect(tree.statements[0].node.node?.type == "SelectStmt")
        #expect(tree.statements[1].node.node?.type == "DeleteStmt")
        #expect(tree.statements[1].byteOffset == 16)
    }

    @Test func splitKeepsSemicolonsInsideStrings() {
        let sql = "SELECT ';' ; SELECT 2;\nSELECT 3"
        let spans = PgQuery.split(sql)
        #expect(spans.map { $0.text(in: Array(sql.utf8)) } == ["SELECT ';'", "SELECT 2", "SELECT 3"])
    }

    @Test func jsonReaderDecodesEscapes() throws {
        let v = try JSONValue.parse(#"{"a":"x\"y\u00e9\n","b":[1,-2.5e1,true,null]}"#)
        #expect(v["a"]?.string == "x\"yé\n")
        #expect(v["b"]?.array?.count == 4)
        #expect(v["b"]?.array?[1].double == -25)
        #expect(throws: (any Error).self) { try JSONValue.parse("{\"a\":") }
    }
}
