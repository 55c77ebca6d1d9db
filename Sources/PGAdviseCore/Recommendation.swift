/// What the index advisor proposes, why, and how sure it is. Fields are flat and named as the JSON
/// output publishes them (`pgadvise indexes --format json`); adding fields is not a breaking change.

/// The kind a DBA recognises, most specific first: a partial multicolumn index is `partial`.
public enum IndexKind: String, Codable, Sendable, CaseIterable {
    case btree, multicolumn, covering, partial, expression, gin, brin
}

/// Real execution figures for one statement, before and after the index, as medians of `runs` runs.
public struct StatementMeasurement: Codable, Sendable, Equatable {
    public var beforeMs: Double
    public var afterMs: Double
    /// Shared buffers touched (hit + read), median.
    public var beforeBuffers: Double
    public var afterBuffers: Double
    public var runs: Int
    /// The `$n` values the statement ran with, in order; empty when it had none.
    public var parameters: [String]
    /// True when the statement timeout cancelled the run without the index: `beforeMs` is that
    /// timeout, a lower bound, and `beforeBuffers` is unknown (0). Nil otherwise.
    public var beforeCutOff: Bool?
    /// The same for the run with the index: `afterMs` is the timeout, a lower bound (a regression).
    public var afterCutOff: Bool?
    /// EXPLAIN (ANALYZE, BUFFERS) of a median run without and with the index, compared node by node
    /// (as `pgadvise explain --compare` shows it); nil when a side was cut off.
    public var plans: PlanComparison?

    public init(beforeMs: Double, afterMs: Double, beforeBuffers: Double, afterBuffers: Double, runs: Int,
                parameters: [String] = [], beforeCutOff: Bool? = nil, afterCutOff: Bool? = nil, plans: PlanComparison? = nil) {
        self.beforeMs = beforeMs; self.afterMs = afterMs; self.beforeBuffers = beforeBuffers
        self.afterBuffers = afterBuffers; self.runs = runs; self.parameters = parameters
        self.beforeCutOff = beforeCutOff; self.afterCutOff = afterCutOff; self.plans = plans
    }
}

/// One statement an index serves, with its estimated (planner units, per call) and measured costs.
public struct ServedStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var calls: Int
    public var estimatedCostBefore: Double?
    public var estimatedCostAfter: Double?
    public var measured: StatementMeasurement?
    /// When the statement was costed under a custom plan for a skewed parameter: the values and how
    /// common they are (`$1 = 'failed' (rare: 0.1% of rows, pg_stats)`). Nil for its generic plan.
    public var customPlan: String?

    public init(fingerprint: String, text: String, calls: Int, estimatedCostBefore: Double? = nil,
                estimatedCostAfter: Double? = nil, measured: StatementMeasurement? = nil, customPlan: String? = nil) {
        self.fingerprint = fingerprint; self.text = text; self.calls = calls
        self.estimatedCostBefore = estimatedCostBefore; self.estimatedCostAfter = estimatedCostAfter
        self.measured = measured; self.customPlan = customPlan
    }
}

/// The measured verdict on one index: call-weighted medians over the statements it serves.
public struct IndexMeasurement: Codable, Sendable, Equatable {
    public var beforeMs: Double
    public var afterMs: Double
    public var beforeBuffers: Double
    public var afterBuffers: Double
    public var runs: Int
    /// `pg_relation_size` of the index as really built.
    public var builtSizeBytes: Int64?
    /// Fingerprints of statements whose median got slower by more than 10%.
    public var regressions: [String]
    /// Over the workload's calls: milliseconds the statements it serves save (calls x median change),
    /// and milliseconds its write statements that got slower beyond noise add.
    public var readMsSaved: Double?
    public var writeMsAdded: Double?
    /// Fingerprints of the write statements that got slower beyond noise (part of `regressions`).
    public var writeRegressions: [String]

    public init(beforeMs: Double, afterMs: Double, beforeBuffers: Double, afterBuffers: Double, runs: Int,
                builtSizeBytes: Int64? = nil, regressions: [String] = [], readMsSaved: Double? = nil,
                writeMsAdded: Double? = nil, writeRegressions: [String] = []) {
        self.beforeMs = beforeMs; self.afterMs = afterMs; self.beforeBuffers = beforeBuffers
        self.afterBuffers = afterBuffers; self.runs = runs; self.builtSizeBytes = builtSizeBytes
        self.regressions = regressions; self.readMsSaved = readMsSaved; self.writeMsAdded = writeMsAdded
        self.writeRegressions = writeRegressions
    }

