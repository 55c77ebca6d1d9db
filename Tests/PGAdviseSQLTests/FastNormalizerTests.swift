import Testing
@testable import PGAdviseSQL

/// The pre-scan is only an accelerator: statements that share a key must share a libpg_query
/// fingerprint, or the log report would merge different queries. These tests hold it to that on a
/// corpus built to break it, and check that it does group the variants a log is full of.
@Suite struct FastNormalizerTests {
    static let corpus: [String] = [
        // Literals of every kind.
        "SELECT * FROM t WHERE a = 1", "SELECT * FROM t WHERE a = 42", "SELECT * FROM t WHERE a = -1",
        "SELECT * FROM t WHERE a = - 1", "SELECT * FROM t WHERE a = 1.5", "SELECT * FROM t WHERE a = .5e-3",
        "SELECT * FROM t WHERE a = 1e10", "SELECT * FROM t WHERE a = 99999999999999999999",
        "SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 'it''s'", "SELECT * FROM t WHERE a = E'tab\\there'",
        "SELECT * FROM t WHERE a = E'quote \\' inside'", "SELECT * FROM t WHERE a = $$dollar 'quoted'$$",
        "SELECT * FROM t WHERE a = $tag$ $$ nested $tag$", "SELECT * FROM t WHERE a = B'0101'",
        "SELECT * FROM t WHERE a = X'1F'", "SELECT * FROM t WHERE a = N'nat'", "SELECT * FROM t WHERE a = U&'d\\0061t'",
        "SELECT * FROM t WHERE a = $1", "SELECT * FROM t WHERE a = $2", "SELECT * FROM t WHERE a = 'a'\n'b'",
        "SELECT * FROM t WHERE a = 1 - 1", "SELECT * FROM t WHERE a = 1-1", "SELECT * FROM t WHERE a = 1+-1",
        "SELECT * FROM t WHERE a = true", "SELECT * FROM t WHERE a = null",
        // Identifiers that contain digits or dollars, quoted identifiers, case.
        "SELECT t1.col2 FROM t1 WHERE t1.col2 = 3", "SELECT t1.col2 FROM t1 WHERE t1.col3 = 3",
        "SELECT T1.COL2 FROM T1 WHERE t1.col2 = 4", "SELECT \"T1\".col2 FROM \"T1\" WHERE col2 = 3",
        "SELECT \"a\"\"b\" FROM t", "SELECT \"a\"\"c\" FROM t", "SELECT a$1 FROM t", "SELECT a$2 FROM t",
        "SELECT col_9 FROM t9", "SELECT col_8 FROM t9", "SELECT 1abc", "SELECT 1 abc", "SELECT 1 AS abd",
        // Whitespace, comments, casts.
        "SELECT  *\n  FROM t\n WHERE a = 7", "/* c */ SELECT * FROM t WHERE a = 8 -- trailing",
        "SELECT * FROM t WHERE a = 1::int", "SELECT * FROM t WHERE a = 1::bigint", "SELECT * FROM t WHERE a = '1'::int",
        "SELECT * FROM t WHERE a = int '1'", "SELECT * FROM t WHERE a = CAST(1 AS int)",
        "SELECT CAST(x AS varchar(10)) FROM t", "SELECT CAST(x AS varchar(20)) FROM t",
        "SELECT CAST(x AS numeric(10,2)) FROM t", "SELECT CAST(x AS numeric(12,4)) FROM t",
        "SELECT CAST(x AS float(10)) FROM t", "SELECT CAST(x AS float(30)) FROM t", "SELECT CAST(x AS float (30)) FROM t",
        "SELECT current_time(3)", "SELECT current_time(6)", "SELECT current_timestamp(2)", "SELECT localtimestamp(1)",
        "SELECT CAST(x AS timestamp(3)) FROM t", "SELECT CAST(x AS timestamp(6)) FROM t",
        "SELECT interval '1 day'", "SELECT interval '2' day", "SELECT interval '2' hour",
        // Lists.
        "SELECT * FROM t WHERE a IN (1)", "SELECT * FROM t WHERE a IN (1, 2)", "SELECT * FROM t WHERE a IN (1,2,3,4)",
        "SELECT * FROM t WHERE a IN ($1, $2, $3)", "SELECT * FROM t WHERE a IN ('a', 'b')", "SELECT * FROM t WHERE a IN (1, b)",
        "SELECT * FROM t WHERE a IN (b, 1, 2)", "SELECT * FROM t WHERE a = ANY(ARRAY[1,2,3])",
        "SELECT * FROM t WHERE a = ANY(ARRAY[1])", "SELECT (1, 2)", "SELECT (1, 2, 3)", "SELECT (1)", "SELECT 1, 2",
        "SELECT 1, 2, 3", "SELECT substring('abc', 1, 2)", "SELECT substring('abc', 1)", "SELECT f(1, 2)", "SELECT f(1)",
        "SELECT * FROM t ORDER BY 1", "SELECT * FROM t ORDER BY 1, 2", "SELECT * FROM t ORDER BY 2",
        "SELECT a FROM t GROUP BY 1", "SELECT a FROM t GROUP BY 1, 2", "SELECT * FROM t LIMIT 10", "SELECT * FROM t LIMIT 20 OFFSET 5",
        "INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')", "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO t (a, b) VALUES (1, 2)", "INSERT INTO t (a) VALUES (1)", "INSERT INTO t (b, a) VALUES (1, 2)",
        "UPDATE t SET a = 1 WHERE id = 2", "UPDATE t SET a = 5 WHERE id = 9", "UPDATE t SET b = 5 WHERE id = 9",
        "DELETE FROM t WHERE id = 1", "DELETE FROM t WHERE id = 2", "DELETE FROM u WHERE id = 2",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x WHERE a > 2", "WITH x AS (SELECT 2 AS a) SELECT * FROM x WHERE a > 3",
        "VALUES (1), (2)", "VALUES (3), (4)", "TABLE t",
        "SELECT * FROM t WHERE a LIKE 'x%' ESCAPE '!'", "SELECT * FROM t WHERE a LIKE 'y%' ESCAPE '#'",
        "SELECT * FROM t WHERE ts > now() - interval '5 minutes'", "SELECT * FROM t WHERE ts > now() - interval '1 hour'",
        "SELECT * FROM t TABLESAMPLE SYSTEM (10)", "SELECT * FROM t TABLESAMPLE SYSTEM (20)",
        "SELECT * FROM t FETCH FIRST 5 ROWS ONLY", "SELECT * FROM t FETCH FIRST 6 ROWS ONLY",
        "SELECT x[1] FROM t", "SELECT x[2] FROM t", "SELECT x[1:2] FROM t", "SELECT 'a' COLLATE \"C\"", "SELECT 'b' COLLATE \"POSIX\"",
        "SELECT * FROM t WHERE a <-1", "SELECT * FROM t WHERE a < -1", "SELECT * FROM t WHERE a<-1",
        "SELECT 1 FROM t WHERE a = 1 FOR UPDATE", "SELECT 1 FROM t WHERE a = 1 FOR SHARE",
        // Utility statements keep their text.
        "SET search_path = 'a'", "SET search_path = 'b'", "COPY t FROM '/tmp/a'", "COPY t FROM '/tmp/b'",
        "NOTIFY ch, 'a'", "NOTIFY ch, 'b'", "BEGIN", "COMMIT", "SAVEPOINT s1", "SAVEPOINT s2",
        "EXPLAIN SELECT * FROM t WHERE a = 1", "EXPLAIN SELECT * FROM t WHERE a = 2",
        // Broken SQL (unterminated strings, comments, dollar quotes).
        "SELECT 'unterminated", "SELECT 'other", "SELECT /* open", "SELECT $x$ open", "SELECT * FROM t WHERE",
    ]

