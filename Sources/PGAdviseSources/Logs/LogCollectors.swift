import Foundation
import PGAdviseCore
import PGAdviseSQL

// What a LogWorker collects besides statements and N+1 runs: one value type per kind of event, each
// able to merge with another core's. The worker routes each event to them.

struct ErrorGroupDraft {
    var severity: String
    var sqlstate: String?
    var message: String
    var count: Int
    var statement: String?
    var firstMs: Double
    var file: Int
    var line: Int
    /// A cancellation by statement_timeout: its statements are also counted one by one.
    var statementTimeout = false
}

/// One statement's cancellations by statement_timeout: the first one's text and position, and how many.
struct CancellationDraft {
    var sample: String
    var count: Int
    var file: Int
    var line: Int
}

/// ERROR, FATAL and PANIC messages grouped by SQLSTATE, severity and message shape.
struct ErrorCollector {
    var groups: [String: ErrorGroupDraft] = [:]
    var count = 0
    /// Cancellations by statement_timeout per statement fingerprint (its text when it does not parse):
    /// one error group holds every statement cancelled, yet each is a statement that never finished.
    var cancellations: [String: CancellationDraft] = [:]
    /// The line of the error being read, for the cancellation its STATEMENT line completes.
    private var lastError: (file: Int, line: Int) = (0, 0)

    /// SQLSTATE query_canceled, and the message that says the statement timeout was the cause (a
    /// user's cancel request has the same SQLSTATE and says nothing about the statement's time).
    static let queryCanceled = "57014"
    static let timeoutMessage = "canceling statement due to statement timeout"

    /// Counts the error; returns its group, to which a following STATEMENT line belongs.
    mutating func record(_ event: LogEvent, ms: Double?, file: Int) -> String {
        count += 1
        let message = event.message.messageString
        let sqlstate = event.sqlstate.isEmpty || event.sqlstate.hasPrefix("00000") ? nil : event.sqlstate.string
        let group = (sqlstate ?? "") + "|" + event.severity.name + "|" + errorShape(message)
        if groups[group] == nil {
            groups[group] = ErrorGroupDraft(severity: event.severity.name, sqlstate: sqlstate, message: displayMessage(message),
                                            count: 0, statement: nil, firstMs: ms ?? .infinity, file: file, line: event.line)
        }
        groups[group]?.count += 1
        // Without %e in log_line_prefix a stderr log carries no SQLSTATE; the message alone says it.
        if (sqlstate ?? Self.queryCanceled) == Self.queryCanceled, message.contains(Self.timeoutMessage) {
            groups[group]?.statementTimeout = true
        }
        lastError = (file, event.line)
        return group
    }

    mutating func attachStatement(_ text: ByteSlice, to group: String) {
        guard let draft = groups[group] else { return }
        let statement = text.messageString
        if draft.statement == nil { groups[group]?.statement = statement }
        guard draft.statementTimeout else { return }
        let key: String
        if case .success(let fingerprint) = PgQuery.fingerprint(statement) { key = fingerprint } else { key = statement }
        add(CancellationDraft(sample: statement, count: 1, file: lastError.file, line: lastError.line), key: key)
    }

    /// The earliest cancellation's text stays the sample, whichever core read it.
    private mutating func add(_ cancellation: CancellationDraft, key: String) {
        guard var mine = cancellations[key] else { cancellations[key] = cancellation; return }
        mine.count += cancellation.count
        if (cancellation.file, cancellation.line) < (mine.file, mine.line) {
            (mine.sample, mine.file, mine.line) = (cancellation.sample, cancellation.file, cancellation.line)
        }
        cancellations[key] = mine
    }

    mutating func merge(_ other: ErrorCollector) {
        count += other.count
        for (g, e) in other.groups {
            guard var mine = groups[g] else { groups[g] = e; continue }
            mine.count += e.count
            if mine.statement == nil { mine.statement = e.statement }
            if e.firstMs < mine.firstMs || (e.file, e.line) < (mine.file, mine.line) && e.firstMs == mine.firstMs {
                mine.firstMs = e.firstMs; mine.file = e.file; mine.line = e.line; mine.message = e.message
            }
            groups[g] = mine
        }
        for (key, cancellation) in other.cancellations { add(cancellation, key: key) }
    }
}