    /// Milliseconds the index saves the workload, net of what its writes lose.
    public var netMsSaved: Double? { readMsSaved.map { $0 - (writeMsAdded ?? 0) } }
}

/// One workload statement that writes the index's table, and what the index adds to it.
public struct WriteStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    /// `insert`, `update`, `delete` or `merge`.
    public var kind: String
    public var calls: Int
    public var rows: Int64
    /// An UPDATE that is HOT-eligible today (it sets no column an existing index mentions) but sets a
    /// column this index mentions: with the index, each row it updates gets a new entry in every index
    /// of the table instead of none.
    public var losesHot: Bool
    /// Index entries written per row because of the index: 1, or every index of the table when the
    /// statement loses HOT.
    public var indexesMaintained: Int
    /// Planner cost units over the workload's rows.
    public var estimatedCost: Double
    /// Real execution before and after the index, with `--measure` (INSERT and UPDATE; a DELETE
    /// writes no index entry when it runs).
    public var measured: StatementMeasurement?
    /// True for a bulk load (many rows per call): charged at most as rebuilding the index around it
    /// (much less than row by row when the load is most of the table). Nil otherwise.
    public var bulkLoad: Bool?

    public init(fingerprint: String, text: String, kind: String, calls: Int, rows: Int64, losesHot: Bool,
                indexesMaintained: Int, estimatedCost: Double, measured: StatementMeasurement? = nil, bulkLoad: Bool? = nil) {
        self.fingerprint = fingerprint; self.text = text; self.kind = kind; self.calls = calls; self.rows = rows
        self.losesHot = losesHot; self.indexesMaintained = indexesMaintained; self.estimatedCost = estimatedCost
        self.measured = measured; self.bulkLoad = bulkLoad
    }
}

/// The cost of keeping an index up to date, from the workload's writes to the table.
public struct WriteOverhead: Codable, Sendable, Equatable {
    /// Rows the workload's INSERT, UPDATE, DELETE and MERGE statements wrote to the table.
    public var rowsWritten: Int64
    /// The same in planner cost units, on the scale of the statements' estimated costs: one entry
    /// per row for the statements that maintain the index, every index of the table per row for
    /// those that lose HOT.
    public var estimatedCost: Double
    /// The workload's statements that write an entry in this index (HOT updates that stay HOT are
    /// not listed).
    public var statements: [WriteStatement]
    /// `workload` (its own DML, same window as the reads) or `pg_stat_user_tables` (the table's
    /// counters, when the workload holds no DML for it, scaled to the workload's window).
    public var source: String
    /// How counters were scaled to the workload's window, when they were: an extrapolation.
    public var extrapolation: String?
    /// Why no UPDATE is said to lose HOT although one sets a column the index mentions, when the
    /// table's updates are not HOT today.
    public var hotNote: String?

    public init(rowsWritten: Int64, estimatedCost: Double, statements: [WriteStatement] = [], source: String = "workload",
                extrapolation: String? = nil) {
        self.rowsWritten = rowsWritten; self.estimatedCost = estimatedCost; self.statements = statements
        self.source = source; self.extrapolation = extrapolation
    }

    /// The UPDATEs this index stops being HOT.
    public var losingHot: [WriteStatement] { statements.filter(\.losesHot) }
}

public struct IndexRecommendation: Codable, Sendable, Equatable {
    /// `CREATE INDEX CONCURRENTLY ...`, ready to run.
    public var ddl: String
    public var name: String
    public var kind: IndexKind
    public var table: String
    /// `btree`, `gin`, `brin`.
    public var method: String
    /// Key columns or expressions in index order, with `DESC` and operator classes as in the DDL.
    public var columns: [String]
    public var include: [String]
    public var predicate: String?
    public var statements: [ServedStatement]
    /// Call-weighted estimated cost of the served statements without and with this index.
    public var estimatedCostBefore: Double?
    public var estimatedCostAfter: Double?
    public var sizeBytes: Int64
    /// Where `sizeBytes` comes from: `pg_stats`, `pg_stats+sample` or `pg_stats_ext` (a multicolumn
    /// B-tree's distinct keys counted in a sample of its table, or read from extended statistics),
    /// `hypopg` or `measured`.
    public var sizeSource: String
    public var writeOverhead: WriteOverhead?
    public var measured: IndexMeasurement?
    /// True when the benefit was estimated by the planner (HypoPG) or measured; false for GIN/GiST
    /// proposals that HypoPG cannot simulate and that were not measured.
    public var verified: Bool
    public var notes: [String]

