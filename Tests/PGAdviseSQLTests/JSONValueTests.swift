import Testing
@testable import PGAdviseSQL

/// The flat JSON reader: what the parse-tree walks, the EXPLAIN reader and the log reader ask of it,
/// and that malformed input is a thrown error rather than a trap.
@Suite struct JSONValueTests {
    @Test func membersAreFoundPastNestedSiblings() throws {
        let v = try JSONValue.parse(#"{"skip":{"location":1,"deep":[{"x":[1,2,{"y":3}]}]},"location":42,"tail":"t"}"#)
        #expect(v["location"]?.int == 42)
        #expect(v["tail"]?.string == "t")
        #expect(v["skip"]?["deep"]?.array?.first?["x"]?.array?.count == 3)
        #expect(v["missing"] == nil)
        #expect(v["location"]?["x"] == nil)
        #expect(v.count == 3)
        #expect(v.member("tail")?.string == "t")
    }

    @Test func repeatedNameGivesTheFirstMember() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"]?.int == 1)
    }

    @Test func nodeWrapperGivesTypeAndBody() throws {
        let v = try JSONValue.parse(#"{"ColumnRef":{"fields":[{"String":{"sval":"u"}},{"String":{"sval":"id"}}],"location":7}}"#)
        let node = try #require(v.node)
        #expect(node.type == "ColumnRef")
        #expect(node.body["location"]?.int == 7)
        #expect(node.body["fields"]?.lastChild?["String"]?["sval"]?.string == "id")
        #expect(node.body.node == nil)
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#).node == nil)
        #expect(v.isNode(at: 0, "ColumnRef"))
        #expect(!v.isNode(at: 0, "ColumnRe"))
    }

    @Test func childrenOfObjectsAreTheirValuesInOrder() throws {
        let v = try JSONValue.parse(#"{"a":[1,2],"b":"x","c":{"d":null}}"#)
        #expect(v.children.map(\.kind) == [.array, .string, .object])
        #expect(v["a"]?.children.compactMap(\.int) == [1, 2])
        #expect(v["b"]?.children.map(\.kind) == [])
        #expect(v.objectPairs?.map(\.0) == ["a", "b", "c"])
    }

    @Test func scalarsReadAsTheirTypes() throws {
        let v = try JSONValue.parse(#"[0, -17, 123456789012345, 12345678901234567, 1.5, -2.5e1, true, false, null, "s"]"#)
        let items = try #require(v.array)
        #expect(items.map(\.int) == [0, -17, 123456789012345, 12345678901234568, 1, -25, nil, nil, nil, nil])
        #expect(items[4].double == 1.5)
        #expect(items[3].double == 12345678901234567.0)
        #expect(items[6].bool == true)
        #expect(items[7].bool == false)
        #expect(items[8].kind == .null)
        #expect(items[9].int == nil)
        #expect(items[0].string == nil)
    }

    @Test func escapesDecodeOnlyWhenAskedAndKeysWithEscapesStillMatch() throws {
        let v = try JSONValue.parse(#"{"q\u0075ery":"a\tb\\c\/d \ud83d\ude00 \u00e9","plain":"x"}"#)
        #expect(v["query"]?.string == "a\tb\\c/d 😀 é")
        #expect(v["plain"]?.string == "x")
    }

    @Test func equalityComparesJSONNotPositions() throws {
        let a = try JSONValue.parse(#"{"a":[1,{"b":"c"}]}"#)
        let b = try JSONValue.parse(#" { "a" : [ 1.0 , { "b" : "c" } ] } "#)
        #expect(a == b)
        let c = try JSONValue.parse(#"{"a":[1,{"b":"d"}]}"#)
        #expect(a != c)
        #expect(JSONValue.null.kind == .null)
    }

    @Test(arguments: [
        "", "{", "[1,", #"{"a":}"#, #"{"a" 1}"#, #"{a:1}"#, "[1 2]", #""abc"#, #""\u12G4""#, #""\u12""#,
        "tru", "nul", "-", "1-2", "--1", "1.2.3", "{}x", "[]]", #"{"a":1,}"#,
    ])
    func malformedJSONThrows(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(text) }
    }

    @Test func nestingBeyondTheLimitThrowsInsteadOfOverflowingTheStack() throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: (any Error).self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(try JSONValue.parse(fine).count == 1)
    }

    @Test func libpgQueryTreeReadsTheSameThroughTheFlatReader() throws {
        let tree = try PgQuery.parse("SELECT u.id FROM users u WHERE u.email = 'a\"b' AND u.id > -3").get()
        let select = try #require(tree.statements.first?.node["SelectStmt"])
        let conjuncts = try #require(select["whereClause"]?["BoolExpr"]?["args"]?.array)
        #expect(conjuncts.count == 2)
        #expect(conjuncts[0]["A_Expr"]?["rexpr"]?["A_Const"]?["sval"]?["sval"]?.string == "a\"b")
        #expect(select["fromClause"]?.array?.first?["RangeVar"]?["relname"]?.string == "users")
    }
}