/// Temporary files, lock waits, checkpoints and autovacuum runs.
struct MaintenanceCollector {
    var temp = TempFileSummary()
    var locks = LockWaitSummary()
    var checkpoints = CheckpointSummary()
    var autovacuum: [String: AutovacuumTable] = [:]
    /// What `locks.acquiredWaitMs`, `checkpoints.totalSeconds` and each table's `elapsedSeconds` show,
    /// summed exactly (see `DurationSum`).
    private var acquiredWait = DurationSum()
    private var checkpointTime = DurationSum()
    private var autovacuumTime: [String: DurationSum] = [:]

    /// Events whose STATEMENT line, if one follows, names the statement they belong to.
    enum StatementEvent {
        case tempFile(Int64)
        case lockWait
    }

    mutating func consume(_ message: ByteSlice) -> StatementEvent? {
        switch message[0] {
        case 0x63: // c
            if message.hasPrefix("checkpoint starting: ") {
                checkpoints.started += 1
                checkpoints.reasons[message.dropFirst(21).trimmingTrailingWhitespace().string, default: 0] += 1
            } else if message.hasPrefix("checkpoint complete: ") {
                checkpointComplete(message.string)
            }
        case 0x72: // r
            if message.hasPrefix("restartpoint complete: ") { checkpointComplete(message.string) }
        case 0x61: // a
            // `automatic aggressive vacuum of table` and `... to prevent wraparound of table` are vacuums too.
            if message.hasPrefix("automatic vacuum of table \"") || message.hasPrefix("automatic analyze of table \"")
                || message.hasPrefix("automatic aggressive vacuum ") {
                autovacuumRun(message)
            }
        case 0x74: // t
            if message.hasPrefix("temporary file: path ") {
                let text = message.string
                guard let r = text.range(of: ", size ") else { return nil }
                let bytes = Int64(text[r.upperBound...].prefix { $0.isNumber }) ?? 0
                temp.count += 1
                // A size is whatever digits the line holds; two near Int64's limit trapped (FuzzLogs).
                temp.totalBytes = saturatingSum(temp.totalBytes, bytes)
                temp.maxBytes = max(temp.maxBytes, bytes)
                return .tempFile(bytes)
            }
        case 0x70: // p
            if message.hasPrefix("process ") { return lockLine(message.string) }
        default:
            break
        }
        return nil
    }

    private mutating func autovacuumRun(_ message: ByteSlice) {
        let text = message.messageString
        let isVacuum = !message.hasPrefix("automatic analyze")
        guard let open = text.firstIndex(of: "\""), let close = text[text.index(after: open)...].firstIndex(of: "\"") else { return }
        let table = String(text[text.index(after: open)..<close])
        var entry = autovacuum[table] ?? AutovacuumTable(table: table, vacuums: 0, analyzes: 0, elapsedSeconds: 0)
        if isVacuum { entry.vacuums += 1 } else { entry.analyzes += 1 }
        if let r = text.range(of: "elapsed: "), let secs = Double(text[r.upperBound...].prefix { $0.isNumber || $0 == "." }) {
            autovacuumTime[table, default: DurationSum()].add(secs * 1000)
            entry.elapsedSeconds = (autovacuumTime[table]?.ms ?? 0) / 1000
        }
        autovacuum[table] = entry
    }

    private mutating func lockLine(_ text: String) -> StatementEvent? {
        if let r = text.range(of: " still waiting for ") {
            locks.waits += 1
            let mode = text[r.upperBound...].prefix { $0 != " " }
            locks.byLockMode[String(mode), default: 0] += 1
            return .lockWait
        }
        if let r = text.range(of: " acquired "), let after = text.range(of: " after ", range: r.upperBound..<text.endIndex) {
            locks.acquired += 1
            if let waited = Double(text[after.upperBound...].prefix { $0.isNumber || $0 == "." }) {
                acquiredWait.add(waited)
                locks.acquiredWaitMs = acquiredWait.ms
                locks.maxWaitMs = max(locks.maxWaitMs, waited)
            }
        }
        return nil
    }

