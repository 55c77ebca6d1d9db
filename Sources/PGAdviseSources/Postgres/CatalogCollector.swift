import Foundation
import PGAdviseCore

/// The catalog, with notes on what the role could not see.
public struct CatalogCollection: Sendable {
    public var catalog: Catalog
    /// Parts left out and why (e.g. `pg_stats` rows hidden from a role without SELECT on a table).
    public var skipped: [ScanSkip]
}

/// Fills `Catalog` from a live database with seven set-based statements (tables with their usage,
/// columns, indexes, constraints, `pg_stats`, the search path, extensions), so the number of round trips is the same
/// for ten tables or ten thousand. System schemas and extension-owned tables are left out.
public struct CatalogCollector {
    public let connection: PostgresConnection
    /// The extensions `ServerInfoCollector` already read, so a scan does not ask twice; nil reads them.
    public let knownExtensions: (installed: [String: String], available: [String: String])?

    public init(connection: PostgresConnection) { self.init(connection: connection, knownExtensions: nil) }

    public init(connection: PostgresConnection, server: ServerInfo) {
        self.init(connection: connection, knownExtensions: (server.extensions, server.availableExtensions))
    }

    private init(connection: PostgresConnection, knownExtensions: (installed: [String: String], available: [String: String])?) {
        self.connection = connection
        self.knownExtensions = knownExtensions
    }

    public func collect() throws -> Catalog { try collectWithNotes().catalog }

    public func collectWithNotes() throws -> CatalogCollection {
        var (tables, unreadable) = try readTables()
        var position: [String: Int] = [:]   // pg_class oid → index in `tables`
        for (i, table) in tables.enumerated() { position[table.oid] = i }
        try addColumnsIndexesAndConstraints(&tables, position: position)
        var skipped = try addColumnStatistics(&tables)
        let searchPath = try connection.query(pgadviseStatementMarker + "SELECT current_schemas(false) AS path").records.first?.textArray("path") ?? ["public"]
        let extensions = try knownExtensions ?? readExtensions(connection)
        if !unreadable.isEmpty {
            let sample = unreadable.prefix(3).joined(separator: ", ") + (unreadable.count > 3 ? ", ..." : "")
            skipped.append(ScanSkip(
                step: "column statistics of \(unreadable.count) table(s) (\(sample))",
                reason: "pg_stats shows only columns the role may SELECT; GRANT SELECT on them (or scan as their owner) for selectivity-based advice"))
        }
        return CatalogCollection(
            catalog: Catalog(tables: tables.map(\.table), extensions: extensions.installed, availableExtensions: extensions.available,
                             searchPath: searchPath.isEmpty ? ["public"] : searchPath),
            skipped: skipped)
    }

    /// Every table with its pg_class oid, and the names of those whose columns the role may not read.
    private func readTables() throws -> (tables: [(oid: String, table: Table)], unreadable: [String]) {
        var tables: [(oid: String, table: Table)] = []
        var unreadable: [String] = []
        for r in try connection.query(pgadviseStatementMarker + Self.tablesSQL).records {
            guard let oid = r["oid"], let schema = r["schema"], let name = r["name"] else { continue }
            let reltuples = r.double("reltuples") ?? -1
            var table = Table(name: QualifiedName(schema: schema, name), rowEstimate: reltuples >= 0 ? reltuples : nil,
                              sizeBytes: r.int("size"))
            if r["seq_scan"] != nil || r["n_live_tup"] != nil { table.usage = Self.usage(r) }
            var parameters: [String: String] = [:]
            for option in r.textArray("reloptions") {
                guard let eq = option.firstIndex(of: "=") else { continue }
                parameters[String(option[..<eq])] = String(option[option.index(after: eq)...])
            }
            table.storageParameters = parameters
            tables.append((oid, table))
            if r.bool("readable") == false { unreadable.append(table.name.description) }
        }
        return (tables, unreadable)
    }

