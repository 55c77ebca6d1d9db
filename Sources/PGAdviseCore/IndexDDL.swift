/// The one writer of CREATE INDEX statements: lint fixes and `pgadvise indexes` proposals print the
/// same shape. `keys` are already written as SQL (quoted columns, expressions, operator classes).
public func createIndexStatement(on table: QualifiedName, keys: [String], method: String = "btree", include: [String] = [],
                                 predicate: String? = nil, name: String? = nil, concurrently: Bool = false) -> String {
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
