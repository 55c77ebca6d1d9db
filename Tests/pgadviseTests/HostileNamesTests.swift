import Foundation
import PGAdviseCore
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// Schemas, tables, columns and indexes named with quotes, spaces, mixed case, reserved words,
/// unicode, dots, markup and 63 bytes, end to end: scan in every format, indexes --measure, lint of
/// the DDL, snapshot and the HTML report. Every DDL pgadvise prints is run and must do what it says;
/// the HTML report shows every name as text.
@Suite(.enabled(if: TestDatabase.isAvailable), .serialized)
struct HostileNamesTests {
    static let database = "pgadvise_hostile_names"
    /// 63 bytes, PostgreSQL's limit (NAMEDATALEN - 1), with two-byte letters near the end so a cut
    /// at a byte count would split one.
    static let longTable = "t" + String(repeating: "a", count: 51) + "ééééé" + "z"
    static let longColumn = "c" + String(repeating: "b", count: 61) + "y"

    static var schemaSQL: String {
        """
        CREATE SCHEMA "Odd ""Schema"".v1";
        CREATE SCHEMA "select";
        CREATE TABLE "Odd ""Schema"".v1"."Order Items" ("Item ID" int PRIMARY KEY, "Customer.Ref" int NOT NULL, "select" text, "<b>x</b>" int NOT NULL);
        CREATE TABLE "select"."user" (id int PRIMARY KEY, "from" int NOT NULL, "Mixed""Quote" text);
        CREATE TABLE public."\(longTable)" ("\(longColumn)" int NOT NULL, v int);
        CREATE TABLE public."Ünïcödé 表" ("Ключ" int NOT NULL, "值" text);
        CREATE INDEX "Idx ""quoted"" ünï" ON "select"."user" ("Mixed""Quote");
        -- Tables named as pgadvise would name the indexes on "select"."user": indexes share their namespace.
        CREATE TABLE "select".user_from_idx (x int);
        CREATE TABLE "select".user_from_incl_idx (x int);
        """
    }

    static var workload: [(String, String)] {
        [
            ("SELECT \"select\" FROM \"Odd \"\"Schema\"\".v1\".\"Order Items\" WHERE \"Customer.Ref\" = $1", "17"),
            ("SELECT \"Item ID\" FROM \"Odd \"\"Schema\"\".v1\".\"Order Items\" WHERE \"<b>x</b>\" = $1", "5"),
            ("SELECT id FROM \"select\".\"user\" WHERE \"from\" = $1", "42"),
            ("SELECT v FROM public.\"\(longTable)\" WHERE \"\(longColumn)\" = $1", "7"),
            ("SELECT \"值\" FROM public.\"Ünïcödé 表\" WHERE \"Ключ\" = $1", "3"),
        ]
    }

    static func seed() throws -> String {
        let dsn = try TestDatabase.freshDatabase(database, setupSQL: "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;\n" + schemaSQL + """
            INSERT INTO "Odd ""Schema"".v1"."Order Items" SELECT g, g % 3000, 's' || g, g % 2500 FROM generate_series(1, 60000) g;
            INSERT INTO "select"."user" SELECT g, g % 4000, 'q' || g FROM generate_series(1, 60000) g;
            INSERT INTO public."\(longTable)" SELECT g % 5000, g FROM generate_series(1, 60000) g;
            INSERT INTO public."Ünïcödé 表" SELECT g % 3500, 'v' || g FROM generate_series(1, 60000) g;
            ANALYZE;
            """)
        let admin = try TestDatabase.adminConnection(database: database)
        try admin.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        let app = try PostgresConnection(conninfo: dsn)
        for (sql, value) in workload {
            for _ in 0..<20 { try app.query(sql, [value]) }
        }
        return dsn
    }

    /// Every statement a JSON document tells the user to run (its `ddl` and `fix` fields).
    static func ddl(inJSON text: String) throws -> [String] {
        var found: [String] = []
        func walk(_ value: Any) {
            if let a = value as? [Any] { a.forEach(walk) }
            guard let d = value as? [String: Any] else { return }
            for (key, inner) in d {
                if ["ddl", "fix"].contains(key), let s = inner as? String { found.append(s) } else { walk(inner) }
            }
        }
        walk(try JSONSerialization.jsonObject(with: Data(text.utf8)))
        return found
    }

    /// Runs a printed CREATE INDEX and returns (table, key columns) of the index it made, then drops it.
    static func runCreateIndex(_ ddl: String, on admin: PostgresConnection) throws -> (String, [String]) {
        let before = Set(try admin.query("SELECT indexrelid::regclass::text AS i FROM pg_index").rows.compactMap { $0.first ?? nil })
        try admin.execute(ddl)
        let made = try admin.query("""
            SELECT i.indexrelid::regclass::text AS index, n.nspname AS schema, c.relname AS table,
                   array_agg(a.attname ORDER BY k.ord) AS columns
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            GROUP BY 1, 2, 3
            """).records.filter { !before.contains($0["index"] ?? "") }
        let index = try #require(made.first, "\(ddl) made no index")
        try admin.execute("DROP INDEX \(index["index"] ?? "")")
        return ("\(index["schema"] ?? "").\(index["table"] ?? "")", index.textArray("columns"))
    }