    private mutating func checkpointComplete(_ text: String) {
        checkpoints.completed += 1
        if let r = text.range(of: "wrote "), let n = Int(text[r.upperBound...].prefix { $0.isNumber }) {
            checkpoints.buffersWritten = saturatingSum(checkpoints.buffersWritten, n)
        }
        if let r = text.range(of: "total="), let secs = Double(text[r.upperBound...].prefix { $0.isNumber || $0 == "." }) {
            checkpointTime.add(secs * 1000)
            checkpoints.totalSeconds = checkpointTime.ms / 1000
            checkpoints.maxSeconds = max(checkpoints.maxSeconds, secs)
        }
    }

    mutating func merge(_ other: MaintenanceCollector) {
        temp.count += other.temp.count
        temp.totalBytes = saturatingSum(temp.totalBytes, other.temp.totalBytes)
        temp.maxBytes = max(temp.maxBytes, other.temp.maxBytes)
        locks.waits += other.locks.waits
        locks.acquired += other.locks.acquired
        acquiredWait.add(other.acquiredWait)
        locks.acquiredWaitMs = acquiredWait.ms
        locks.maxWaitMs = max(locks.maxWaitMs, other.locks.maxWaitMs)
        for (m, c) in other.locks.byLockMode { locks.byLockMode[m, default: 0] += c }
        checkpoints.started += other.checkpoints.started
        checkpoints.completed += other.checkpoints.completed
        checkpoints.buffersWritten = saturatingSum(checkpoints.buffersWritten, other.checkpoints.buffersWritten)
        checkpointTime.add(other.checkpointTime)
        checkpoints.totalSeconds = checkpointTime.ms / 1000
        checkpoints.maxSeconds = max(checkpoints.maxSeconds, other.checkpoints.maxSeconds)
        for (r, c) in other.checkpoints.reasons { checkpoints.reasons[r, default: 0] += c }
        for (t, a) in other.autovacuum {
            var mine = autovacuum[t] ?? AutovacuumTable(table: t, vacuums: 0, analyzes: 0, elapsedSeconds: 0)
            mine.vacuums += a.vacuums
            mine.analyzes += a.analyzes
            if let time = other.autovacuumTime[t] {
                autovacuumTime[t, default: DurationSum()].add(time)
                mine.elapsedSeconds = (autovacuumTime[t]?.ms ?? 0) / 1000
            }
            autovacuum[t] = mine
        }
    }
}

/// Connections and disconnections (log_connections, log_disconnections).
struct SessionCollector {
    var summary = SessionSummary()
    var durations = LatencyHistogram()
    /// +1 where a session began and -1 where it ended, per millisecond of the log's clock: the running
    /// sum in time order is the number of open sessions (exact, whatever order the cores saw them in).
    var concurrencyDeltas: [Int64: Int] = [:]
    /// What `summary.totalSessionMs` shows, summed exactly (see `DurationSum`).
    private var sessionTime = DurationSum()

    /// True when the message was a session line.
    mutating func consume(_ message: ByteSlice, ms: Double?) -> Bool {
        if message.hasPrefix("connection received: ") {
            summary.connectionsReceived += 1
        } else if message.hasPrefix("connection authorized: ") {
            summary.connectionsAuthorized += 1
            let text = message.string
            if let user = field(text, "user=") { summary.byUser[user, default: 0] += 1 }
            if let db = field(text, "database=") { summary.byDatabase[db, default: 0] += 1 }
            if let app = field(text, "application_name=") { summary.byApplication[app, default: 0] += 1 }
        } else if message.hasPrefix("disconnection: session time: ") {
            summary.disconnections += 1
            let text = message.dropFirst(29).string
            if let duration = parseInterval(text.prefix { $0 != " " }) {
                sessionTime.add(duration)
                summary.totalSessionMs = sessionTime.ms
                summary.maxSessionMs = max(summary.maxSessionMs, duration)
                durations.record(milliseconds: duration)
                // A session of more than 292 million years has no integer start: not a session to count.
                if let ms, let start = Int64(exactly: (ms - duration).rounded()), let end = Int64(exactly: ms.rounded()) {
                    concurrencyDeltas[start, default: 0] += 1
                    concurrencyDeltas[end, default: 0] -= 1
                }
            }
        } else {
            return false
        }
        return true
    }

