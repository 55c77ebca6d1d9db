/// A schema-qualified name. `schema == nil` means "as written, unqualified" (resolved through the
/// search path, which pgadvise takes to be `public` unless the catalog says otherwise).
public struct QualifiedName: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public var schema: String?
    public var name: String

    public init(schema: String? = nil, _ name: String) {
        self.schema = schema
        self.name = name
    }

    /// `schema.name` with each part quoted only when PostgreSQL needs it.
    public var description: String {
        if let schema { return "\(quoteIdentifierIfNeeded(schema)).\(quoteIdentifierIfNeeded(name))" }
        return quoteIdentifierIfNeeded(name)
    }

    public static func < (a: QualifiedName, b: QualifiedName) -> Bool {
        (a.schema ?? "", a.name) < (b.schema ?? "", b.name)
    }
}

/// The database's shape and statistics. Filled from DDL files (`lint --schema`) or a live database
/// (`scan`); every rule and advisor reads only this.
public struct Catalog: Codable, Sendable {
    public var tables: [Table]
    /// Installed extensions: name → version.
    public var extensions: [String: String]
    /// Extensions the server could install (name → default version); empty when unknown (DDL input).
    public var availableExtensions: [String: String]
    /// The search path used to resolve unqualified names (live scan: `current_schemas(false)`).
    public var searchPath: [String]

    public init(tables: [Table] = [], extensions: [String: String] = [:],
                availableExtensions: [String: String] = [:], searchPath: [String] = ["public"]) {
        self.tables = tables
        self.extensions = extensions
        self.availableExtensions = availableExtensions
        self.searchPath = searchPath
    }

    /// Finds a table by a name as written in SQL: qualified names match exactly, unqualified ones
    /// through the search path. Names are compared as PostgreSQL stores them (already case-folded
    /// by the parser for unquoted identifiers).
    public func table(_ name: QualifiedName) -> Table? {
        if let schema = name.schema {
            return tables.first { $0.name.name == name.name && ($0.name.schema ?? "public") == schema }
        }
        for schema in searchPath {
            if let hit = tables.first(where: { $0.name.name == name.name && ($0.name.schema ?? "public") == schema }) {
                return hit
            }
        }
        return tables.first { $0.name.name == name.name }
    }

    public var isEmpty: Bool { tables.isEmpty }
}

public struct Table: Codable, Sendable {
    public var name: QualifiedName
    public var columns: [Column]
    public var indexes: [Index]
    public var primaryKey: [String]?
    public var uniqueConstraints: [[String]]
    public var foreignKeys: [ForeignKey]
    /// `pg_class.reltuples` (or a count); nil when unknown.
    public var rowEstimate: Double?
    /// Heap size in bytes (`pg_table_size`); nil when unknown.
    public var sizeBytes: Int64?
    public var usage: TableUsage?
    /// Storage parameters (`WITH (autovacuum_enabled = off, fillfactor = 90)`), name → value; nil when unknown.
    public var storageParameters: [String: String]?

    public init(name: QualifiedName, columns: [Column] = [], indexes: [Index] = [], primaryKey: [String]? = nil,
                uniqueConstraints: [[String]] = [], foreignKeys: [ForeignKey] = [], rowEstimate: Double? = nil,
                sizeBytes: Int64? = nil, usage: TableUsage? = nil, storageParameters: [String: String]? = nil) {
        self.name = name; self.columns = columns; self.indexes = indexes; self.primaryKey = primaryKey
        self.uniqueConstraints = uniqueConstraints; self.foreignKeys = foreignKeys
        self.rowEstimate = rowEstimate; self.sizeBytes = sizeBytes; self.usage = usage
        self.storageParameters = storageParameters
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
}

public struct Column: Codable, Sendable, Equatable {
    public var name: String
    /// The type as `format_type` prints it: `bigint`, `character varying(255)`, `timestamp with time zone`.
    public var type: String
    public var notNull: Bool
    public var defaultExpression: String?
    public var stats: ColumnStats?

    public init(name: String, type: String, notNull: Bool = false, defaultExpression: String? = nil,
                stats: ColumnStats? = nil) {
        self.name = name; self.type = type; self.notNull = notNull
        self.defaultExpression = defaultExpression; self.stats = stats
    }
}

/// `pg_stats` for one column.
public struct ColumnStats: Codable, Sendable, Equatable {
    public var nullFraction: Double
    public var averageWidth: Int
    /// Positive: distinct values; negative: minus the fraction of rows that are distinct (as pg_stats).
    public var nDistinct: Double
    public var correlation: Double?
    public var mostCommonValues: [String]
    public var mostCommonFrequencies: [Double]
    public var histogramBounds: [String]