    private func addColumnsIndexesAndConstraints(_ tables: inout [(oid: String, table: Table)], position: [String: Int]) throws {
        for r in try connection.query(pgadviseStatementMarker + Self.columnsSQL).records {
            guard let i = r["attrelid"].flatMap({ position[$0] }), let name = r["name"] else { continue }
            tables[i].table.columns.append(Column(name: name, type: r["type"] ?? "", notNull: r.bool("not_null") ?? false,
                                                  defaultExpression: r["default_expr"]))
        }
        for r in try connection.query(pgadviseStatementMarker + Self.indexesSQL).records {
            guard let i = r["indrelid"].flatMap({ position[$0] }), r["name"] != nil else { continue }
            tables[i].table.indexes.append(Self.index(r, table: tables[i].table.name))
        }
        for r in try connection.query(pgadviseStatementMarker + Self.constraintsSQL).records {
            guard let i = r["conrelid"].flatMap({ position[$0] }), let name = r["name"] else { continue }
            let columns = r.textArray("columns")
            switch r["contype"] {
            case "p": tables[i].table.primaryKey = columns
            case "u": tables[i].table.uniqueConstraints.append(columns)
            case "f":
                guard let refSchema = r["ref_schema"], let refTable = r["ref_table"] else { continue }
                tables[i].table.foreignKeys.append(ForeignKey(name: name, columns: columns,
                                                              referencedTable: QualifiedName(schema: refSchema, refTable),
                                                              referencedColumns: r.textArray("ref_columns")))
            default: continue
            }
        }
    }

    /// Column statistics refine advice but are not essential, and pg_stats is the one catalog view
    /// whose size grows with columns times statistics target: a timeout skips it alone.
    private func addColumnStatistics(_ tables: inout [(oid: String, table: Table)]) throws -> [ScanSkip] {
        var tableByName: [QualifiedName: Int] = [:]
        for (i, t) in tables.enumerated() { tableByName[t.table.name] = i }
        let statsRows: [Record]
        do {
            statsRows = try connection.query(pgadviseStatementMarker + Self.statsSQL).records
        } catch let error as PostgresError where error.isStatementTimeout {
            return [ScanSkip(
                step: "column statistics (pg_stats)",
                reason: "reading them took longer than the statement timeout (\(connection.options.statementTimeoutMs) ms); raise --statement-timeout")]
        }
        for r in statsRows {
            guard let schema = r["schemaname"], let table = r["tablename"], let column = r["attname"],
                  let i = tableByName[QualifiedName(schema: schema, table)],
                  let c = tables[i].table.columns.firstIndex(where: { $0.name == column }) else { continue }
            tables[i].table.columns[c].stats = ColumnStats(
                nullFraction: r.double("null_frac") ?? 0, averageWidth: Int(r.int("avg_width") ?? 0),
                nDistinct: r.double("n_distinct") ?? 0, correlation: r.double("correlation"),
                mostCommonValues: r.textArray("mcv"),
                mostCommonFrequencies: r.textArray("mcf").compactMap { Double($0) },
                histogramBounds: r.textArray("histogram"))
        }
        return []
    }

    private static func usage(_ r: Record) -> TableUsage {
        TableUsage(seqScans: r.int("seq_scan") ?? 0, seqTuplesRead: r.int("seq_tup_read") ?? 0,
                   indexScans: r.int("idx_scan") ?? 0, indexTuplesFetched: r.int("idx_tup_fetch") ?? 0,
                   inserts: r.int("n_tup_ins") ?? 0, updates: r.int("n_tup_upd") ?? 0, deletes: r.int("n_tup_del") ?? 0,
                   hotUpdates: r.int("n_tup_hot_upd") ?? 0, liveTuples: r.int("n_live_tup") ?? 0,
                   deadTuples: r.int("n_dead_tup") ?? 0, modificationsSinceAnalyze: r.int("n_mod_since_analyze") ?? 0,
                   lastVacuum: r["last_vacuum"], lastAutovacuum: r["last_autovacuum"], lastAnalyze: r["last_analyze"],
                   lastAutoanalyze: r["last_autoanalyze"])
    }

