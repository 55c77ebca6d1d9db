import Foundation
import PGAdviseAdvisor
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules
import PGAdviseSources
import PGAdviseSQL

/// What `pgadvise pool` is asked to do.
public struct PoolOptions: Sendable {
    public var durationSeconds: Double = 30
    public var intervalMs: Double = 100
    public var cores: Int?
    public var spindles: Int = 0
    public var appInstances: Int = 1
    public var current: Int?
    public var pgbouncerConninfo: String?
    /// Observe only the database connected to (see `ConnectionActivityCollector.currentDatabaseOnly`).
    public var currentDatabaseOnly = false
    public var measure = false
    public var maxClients: Int?
    public var stepSeconds: Double = 10
    public var warmupSeconds: Double = 2
    public var sloP95Ms: Double?
    /// `--script`: the statements to run instead of the workload's (may write).
    public var script: [WeightedStatement]?
    /// How many of the workload's statements (by calls) the clients run (`--top`).
    public var topStatements: Int = 10

    public init() {}
}

/// `pgadvise pool`: observe (read-only), optionally read PgBouncer and measure a load curve, then
/// recommend. A stop (Ctrl-C) ends whatever phase runs, closes every connection, and the report
/// says what was done; `interrupted` tells the command to exit 130.
public struct PoolPipeline {
    public let connection: PostgresConnection
    /// The conninfo the load clients connect with (each its own connection).
    public let conninfo: String
    public let session: SessionOptions
    public let options: PoolOptions
    public let stop: StopSignal
    public private(set) var interrupted = false
    private var skipped: [ScanSkip] = []

    public init(connection: PostgresConnection, conninfo: String, session: SessionOptions, options: PoolOptions, stop: StopSignal) {
        self.connection = connection; self.conninfo = conninfo; self.session = session; self.options = options; self.stop = stop
    }

    public mutating func run() throws -> PoolReport {
        do {
            return try collectAndRecommend()
        } catch let error as PostgresError {
            let advice = error.isPermissionDenied ? ": GRANT pg_monitor to the role pgadvise connects as" : ""
            throw PGAdviseError(.database, "pool: \(error)\(advice)")
        }
    }

    /// The console and its first reading, and the server database its figures are kept to with
    /// `currentDatabaseOnly`.
    private func openConsole() throws -> (console: PgBouncerConsole, first: PgBouncerConsole.Reading, database: String?)? {
        guard let conninfo = options.pgbouncerConninfo else { return nil }
        let database = options.currentDatabaseOnly ? connection.databaseName : nil
        do {
            let console = try PgBouncerConsole(conninfo: conninfo)
            return (console, try console.read(servingDatabase: database), database)
        } catch let error as PGAdviseError {
            throw PGAdviseError(error.kind, "--pgbouncer: \(error.message)")
        } catch let error as PostgresError {
            throw PGAdviseError(.database, "--pgbouncer: SHOW POOLS failed (\(error.message)): name PgBouncer's admin console "
                                + "(dbname=pgbouncer) as a user in admin_users or stats_users")
        }
    }

    private mutating func collectAndRecommend() throws -> PoolReport {
        let started = Date()
        let collector = ConnectionActivityCollector(connection: connection, currentDatabaseOnly: options.currentDatabaseOnly)
        let console = try openConsole()
        let canceller = connection.makeCanceller()
        if let canceller { stop.register(canceller) }
        var observed: PoolObservation
        do {
            observed = try collector.observe(seconds: options.durationSeconds, intervalMs: options.intervalMs, stop: stop)
        } catch where stop.isStopped {
            // Ctrl-C cancelled a sampling statement: report the limits at least.
            let limits = try collector.settings()
            observed = ActivityAccumulator().observation(limits: limits, seconds: 0, intervalMs: options.intervalMs)
        }
        if let canceller { stop.unregister(canceller) }
        let serverVersion = (try? collector.settings().serverVersion) ?? ""
        var pgbouncer: PgBouncerObservation?
        if let console {
            pgbouncer = PgBouncerConsole.observation(first: console.first, last: try console.console.read(servingDatabase: console.database))
        }
        if let cores = options.cores { observed.cores = cores; observed.coresSource = "--cores" }
        var levels: [LoadLevel] = []
        var measurement: LoadMeasurement?
        var comparison: (before: PoolFigure, after: PoolFigure)?
        if options.measure && !stop.isStopped {
            let result = try measure(observed: observed, pgbouncer: pgbouncer)
            levels = result.levels; measurement = result.measurement; comparison = result.comparison
            if observed.cores == nil, let linear = measurement?.linearScalingClients {
                observed.cores = linear
                observed.coresSource = "measured"
            }
        }
        interrupted = stop.isStopped
        var recommendation = PoolAdvisor.recommend(observed: observed, pgbouncer: pgbouncer, measurement: measurement, options: options)
        recommendation.before = comparison?.before
        recommendation.after = comparison?.after
        return PoolReport(
            schemaVersion: jsonSchemaVersion, target: connection.description, startedAt: ISO8601DateFormatter().string(from: started),
            serverVersion: serverVersion, observed: observed, pgbouncer: pgbouncer, loadCurve: levels, measurement: measurement,
            recommendation: recommendation, findings: applyConnectionRules(observed), skipped: skipped)
    }

