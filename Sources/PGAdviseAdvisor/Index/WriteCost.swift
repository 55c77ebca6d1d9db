import Foundation
import PGAdviseCore
import PGAdviseSQL

/// One workload statement that writes a table, as index maintenance sees it.
struct TableWrite {
    var query: QueryStats
    var shape: QueryShape
    var table: QualifiedName
    /// Rows it wrote over the workload's window (`rows` from pg_stat_statements, else its calls).
    var rows: Int64
    /// Lower-cased columns an UPDATE (or MERGE's, or ON CONFLICT's, UPDATE) assigns.
    var assigned: Set<String>

    /// A `COPY ... FROM` appends rows as an INSERT does.
    var kind: StatementKind { shape.copyTarget == nil ? shape.kind : .insert }
    var displayText: String { statementInsidePrepare(query.normalized) }

    /// An INSERT or COPY ... FROM that writes at least this many rows per call is a bulk load
    /// (`INSERT ... SELECT`, a large multi-row VALUES, a COPY of a file), not an application's
    /// row-at-a-time writes: OLTP statements write one or a few rows per call, and PostgreSQL's
    /// "Populating a Database" advice (use COPY, load, then create the indexes) is about exactly
    /// such loads. A COPY of a few rows per call (micro-batches) is a steady write rate like any.
    static let bulkRowsPerCall: Int64 = 10_000

    var isBulkLoad: Bool { kind == .insert && rows / Int64(max(1, query.calls)) >= Self.bulkRowsPerCall }

    /// Rows of the table (pg_class.reltuples), after the load when it was the table's first.
    var tableRows: Double = 0

    /// Share of a row-by-row index entry (one random leaf page touch) each row costs. A bulk load
    /// costs an index at most what building it over the whole table costs, since the index can be
    /// dropped and rebuilt around the load: a sort, charged as PostgreSQL's cost_sort does (2 x
    /// cpu_operator_cost per comparison, n log2 n comparisons), plus writing the leaves in order
    /// (about a hundred entries per 8 kB page at seq_page_cost 1). That bound pays when the load
    /// is most of the table (a fresh load); a batch into a large table is charged row by row.
    var perRowFactor: Double {
        guard isBulkLoad else { return 1 }
        let rowsPerCall = Double(rows) / Double(max(1, query.calls))
        let rebuilt = max(rowsPerCall, tableRows)
        return min(1, (2 * 0.0025 * log2(rebuilt) + 0.01) * rebuilt / rowsPerCall)
    }
}

/// Writes to a table known only from pg_stat_user_tables, scaled to the workload's window.
struct CounterWrites {
    var inserts: Double
    var deletes: Double
    /// Updates that were not HOT: they already write an entry in every index.
    var nonHotUpdates: Double
    /// Updates that were HOT: which columns they set is unknown.
    var hotUpdates: Double
    /// How the counters were scaled, for the reader.
    var explanation: String
}

/// The cost of keeping a table's indexes up to date under the workload's writes, HOT-aware.
///
/// PostgreSQL 15 updates a row in place of a new index entry (a heap-only tuple, HOT) only when the
/// UPDATE changes no column that any index of the table mentions: key, INCLUDE, expression or
/// predicate column (BRIN included until 16). So an index costs an INSERT one entry, costs an UPDATE
/// that is already not HOT one entry, and costs an UPDATE that it alone stops being HOT one entry in
/// every index of the table. An UPDATE that sets none of the indexed columns stays HOT and pays
/// nothing (when the page has room, which a table that is updated in place usually keeps). An UPDATE
/// that sets a column to the value the row already holds is still HOT; the statement's text cannot
/// tell, so setting the column counts as changing it, which errs on the side of the writes.
/// DELETE writes no index entry, but vacuum must later remove its rows' entries from every index,
/// so deleted rows are charged like inserted ones.
struct WriteCostModel {
    let catalog: Catalog
    private(set) var writes: [QualifiedName: [TableWrite]] = [:]
    private(set) var counters: [QualifiedName: CounterWrites] = [:]