    @Test func everyNameSurvivesScanIndexesLintSnapshotAndReport() throws {
        let dsn = try Self.seed()
        let admin = try TestDatabase.adminConnection(database: Self.database)
        var printed: [String] = []

        // scan: every format runs; the DDL of the JSON is the DDL the text and Markdown show.
        let json = try runPGAdvise(["scan", dsn, "--format", "json"])
        #expect(json.exitCode == 0 || json.exitCode == 1, "\(json.stderr)")
        let scanDDL = try Self.ddl(inJSON: json.stdout)
        printed += scanDDL
        for format in ["text", "markdown"] {
            let out = try runPGAdvise(["scan", dsn, "--format", format])
            #expect(out.exitCode == 0 || out.exitCode == 1, "\(out.stderr)")
            for statement in scanDDL { #expect(foldedWhitespace(out.stdout).contains(foldedWhitespace(statement)), "\(format) lacks \(statement)") }
        }
        let sarif = try runPGAdvise(["scan", dsn, "--format", "sarif"])
        #expect(sarif.exitCode == 0 || sarif.exitCode == 1, "\(sarif.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8))) != nil, "SARIF is not JSON")

        // indexes --measure builds each index under its real name and drops it with the rollback.
        let measured = try runPGAdvise(["indexes", dsn, "--measure", "--measure-runs", "2", "--budget", "1GB", "--format", "json"])
        #expect(measured.exitCode == 0, "\(measured.stderr)")
        let recommendations = try #require(try jsonObject(measured.stdout)["recommendations"] as? [[String: Any]])
        for rec in recommendations {
            let measurement = rec["measured"] as? [String: Any]
            #expect(measurement?["builtSizeBytes"] is NSNumber, "\(rec["ddl"] ?? "") was measured under another name")
        }
        printed += recommendations.compactMap { $0["ddl"] as? String }
        let plain = try runPGAdvise(["indexes", dsn, "--budget", "1GB", "--format", "json"])
        let plainDDL = try Self.ddl(inJSON: plain.stdout)
        printed += plainDDL
        for format in ["text", "markdown"] {
            let out = try runPGAdvise(["indexes", dsn, "--budget", "1GB", "--format", format])
            for ddl in plainDDL { #expect(foldedWhitespace(out.stdout).contains(foldedWhitespace(ddl)), "\(format) lacks \(ddl)") }
        }

        // Every CREATE INDEX printed runs and indexes the table and column the workload filters on.
        var built: Set<String> = []
        for statement in Set(printed) where statement.hasPrefix("CREATE INDEX") {
            let (table, columns) = try Self.runCreateIndex(statement, on: admin)
            built.insert("\(table)(\(columns.first ?? ""))")
        }
        #expect(built.isSuperset(of: [
            "Odd \"Schema\".v1.Order Items(Customer.Ref)", "Odd \"Schema\".v1.Order Items(<b>x</b>)", "select.user(from)",
            "public.\(Self.longTable)(\(Self.longColumn))", "public.Ünïcödé 表(Ключ)",
        ]), "\(built)")
        // Other printed statements (DROP INDEX of an unused or duplicate index...) run too, in a
        // transaction rolled back when they allow one.
        for statement in Set(printed) where !statement.hasPrefix("CREATE INDEX") {
            let plain = statement.replacingOccurrences(of: " CONCURRENTLY", with: "")
            try admin.execute("BEGIN")
            do { try admin.execute(plain) } catch { Issue.record("\(statement): \(error)") }
            try admin.execute("ROLLBACK")
        }

        // lint reads the same DDL and the workload's statements.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgadvise-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schemaFile = folder.appendingPathComponent("schema.sql"), queries = folder.appendingPathComponent("queries.sql")
        try Self.schemaSQL.write(to: schemaFile, atomically: true, encoding: .utf8)
        try Self.workload.map { $0.0.replacingOccurrences(of: "$1", with: $0.1) + ";" }.joined(separator: "\n")
            .write(to: queries, atomically: true, encoding: .utf8)
        for format in ["text", "json", "sarif"] {
            let lint = try runPGAdvise(["lint", queries.path, "--schema", schemaFile.path, "--format", format])
            #expect(lint.exitCode == 0 || lint.exitCode == 1, "lint \(format): \(lint.stderr)")
            if format == "json" {
                for statement in try Self.ddl(inJSON: lint.stdout) where statement.hasPrefix("CREATE INDEX") {
                    _ = try Self.runCreateIndex(statement, on: admin)
                }
            }
        }

        // snapshot, then the HTML report: every name is text in the browser, never markup.
        let store = folder.appendingPathComponent("history.sqlite").path
        // Two snapshots: the first is the baseline the week's figures are counted from.
        for round in 0..<2 {
            if round == 1 {
                let app = try PostgresConnection(conninfo: dsn)
                for (sql, value) in Self.workload { for _ in 0..<5 { try app.query(sql, [value]) } }
            }
            let snapshot = try runPGAdvise(["snapshot", dsn, "--store", store])
            #expect(snapshot.exitCode == 0, "\(snapshot.stderr)")
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let week = String(format: "%04d-W%02d", calendar.component(.yearForWeekOfYear, from: Date()), calendar.component(.weekOfYear, from: Date()))
        let html = try runPGAdvise(["report", "--store", store, "--week", week, "--format", "html", "--top", "50"])
        #expect(html.exitCode == 0, "\(html.stderr)")
        #expect(html.stdout.contains("&lt;b&gt;x&lt;/b&gt;"), "the report lists the statement on \"<b>x</b>\"")
        if HeadlessBrowser.isAvailable {
            let dom = try HeadlessBrowser.renderedDOM(html: html.stdout)
            #expect(dom.contains("&lt;b&gt;x&lt;/b&gt;"))
            #expect(!dom.contains("<b>x</b>"), "a column name became markup")
            #expect(dom.contains("Ünïcödé 表") && dom.contains("Customer.Ref") && dom.contains(Self.longColumn))
        }
    }
}
