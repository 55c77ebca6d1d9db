import PGAdviseCore

/// What a statement does, read from libpg_query's parse tree: the only view of SQL that rules and the
/// index advisor use. Built by `QueryShape.build(sql:)`; columns are resolved to tables with
/// `resolved(with:)` when a Catalog is at hand.
///
/// A statement is a list of query blocks: the top-level SELECT (or the UPDATE/DELETE/INSERT itself),
/// then every CTE, subquery, set-operation arm and EXISTS/IN subquery, each with its own FROM scope.
public struct QueryShape: Sendable {
    public var kind: StatementKind
    /// The original text, for locations and evidence.
    public var text: String
    /// Byte offset of this statement within the file or script it came from (0 for a lone statement).
    public var byteOffset: Int
    public var blocks: [QueryBlock]
    /// INSERT/UPDATE/DELETE/MERGE target.
    public var target: RelationRef?
    /// For a `CREATE INDEX` (a utility statement): what it builds, so that migration rules can judge
    /// how it locks. Nil for every other statement.
    public var indexCreation: IndexCreation? = nil
    /// What the statement assigns to columns of `target`: UPDATE's SET, INSERT ... ON CONFLICT DO UPDATE
    /// SET, MERGE's WHEN MATCHED THEN UPDATE SET. Whether an UPDATE can stay HOT depends on them.
    public var assignments: [Assignment] = []
    /// The RETURNING list of a top-level INSERT, UPDATE or DELETE: rows sent to the client like a
    /// SELECT list's. (A RETURNING inside a writable CTE feeds the outer query and is not kept.)
    public var returning: [ProjectionItem] = []
    /// For CREATE VIEW, CREATE MATERIALIZED VIEW and CREATE TABLE AS (utility statements): the relation
    /// defined. Its SELECT is in `blocks` and is checked like any query; its rows fill the relation
    /// rather than go to a client. Nil for every other statement.
    public var definedRelation: RelationRef? = nil
    /// For `COPY table FROM ...` (a utility statement): the table it loads, which gains a row (and an
    /// entry in each index) per row copied. Nil for every other statement, COPY ... TO included.
    public var copyTarget: RelationRef? = nil
    /// The `$n` in a WHERE, HAVING or JOIN ... ON of any block: the parameters that decide which rows
    /// are read. Any other (select list, CASE results, aggregate arguments) changes only what is
    /// computed from them.
    public var filteringParameters: Set<Int> = []

    /// The distinct columns `assignments` set, in order.
    public var assignedColumns: [String] {
        var names: [String] = []
        for a in assignments where !names.contains(a.column) { names.append(a.column) }
        return names
    }

    public init(kind: StatementKind, text: String, byteOffset: Int = 0, blocks: [QueryBlock] = [], target: RelationRef? = nil) {
        self.kind = kind; self.text = text; self.byteOffset = byteOffset; self.blocks = blocks; self.target = target
    }

    /// Every relation read or written, in order of appearance, without duplicates.
    public var allRelations: [RelationRef] {
        var seen = Set<RelationRef>()
        return blocks.flatMap(\.relations).filter { seen.insert($0).inserted }
    }
}

public enum StatementKind: String, Codable, Sendable {
    case select, insert, update, delete, merge
    /// DDL, SET, VACUUM, COPY, transaction control ...: no query rules apply.
    case utility
}

/// A table (or view) as named in a statement.
public struct RelationRef: Hashable, Sendable, Codable {
    public var name: QualifiedName
    public var alias: String?
    /// Byte offset of the reference in the statement.
    public var location: Int

    public init(name: QualifiedName, alias: String? = nil, location: Int = 0) {
        self.name = name; self.alias = alias; self.location = location
    }

    /// The name columns qualify it by: the alias, else the bare table name.
    public var exposedName: String { alias ?? name.name }
}

/// A column as referenced, and, once resolved, the table it belongs to.
public struct ColumnRef: Hashable, Sendable, Codable {
    /// The qualifier as written (`o` in `o.id`), nil when unqualified.
    public var qualifier: String?
    public var name: String
    /// The relation it belongs to: set by the builder when the qualifier or a single-relation scope makes
    /// it certain, else by `resolved(with:)` from the catalog.
    public var relation: RelationRef?
    public var location: Int

