import PGAdviseCore

/// Where a schema object was defined in a DDL file: what lets a schema finding point at a line.
public struct SchemaLocation: Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file; self.line = line; self.column = column
    }
}

/// Builds a Catalog from DDL without a database (`lint --schema`): CREATE TABLE with inline and table
/// constraints, CREATE INDEX (expression, partial, INCLUDE, any method), ALTER TABLE ADD/DROP
/// COLUMN/CONSTRAINT, ALTER COLUMN TYPE, DROP TABLE/INDEX, CREATE EXTENSION. Statements are applied in
/// order, as PostgreSQL would run them; everything else (functions, grants, data) is ignored.
public struct SchemaLoader: Sendable {
    public private(set) var catalog = Catalog()
    private var locations: [String: SchemaLocation] = [:]

    public init() {}

    /// Applies every statement of a script. A script that does not parse changes nothing.
    @discardableResult
    public mutating func load(sql: String, file: String) -> Result<Void, SQLParseError> {
        switch PgQuery.parse(sql) {
        case let .failure(error): return .failure(error)
        case let .success(tree):
            apply(tree, file: file)
            return .success(())
        }
    }

    /// Applies the DDL statements of an already parsed script.
    public mutating func apply(_ tree: ParseTree, file: String) {
        apply(tree, file: file, lines: LineIndex(tree.source), byteOffset: 0)
    }

    /// Applies a statement (or script) parsed on its own from `byteOffset` of a file whose lines are
    /// `lines`, so that locations point into the file.
    public mutating func apply(_ tree: ParseTree, file: String, lines: LineIndex, byteOffset: Int) {
        let bytes = Array(tree.source.utf8)
        for raw in tree.json["stmts"]?.array ?? [] {
            guard let (type, body) = raw["stmt"]?.node else { continue }
            let start = raw["stmt_location"]?.int ?? 0
            let length = raw["stmt_len"]?.int ?? 0
            var context = StatementContext(file: file, lines: lines, bytes: bytes, start: start, length: length,
                                           byteOffset: byteOffset)
            switch type {
            case "CreateStmt": createTable(body, &context)
            case "IndexStmt": createIndex(body, &context)
            case "AlterTableStmt": alterTable(body, &context)
            case "DropStmt": drop(body)
            case "CreateExtensionStmt":
                if let name = body["extname"]?.string { catalog.extensions[name] = catalog.extensions[name] ?? "" }
            default: continue
            }
        }
    }

    // MARK: where objects were defined

    public func location(ofTable table: QualifiedName) -> SchemaLocation? { locations["table:" + key(table)] }
    public func location(ofIndex index: String, on table: QualifiedName) -> SchemaLocation? {
        locations["index:" + key(table) + "/" + index]
    }
    public func location(ofConstraint constraint: String, on table: QualifiedName) -> SchemaLocation? {
        locations["constraint:" + key(table) + "/" + constraint]
    }

    func key(_ name: QualifiedName) -> String { (name.schema ?? "public") + "." + name.name }

    struct StatementContext {
        var file: String
        var lines: LineIndex
        var bytes: [UInt8]
        var start: Int
        var length: Int
        /// Where `bytes` starts in the file.
        var byteOffset: Int

        func location(_ absolute: Int?) -> SchemaLocation {
            var offset = absolute ?? start
            if absolute == nil {
                offset = skipSpaceAndComments(bytes, from: offset, to: length == 0 ? bytes.count : Swift.min(start + length, bytes.count))
            }
            let (line, column) = lines.lineAndColumn(ofByteOffset: offset + byteOffset)
            return SchemaLocation(file: file, line: line, column: column)
        }

        var text: String {
            let e = length == 0 ? bytes.count : Swift.min(start + length, bytes.count)
            let s = skipSpaceAndComments(bytes, from: Swift.min(start, bytes.count), to: e)
            return String(decoding: bytes[s..<e], as: UTF8.self).trimmingWhitespace()
        }
    }

    // MARK: statements