    /// The summary with the figures that need the whole log: rate over its range, duration percentiles, peak.
    func finished(firstMs: Double, lastMs: Double, zone: String?) -> SessionSummary {
        var s = summary
        let sessions = max(s.connectionsAuthorized, s.disconnections)
        if s.disconnections > 0 { s.meanSessionMs = s.totalSessionMs / Double(s.disconnections) }
        if lastMs > firstMs, sessions > 0 {
            s.observedSeconds = (lastMs - firstMs) / 1000
            s.sessionsPerSecond = Double(sessions) / ((lastMs - firstMs) / 1000)
        }
        if durations.count > 0 {
            s.medianSessionMs = durations.percentile(0.5).map { min(max($0, 0), s.maxSessionMs) }
            s.p95SessionMs = durations.percentile(0.95).map { min(max($0, 0), s.maxSessionMs) }
        }
        var open = 0, peak = 0, peakAt: Int64? = nil
        for ms in concurrencyDeltas.keys.sorted() {
            open += concurrencyDeltas[ms] ?? 0
            if open > peak { peak = open; peakAt = ms }
        }
        if let peakAt {
            s.peakConcurrentSessions = peak
            s.peakConcurrentAt = formatWall(Double(peakAt), zone: zone)
        }
        return s
    }

    mutating func merge(_ other: SessionCollector) {
        summary.connectionsReceived += other.summary.connectionsReceived
        summary.connectionsAuthorized += other.summary.connectionsAuthorized
        summary.disconnections += other.summary.disconnections
        sessionTime.add(other.sessionTime)
        summary.totalSessionMs = sessionTime.ms
        summary.maxSessionMs = max(summary.maxSessionMs, other.summary.maxSessionMs)
        durations.merge(other.durations)
        for (ms, delta) in other.concurrencyDeltas { concurrencyDeltas[ms, default: 0] += delta }
        for (k, v) in other.summary.byDatabase { summary.byDatabase[k, default: 0] += v }
        for (k, v) in other.summary.byUser { summary.byUser[k, default: 0] += v }
        for (k, v) in other.summary.byApplication { summary.byApplication[k, default: 0] += v }
    }
}

/// Statements, their time and errors per minute of the log's wall clock, and the latency distribution.
struct TimelineCollector {
    struct Minute {
        var statements = 0
        var duration = DurationSum()
        var errors = 0

        mutating func add(_ other: Minute) {
            statements += other.statements
            duration.add(other.duration)
            errors += other.errors
        }
    }
    private var earlier: [Int64: Minute] = [:]
    /// The minute being filled: a log is written in time order, so nearly every event lands in it and
    /// the hot path needs no dictionary lookup.
    private var currentMinute = Int64.min
    private var current = Minute()
    var latency = LatencyDistribution()

    var minutes: [Int64: Minute] {
        var all = earlier
        if currentMinute != .min { all[currentMinute, default: Minute()].add(current) }
        return all
    }

    @inline(__always)
    private mutating func select(_ ms: Double) {
        let minute = Int64((ms / 60_000).rounded(.down))
        guard minute != currentMinute else { return }
        if currentMinute != .min { earlier[currentMinute, default: Minute()].add(current) }
        currentMinute = minute
        current = Minute()
    }

    /// A statement, with its duration when it was timed (one call: each is an exclusive access to the worker).
    mutating func statement(at ms: Double?, duration: Double?) {
        if let duration { latency.record(milliseconds: duration) }
        guard let ms else { return }
        select(ms)
        current.statements += 1
        if let duration { current.duration.add(duration) }
    }