    // MARK: - Measurement

    private struct MeasureResult {
        var levels: [LoadLevel]
        var measurement: LoadMeasurement
        var comparison: (before: PoolFigure, after: PoolFigure)?
    }

    private mutating func measure(observed: PoolObservation, pgbouncer: PgBouncerObservation?) throws -> MeasureResult {
        let (statements, source) = try loadStatements()
        let free = try freeConnectionSlots(observed)
        let requested = options.maxClients ?? 4 * (options.cores ?? 4)
        if options.cores == nil && options.maxClients == nil {
            skipped.append(ScanSkip(step: "--max-clients", reason: "cores unknown: swept up to 16 clients (4 × 4); pass --cores or --max-clients"))
        }
        // Two slots stay free for administrators and the application's own reconnects.
        let maxClients = min(requested, free - 2)
        guard maxClients >= 1 else {
            throw PGAdviseError(.database, "--measure needs free connection slots: \(free) of max_connections \(observed.maxConnections) are free. "
                                + "Run it when fewer sessions are connected, or on a staging server.")
        }
        if maxClients < requested {
            skipped.append(ScanSkip(step: "levels above \(maxClients) clients", reason: "only \(free) connection slots are free"))
        }
        var loadSession = session
        loadSession.readOnly = options.script == nil
        // A --script statement runs between BEGIN and ROLLBACK: an interruption says so.
        let scriptWrites = options.script == nil ? nil : Interruption.shared.begin("the --script statements' transactions of the load run")
        defer { if let scriptWrites { Interruption.shared.end(scriptWrites) } }
        let generator = LoadGenerator(conninfo: conninfo, options: loadSession, statements: statements, stop: stop)
        var levels: [LoadLevel] = []
        for clients in LoadCurve.levels(upTo: maxClients) {
            let step: LoadGenerator.Step
            do {
                step = try generator.run(clients: clients, warmupSeconds: options.warmupSeconds, seconds: options.stepSeconds)
            } catch let error as PGAdviseError where !levels.isEmpty {
                // The server refused more connections (a limit per role or database): keep the curve so far.
                skipped.append(ScanSkip(step: "levels from \(clients) clients", reason: error.message))
                break
            }
            levels.append(step.level)
            if step.level.stoppedEarly { break }
        }
        let knee = LoadCurve.knee(levels.filter { !$0.stoppedEarly || $0.statements > 0 }, sloP95Ms: options.sloP95Ms)
        var measurement = LoadMeasurement(
            workloadSource: source, statements: statements, stepSeconds: options.stepSeconds, warmupSeconds: options.warmupSeconds,
            maxClients: maxClients, sloP95Ms: options.sloP95Ms, knee: knee, peakTps: levels.map(\.tps).max() ?? 0,
            scalability: LoadCurve.fitScalability(levels), linearScalingClients: LoadCurve.linearScalingClients(levels))
        var comparison: (PoolFigure, PoolFigure)?
        if let knee, !stop.isStopped, let current = currentSize(observed: observed, pgbouncer: pgbouncer).size, current > 0 {
            comparison = try compare(current: min(current, maxClients), recommended: knee, generator: generator)
            if current > maxClients {
                skipped.append(ScanSkip(step: "before at \(current) clients", reason: "measured at \(maxClients), the free connection slots"))
            }
        }
        measurement.interrupted = stop.isStopped
        return MeasureResult(levels: levels, measurement: measurement, comparison: comparison)
    }

    /// The current and the recommended size, interleaved (current, recommended, current, recommended)
    /// so that a drift of the machine over time affects both alike; each side's runs are merged.
    /// When both are the same size it is run once per round, and before and after are that figure:
    /// two runs of one size differ only by noise, which a reader would take for a difference.
    private func compare(current: Int, recommended: Int, generator: LoadGenerator) throws -> (PoolFigure, PoolFigure)? {
        let sizes = current == recommended ? [current] : [current, recommended]
        var histograms = [LatencyHistogram(), LatencyHistogram()]
        var seconds = [0.0, 0.0]
        for _ in 0..<2 {
            for (side, clients) in sizes.enumerated() {
                guard !stop.isStopped else { return nil }
                let step = try generator.run(clients: clients, warmupSeconds: options.warmupSeconds, seconds: options.stepSeconds)
                histograms[side].merge(step.histogram)
                seconds[side] += step.level.seconds
            }
        }
        let figures = sizes.enumerated().map { side, clients -> PoolFigure in
            let level = LoadLevel.from(histograms[side], clients: clients, seconds: seconds[side])
            return PoolFigure(clients: clients, tps: level.tps, p95Ms: level.p95Ms)
        }
        return (figures[0], figures[figures.count - 1])
    }