    mutating func createTable(_ body: JSONValue, _ context: inout StatementContext) {
        guard let relation = body["relation"] else { return }
        let name = qualifiedName(relation)
        if tableIndex(name) != nil { return }   // IF NOT EXISTS, or a redefinition PostgreSQL would refuse
        catalog.tables.append(Table(name: name))
        locations["table:" + key(name)] = context.location(relation["location"]?.int)
        let parents = (body["inhRelations"]?.array ?? []).compactMap { $0["RangeVar"] }
        for parent in parents {
            if let p = tableIndex(qualifiedName(parent)) {
                for column in catalog.tables[p].columns { addColumn(column, to: name) }
            }
        }
        for element in body["tableElts"]?.array ?? [] {
            guard let (type, elementBody) = element.node else { continue }
            switch type {
            case "ColumnDef": columnDefinition(elementBody, table: name, &context)
            case "Constraint": constraint(elementBody, table: name, inlineColumn: nil, &context)
            case "TableLikeClause":
                if let source = elementBody["relation"], let p = tableIndex(qualifiedName(source)) {
                    for column in catalog.tables[p].columns { addColumn(column, to: name) }
                }
            default: continue
            }
        }
    }

    mutating func columnDefinition(_ body: JSONValue, table: QualifiedName, _ context: inout StatementContext) {
        guard let columnName = body["colname"]?.string else { return }
        let typeNode = body["typeName"] ?? .null
        let type = formatTypeName(typeNode)
        let typeBase = (typeNode["names"]?.array ?? []).compactMap(stringValue).last ?? ""
        var column = Column(name: columnName, type: type)
        if ["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"].contains(typeBase) {
            column.notNull = true
            column.defaultExpression = "nextval('\(table.name)_\(columnName)_seq'::regclass)"
        }
        let constraints = (body["constraints"]?.array ?? []).compactMap { $0["Constraint"] }
        for c in constraints {
            switch c["contype"]?.string {
            case "CONSTR_NOTNULL", "CONSTR_PRIMARY": column.notNull = true
            case "CONSTR_DEFAULT":
                if let expr = c["raw_expr"] { column.defaultExpression = ExpressionPrinter(source: context.bytes).print(expr) }
            default: break
            }
        }
        addColumn(column, to: table)
        for c in constraints { constraint(c, table: table, inlineColumn: columnName, &context) }
    }

    mutating func addColumn(_ column: Column, to table: QualifiedName) {
        guard let t = tableIndex(table) else { return }
        if let existing = catalog.tables[t].columns.firstIndex(where: { $0.name == column.name }) {
            catalog.tables[t].columns[existing] = column
        } else {
            catalog.tables[t].columns.append(column)
        }
    }

    mutating func constraint(_ body: JSONValue, table: QualifiedName, inlineColumn: String?, _ context: inout StatementContext) {
        guard let t = tableIndex(table) else { return }
        let keys = (body["keys"]?.array ?? []).compactMap(stringValue)
        let columns = keys.isEmpty ? (inlineColumn.map { [$0] } ?? []) : keys
        let location = context.location(body["location"]?.int)
        let include = (body["including"]?.array ?? []).compactMap(stringValue)
        switch body["contype"]?.string {
        case "CONSTR_PRIMARY":
            guard !columns.isEmpty else { return }
            let name = body["conname"]?.string ?? uniqueName(table.name + "_pkey", in: t)
            catalog.tables[t].primaryKey = columns
            for column in columns {
                if let c = catalog.tables[t].columns.firstIndex(where: { $0.name == column }) { catalog.tables[t].columns[c].notNull = true }
            }
            addConstraintIndex(name: name, columns: columns, include: include, primary: true, table: t, location: location,
                               method: body["access_method"]?.string)
        case "CONSTR_UNIQUE":
            guard !columns.isEmpty else { return }
            let name = body["conname"]?.string ?? uniqueName(([table.name] + columns + ["key"]).joined(separator: "_"), in: t)
            catalog.tables[t].uniqueConstraints.append(columns)
            addConstraintIndex(name: name, columns: columns, include: include, primary: false, table: t, location: location,
                               method: body["access_method"]?.string)
        case "CONSTR_FOREIGN":
            let fkColumns = (body["fk_attrs"]?.array ?? []).compactMap(stringValue)
            let local = fkColumns.isEmpty ? (inlineColumn.map { [$0] } ?? []) : fkColumns
            guard !local.isEmpty, let referenced = body["pktable"] else { return }
            let referencedName = qualifiedName(referenced)
            var referencedColumns = (body["pk_attrs"]?.array ?? []).compactMap(stringValue)
            if referencedColumns.isEmpty, let r = tableIndex(referencedName) {
                referencedColumns = catalog.tables[r].primaryKey ?? []
            }
            let name = body["conname"]?.string
                ?? uniqueName(([table.name] + local + ["fkey"]).joined(separator: "_"), in: t)
            catalog.tables[t].foreignKeys.append(ForeignKey(name: name, columns: local, referencedTable: referencedName,
                                                            referencedColumns: referencedColumns))
            locations["constraint:" + key(table) + "/" + name] = location
        default:
            return
        }
    }