    public init(ddl: String, name: String, kind: IndexKind, table: String, method: String, columns: [String],
                include: [String] = [], predicate: String? = nil, statements: [ServedStatement] = [],
                estimatedCostBefore: Double? = nil, estimatedCostAfter: Double? = nil, sizeBytes: Int64,
                sizeSource: String = "pg_stats", writeOverhead: WriteOverhead? = nil,
                measured: IndexMeasurement? = nil, verified: Bool, notes: [String] = []) {
        self.ddl = ddl; self.name = name; self.kind = kind; self.table = table; self.method = method
        self.columns = columns; self.include = include; self.predicate = predicate; self.statements = statements
        self.estimatedCostBefore = estimatedCostBefore; self.estimatedCostAfter = estimatedCostAfter
        self.sizeBytes = sizeBytes; self.sizeSource = sizeSource; self.writeOverhead = writeOverhead
        self.measured = measured; self.verified = verified; self.notes = notes
    }
}

/// A recommendation that did not survive measurement, with its figures and the reason.
public struct WithdrawnRecommendation: Codable, Sendable, Equatable {
    public var recommendation: IndexRecommendation
    public var reason: String

    public init(recommendation: IndexRecommendation, reason: String) {
        self.recommendation = recommendation; self.reason = reason
    }
}

/// An existing index that a recommended one makes redundant.
public struct RedundantIndex: Codable, Sendable, Equatable {
    public var index: String
    public var table: String
    /// `DROP INDEX CONCURRENTLY ...`.
    public var ddl: String
    public var supersededBy: String
    public var evidence: String
    public var sizeBytes: Int64?

    public init(index: String, table: String, ddl: String, supersededBy: String, evidence: String, sizeBytes: Int64? = nil) {
        self.index = index; self.table = table; self.ddl = ddl; self.supersededBy = supersededBy
        self.evidence = evidence; self.sizeBytes = sizeBytes
    }
}

/// A statement the advisor could not cost, and why (so a missing recommendation is explained).
public struct SkippedStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var reason: String

    public init(fingerprint: String, text: String, reason: String) {
        self.fingerprint = fingerprint; self.text = text; self.reason = reason
    }
}

/// A candidate the search weighed and left out: the gate that stopped it, with its figures, so an
/// empty or short list of recommendations is explained.
public struct RejectedCandidate: Codable, Sendable, Equatable {
    /// `CREATE INDEX ON ...` (no name: it was not recommended).
    public var definition: String
    public var table: String
    /// `budget`, `write penalty`, `small saving`, `no statement gains`, `raises a statement`,
    /// `fragile estimate`, `negligible time` or `not costable`.
    public var gate: String
    /// The gate in a sentence, with its figures.
    public var reason: String
    /// Calls x planner cost the reads would save, next to the indexes chosen.
    public var estimatedSaving: Double?
    /// What it adds to the maintenance of its table's indexes, in the same units.
    public var writePenalty: Double?
    /// Where the write penalty comes from: the workload's DML statements, or pg_stat_user_tables
    /// counters scaled to the workload's window.
    public var writePenaltySource: String?
    public var sizeBytes: Int64
    /// The budget not yet used by the chosen indexes when it was weighed.
    public var budgetLeftBytes: Int64
    /// For the `fragile estimate` gate: the row estimate its gain rests on, and the figures.
    public var fragileEstimate: FragileEstimate?

    public init(definition: String, table: String, gate: String, reason: String, estimatedSaving: Double? = nil,
                writePenalty: Double? = nil, writePenaltySource: String? = nil, sizeBytes: Int64, budgetLeftBytes: Int64,
                fragileEstimate: FragileEstimate? = nil) {
        self.definition = definition; self.table = table; self.gate = gate; self.reason = reason
        self.estimatedSaving = estimatedSaving; self.writePenalty = writePenalty
        self.writePenaltySource = writePenaltySource; self.sizeBytes = sizeBytes; self.budgetLeftBytes = budgetLeftBytes
        self.fragileEstimate = fragileEstimate
    }
}

