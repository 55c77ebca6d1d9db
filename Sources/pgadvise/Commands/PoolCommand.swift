import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseReport
import PGAdviseSources

struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Connection-pool sizing: observe how connections are used, optionally measure a load curve, recommend a pool size.",
        discussion: """
        Observation is read-only (pg_monitor is enough): pg_stat_activity sampled every 100 ms over --duration, \
        pg_stat_statements and pg_stat_database deltas, and PgBouncer's admin console with --pgbouncer. \
        --measure (for staging) runs closed-loop clients at 1, 2, 4, ... up to --max-clients on the workload's --top read-only \
        statements by calls (or --script FILE: one SQL statement per line, no pgbench meta-commands; it may write) \
        and recommends the knee. Ctrl-C stops the load within a second, cancels running statements and closes every \
        connection (exit 130). Exit codes: 0 ok, 1 findings at or above --fail-on, 2 bad usage, 3 cannot connect or database error.
        """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Seconds to observe pg_stat_activity.")
    var duration: Double = 30

    @Option(name: .long, help: "CPU cores of the database server (SQL cannot tell them to a monitoring role).")
    var cores: Int?

    @Option(name: .long, help: "Effective spindles for the formula cores × 2 + spindles (0: SSD or data in memory).")
    var spindles: Int = 0

    @Option(name: .long, help: "Application instances the pool is split over.")
    var appInstances: Int = 1

    @Option(name: .long, help: "The pool size in use now (default: PgBouncer's default_pool_size, else the observed peak).")
    var current: Int?

    @Option(name: .long, help: "Conninfo of PgBouncer's admin console (dbname=pgbouncer), to read SHOW POOLS/STATS/CONFIG.")
    var pgbouncer: String?

    @Flag(name: .long, help: "Observe only the sessions of the database connected to, and with --pgbouncer only the pools that lead to it (default: the whole server and pooler).")
    var thisDatabase = false

    @Flag(name: .long, help: "Measure throughput and latency at increasing concurrency (load on the server: staging only).")
    var measure = false

    @Option(name: .long, help: "Most concurrent clients with --measure (default 4 × --cores; never beyond the free connection slots).")
    var maxClients: Int?

    @Option(name: .long, help: "Seconds per concurrency level with --measure.")
    var stepDuration: Double = 10

    @Option(name: .long, help: "Seconds of warm-up (not timed) before each level with --measure.")
    var warmup: Double = 2

    @Option(name: .long, help: "p95 latency target in ms: the knee must stay within it.")
    var sloP95: Double?

    @Option(name: .long, help: "With --measure: run this file (one SQL statement per line) instead of the workload's statements. It may write.")
    var script: String?

    func validate() throws {
        try output.validate(for: PoolReport.self)
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be between 0 and 86400 seconds") }
        guard stepDuration > 0, warmup >= 0 else { throw ValidationError("--step-duration must be positive and --warmup not negative") }
        if let cores, cores < 1 { throw ValidationError("--cores must be at least 1") }
        if let maxClients, maxClients < 1 { throw ValidationError("--max-clients must be at least 1") }
        if let current, current < 1 { throw ValidationError("--current must be at least 1") }
        if let sloP95, sloP95 <= 0 { throw ValidationError("--slo-p95 must be a positive number of milliseconds") }
        guard spindles >= 0, appInstances >= 1 else { throw ValidationError("--spindles must be 0 or more and --app-instances at least 1") }
        if script != nil && !measure { throw ValidationError("--script runs only with --measure") }
    }

    func run() throws {
        var options = PoolOptions()
        options.durationSeconds = duration; options.cores = cores; options.spindles = spindles
        options.appInstances = appInstances; options.current = current; options.pgbouncerConninfo = pgbouncer
        options.currentDatabaseOnly = thisDatabase
        options.measure = measure; options.maxClients = maxClients; options.stepSeconds = stepDuration
        options.warmupSeconds = warmup; options.sloP95Ms = sloP95; options.topStatements = output.top
        if let script {
            guard let text = try? String(contentsOfFile: script, encoding: .utf8) else {
                throw PGAdviseError(.input, "cannot read --script \(script)")
            }
            options.script = try PoolScript.parse(text, path: script)
        }
        let stop = StopSignal()
        // The process-wide handler cancels the running statements; the stop ends the load loops.
        Interruption.shared.onInterrupt { stop.stop() }
        let conn = try connection.connect()
        var pipeline = PoolPipeline(connection: conn, conninfo: connection.conninfo,
                                    session: connection.sessionOptions(), options: options, stop: stop)
        let report = try pipeline.run()
        if pipeline.interrupted {
            try? output.emit(report)
            throw ExitCode(130)
        }
        try output.emit(report)
    }
}