    mutating func addConstraintIndex(name: String, columns: [String], include: [String], primary: Bool, table t: Int,
                                     location: SchemaLocation, method: String?) {
        let tableName = catalog.tables[t].name
        let keyList = columns.map(quoteIdentifierIfNeeded).joined(separator: ", ")
        let includeList = include.isEmpty ? "" : " INCLUDE (" + include.map(quoteIdentifierIfNeeded).joined(separator: ", ") + ")"
        let index = Index(name: name, table: tableName, method: method ?? "btree", keys: columns.map { Index.Key(column: $0) },
                          include: include, unique: true, primary: primary, constraintName: name,
                          definition: "CREATE UNIQUE INDEX \(quoteIdentifierIfNeeded(name)) ON \(tableName) USING btree (\(keyList))\(includeList)")
        catalog.tables[t].indexes.append(index)
        locations["index:" + key(tableName) + "/" + name] = location
        locations["constraint:" + key(tableName) + "/" + name] = location
    }

    mutating func createIndex(_ body: JSONValue, _ context: inout StatementContext) {
        guard let relation = body["relation"], let t = tableIndex(qualifiedName(relation)) else { return }
        let tableName = catalog.tables[t].name
        let printer = ExpressionPrinter(keepQualifiers: false, source: context.bytes)
        var keys: [Index.Key] = []
        var nameParts: [String] = []
        for param in body["indexParams"]?.array ?? [] {
            guard let elem = param["IndexElem"] else { continue }
            let opclass = (elem["opclass"]?.array ?? []).compactMap(stringValue).last
            let descending = elem["ordering"]?.string == "SORTBY_DESC"
            let collation = (elem["collation"]?.array ?? []).compactMap(stringValue).map(quoteIdentifier).joined(separator: ".")
            if !collation.isEmpty {
                // A key with its own collation orders differently from the plain column: keep it as an
                // expression so it is neither a duplicate of the column's index nor a plain leading column.
                let base = elem["name"]?.string.map(quoteIdentifierIfNeeded) ?? elem["expr"].map { printer.operand($0) } ?? "?"
                keys.append(Index.Key(expression: base + " COLLATE " + collation, descending: descending, opclass: opclass))
                nameParts.append(elem["name"]?.string ?? "expr")
            } else if let column = elem["name"]?.string {
                keys.append(Index.Key(column: column, descending: descending, opclass: opclass))
                nameParts.append(column)
            } else if let expr = elem["expr"] {
                // A parenthesised column (`(email)`) is a plain column key, as PostgreSQL stores it.
                if let columnRef = expr["ColumnRef"], let name = (columnRef["fields"]?.array ?? []).compactMap(stringValue).last {
                    keys.append(Index.Key(column: name, descending: descending, opclass: opclass))
                    nameParts.append(name)
                } else {
                    keys.append(Index.Key(expression: printer.print(expr), descending: descending, opclass: opclass))
                    nameParts.append(expr["FuncCall"]?["funcname"]?.array?.last.flatMap(stringValue) ?? "expr")
                }
            }
        }
        let include = (body["indexIncludingParams"]?.array ?? []).compactMap { $0["IndexElem"]?["name"]?.string }
        let name = body["idxname"]?.string ?? uniqueName(([tableName.name] + nameParts + ["idx"]).joined(separator: "_"), in: t)
        if body["if_not_exists"]?.bool == true, catalog.tables[t].indexes.contains(where: { $0.name == name }) { return }
        let index = Index(name: name, table: tableName, method: body["accessMethod"]?.string ?? "btree", keys: keys,
                          include: include, predicate: body["whereClause"].map { printer.print($0) },
                          unique: body["unique"]?.bool == true, primary: body["primary"]?.bool == true,
                          definition: context.text)
        catalog.tables[t].indexes.append(index)
        locations["index:" + key(tableName) + "/" + name] = context.location(nil)
    }