    mutating func duration(_ duration: Double, at ms: Double?) {
        latency.record(milliseconds: duration)
        guard let ms else { return }
        select(ms)
        current.duration.add(duration)
    }

    mutating func error(at ms: Double?) {
        guard let ms else { return }
        select(ms)
        current.errors += 1
    }

    mutating func merge(_ other: TimelineCollector) {
        latency.merge(other.latency)
        for (minute, b) in other.minutes { earlier[minute, default: Minute()].add(b) }
    }
}

/// Each session's current run of one statement (N+1 detection). Runs that may continue into the
/// previous or next piece of input are handed over in a RunSegment, so the coordinator joins them in
/// log order; memory is one open run per session.
struct SessionRunTracker {
    let minCalls: Int
    let maxGapMs: Double
    private var open: [UInt64: StatementRun] = [:]
    private var segment = RunSegment()

    init(minCalls: Int, maxGapMs: Double) {
        self.minCalls = minCalls
        self.maxGapMs = maxGapMs
    }

    /// One execution of a statement: only plain values, so passing it copies no reference.
    struct Execution {
        var session: UInt64
        var key: UInt64
        var ms: Double
        var duration: Double
        var file: Int
        var line: Int
    }

    /// One execution in its session. The closures are called only when their text is kept, so that
    /// the hot path does not allocate.
    mutating func observe(_ e: Execution, valueHash: UInt64, firstSample: () -> String, sample: () -> String,
                          sessionName: () -> String) {
        if let i = open.index(forKey: e.session) {
            open.values[i].commitValue()
            // One read of the run: each read through `values[i]` copies the whole struct.
            let run = open.values[i]
            if run.keyHash == e.key, e.ms - run.lastMs <= maxGapMs, e.ms >= run.lastMs - 1 {
                open.values[i].count += 1
                open.values[i].lastMs = e.ms
                open.values[i].total.add(e.duration)
                open.values[i].lastValue = valueHash
                if run.count == 1 {
                    open.values[i].sessionName = sessionName()
                    if !run.firstSample.isEmpty { open.values[i].samples.append(run.firstSample) }
                }
                if run.count < 3 { open.values[i].samples.append(sample()) }
                return
            }
            close(run)
            open.values[i] = begin(e, valueHash: valueHash, firstSample: firstSample(), first: false)
        } else {
            open[e.session] = begin(e, valueHash: valueHash, firstSample: firstSample(), first: true)
        }
    }

    private func begin(_ e: Execution, valueHash: UInt64, firstSample: String, first: Bool) -> StatementRun {
        StatementRun(keyHash: e.key, session: e.session, count: 1, firstMs: e.ms, lastMs: e.ms, total: DurationSum(e.duration),
                     firstValue: valueHash, lastValue: valueHash, varied: false, samples: [], file: e.file, line: e.line,
                     sessionName: "", isFirstInPiece: first, firstSample: firstSample)
    }

    /// The bind values (`DETAIL:  parameters: ...`) of the execution just observed in `session`.
    mutating func parameters(_ values: [String], hash: UInt64, session: UInt64, key: UInt64) {
        guard let i = open.index(forKey: session), open.values[i].keyHash == key else { return }
        open.values[i].lastValue = hash
        let count = open.values[i].count
        if count >= 2, count <= 3, !open.values[i].samples.isEmpty {
            open.values[i].samples[open.values[i].samples.count - 1] = values.joined(separator: ", ")
        } else if count == 1 {
            open.values[i].firstSample = values.count == 1 && values[0].utf8.count <= 15 ? values[0] : ""
        }
    }

    private mutating func close(_ run: StatementRun) {
        var run = run
        run.commitValue()
        if run.isFirstInPiece {
            segment.leading[run.session] = run
        } else if run.count >= minCalls, run.varied {
            segment.completed.append(run)
        }
    }

    mutating func takeSegment() -> RunSegment {
        for (session, var run) in open {
            run.commitValue()
            segment.trailing[session] = run
        }
        open.removeAll(keepingCapacity: true)
        let taken = segment
        segment = RunSegment()
        return taken
    }
}