    /// `workloadWindowSeconds`: how long the workload's counters ran (pg_stat_statements since its
    /// reset); `tableWindowSeconds`: how long pg_stat_user_tables counted (pg_stat_database since its
    /// reset). Counters are used only for tables the workload's own DML does not write, and only
    /// when both windows are known, so a bulk load years ago never blocks an index.
    init(catalog: Catalog, workload: Workload, workloadWindowSeconds: Double?, tableWindowSeconds: Double?) {
        self.catalog = catalog
        for query in workload.queries where query.parsed {
            guard let shape = buildShape(statementInsidePrepare(query.normalized)),
                  [.insert, .update, .delete, .merge].contains(shape.kind) || shape.copyTarget != nil,
                  let target = shape.target ?? shape.copyTarget, let table = catalog.table(target.name) else { continue }
            writes[table.name, default: []].append(TableWrite(
                query: query, shape: shape, table: table.name, rows: query.rows ?? Int64(query.calls),
                assigned: Set(shape.assignedColumns.map { $0.lowercased() }), tableRows: table.rowEstimate ?? 0))
        }
        for table in catalog.tables where !writesCounted(table.name) {
            guard let usage = table.usage, usage.inserts + usage.updates + usage.deletes > 0 else { continue }
            guard let workloadWindow = workloadWindowSeconds, let tableWindow = tableWindowSeconds,
                  workloadWindow > 0, tableWindow > 0 else { continue }
            let scale = workloadWindow / tableWindow
            let explanation = (writes[table.name] == nil ? "no statement of the workload writes \(table.name)"
                               : "the writes to \(table.name) are known only from the log, which holds only the slow ones")
                + "; pg_stat_user_tables counted "
                + "\(usage.inserts) inserts, \(usage.updates) updates (\(usage.hotUpdates) HOT) and \(usage.deletes) deletes in "
                + "\(Self.duration(tableWindow)), scaled to the workload's \(Self.duration(workloadWindow)) (x\(String(format: "%.3g", scale)))"
            counters[table.name] = CounterWrites(
                inserts: Double(usage.inserts) * scale, deletes: Double(usage.deletes) * scale,
                nonHotUpdates: Double(max(0, usage.updates - usage.hotUpdates)) * scale,
                hotUpdates: Double(usage.hotUpdates) * scale, explanation: explanation)
        }
    }

    /// True when the workload counted every write to `table` (pg_stat_statements saw its DML). A
    /// log holds only the writes slow enough to be logged, so DML seen only in a log undercounts the
    /// rate, and the table's counters (scaled to the window) are charged instead.
    func writesCounted(_ table: QualifiedName) -> Bool {
        (writes[table] ?? []).contains { $0.query.queryId != nil }
    }

    /// The workload's bulk loads (see `TableWrite.isBulkLoad`).
    var bulkLoads: [TableWrite] { writes.values.flatMap { $0 }.filter(\.isBulkLoad).sorted { $0.query.fingerprint < $1.query.fingerprint } }

    /// Tables whose counters show writes although neither the workload nor a known window lets them
    /// be charged, for a note.
    func uncharged(workloadWindowSeconds: Double?, tableWindowSeconds: Double?) -> [QualifiedName] {
        guard workloadWindowSeconds == nil || tableWindowSeconds == nil else { return [] }
        return catalog.tables.filter { table in
            guard !writesCounted(table.name), let usage = table.usage else { return false }
            return usage.inserts + usage.updates + usage.deletes > 0
        }.map(\.name)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds >= 2 * 86_400 { return String(format: "%.1f days", seconds / 86_400) }
        if seconds >= 2 * 3_600 { return String(format: "%.1f hours", seconds / 3_600) }
        if seconds >= 120 { return String(format: "%.0f minutes", seconds / 60) }
        return String(format: "%.0f s", seconds)
    }