    public init(qualifier: String? = nil, name: String, relation: RelationRef? = nil, location: Int = 0) {
        self.qualifier = qualifier; self.name = name; self.relation = relation; self.location = location
    }
}

/// A constant as written in the statement.
public enum Constant: Hashable, Sendable, Codable {
    case integer(Int64)
    /// Numeric literals with a point or exponent, kept as written (`1.5`, `1e3`).
    case numeric(String)
    case string(String)
    case boolean(Bool)
    case null
}

/// What a predicate compares its column with.
public enum PredicateValue: Hashable, Sendable {
    case constant(Constant)
    /// `$n`.
    case parameter(Int)
    /// `IN (...)` / `= ANY(ARRAY[...])` with its elements (constants or parameters) and their count.
    case list(count: Int, constants: [Constant])
    /// `= ANY($1)`.
    case arrayParameter(Int)
    /// Another column (a join or correlation condition).
    case column(ColumnRef)
    case subquery
    /// `IS NULL` / `IS NOT NULL` and other operators without a right side.
    case none
    /// Anything else (a function call, arithmetic on constants, now() ...), as text.
    case expression(String)
}

/// How the column side of a predicate is wrapped, which decides whether a plain index on the column
/// can serve it.
public enum ColumnWrapper: Hashable, Sendable {
    /// `lower(email)`, `date_trunc('day', created_at)`, `extract(year FROM d)` ...
    case function(name: String)
    /// `created_at::date`, `CAST(id AS text)`.
    case cast(type: String)
    /// `price * 1.1`, `id + 1`.
    case arithmetic(op: String)
    /// `name COLLATE "C"`.
    case collate(String)
}

/// One comparison in a WHERE, JOIN ... ON, or HAVING clause, with a column on one side.
public struct Predicate: Hashable, Sendable {
    public var column: ColumnRef
    /// The operator (`.equal`, `.like`, `.in` ...). The builder writes `x = ANY(...)` as `IN` and
    /// `x <> ALL(...)` as `NOT IN` (other quantified comparisons as `> ANY`, `< ALL` ...); `5 < x` is
    /// turned around to `x > 5`. BETWEEN's value is `.list(count: 2, ...)` when both bounds are
    /// constants, else `.expression("lo AND hi")`.
    public var comparison: PredicateOperator
    public var value: PredicateValue
    /// The wrappers around the column, outermost first (empty for a bare column).
    public var wrappers: [ColumnWrapper]
    /// The column side as text when wrapped (`lower(email)`), canonical form: what an expression index
    /// on the same expression would print, so the two compare equal.
    public var expressionText: String?
    /// The wrapped column side holds a parameter (`substring(c_phone, $1, $2)`): no index can be
    /// defined on it while the values are unknown.
    public var expressionTakesParameters = false
    /// True when the predicate sits under an OR or NOT, so it cannot drive an index scan by itself.
    public var underOr: Bool
    /// Where in the statement the predicate (operator) is, as a byte offset.
    public var location: Int
    /// The clause it came from.
    public var clause: Clause
    /// The explicit cast on the value side (`$1::numeric` gives `numeric`), as `format_type` prints it;
    /// nil when the value is not cast. (Added by the builder for the implicit-cast rule.)
    public var valueType: String? = nil
    /// How to run the statement with a chosen value on the value side when that side is arithmetic
    /// on parameters (`$1::date - $2::interval`); nil for a plain `$n` and for expressions it cannot reduce.
    public var valueFill: ParameterFill? = nil
    /// How each element of an IN list or each of BETWEEN's bounds takes a chosen value, in order, when
    /// every one is a parameter or reduces to one (`$4 - $5`); empty otherwise.
    public var elementFills: [ParameterFill] = []
    /// The whole condition printed canonically with qualifiers as written (`lower(u.email) = $1`), for
    /// evidence in findings. Printed on first use from the parse tree: most conditions never appear in
    /// a finding, and printing every one was a sixth of the builder's time.
    public var conditionText: String {
        get { condition?.text ?? storedConditionText }
        set { storedConditionText = newValue; condition = nil }
    }
    var storedConditionText: String = ""
    var condition: ConditionText? = nil

    public enum Clause: String, Hashable, Sendable { case `where`, joinOn, having }

