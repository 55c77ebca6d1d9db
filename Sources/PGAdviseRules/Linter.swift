import PGAdviseCore
import PGAdviseSQL

/// One SQL file to lint, already read.
public struct LintSource: Sendable {
    /// As the user named it; findings print it unchanged.
    public var path: String
    public var text: String
    /// The file's resolved path: a file named twice (as `--schema` and again inside a linted
    /// directory) builds the schema once, or every index would look like a duplicate of itself.
    public var identity: String

    public init(path: String, text: String, identity: String? = nil) {
        self.path = path
        self.text = text
        self.identity = identity ?? path
    }
}

/// Offline linting of SQL files: every statement of every file against the query rules, and the schema
/// their DDL (plus any `--schema` files) builds against the catalog rules.
public enum Linter {
    public struct Result: Sendable {
        public var findings: [Finding]
        public var statements: Int
        public var files: Int
    }

    /// Statements whose first word can change the schema; only these are parsed in the first pass.
    static let schemaKeywords: Set<String> = ["create", "alter", "drop"]

    public static func lint(_ sources: [LintSource], schema: [LintSource] = [],
                            queryRules: [any QueryRule] = RuleRegistry.queryRules,
                            catalogRules: [any CatalogRule] = RuleRegistry.catalogRules) -> Result {
        var loader = SchemaLoader()
        var findings: [Finding] = []
        // First pass: split every file and apply its DDL, so that queries anywhere see the whole schema.
        var linted: [(source: LintSource, script: SplitScript, lines: LineIndex, ddl: [Int: ParseTree])] = []
        var schemaApplied = Set<String>()
        var lintedFiles = Set<String>()
        for (isSchema, source) in schema.map({ (true, $0) }) + sources.map({ (false, $0) }) {
            if !isSchema && !lintedFiles.insert(source.identity).inserted { continue }
            let appliesSchema = schemaApplied.insert(source.identity).inserted
            let lines = LineIndex(source.text)
            switch schemaStatements(of: source) {
            case let .failure(error):
                findings.append(parseErrorFinding(error, in: source))
            case let .success((script, trees)):
                for (span, tree) in trees where appliesSchema {
                    loader.apply(tree, file: source.path, lines: lines, byteOffset: span.byteOffset)
                }
                if !isSchema {
                    let ddl = Dictionary(trees.map { ($0.0.byteOffset, $0.1) }, uniquingKeysWith: { first, _ in first })
                    linted.append((source, script, lines, ddl))
                }
            }
        }
        let catalog = loader.catalog.isEmpty ? nil : loader.catalog
        // Second pass: one statement at a time, so memory stays flat however large the file.
        var statements = 0
        for (source, script, lines, ddl) in linted {
            var outcome = queryFindings(script, ddl: ddl, source: source, lines: lines, catalog: catalog, rules: queryRules)
            if outcome == nil {
                // The scanner cut a statement wrongly (a BEGIN ATOMIC body): cut again with the parser.
                switch PgQuery.splitStatements(source.text, exact: true) {
                case let .success(exact):
                    outcome = queryFindings(exact, ddl: [:], source: source, lines: lines, catalog: catalog, rules: queryRules)
                    statements += outcome == nil ? 0 : exact.spans.count
                case let .failure(error):
                    findings.append(parseErrorFinding(error, in: source))
                }
            } else {
                statements += script.spans.count
            }
            findings += outcome ?? []
        }
        if let catalog { findings += catalogFindings(catalog, loader: loader, rules: catalogRules) }
        findings.sort { a, b in
            if (a.file ?? "") != (b.file ?? "") { return (a.file ?? "") < (b.file ?? "") }
            if (a.line ?? 0) != (b.line ?? 0) { return (a.line ?? 0) < (b.line ?? 0) }
            if (a.column ?? 0) != (b.column ?? 0) { return (a.column ?? 0) < (b.column ?? 0) }
            return a.rule < b.rule
        }
        return Result(findings: findings, statements: statements, files: schema.count + sources.count)
    }

    /// The catalog rules' findings, each placed where the DDL it is about was written.
    static func catalogFindings(_ catalog: Catalog, loader: SchemaLoader, rules: [any CatalogRule]) -> [Finding] {
        RuleEngine.catalogViolations(catalog, rules: rules).map { description, violation in
            var finding = description.finding(violation)
            if let location = schemaLocation(of: violation, in: catalog, loader: loader) {
                finding.file = location.file
                finding.line = location.line
                finding.column = location.column
            }
            return finding
        }
    }

