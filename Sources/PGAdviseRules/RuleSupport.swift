import PGAdviseCore
import PGAdviseSQL

extension ColumnRef {
    /// The column as written: `o.user_id` or `user_id`.
    var written: String {
        let name = quoteIdentifierIfNeeded(self.name)
        return qualifier.map { quoteIdentifierIfNeeded($0) + "." + name } ?? name
    }
}

extension QueryShape {
    /// True when the block's rows go to the client: the top SELECT, or an arm of a top-level set
    /// operation. CTEs, derived tables and subqueries feed another block, whose own list counts.
    func returnsRowsToClient(_ index: Int) -> Bool {
        guard kind == .select else { return false }
        var current = index
        while true {
            let block = blocks[current]
            switch block.context {
            case .top: return true
            case .setOperationArm:
                guard let parent = block.parent else { return false }
                current = parent
            default: return false
            }
        }
    }
}

/// `CREATE INDEX CONCURRENTLY ON table (keys);`: a fix must not block writes while it builds.
func createIndexSQL(on table: QualifiedName, keys: String, method: String = "btree") -> String {
    createIndexStatement(on: table, keys: [keys], method: method, concurrently: true) + ";"
}

/// An expression as an index key: a function call stands alone, anything else needs parentheses.
func indexKey(forExpression expression: String, wrappers: [ColumnWrapper]) -> String {
    if case .function? = wrappers.first, expression.hasSuffix(")") { return expression }
    return "(" + expression + ")"
}

let integerTypes: Set<String> = ["smallint", "integer", "bigint"]

extension Table {
    /// Valid, non-partial indexes whose first key is this plain column and that can serve comparisons.
    func btreeIndexes(leadingWith column: String) -> [Index] {
        indexes.filter { index in
            index.valid && index.predicate == nil && index.keys.first?.column == column
                && (index.method == "btree" || (index.method == "hash" && index.keys.count == 1))
        }
    }

    /// Whether an index's first key is this expression (compared in canonical form).
    func hasIndex(onExpression expression: String) -> Bool {
        guard let wanted = canonicalExpressionKey(expression) else { return false }
        return indexes.contains { index in
            guard index.valid, let key = index.keys.first?.expression else { return false }
            return canonicalExpressionKey(key) == wanted
        }
    }
}