/// An index whose estimated gain rests on the planner's row estimate of a nested loop's outer side
/// (a join, or a filter whose selectivities are multiplied), and does not survive that estimate
/// being `errorFactor` times too low.
public struct FragileEstimate: Codable, Sendable, Equatable {
    public var fingerprint: String
    /// The rows the planner expects from the outer side, each of which probes the index once.
    public var outerRows: Double
    /// The tables the outer side reads.
    public var outerTables: [String]
    /// True when the outer side is a join; false when it is a filter of several conditions.
    public var outerIsJoin: Bool
    /// The planner's cost of one probe of the index.
    public var costPerProbe: Double
    /// The heap rows one probe returns when more than one.
    public var heapRowsPerProbe: Double?
    /// The heap pages those rows lie on (from the physical order of the index's leading column);
    /// each is charged a random page read under the underestimate, where the planner assumes them
    /// cached from probe to probe.
    public var heapPagesPerProbe: Double?
    public var errorFactor: Double
    /// The statement's cost with the index as estimated; with it, and without it, once the outer
    /// side of every nested loop probing an index from such an estimate returns `errorFactor` times
    /// the rows, each heap page a probe reads costing a random page read (the same for both plans).
    public var costWithout: Double
    public var costWith: Double
    public var costWithUnderestimate: Double

    public init(fingerprint: String, outerRows: Double, outerTables: [String], outerIsJoin: Bool, costPerProbe: Double,
                heapRowsPerProbe: Double? = nil, heapPagesPerProbe: Double? = nil, errorFactor: Double, costWithout: Double,
                costWith: Double, costWithUnderestimate: Double) {
        self.fingerprint = fingerprint; self.outerRows = outerRows; self.outerTables = outerTables
        self.outerIsJoin = outerIsJoin; self.costPerProbe = costPerProbe; self.heapRowsPerProbe = heapRowsPerProbe
        self.heapPagesPerProbe = heapPagesPerProbe; self.errorFactor = errorFactor
        self.costWithout = costWithout; self.costWith = costWith; self.costWithUnderestimate = costWithUnderestimate
    }
}

/// One statement that loads many rows per call (`INSERT ... SELECT`, multi-row VALUES): a burst,
/// told apart from a steady write rate so that it does not veto every index of its table.
public struct BulkLoad: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var table: String
    public var calls: Int
    public var rows: Int64

    public init(fingerprint: String, text: String, table: String, calls: Int, rows: Int64) {
        self.fingerprint = fingerprint; self.text = text; self.table = table; self.calls = calls; self.rows = rows
    }
}

/// A statement that never finished: cancelled by statement_timeout, so pg_stat_statements never
/// timed it. Counted in the workload at the timeout per cancellation, a lower bound on its time.
public struct CancelledStatement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    /// `log` (SQLSTATE 57014 with its STATEMENT, real literals) or `pg_stat_statements` (planned,
    /// never executed: `plans > 0`, `calls = 0` with track_planning on; likely cancelled).
    public var source: String
    public var cancellations: Int
    /// The time each cancellation is counted at.
    public var countedMs: Double
    /// Where `countedMs` comes from: the statement_timeout in force for this database and role, or,
    /// when none is set there, the longest execution that finished (the timeout is at least that).
    public var countedFrom: String

    public init(fingerprint: String, text: String, source: String, cancellations: Int, countedMs: Double, countedFrom: String) {
        self.fingerprint = fingerprint; self.text = text; self.source = source; self.cancellations = cancellations
        self.countedMs = countedMs; self.countedFrom = countedFrom
    }
}

/// One statement timed without and with the whole recommended set (`--measure`'s final step).
public struct SetStatementMeasurement: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var calls: Int
    public var measured: StatementMeasurement
    /// The recommended indexes its plan used once they were all built.
    public var indexesUsed: [String]
    /// Slower with the set beyond run-to-run noise (the rule of the single-index verdicts).
    public var regression: Bool

    public init(fingerprint: String, text: String, calls: Int, measured: StatementMeasurement, indexesUsed: [String], regression: Bool) {
        self.fingerprint = fingerprint; self.text = text; self.calls = calls; self.measured = measured
        self.indexesUsed = indexesUsed; self.regression = regression
    }
}

/// The recommended indexes built together in one rolled-back transaction, and every statement on
/// their tables whose plan changed with them: plans that use an index without a lower estimate,
/// that change only in combination, and regressions of the combination.
public struct SetMeasurement: Codable, Sendable, Equatable {
    public var indexes: [String]
    public var statements: [SetStatementMeasurement]
    /// Over the workload's calls (calls x median), without and with the set.
    public var beforeMs: Double
    public var afterMs: Double
    /// Statements on the set's tables that could not be run, with the reason.
    public var unmeasured: [String: String]
    /// Indexes withdrawn because a statement regressed with the set measured together (the reason
    /// is in the advice's `withdrawn`); the figures here are those of the set measured again without
    /// them, or, when none was left, of the first measurement.
    public var withdrawn: [String]