    private static func index(_ r: Record, table: QualifiedName) -> Index {
        let keyCount = Int(r.int("indnkeyatts") ?? 0)
        let columnNames = r.textArray("key_columns")
        let definitions = r.textArray("key_definitions")
        let options = r.textArray("key_options").map { Int($0) ?? 0 }
        let opclasses = r.textArray("key_opclasses")
        var keys: [Index.Key] = []
        var include: [String] = []
        for k in 0..<columnNames.count {
            let column = columnNames[k].isEmpty ? nil : columnNames[k]
            if k >= keyCount {
                include.append(column ?? (k < definitions.count ? definitions[k] : ""))
                continue
            }
            let opclass = k < opclasses.count && !opclasses[k].isEmpty ? opclasses[k] : nil
            keys.append(Index.Key(column: column, expression: column == nil && k < definitions.count ? definitions[k] : nil,
                                  descending: k < options.count && options[k] & 1 == 1, opclass: opclass))
        }
        return Index(name: r["name"] ?? "", table: table, method: r["method"] ?? "btree", keys: keys, include: include,
                     predicate: r["predicate"], unique: r.bool("indisunique") ?? false,
                     primary: r.bool("indisprimary") ?? false,
                     valid: (r.bool("indisvalid") ?? true) && (r.bool("indisready") ?? true),
                     constraintName: r["constraint_name"], definition: r["definition"] ?? "",
                     sizeBytes: r.int("size"), scans: r.int("idx_scan"))
    }

    /// User tables, partitioned tables and materialized views, outside system schemas and not
    /// created by an extension.
    static let relationsCTE = """
        WITH rels AS (
            SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples, c.reloptions
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'm')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
        )
        """

    /// The counters of pg_stat_all_tables, read with its functions on our relations alone: the view
    /// groups every relation of the database (TOAST tables included) with its indexes, a sort that
    /// spilled to disk on 20,000 tables. `idx_scan` and `idx_tup_fetch` sum the table's indexes as
    /// the view does (NULL for a table without one).
    static let tablesSQL = relationsCTE + """
        , index_usage AS (
            SELECT i.indrelid, sum(pg_stat_get_numscans(i.indexrelid))::bigint AS idx_scan,
                   sum(pg_stat_get_tuples_fetched(i.indexrelid))::bigint AS idx_tup_fetch
            FROM pg_index i JOIN rels r ON r.oid = i.indrelid
            GROUP BY i.indrelid
        )
        SELECT r.oid, r.nspname AS schema, r.relname AS name, r.reltuples, r.reloptions, pg_table_size(r.oid) AS size,
               has_table_privilege(r.oid, 'SELECT') AS readable,
               pg_stat_get_numscans(r.oid) AS seq_scan, pg_stat_get_tuples_returned(r.oid) AS seq_tup_read,
               u.idx_scan, u.idx_tup_fetch + pg_stat_get_tuples_fetched(r.oid) AS idx_tup_fetch,
               pg_stat_get_tuples_inserted(r.oid) AS n_tup_ins, pg_stat_get_tuples_updated(r.oid) AS n_tup_upd,
               pg_stat_get_tuples_deleted(r.oid) AS n_tup_del, pg_stat_get_tuples_hot_updated(r.oid) AS n_tup_hot_upd,
               pg_stat_get_live_tuples(r.oid) AS n_live_tup, pg_stat_get_dead_tuples(r.oid) AS n_dead_tup,
               pg_stat_get_mod_since_analyze(r.oid) AS n_mod_since_analyze,
               \(isoTimestamp("pg_stat_get_last_vacuum_time(r.oid)")) AS last_vacuum,
               \(isoTimestamp("pg_stat_get_last_autovacuum_time(r.oid)")) AS last_autovacuum,
               \(isoTimestamp("pg_stat_get_last_analyze_time(r.oid)")) AS last_analyze,
               \(isoTimestamp("pg_stat_get_last_autoanalyze_time(r.oid)")) AS last_autoanalyze
        FROM rels r LEFT JOIN index_usage u ON u.indrelid = r.oid
        ORDER BY r.nspname, r.relname
        """

