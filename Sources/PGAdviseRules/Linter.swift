import PGAdviseCore
import PGAdviseSQL

/// One SQL file to lint, already read.
public struct LintSource: Sendable {
    /// As the user named it; findings print it unchanged.
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
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

    public static func lint(_ sources: [LintSource], schema: [LintSource] = [],
                            queryRules: [any QueryRule] = RuleRegistry.queryRules,
                            catalogRules: [any CatalogRule] = RuleRegistry.catalogRules) -> Result {
        var loader = SchemaLoader()
        var findings: [Finding] = []
        var parsed: [(source: LintSource, lines: LineIndex, shapes: [QueryShape])] = []
        for (isSchema, source) in schema.map({ (true, $0) }) + sources.map({ (false, $0) }) {
            switch PgQuery.parse(source.text) {
            case let .failure(error):
                findings.append(parseErrorFinding(error, in: source))
            case let .success(tree):
                loader.apply(tree, file: source.path)
                if !isSchema { parsed.append((source, LineIndex(source.text), QueryShape.build(tree: tree))) }
            }
        }
        let catalog = loader.catalog.isEmpty ? nil : loader.catalog
        var statements = 0
        for (source, lines, shapes) in parsed {
            statements += shapes.count
            for shape in shapes {
                for (description, violation) in RuleEngine.violations(in: shape, catalog: catalog, rules: queryRules) {
                    var finding = description.finding(violation)
                    let position = lines.lineAndColumn(ofByteOffset: shape.byteOffset + (violation.location ?? 0))
                    finding.file = source.path
                    finding.line = position.line
                    finding.column = position.column
                    findings.append(finding)
                }
            }
        }
        if let catalog {
            for (description, violation) in RuleEngine.catalogViolations(catalog, rules: catalogRules) {
                var finding = description.finding(violation)
                if let location = schemaLocation(of: violation, in: catalog, loader: loader) {
                    finding.file = location.file
                    finding.line = location.line
                    finding.column = location.column
                }
                findings.append(finding)
            }
        }
        findings.sort { a, b in
            if (a.file ?? "") != (b.file ?? "") { return (a.file ?? "") < (b.file ?? "") }
            if (a.line ?? 0) != (b.line ?? 0) { return (a.line ?? 0) < (b.line ?? 0) }
            if (a.column ?? 0) != (b.column ?? 0) { return (a.column ?? 0) < (b.column ?? 0) }
            return a.rule < b.rule
        }
        return Result(findings: findings, statements: statements, files: schema.count + sources.count)
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