    public init(indexes: [String], statements: [SetStatementMeasurement], beforeMs: Double, afterMs: Double,
                unmeasured: [String: String] = [:], withdrawn: [String] = []) {
        self.indexes = indexes; self.statements = statements; self.beforeMs = beforeMs; self.afterMs = afterMs
        self.unmeasured = unmeasured; self.withdrawn = withdrawn
    }

    public var regressions: [SetStatementMeasurement] { statements.filter(\.regression) }
}

/// The values one statement was costed with because they were seen in use (pg_qualstats, a log's
/// bind values): each under its own custom plan, weighing its share of the executions.
public struct StatementObservedValues: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var text: String
    public var values: ObservedParameterValues

    public init(fingerprint: String, text: String, values: ObservedParameterValues) {
        self.fingerprint = fingerprint; self.text = text; self.values = values
    }
}

/// Everything `pgadvise indexes` reports.
public struct IndexAdvice: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var recommendations: [IndexRecommendation]
    public var withdrawn: [WithdrawnRecommendation]
    public var redundant: [RedundantIndex]
    /// Call-weighted estimated cost of the analysed statements without and with every recommendation.
    public var workloadCostBefore: Double?
    public var workloadCostAfter: Double?
    public var budgetBytes: Int64
    public var statementsAnalyzed: Int
    public var skipped: [SkippedStatement]
    /// Whether what-if costing was available (HypoPG).
    public var hypopg: Bool
    /// Warnings and facts the reader must know (missing extensions, --measure locking).
    public var notes: [String]
    /// The best candidates left out, highest estimated saving first, with the gate that stopped each.
    public var rejected: [RejectedCandidate]
    /// Statements that load many rows per call, charged at most as rebuilding the index around them.
    public var bulkLoads: [BulkLoad]
    /// Statements cancelled by statement_timeout, counted at the timeout.
    public var cancelled: [CancelledStatement]
    /// `--measure`'s final step: the recommended set built together. Nil without --measure.
    public var finalSet: SetMeasurement?
    /// The parameter values seen in use that statements were costed with, and their weights.
    public var observedValues: [StatementObservedValues] = []

    public init(schemaVersion: Int = 1, recommendations: [IndexRecommendation] = [],
                withdrawn: [WithdrawnRecommendation] = [], redundant: [RedundantIndex] = [],
                workloadCostBefore: Double? = nil, workloadCostAfter: Double? = nil, budgetBytes: Int64 = 0,
                statementsAnalyzed: Int = 0, skipped: [SkippedStatement] = [], hypopg: Bool = false,
                notes: [String] = [], rejected: [RejectedCandidate] = [], bulkLoads: [BulkLoad] = [],
                cancelled: [CancelledStatement] = [], finalSet: SetMeasurement? = nil) {
        self.schemaVersion = schemaVersion; self.recommendations = recommendations; self.withdrawn = withdrawn
        self.redundant = redundant; self.workloadCostBefore = workloadCostBefore
        self.workloadCostAfter = workloadCostAfter; self.budgetBytes = budgetBytes
        self.statementsAnalyzed = statementsAnalyzed; self.skipped = skipped; self.hypopg = hypopg; self.notes = notes
        self.rejected = rejected; self.bulkLoads = bulkLoads; self.cancelled = cancelled
        self.finalSet = finalSet
    }
}

extension IndexRecommendation {
    enum CodingKeys: String, CodingKey {
        case ddl, name, kind, table, method, columns, include, predicate, statements, estimatedCostBefore
        case estimatedCostAfter, sizeBytes, sizeSource, writeOverhead, measured, verified, notes
    }

    /// Optional figures are written as `null` rather than left out: the published contract says
    /// `measured` is null when nothing was measured, and a reader should not have to guess.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ddl, forKey: .ddl)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .kind)
        try c.encode(table, forKey: .table)
        try c.encode(method, forKey: .method)
        try c.encode(columns, forKey: .columns)
        try c.encode(include, forKey: .include)
        try c.encode(predicate, forKey: .predicate)
        try c.encode(statements, forKey: .statements)
        try c.encode(estimatedCostBefore, forKey: .estimatedCostBefore)
        try c.encode(estimatedCostAfter, forKey: .estimatedCostAfter)
        try c.encode(sizeBytes, forKey: .sizeBytes)
        try c.encode(sizeSource, forKey: .sizeSource)
        try c.encode(writeOverhead, forKey: .writeOverhead)
        try c.encode(measured, forKey: .measured)
        try c.encode(verified, forKey: .verified)
        try c.encode(notes, forKey: .notes)
    }
}