    /// The file cut into statements (by the fast scanner, or by the parser when the scanner's cut does
    /// not parse) and its DDL statements parsed; or the parser's error for the file.
    static func schemaStatements(of source: LintSource)
        -> Swift.Result<(SplitScript, [(StatementSpan, ParseTree)]), SQLParseError> {
        func parseDDL(_ script: SplitScript, strict: Bool) -> [(StatementSpan, ParseTree)]? {
            var trees: [(StatementSpan, ParseTree)] = []
            for span in script.spans where schemaKeywords.contains(script.firstKeyword(span)) {
                switch PgQuery.parse(script.statementText(span)) {
                case let .success(tree): trees.append((span, tree))
                case .failure: if strict { return nil }
                }
            }
            return trees
        }
        if case let .success(script) = PgQuery.splitStatements(source.text), let trees = parseDDL(script, strict: true) {
            return .success((script, trees))
        }
        // The parser accepted the whole file, so each of its statements parses alone too.
        return PgQuery.splitStatements(source.text, exact: true).map { ($0, parseDDL($0, strict: false) ?? []) }
    }

    /// Query-rule findings of every statement (of DDL, only CREATE INDEX, whose locking migration rules
    /// judge, and the SELECT of CREATE VIEW and CREATE TABLE AS), in file order so that each knows the tables created before it; nil when a statement
    /// does not parse. `ddl`: the DDL trees the first pass parsed, by byte offset.
    static func queryFindings(_ script: SplitScript, ddl: [Int: ParseTree], source: LintSource, lines: LineIndex,
                              catalog: Catalog?, rules: [any QueryRule]) -> [Finding]? {
        var findings: [Finding] = []
        var created = Set<QualifiedName>()
        for span in script.spans {
            let isDDL = schemaKeywords.contains(script.firstKeyword(span))
            let tree: ParseTree
            if isDDL, let known = ddl[span.byteOffset] {
                tree = known
            } else if case let .success(parsed) = PgQuery.parse(script.statementText(span)) {
                tree = parsed
            } else {
                return nil
            }
            if isDDL {
                guard let (type, body) = tree.statements.first?.node.node else { continue }
                if type == "CreateStmt" || type == "CreateTableAsStmt", let relation = body["relation"] ?? body["into"]?["rel"] {
                    created.insert(QualifiedName(schema: relation["schemaname"]?.string ?? "public", relation["relname"]?.string ?? ""))
                }
                // A view's or CREATE TABLE AS's SELECT is checked like any query.
                guard ["IndexStmt", "ViewStmt", "CreateTableAsStmt"].contains(type) else { continue }
            }
            let context = RuleContext(catalog: catalog, tablesCreatedEarlierInFile: created)
            for shape in QueryShape.build(tree: tree) {
                for (description, violation) in RuleEngine.violations(in: shape, context: context, rules: rules) {
                    var finding = description.finding(violation)
                    let offset = span.byteOffset + shape.byteOffset + (violation.location ?? 0)
                    let position = lines.lineAndColumn(ofByteOffset: offset)
                    finding.file = source.path
                    finding.line = position.line
                    finding.column = position.column
                    findings.append(finding)
                }
            }
        }
        return findings
    }

    static func schemaLocation(of violation: Violation, in catalog: Catalog, loader: SchemaLoader) -> SchemaLocation? {
        guard let tableName = violation.table,
              let table = catalog.tables.first(where: { $0.name.description == tableName }) else { return nil }
        if let constraint = violation.constraint, let location = loader.location(ofConstraint: constraint, on: table.name) {
            return location
        }
        if let index = violation.index, let location = loader.location(ofIndex: index, on: table.name) { return location }
        return loader.location(ofTable: table.name)
    }

    /// libpg_query's message, at the character position it reports (PostgreSQL counts characters).
    static func parseErrorFinding(_ error: SQLParseError, in source: LintSource) -> Finding {
        var line = 1, column = 1
        if let position = error.position {
            var count = 1
            for scalar in source.text.unicodeScalars {
                if count >= position { break }
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
                count += 1
            }
        }
        return Finding(rule: ParseErrorRule.description.id, severity: ParseErrorRule.description.severity,
                       category: ParseErrorRule.description.category,
                       message: "The file does not parse as PostgreSQL 15 SQL: \(error.message); no statement in it was checked.",
                       file: source.path, line: line, column: column, evidence: error.message,
                       solution: ParseErrorRule.description.solution)
    }
}