    mutating func alterTable(_ body: JSONValue, _ context: inout StatementContext) {
        guard let relation = body["relation"], body["objtype"]?.string ?? "OBJECT_TABLE" == "OBJECT_TABLE" else { return }
        let table = qualifiedName(relation)
        guard let t = tableIndex(table) else { return }
        let tableName = catalog.tables[t].name
        for command in body["cmds"]?.array ?? [] {
            guard let cmd = command["AlterTableCmd"] else { continue }
            switch cmd["subtype"]?.string {
            case "AT_AddColumn":
                if let def = cmd["def"]?["ColumnDef"] { columnDefinition(def, table: tableName, &context) }
            case "AT_AddConstraint":
                if let def = cmd["def"]?["Constraint"], def["indexname"] == nil {
                    constraint(def, table: tableName, inlineColumn: nil, &context)
                }
            case "AT_DropColumn":
                guard let name = cmd["name"]?.string, let t = tableIndex(tableName) else { continue }
                catalog.tables[t].columns.removeAll { $0.name == name }
                // PostgreSQL drops the indexes and constraints that use the column with it.
                catalog.tables[t].indexes.removeAll { index in index.keys.contains { $0.column == name } || index.include.contains(name) }
                catalog.tables[t].foreignKeys.removeAll { $0.columns.contains(name) }
            case "AT_DropConstraint":
                guard let name = cmd["name"]?.string, let t = tableIndex(tableName) else { continue }
                catalog.tables[t].foreignKeys.removeAll { $0.name == name }
                if let index = catalog.tables[t].indexes.first(where: { $0.constraintName == name }) {
                    catalog.tables[t].indexes.removeAll { $0.name == index.name }
                    if index.primary { catalog.tables[t].primaryKey = nil }
                    let keys = index.keys.compactMap(\.column)
                    catalog.tables[t].uniqueConstraints.removeAll { $0 == keys }
                }
            case "AT_AlterColumnType":
                guard let name = cmd["name"]?.string, let typeName = cmd["def"]?["ColumnDef"]?["typeName"],
                      let t = tableIndex(tableName),
                      let c = catalog.tables[t].columns.firstIndex(where: { $0.name == name }) else { continue }
                catalog.tables[t].columns[c].type = formatTypeName(typeName)
            case "AT_SetNotNull":
                guard let name = cmd["name"]?.string, let t = tableIndex(tableName),
                      let c = catalog.tables[t].columns.firstIndex(where: { $0.name == name }) else { continue }
                catalog.tables[t].columns[c].notNull = true
            default:
                continue
            }
        }
    }

    mutating func drop(_ body: JSONValue) {
        let kind = body["removeType"]?.string
        for object in body["objects"]?.array ?? [] {
            let parts = (object["List"]?["items"]?.array ?? []).compactMap(stringValue)
            guard let last = parts.last else { continue }
            let schema = parts.count > 1 ? parts[parts.count - 2] : nil
            if kind == "OBJECT_TABLE" {
                if let t = tableIndex(QualifiedName(schema: schema, last)) { catalog.tables.remove(at: t) }
            } else if kind == "OBJECT_INDEX" {
                for t in catalog.tables.indices where schema == nil || (catalog.tables[t].name.schema ?? "public") == schema {
                    catalog.tables[t].indexes.removeAll { $0.name == last }
                }
            }
        }
    }

    // MARK: helpers

    func qualifiedName(_ rangeVar: JSONValue) -> QualifiedName {
        QualifiedName(schema: rangeVar["schemaname"]?.string, rangeVar["relname"]?.string ?? "")
    }

    func tableIndex(_ name: QualifiedName) -> Int? {
        let schema = name.schema ?? "public"
        return catalog.tables.firstIndex { $0.name.name == name.name && ($0.name.schema ?? "public") == schema }
    }

    /// PostgreSQL's way of naming an unnamed index or constraint: the base name, then base1, base2 ...
    func uniqueName(_ base: String, in t: Int) -> String {
        let table = catalog.tables[t]
        let taken = Set(table.indexes.map(\.name) + table.foreignKeys.map(\.name))
        if !taken.contains(base) { return base }
        var n = 1
        while taken.contains(base + String(n)) { n += 1 }
        return base + String(n)
    }
}

/// Line starts of a text, so that many byte offsets turn into line and column cheaply.
public struct LineIndex: Sendable {
    private let lineStarts: [Int]
    private let bytes: [UInt8]

    public init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// 1-based line and column (in characters) of a UTF-8 byte offset.
    public func lineAndColumn(ofByteOffset offset: Int) -> (line: Int, column: Int) {
        let offset = Swift.max(0, Swift.min(offset, bytes.count))
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var column = 1
        var i = lineStarts[low]
        while i < offset {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return (low + 1, column)
    }
}