    public init(column: ColumnRef, op: PredicateOperator, value: PredicateValue, wrappers: [ColumnWrapper] = [],
                expressionText: String? = nil, underOr: Bool = false, location: Int = 0, clause: Clause = .where) {
        self.column = column; self.comparison = op; self.value = value; self.wrappers = wrappers
        self.expressionText = expressionText; self.underOr = underOr; self.location = location; self.clause = clause
    }

    public var isWrapped: Bool { !wrappers.isEmpty }
    /// `=` or `IN`/`= ANY` on a bare column: the predicates an index's leading columns serve best.
    public var isEquality: Bool { !isWrapped && (comparison == .equal || comparison == .in) }
    public var isRange: Bool { !isWrapped && [.less, .lessOrEqual, .greater, .greaterOrEqual, .between].contains(comparison) }
}

/// Values for the parameters of an expression that make it evaluate to a chosen value. Normalizing a
/// statement (pg_stat_statements) turns constant arithmetic into arithmetic on parameters: `date
/// '1998-12-01' - interval '90' day` becomes `$1::date - $2::interval`, `'SKU-' || '42'` becomes
/// `$2::text || $1`. The carrier takes the value; every other parameter takes the neutral element of
/// its operator (0 for `+` and `-` terms, 1 for other factors of a zero product, '' for `||`).
public struct ParameterFill: Hashable, Sendable {
    public var carrier: Int
    public var neutral: [Int: String]
    /// `now() - $n::interval`: the carrier takes the interval from the chosen time to now.
    public var beforeNow: Bool

    public init(carrier: Int, neutral: [Int: String] = [:], beforeNow: Bool = false) {
        self.carrier = carrier; self.neutral = neutral; self.beforeNow = beforeNow
    }
}

/// `a.x = b.y` between two relations of the same block.
public struct JoinCondition: Hashable, Sendable {
    public var left: ColumnRef
    public var right: ColumnRef
    public var comparison: PredicateOperator
    /// `inner`, `left`, `right`, `full`, `cross`; `inner` for comma joins with a WHERE condition.
    public var joinType: String

    public init(left: ColumnRef, right: ColumnRef, op: PredicateOperator = .equal, joinType: String = "inner") {
        self.left = left; self.right = right; self.comparison = op; self.joinType = joinType
    }
}

public struct SortKey: Hashable, Sendable {
    /// The column when the key is a plain column.
    public var column: ColumnRef?
    /// The key as text when it is an expression (`random()`, `lower(name)`), canonical form.
    public var expressionText: String?
    public var descending: Bool
    /// nil: the default for the direction.
    public var nullsFirst: Bool?
    public var location: Int

    public init(column: ColumnRef? = nil, expressionText: String? = nil, descending: Bool = false,
                nullsFirst: Bool? = nil, location: Int = 0) {
        self.column = column; self.expressionText = expressionText; self.descending = descending
        self.nullsFirst = nullsFirst; self.location = location
    }
}

public enum LimitValue: Hashable, Sendable {
    case literal(Int64)
    case parameter(Int)
    /// `LIMIT ALL` / `LIMIT NULL`.
    case all
    case expression(String)
}

public enum ProjectionItem: Hashable, Sendable {
    /// `*` (qualifier nil) or `t.*`.
    case star(qualifier: String?, location: Int)
    case column(ColumnRef)
    /// Any other target (function, arithmetic, aggregate ...), with the columns it reads.
    case expression(text: String, columns: [ColumnRef], location: Int)
}

/// Where a block sits in its statement; rules use it (e.g. `*` inside EXISTS is harmless).
public enum BlockContext: Hashable, Sendable {
    /// The statement's own level (for UPDATE/DELETE: their WHERE and target).
    case top
    case cte(name: String)
    /// A subquery in FROM (a derived table), or LATERAL.
    case derivedTable(alias: String?)
    /// `EXISTS (...)` / `NOT EXISTS (...)`.
    case exists(negated: Bool)
    /// `x IN (SELECT ...)` / `x NOT IN (SELECT ...)`.
    case inSubquery(negated: Bool)
    /// A scalar subquery in a target list or expression.
    case scalarSubquery
    /// One arm of UNION / INTERSECT / EXCEPT.
    case setOperationArm
    /// The SELECT feeding `INSERT ... SELECT`.
    case insertSource
}