    private func loadStatements() throws -> ([WeightedStatement], String) {
        if let script = options.script {
            return (script, "script")
        }
        let collected = try PgStatStatementsCollector(connection: connection).collect(limit: max(options.topStatements * 3, 50))
        guard collected.status.availability == .available else {
            throw PGAdviseError(.database, "--measure replays the workload from pg_stat_statements, which is \(collected.status.availability.rawValue): "
                                + "\(collected.status.remedy ?? ""); or pass --script FILE")
        }
        let catalog = try CatalogCollector(connection: connection).collect()
        let replay = ReplayStatements.select(from: collected.workload, catalog: catalog, connection: connection, limit: options.topStatements)
        guard !replay.statements.isEmpty else {
            throw PGAdviseError(.database, "--measure found no read-only statement in pg_stat_statements it can run with representative values"
                                + (replay.leftOut.isEmpty ? "" : " (\(replay.leftOut.prefix(3).joined(separator: "; ")))") + "; pass --script FILE")
        }
        let calls = Double(replay.statements.reduce(0) { $0 + $1.calls })
        return (replay.statements.map { WeightedStatement(text: $0.text, weight: Double($0.calls) / calls, parameters: $0.parameters) },
                "pg_stat_statements")
    }

    private func freeConnectionSlots(_ observed: PoolObservation) throws -> Int {
        let used = try connection.query(pgadviseStatementMarker + "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'")
            .records.first?.int("n") ?? 0
        return observed.usableConnections - Int(used)
    }

    func currentSize(observed: PoolObservation, pgbouncer: PgBouncerObservation?) -> (size: Int?, source: String) {
        PoolAdvisor.current(observed: observed, pgbouncer: pgbouncer, options: options)
    }
}

/// Parses a `--script` file: one SQL statement per line; empty lines and `--` comments are skipped.
/// pgbench's meta-commands (`\set`, `\sleep`) are not supported: values are written into the
/// statements, so what runs is exactly what the file says. Every statement runs in a transaction that
/// is rolled back (a SELECT may write too: a data-modifying CTE, a volatile function), like every
/// writing mode of pgadvise.
public enum PoolScript {
    public static func parse(_ text: String, path: String) throws -> [WeightedStatement] {
        var statements: [WeightedStatement] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("--") { continue }
            if line.hasPrefix("\\") {
                throw PGAdviseError(.usage, "\(path):\(number + 1): pgbench meta-commands (\(line.split(separator: " ").first ?? "")) are not supported; "
                                    + "write one SQL statement per line with its values")
            }
            if line.hasSuffix(";") { line.removeLast() }
            guard case let .success(shapes) = QueryShape.build(sql: line), shapes.count == 1, let shape = shapes.first else {
                throw PGAdviseError(.usage, "\(path):\(number + 1): not one SQL statement: \(line.prefix(80))")
            }
            guard shape.kind != .utility else {
                throw PGAdviseError(.usage, "\(path):\(number + 1): a utility statement (DDL, SET, VACUUM ...) cannot be measured: \(line.prefix(80))")
            }
            statements.append(WeightedStatement(text: line, rolledBack: true))
        }
        guard !statements.isEmpty else { throw PGAdviseError(.usage, "\(path): no statement in the script") }
        return statements
    }
}

/// Turns an observation (and a measurement, when there is one) into the recommendation.
public enum PoolAdvisor {
    /// The size in use now: `--current`, PgBouncer's default_pool_size, or the most connections seen.
    public static func current(observed: PoolObservation, pgbouncer: PgBouncerObservation?, options: PoolOptions) -> (size: Int?, source: String) {
        if let current = options.current { return (current, "--current") }
        if let size = pgbouncer?.defaultPoolSize { return (size, "pgbouncer default_pool_size") }
        return observed.connectionsPeak > 0 ? (observed.connectionsPeak, "observed peak connections") : (nil, "unknown")
    }