    /// Planner cost units charged per row written for one more entry in one index: about one leaf
    /// page touch (seq_page_cost = 1) for a B-tree, a range summary update for BRIN, several entries
    /// for GIN. A partial index only takes the rows its predicate keeps.
    static func costPerRow(method: String, rowShare: Double = 1) -> Double {
        let perEntry: Double
        switch method {
        case "brin": perEntry = 0.05
        case "gin": perEntry = 3
        default: perEntry = 1
        }
        return perEntry * min(1, max(0, rowShare))
    }

    /// Lower-cased columns of `table` that `text` (an index expression or predicate) mentions, as
    /// libpg_query reads it. Text that does not parse is taken to mention every column, which only
    /// makes the estimate more cautious.
    static func columnsMentioned(in text: String?, of table: Table) -> Set<String> {
        guard let text, !text.isEmpty else { return [] }
        let all = Set(table.columns.map { $0.name.lowercased() })
        guard let referenced = columnsReferenced(inExpression: text) else { return all }
        return Set(referenced.map { $0.lowercased() }).intersection(all)
    }

    func columns(of index: Index, table: Table) -> Set<String> {
        var columns = Set(index.keys.compactMap { $0.column?.lowercased() } + index.include.map { $0.lowercased() })
        for key in index.keys where key.column == nil { columns.formUnion(Self.columnsMentioned(in: key.expression, of: table)) }
        return columns.union(Self.columnsMentioned(in: index.predicate, of: table))
    }

    func columns(of candidate: IndexCandidate, table: Table) -> Set<String> {
        var columns = Set(candidate.keys.compactMap { $0.column?.lowercased() } + candidate.include.map { $0.lowercased() })
        for key in candidate.keys where key.column == nil { columns.formUnion(Self.columnsMentioned(in: key.expression, of: table)) }
        if let partial = candidate.partialColumn { columns.insert(partial.lowercased()) }
        return columns.union(Self.columnsMentioned(in: candidate.predicate, of: table))
    }

    /// The indexes of a table under a configuration: every valid existing one plus the candidates on it.
    private struct TableIndexes {
        var columns: Set<String>
        var costPerRow: Double
        var count: Int
    }

    private func indexes(of table: Table, with configuration: [IndexCandidate]) -> TableIndexes {
        var result = TableIndexes(columns: [], costPerRow: 0, count: 0)
        for index in table.indexes where index.valid {
            result.columns.formUnion(columns(of: index, table: table))
            result.costPerRow += Self.costPerRow(method: index.method)
            result.count += 1
        }
        for candidate in configuration where candidate.table == table.name {
            result.columns.formUnion(columns(of: candidate, table: table))
            result.costPerRow += Self.costPerRow(method: candidate.method, rowShare: candidate.predicateRowShare)
            result.count += 1
        }
        return result
    }

    /// Updates this few say nothing about whether the table's updates can be HOT.
    static let updatesToJudgeHot: Int64 = 10

    /// False when pg_stat_user_tables counted updates on the table and none was HOT: its pages have no
    /// room for a new row version (fillfactor 100 after a load, dead rows not yet pruned), so every
    /// UPDATE, whatever it sets, writes an entry in every index and no index can make one lose HOT.
    func updatesCanBeHot(_ table: Table) -> Bool {
        guard let usage = table.usage, usage.updates >= Self.updatesToJudgeHot else { return true }
        return usage.hotUpdates > 0
    }

    /// True when the write adds an entry to every index under `indexes`: anything but an UPDATE that
    /// sets no indexed column on a table whose updates can be HOT.
    private func maintainsEveryIndex(_ write: TableWrite, columnsIndexed: Set<String>, hotPossible: Bool) -> Bool {
        guard write.kind == .update, hotPossible else { return true }
        return !write.assigned.isDisjoint(with: columnsIndexed)
    }