/// One `column = value` of a SET list. The value is a parameter, a constant, or `.expression` for
/// anything else (`SET (a, b) = (SELECT ...)` gives each column `.subquery`).
public struct Assignment: Sendable, Equatable {
    public var column: String
    public var value: PredicateValue

    public init(column: String, value: PredicateValue) {
        self.column = column; self.value = value
    }
}

/// One query level with its own FROM scope.
public struct QueryBlock: Sendable {
    public var context: BlockContext
    public var relations: [RelationRef]
    public var predicates: [Predicate]
    public var joins: [JoinCondition]
    public var orderBy: [SortKey]
    public var groupBy: [ColumnRef]
    public var distinct: Bool
    public var limit: LimitValue?
    public var offset: LimitValue?
    public var projection: [ProjectionItem]
    /// `IN (...)` lists with their element counts and byte offsets.
    public var inLists: [(column: ColumnRef?, count: Int, location: Int)]
    public var hasWhere: Bool
    /// Aggregates in the target list (count, sum ...), so an ORDER BY/LIMIT is not row pagination.
    public var hasAggregates: Bool
    /// Relations in FROM with no join condition linking them to the rest (pairs of exposed names).
    /// Left empty when an unqualified column in a multi-relation FROM makes the links uncertain, and
    /// for items that are cartesian by intent (CROSS JOIN, LATERAL, set-returning functions, VALUES,
    /// subqueries that return one row).
    public var unjoinedRelationPairs: [(String, String)]
    /// Byte offset of the block in the statement: the subquery's `EXISTS`/`IN`/`(`, or the SELECT.
    public var location: Int = 0
    /// Index in `QueryShape.blocks` of the block this one is nested in; nil for the top block.
    public var parent: Int? = nil
    /// Exposed names of FROM items that are not tables: derived tables, CTE references, functions,
    /// VALUES. Unqualified columns may belong to them, so the catalog cannot resolve those alone.
    public var nonTableItems: [String] = []
    /// Byte offset of the OFFSET value, when there is one.
    public var offsetLocation: Int? = nil
    /// True when the block's SELECT list has no GROUP BY yet aggregates, or a literal `LIMIT 1`:
    /// it returns at most one row.
    public var returnsOneRow: Bool = false
    /// FROM items that name a CTE of the statement (`FROM recent r`), as written.
    public var cteReferences: [RelationRef] = []
    /// For a writable CTE's block (`WITH d AS (DELETE FROM t ...)`): whether it updates or deletes,
    /// and the table it writes. Nil for every other block (the statement's own target is `target`).
    public var writeKind: StatementKind? = nil
    public var writeTarget: RelationRef? = nil

    public init(context: BlockContext, relations: [RelationRef] = [], predicates: [Predicate] = [],
                joins: [JoinCondition] = [], orderBy: [SortKey] = [], groupBy: [ColumnRef] = [], distinct: Bool = false,
                limit: LimitValue? = nil, offset: LimitValue? = nil, projection: [ProjectionItem] = [],
                inLists: [(column: ColumnRef?, count: Int, location: Int)] = [], hasWhere: Bool = false,
                hasAggregates: Bool = false, unjoinedRelationPairs: [(String, String)] = []) {
        self.context = context; self.relations = relations; self.predicates = predicates; self.joins = joins
        self.orderBy = orderBy; self.groupBy = groupBy; self.distinct = distinct; self.limit = limit
        self.offset = offset; self.projection = projection; self.inLists = inLists; self.hasWhere = hasWhere
        self.hasAggregates = hasAggregates; self.unjoinedRelationPairs = unjoinedRelationPairs
    }

    /// The relation a qualifier names in this block (alias first, then table name).
    public func relation(named qualifier: String) -> RelationRef? {
        relations.first { $0.alias == qualifier } ?? relations.first { $0.alias == nil && $0.name.name == qualifier }
    }
}

/// A `CREATE INDEX` statement as migration rules see it.
public struct IndexCreation: Hashable, Sendable {
    /// The table, as named (location: where its name is in the statement).
    public var table: RelationRef
    public var name: String?
    public var concurrently: Bool
    public var unique: Bool

    public init(table: RelationRef, name: String? = nil, concurrently: Bool, unique: Bool) {
        self.table = table; self.name = name; self.concurrently = concurrently; self.unique = unique
    }
}
