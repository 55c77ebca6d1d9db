/// `CREATE INDEX [CONCURRENTLY] [name] ON table [USING method] (keys) [INCLUDE (...)] [WHERE predicate]`:
/// the one place index DDL is written, for the advisor's recommendations and HypoPG calls and for
/// the rules' fixes. `keys` are SQL as they go between the parentheses (quoted columns,
/// parenthesised expressions, operator classes, DESC); `include` are column names, quoted here;
/// B-tree, the default method, is not spelled out. No trailing semicolon.
public func createIndexStatement(on table: QualifiedName, keys: [String], name: String? = nil, method: String = "btree",
                                 include: [String] = [], predicate: String? = nil, concurrently: Bool = false) -> String {
    var s = "CREATE INDEX "
    if concurrently { s += "CONCURRENTLY " }
    if let name { s += quoteIdentifierIfNeeded(name) + " " }
    s += "ON \(table)"
    if method != "btree" { s += " USING \(method)" }
    s += " (" + keys.joined(separator: ", ") + ")"
    if !include.isEmpty { s += " INCLUDE (" + include.map(quoteIdentifierIfNeeded).joined(separator: ", ") + ")" }
    if let predicate { s += " WHERE \(predicate)" }
    return s
}