    /// Index maintenance of every write to the candidates' tables under `configuration` (existing
    /// indexes included), in planner cost units. The selection charges a step the difference.
    func cost(of configuration: [IndexCandidate], tables: Set<QualifiedName>) -> Double {
        var total = 0.0
        for name in tables {
            guard let table = catalog.table(name) else { continue }
            let all = indexes(of: table, with: configuration)
            let hotPossible = updatesCanBeHot(table)
            if let c = counters[name] {
                total += (c.inserts + c.deletes + c.nonHotUpdates) * all.costPerRow
                continue
            }
            for write in writes[name] ?? [] where maintainsEveryIndex(write, columnsIndexed: all.columns, hotPossible: hotPossible) {
                total += Double(write.rows) * all.costPerRow * write.perRowFactor
            }
        }
        return total
    }

    /// What `candidate` costs the workload's writes next to the other chosen indexes: the statements
    /// that must maintain it, those it makes lose HOT (HOT today, and they set a column it mentions),
    /// and the total.
    func overhead(of candidate: IndexCandidate, chosen: [IndexCandidate]) -> WriteOverhead {
        guard let table = catalog.table(candidate.table) else { return WriteOverhead(rowsWritten: 0, estimatedCost: 0) }
        let existing = indexes(of: table, with: [])
        let withAll = indexes(of: table, with: chosen.filter { $0 != candidate } + [candidate])
        let mine = columns(of: candidate, table: table)
        let ownCost = Self.costPerRow(method: candidate.method, rowShare: candidate.predicateRowShare)
        var overhead = WriteOverhead(rowsWritten: 0, estimatedCost: 0)
        let hotPossible = updatesCanBeHot(table)
        for write in writes[table.name] ?? [] {
            overhead.rowsWritten += write.rows
            let losesHot = hotPossible && write.kind == .update && write.assigned.isDisjoint(with: existing.columns)
                && !write.assigned.isDisjoint(with: mine)
            guard losesHot || maintainsEveryIndex(write, columnsIndexed: existing.columns, hotPossible: hotPossible) else { continue }
            let cost = Double(write.rows) * (losesHot ? withAll.costPerRow : ownCost) * write.perRowFactor
            overhead.estimatedCost += cost
            overhead.statements.append(WriteStatement(
                fingerprint: write.query.fingerprint, text: write.displayText, kind: write.kind.rawValue, calls: write.query.calls,
                rows: write.rows, losesHot: losesHot, indexesMaintained: losesHot ? withAll.count : 1, estimatedCost: cost,
                bulkLoad: write.isBulkLoad ? true : nil))
        }
        if !hotPossible, let usage = table.usage, overhead.statements.contains(where: { $0.kind == "update" }) {
            overhead.hotNote = "none of the \(usage.updates) updates pg_stat_user_tables counted on \(table.name) was HOT (its pages "
                + "have no room for a new row version: fillfactor 100 after a load, or dead rows not yet pruned), so every UPDATE "
                + "writes an entry in each index, this one included, and none loses HOT because of it"
        }
        if let c = counters[table.name] {
            overhead.rowsWritten = Int64((c.inserts + c.deletes + c.nonHotUpdates + c.hotUpdates).rounded())
            overhead.estimatedCost = (c.inserts + c.deletes + c.nonHotUpdates) * ownCost
            overhead.source = "pg_stat_user_tables"
            overhead.extrapolation = c.explanation + (c.hotUpdates >= 1
                ? "; the \(Int(c.hotUpdates.rounded())) HOT updates are not charged: which columns they set is unknown, "
                    + "and any that set \(mine.sorted().joined(separator: ", ")) would lose HOT" : "")
        }
        return overhead
    }

    /// The workload's writes whose execution the index adds work to, as `--measure` times them. A
    /// DELETE is left out: it writes no index entry when it runs (vacuum removes them later).
    func writesMaintaining(_ candidate: IndexCandidate) -> [TableWrite] {
        let listed = Set(overhead(of: candidate, chosen: []).statements.map(\.fingerprint))
        return (writes[candidate.table] ?? []).filter { listed.contains($0.query.fingerprint) && $0.kind != .delete }
    }
}