    static let columnsSQL = relationsCTE + """
        SELECT a.attrelid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
               pg_get_expr(d.adbin, d.adrelid) AS default_expr
        FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """

    /// Per index key position: the column name ('' for an expression), the expression as PostgreSQL
    /// prints it ('' for a column), the DESC bit of `indoption`, and the operator class when it is
    /// not the type's default (the last two for key columns only, as `indoption` and `indclass` hold).
    /// The positions of every index are unnested and joined to pg_attribute and pg_opclass in one
    /// pass, and `pg_get_indexdef(oid, k, true)` runs for expression keys alone (four subqueries per
    /// index and a call per key were a third of the server's CPU on 100,000 indexes; the rest is the
    /// one `pg_get_indexdef` and `pg_relation_size` per index that `definition` and `size` need).
    /// `idx_scan` is pg_stat_all_indexes', which has no row (NULL) for a partitioned table's index.
    static let indexesSQL = relationsCTE + """
        , idx AS (
            SELECT i.indexrelid, r.relkind FROM pg_index i JOIN rels r ON r.oid = i.indrelid
        ), keys AS (
            SELECT x.indexrelid,
                   array_agg(coalesce(a.attname, '') ORDER BY x.ord) AS key_columns,
                   array_agg(CASE WHEN x.attnum = 0 THEN pg_get_indexdef(x.indexrelid, x.ord::int, true) ELSE '' END
                             ORDER BY x.ord) AS key_definitions,
                   array_agg(x.option ORDER BY x.ord) FILTER (WHERE x.ord <= x.indnkeyatts) AS key_options,
                   array_agg(CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END ORDER BY x.ord)
                       FILTER (WHERE x.ord <= x.indnkeyatts) AS key_opclasses
            FROM (SELECT i.indexrelid, i.indrelid, i.indnkeyatts, k.attnum, k.option, k.opclass, k.ord
                  FROM idx JOIN pg_index i ON i.indexrelid = idx.indexrelid,
                       unnest(i.indkey::int2[], i.indoption::int2[], i.indclass::oid[])
                           WITH ORDINALITY AS k(attnum, option, opclass, ord)) x
            LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.attnum AND x.attnum > 0
            LEFT JOIN pg_opclass opc ON opc.oid = x.opclass
            GROUP BY x.indexrelid
        )
        SELECT i.indrelid, ic.relname AS name, am.amname AS method, i.indisunique, i.indisprimary, i.indisvalid,
               i.indisready, i.indnkeyatts, pg_get_indexdef(i.indexrelid) AS definition,
               pg_get_expr(i.indpred, i.indrelid, true) AS predicate, pg_relation_size(i.indexrelid) AS size,
               CASE WHEN idx.relkind <> 'p' THEN pg_stat_get_numscans(i.indexrelid) END AS idx_scan,
               con.conname AS constraint_name, k.key_columns, k.key_definitions, k.key_options, k.key_opclasses
        FROM idx JOIN pg_index i ON i.indexrelid = idx.indexrelid
        JOIN keys k ON k.indexrelid = i.indexrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                     AND con.contype IN ('p', 'u', 'x')
        ORDER BY i.indrelid, ic.relname
        """

    static let constraintsSQL = relationsCTE + """
        SELECT con.conrelid, con.conname AS name, con.contype,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
               fn.nspname AS ref_schema, fc.relname AS ref_table,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns
        FROM pg_constraint con JOIN rels r ON r.oid = con.conrelid
        LEFT JOIN pg_class fc ON fc.oid = con.confrelid
        LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE con.contype IN ('p', 'u', 'f')
        ORDER BY con.conrelid, con.conname
        """

    /// One row per column; a partitioned parent has only `inherited` rows, a plain table's own
    /// rows win over its inheritance-tree rows.
    static let statsSQL = """
        SELECT DISTINCT ON (schemaname, tablename, attname) schemaname, tablename, attname, null_frac, avg_width,
               n_distinct, correlation, most_common_vals::text AS mcv, most_common_freqs::text AS mcf,
               histogram_bounds::text AS histogram
        FROM pg_stats
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY schemaname, tablename, attname, inherited
        """
}