    public static func recommend(observed: PoolObservation, pgbouncer: PgBouncerObservation?, measurement: LoadMeasurement?,
                                 options: PoolOptions) -> PoolRecommendation {
        let formula = observed.cores.map { $0 * 2 + options.spindles }
        let (current, currentSource) = current(observed: observed, pgbouncer: pgbouncer, options: options)
        let busy = Int(max(Double(observed.activePeak), (observed.busyConcurrency ?? 0).rounded(.up)))
        var notes: [String] = []
        let size: Int, basis: String
        if let knee = measurement?.knee, let measurement {
            size = knee; basis = "measured knee"
            notes.append("The knee is the smallest concurrency reaching \(Int(LoadCurve.kneeShareOfPeak * 100))% of the peak throughput"
                         + (options.sloP95Ms.map { " with p95 within \(formatDuration(ms: $0))" } ?? "") + ".")
            if knee == measurement.maxClients {
                notes.append("Throughput was still rising at the largest level (\(knee) clients): the knee may lie beyond --max-clients, "
                             + "or the server's CPUs are shared with other load (a VM, other databases), which more backends win a larger share of. "
                             + "Measure on a quiet staging server, or give --slo-p95.")
            }
        } else if let formula {
            size = max(1, formula); basis = "formula"
            notes.append("cores × 2 + spindles with \(observed.cores ?? 0) cores (\(observed.coresSource)) and \(options.spindles) spindles"
                         + (options.spindles == 0 ? " (0: SSD or the data set fits in memory)" : "") + ".")
        } else {
            size = max(1, busy); basis = "observed"
            notes.append("Cores unknown: the size is the most backends seen active at once (or Little's law busy concurrency). "
                         + "Pass --cores for the formula, or --measure on staging for the knee.")
        }
        if measurement == nil {
            notes.append("Observation shows what the workload used: at most \(observed.activePeak) active backends (p95 "
                         + String(format: "%.1f", observed.activeP95) + ")"
                         + (observed.busyConcurrency.map { String(format: ", %.2f busy on average by Little's law", $0) } ?? "")
                         + ". Only --measure (on staging) shows where throughput stops rising and what latency each size gives.")
        }
        let instances = max(1, options.appInstances)
        let perInstance = max(1, Int((Double(size) / Double(instances)).rounded(.up)))
        if instances > 1 {
            notes.append("Split over \(instances) application instances: \(perInstance) connections each.")
        }
        let workMem = observed.workMemBytes
        return PoolRecommendation(
            poolSize: size, basis: basis, formulaPoolSize: formula, spindles: options.spindles, current: current,
            currentSource: currentSource, measuredKnee: measurement?.knee, appInstances: instances, perInstance: perInstance,
            pgbouncer: pgbouncerAdvice(poolSize: size, observed: observed, pgbouncer: pgbouncer),
            freeConnectionSlots: observed.usableConnections - observed.connectionsPeak - 1,
            workMemAtPoolBytes: workMem.map { $0 * Int64(size) },
            workMemAtMaxConnectionsBytes: workMem.map { $0 * Int64(observed.maxConnections) }, notes: notes)
    }

    static func pgbouncerAdvice(poolSize: Int, observed: PoolObservation, pgbouncer: PgBouncerObservation?) -> PgBouncerAdvice {
        let pairs = max(1, pgbouncer?.pools.count ?? 1)
        let perPair = max(1, poolSize / pairs)
        let clients = max(observed.connectionsPeak, pgbouncer?.pools.reduce(0) { $0 + $1.clientsActive + $1.clientsWaiting } ?? 0)
        let maxClientConn = max(100, clients * 2, pgbouncer?.maxClientConn ?? 0)
        var reasons = [
            "default_pool_size \(perPair): the pool size" + (pairs > 1 ? " shared by the \(pairs) database/user pools" : "")
                + "; each database/user pair gets its own pool of this size.",
            "max_client_conn \(maxClientConn): client connections cost PgBouncer a few kB each, so leave room for twice the most "
                + "clients seen (\(clients)) and for deploys that briefly double the application's connections.",
            "pool_mode transaction: a server connection is lent for one transaction, so many clients share few backends. "
                + "Keep session mode if the application relies on session state (SET, advisory locks, LISTEN, temporary tables, "
                + "WITH HOLD cursors) or on protocol-level prepared statements with PgBouncer before 1.21.",
        ]
        if let waiting = pgbouncer?.clientsWaiting, waiting > 0 {
            reasons.append("\(waiting) client(s) were waiting for a server connection (maxwait \(formatDuration(ms: pgbouncer?.maxWaitMs ?? 0))): "
                           + "the pool was too small for that moment, or transactions hold connections too long.")
        }
        return PgBouncerAdvice(defaultPoolSize: perPair, maxClientConn: maxClientConn, poolMode: "transaction", reasons: reasons)
    }
}
