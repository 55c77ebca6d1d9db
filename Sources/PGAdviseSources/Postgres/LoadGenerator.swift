import Foundation
import PGAdviseCore

/// Closed-loop clients: each its own libpq connection on its own thread (a PostgresConnection is
/// never shared), running the statements back to back for a step, latencies into a histogram.
/// The connections are opened before the clock starts and closed when the step ends, so a step
/// times statements, not connection setup.
public final class LoadGenerator {
    let conninfo: String
    let options: SessionOptions
    let statements: [WeightedStatement]
    let stop: StopSignal
    private let cumulativeWeights: [Double]

    public init(conninfo: String, options: SessionOptions, statements: [WeightedStatement], stop: StopSignal) {
        self.conninfo = conninfo; self.options = options; self.statements = statements; self.stop = stop
        var total = 0.0
        cumulativeWeights = statements.map { total += max($0.weight, 0.000_001); return total }
    }

    /// One step's figures and its latency histogram (to merge interleaved runs of the same size).
    public struct Step {
        public var level: LoadLevel
        public var histogram: LatencyHistogram
    }

    /// Runs `clients` clients for `warmupSeconds` (not timed) then `seconds` (timed). The step ends
    /// early when a statement passes the statement timeout or on a stop; the result says so.
    public func run(clients: Int, warmupSeconds: Double, seconds: Double) throws -> Step {
        let shared = StepState(clients: clients)
        let group = DispatchGroup()
        for index in 0..<clients {
            group.enter()
            let thread = Thread { [self] in
                self.client(index: index, shared: shared, warmupSeconds: warmupSeconds, seconds: seconds)
                group.leave()
            }
            thread.name = "pgadvise-load-\(index)"
            thread.start()
        }
        group.wait()
        if let failure = shared.connectFailure { throw failure }
        let timed = max(shared.timedSeconds, 0.001)
        let h = shared.histogram
        var note: String?
        if shared.timedOut {
            note = "a statement passed the statement timeout (\(options.statementTimeoutMs) ms): the step stopped early"
        } else if stop.isStopped {
            note = "interrupted"
        } else if shared.errors > 0 {
            note = "\(shared.errors) statement(s) failed: \(shared.firstError ?? "")"
        }
        var level = LoadLevel.from(h, clients: clients, seconds: timed)
        level.errors = shared.errors
        level.stoppedEarly = shared.timedOut || stop.isStopped
        level.note = note
        return Step(level: level, histogram: h)
    }

    private func client(index: Int, shared: StepState, warmupSeconds: Double, seconds: Double) {
        var connection: PostgresConnection?
        do {
            connection = try PostgresConnection(conninfo: conninfo, options: options)
        } catch {
            shared.failConnect(error)
        }
        let canceller = connection?.makeCanceller()
        if let canceller { stop.register(canceller); shared.register(canceller) }
        defer {
            if let canceller { stop.unregister(canceller) }
            connection = nil   // closes the connection on its own thread
        }
        // Every client starts the clock together, once all are connected (or one failed).
        guard let (warmupEnd, end) = shared.waitForStart(warmupSeconds: warmupSeconds, seconds: seconds),
              let connection else { return }
        var histogram = LatencyHistogram()
        var random = SplitMix64(seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15)
        var errors = 0
        var firstError: String?
        while !stop.isStopped && !shared.isAborted {
            let started = DispatchTime.now().uptimeNanoseconds
            if started >= end { break }
            let statement = pick(&random)
            do {
                if statement.rolledBack {
                    try connection.execute("BEGIN; \(statement.text); ROLLBACK")
                } else {
                    try connection.query(statement.text, statement.parameters)
                }
            } catch let error as PostgresError where error.isStatementTimeout {
                if !stop.isStopped { shared.abortForTimeout() }
                break
            } catch {
                errors += 1
                if firstError == nil { firstError = "\(error)" }
                if errors > 100 && histogram.count == 0 { break }   // every statement fails: no point going on
                continue
            }
            let finished = DispatchTime.now().uptimeNanoseconds
            if started >= warmupEnd { histogram.record(milliseconds: Double(finished - started) / 1_000_000) }
        }
        shared.finish(histogram: histogram, errors: errors, firstError: firstError)
    }

    private func pick(_ random: inout SplitMix64) -> WeightedStatement {
        guard statements.count > 1, let total = cumulativeWeights.last else { return statements[0] }
        let x = Double(random.next() >> 11) / Double(1 << 53) * total
        var low = 0, high = cumulativeWeights.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulativeWeights[mid] > x { high = mid } else { low = mid + 1 }
        }
        return statements[low]
    }
}

/// What the clients of one step share, behind one lock.
private final class StepState: @unchecked Sendable {
    private let lock = NSCondition()
    private let clients: Int
    private var arrived = 0
    private var start: (warmupEnd: UInt64, end: UInt64)?
    private(set) var connectFailure: Error?
    private var aborted = false
    private(set) var timedOut = false
    private(set) var histogram = LatencyHistogram()
    private(set) var errors = 0
    private(set) var firstError: String?
    private var timedFrom: UInt64 = 0
    private var lastFinish: UInt64 = 0
    private var cancellers: [PostgresCanceller] = []

    init(clients: Int) { self.clients = clients }

    var isAborted: Bool { lock.lock(); defer { lock.unlock() }; return aborted }

    var timedSeconds: Double {
        lock.lock(); defer { lock.unlock() }
        guard lastFinish > timedFrom else { return 0 }
        return Double(lastFinish - timedFrom) / 1_000_000_000
    }

    func register(_ canceller: PostgresCanceller) { lock.lock(); cancellers.append(canceller); lock.unlock() }

    func failConnect(_ error: Error) {
        lock.lock(); if connectFailure == nil { connectFailure = error }; aborted = true; lock.unlock()
    }

    /// Blocks until every client arrived; nil when the step was aborted before it started.
    func waitForStart(warmupSeconds: Double, seconds: Double) -> (UInt64, UInt64)? {
        lock.lock(); defer { lock.unlock() }
        arrived += 1
        if arrived == clients {
            let now = DispatchTime.now().uptimeNanoseconds
            let warmupEnd = now + UInt64(max(0, warmupSeconds) * 1e9)
            start = (warmupEnd, warmupEnd + UInt64(max(0, seconds) * 1e9))
            timedFrom = warmupEnd
            lock.broadcast()
        }
        while start == nil { lock.wait() }
        return aborted ? nil : start
    }

    /// A statement passed the statement timeout: every client stops, and their running statements
    /// are cancelled so the step ends now.
    func abortForTimeout() {
        lock.lock()
        let first = !aborted
        aborted = true; timedOut = true
        let all = cancellers
        lock.unlock()
        if first { for c in all { c.cancelRunningStatement() } }
    }

    func finish(histogram h: LatencyHistogram, errors e: Int, firstError message: String?) {
        lock.lock()
        histogram.merge(h); errors += e
        if firstError == nil { firstError = message }
        lastFinish = max(lastFinish, min(DispatchTime.now().uptimeNanoseconds, start?.end ?? 0))
        lock.unlock()
    }
}

/// A small, fast, seedable generator: each client draws its own sequence, reproducibly.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