    public init(nullFraction: Double = 0, averageWidth: Int = 0, nDistinct: Double = 0, correlation: Double? = nil,
                mostCommonValues: [String] = [], mostCommonFrequencies: [Double] = [], histogramBounds: [String] = []) {
        self.nullFraction = nullFraction; self.averageWidth = averageWidth; self.nDistinct = nDistinct
        self.correlation = correlation; self.mostCommonValues = mostCommonValues
        self.mostCommonFrequencies = mostCommonFrequencies; self.histogramBounds = histogramBounds
    }

    /// Distinct values for a table of `rows` rows.
    public func distinctValues(rows: Double) -> Double {
        nDistinct >= 0 ? nDistinct : -nDistinct * rows
    }
}

public struct Index: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Hashable {
        /// A plain column name, or nil for an expression key.
        public var column: String?
        /// The expression as PostgreSQL prints it (`lower((email)::text)`), for expression keys.
        public var expression: String?
        public var descending: Bool
        public var opclass: String?

        public init(column: String? = nil, expression: String? = nil, descending: Bool = false, opclass: String? = nil) {
            self.column = column; self.expression = expression; self.descending = descending; self.opclass = opclass
        }
    }

    public var name: String
    public var table: QualifiedName
    /// `btree`, `gin`, `gist`, `brin`, `hash`, `spgist`.
    public var method: String
    public var keys: [Key]
    public var include: [String]
    /// The partial-index predicate as text, or nil.
    public var predicate: String?
    public var unique: Bool
    public var primary: Bool
    public var valid: Bool
    /// The constraint this index backs (primary key, unique, exclusion), if any.
    public var constraintName: String?
    /// `pg_get_indexdef` or the CREATE INDEX statement it came from.
    public var definition: String
    public var sizeBytes: Int64?
    /// `pg_stat_user_indexes.idx_scan`; nil when unknown.
    public var scans: Int64?

    public init(name: String, table: QualifiedName, method: String = "btree", keys: [Key], include: [String] = [],
                predicate: String? = nil, unique: Bool = false, primary: Bool = false, valid: Bool = true,
                constraintName: String? = nil, definition: String = "", sizeBytes: Int64? = nil, scans: Int64? = nil) {
        self.name = name; self.table = table; self.method = method; self.keys = keys; self.include = include
        self.predicate = predicate; self.unique = unique; self.primary = primary; self.valid = valid
        self.constraintName = constraintName; self.definition = definition; self.sizeBytes = sizeBytes; self.scans = scans
    }

    /// Leading plain columns, up to the first expression key.
    public var leadingColumns: [String] {
        var out: [String] = []
        for key in keys {
            guard let c = key.column else { break }
            out.append(c)
        }
        return out
    }
}

public struct ForeignKey: Codable, Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var referencedTable: QualifiedName
    public var referencedColumns: [String]

    public init(name: String, columns: [String], referencedTable: QualifiedName, referencedColumns: [String]) {
        self.name = name; self.columns = columns; self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
    }
}

/// `pg_stat_user_tables` for one table.
public struct TableUsage: Codable, Sendable, Equatable {
    public var seqScans: Int64
    public var seqTuplesRead: Int64
    public var indexScans: Int64
    public var indexTuplesFetched: Int64
    public var inserts: Int64
    public var updates: Int64
    public var deletes: Int64
    public var hotUpdates: Int64
    public var liveTuples: Int64
    public var deadTuples: Int64
    public var modificationsSinceAnalyze: Int64
    /// ISO-8601 timestamps, nil when never.
    public var lastVacuum: String?
    public var lastAutovacuum: String?
    public var lastAnalyze: String?
    public var lastAutoanalyze: String?

    public init(seqScans: Int64 = 0, seqTuplesRead: Int64 = 0, indexScans: Int64 = 0, indexTuplesFetched: Int64 = 0,
                inserts: Int64 = 0, updates: Int64 = 0, deletes: Int64 = 0, hotUpdates: Int64 = 0,
                liveTuples: Int64 = 0, deadTuples: Int64 = 0, modificationsSinceAnalyze: Int64 = 0,
                lastVacuum: String? = nil, lastAutovacuum: String? = nil, lastAnalyze: String? = nil,
                lastAutoanalyze: String? = nil) {
        self.seqScans = seqScans; self.seqTuplesRead = seqTuplesRead; self.indexScans = indexScans
        self.indexTuplesFetched = indexTuplesFetched; self.inserts = inserts; self.updates = updates
        self.deletes = deletes; self.hotUpdates = hotUpdates; self.liveTuples = liveTuples
        self.deadTuples = deadTuples; self.modificationsSinceAnalyze = modificationsSinceAnalyze
        self.lastVacuum = lastVacuum; self.lastAutovacuum = lastAutovacuum; self.lastAnalyze = lastAnalyze
        self.lastAutoanalyze = lastAutoanalyze
    }
}