    @Test func statementsSharingAKeyShareAFingerprint() throws {
        var normalizer = FastNormalizer()
        var fingerprintByKey: [String: (String, String)] = [:]
        for statement in Self.corpus {
            normalizer.normalize(statement)
            let key = normalizer.keyString
            guard case .success(let fingerprint) = PgQuery.fingerprint(statement) else { continue }
            if let (seen, example) = fingerprintByKey[key] {
                #expect(seen == fingerprint, "\(statement) and \(example) share key \(key) but not a fingerprint")
            } else {
                fingerprintByKey[key] = (fingerprint, statement)
            }
        }
        #expect(fingerprintByKey.count > 60)
    }

    @Test func randomLiteralsNeverMergeDifferentQueries() throws {
        var generator = SystemRandomNumberGenerator()
        let templates = [
            "SELECT * FROM orders WHERE customer_id = %@ AND status = %@",
            "SELECT * FROM orders WHERE customer_id IN (%@, %@) -- %@",
            "UPDATE accounts SET balance = balance + %@ WHERE id = %@",
            "INSERT INTO history (a, b, c) VALUES (%@, %@, now())",
            "SELECT f(%@), g(%@) FROM t /* %@ */",
            "SELECT * FROM t ORDER BY %@ LIMIT %@",
        ]
        let literals = ["0", "-7", "3.25", "1e-9", "'plain'", "'it''s'", "E'a\\'b'", "$$x'y$$", "$q$ '-- $q$", "$1", "$12",
                        "'/* not a comment */'", "'--nope'", "NULL", "true", "'a''b''c'", "U&'\\0041'", "B'10'", "X'FF'"]
        var normalizer = FastNormalizer()
        var fingerprintByKey: [String: String] = [:]
        for _ in 0..<600 {
            let template = templates.randomElement(using: &generator) ?? templates[0]
            var statement = template
            while let range = statement.range(of: "%@") {
                statement.replaceSubrange(range, with: literals.randomElement(using: &generator) ?? "1")
            }
            normalizer.normalize(statement)
            guard case .success(let fingerprint) = PgQuery.fingerprint(statement) else { continue }
            if let seen = fingerprintByKey[normalizer.keyString] {
                #expect(seen == fingerprint, "\(statement) -> \(normalizer.keyString)")
            } else {
                fingerprintByKey[normalizer.keyString] = fingerprint
            }
        }
    }

    /// Pairs found by Benchmarks/fuzz (FuzzPreScan): one key, two fingerprints, before the fix.
    static let fuzzedPairs: [(String, String)] = [
        ("SELECT $tag$quoted'$tag$ AS t, -.5e3 AS f;", "SELECT 0 AS t, -'it''s' AS f;"),
        ("SELECT -1", "SELECT -$1"),
        ("SELECT - 1", "SELECT - $$a$$"),
        ("SELECT a-u&1", "SELECT a-u&'it''s'"),
    ]

    @Test func fuzzedPairsWithOneKeyAndTwoFingerprintsNowHaveTwoKeys() throws {
        var normalizer = FastNormalizer()
        for (first, second) in Self.fuzzedPairs {
            normalizer.normalize(first)
            let firstKey = normalizer.keyString
            normalizer.normalize(second)
            let fingerprints = (try PgQuery.fingerprint(first).get(), try PgQuery.fingerprint(second).get())
            #expect(fingerprints.0 != fingerprints.1, "\(first) / \(second)")
            #expect(firstKey != normalizer.keyString, "\(first) and \(second) share key \(firstKey)")
        }
        // After a minus a string stays verbatim even where the minus is binary (a split, never a
        // merge); numbers after a minus still share one key.
        normalizer.normalize("SELECT a - 'x' FROM t")
        #expect(normalizer.keyString == "select a - 'x' from t")
        #expect(key("SELECT a = -5 FROM t", &normalizer) == key("SELECT a = -6 FROM t", &normalizer))
    }

    private func key(_ statement: String, _ normalizer: inout FastNormalizer) -> String {
        normalizer.normalize(statement)
        return normalizer.keyString
    }

    @Test func groupsTheVariantsALogIsFullOf() {
        var normalizer = FastNormalizer()
        func key(_ s: String) -> String { normalizer.normalize(s); return normalizer.keyString }
        #expect(key("SELECT * FROM t WHERE a = 1 AND b = 'x'") == "select * from t where a = ? and b = ?")
        #expect(key("select *   from T where A = $1 and b = E'it\\'s'") == "select * from t where a = ? and b = e?")
        #expect(key("SELECT * FROM t WHERE id IN (1, 2, 3)") == key("SELECT * FROM t WHERE id IN (4,5)"))
        #expect(key("SELECT * FROM t WHERE id IN (1, 2, 3)") == "select * from t where id in (?,?)")
        #expect(key("SELECT * FROM t WHERE id IN (1)") == "select * from t where id in (?)")
        #expect(key("/* app */ SELECT 1 -- hi") == "select ?")
        #expect(key("SELECT $tag$a'b$tag$, t1.c2") == "select ?, t1.c2")
        #expect(key("SELECT CAST(x AS float(30))") == "select cast(x as float(30))")
        #expect(key("SELECT a\n  FROM t") == "select a\nfrom t")
        #expect(key("COPY t FROM '/tmp/a'  ") == "COPY t FROM '/tmp/a'")
        normalizer.normalize("SELECT * FROM t WHERE a = 'x' AND b = 42")
        #expect(normalizer.literalCount == 2)
        #expect(normalizer.literalRanges == [26..<29, 38..<40])
    }

    /// Statements of one key bind `$n` in the same places only when their parameter layouts are equal.
    @Test func parameterLayoutsTellWhereEachParameterIsBound() {
        var normalizer = FastNormalizer()
        func layout(_ s: String) -> (count: Int, layout: UInt64) {
            normalizer.normalize(s)
            return (normalizer.parameterCount, normalizer.parameterLayout)
        }
        let twoIds = layout("SELECT id FROM orders WHERE customer_id IN ($1, $2) AND status = $3")
        #expect(twoIds.count == 3)
        #expect(layout("select id from orders where customer_id in ($1,$2) and status=$3") == twoIds)
        #expect(layout("SELECT id FROM orders WHERE customer_id IN ($1, $2, $3) AND status = $4") != twoIds)
        #expect(layout("SELECT id FROM orders WHERE customer_id IN ($2, $1) AND status = $3") != twoIds)
        #expect(layout("SELECT * FROM t WHERE a = 'x' AND b = $1") != layout("SELECT * FROM t WHERE a = $1 AND b = 'x'"))
        #expect(layout("SELECT * FROM t WHERE a = 'x' AND b = $1") == layout("SELECT * FROM t WHERE a = 'y' AND b = $1"))
        #expect(layout("SELECT * FROM t WHERE a = -$1") == layout("SELECT * FROM t WHERE a = - $1"))
        #expect(layout("SELECT * FROM t WHERE a = 1").count == 0)
    }
}
