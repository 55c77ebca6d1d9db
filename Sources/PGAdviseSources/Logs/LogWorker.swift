import Foundation
import PGAdviseCore
import PGAdviseSQL

/// Everything known about one pre-scan key (see FastNormalizer). Several keys may later fold into one
/// fingerprint; memory per key is constant whatever the log's size.
final class KeyStats {
    /// The pre-normalised text, while the key is in the pre-scan cache (emptied once it leaves).
    private(set) var key: [UInt8]
    let hash: UInt64
    /// The first statement seen with this key: what libpg_query fingerprints and normalizes. Emptied
    /// once the key is an aggregate with a sample, which then needs only `normalized`.
    private(set) var representative: String
    /// Where `representative` was read (`origin(file:line:)`) and how it ranks (`TextRank`): an
    /// aggregate's normalized text is that of its fingerprint's first statement by rank, then by place
    /// in the input, whatever order cores and the cache fold its keys in. Read by every statement
    /// (`textComesAfter`), so unchecked like the figures below.
    @exclusivity(unchecked) private(set) var origin: Int
    @exclusivity(unchecked) private(set) var layout: UInt64
    /// libpg_query's normalized text, set when the key becomes its fingerprint's aggregate.
    private(set) var normalized = ""
    // The figures every statement writes. Not checked for overlapping access at run time: one core
    // writes a key at a time (its own cache's, or an aggregate under its shard's lock), no access spans
    // a call that could reach the same key, and the checks were 2% of a log's instructions (callgrind).
    @exclusivity(unchecked) var calls = 0
    @exclusivity(unchecked) var timedCalls = 0
    @exclusivity(unchecked) var total = DurationSum()
    var totalMs: Double { total.ms }
    @exclusivity(unchecked) var minMs = Double.infinity
    @exclusivity(unchecked) var maxMs = -1.0
    @exclusivity(unchecked) var histogram = LatencyHistogram()
    @exclusivity(unchecked) var firstMs = Double.infinity
    @exclusivity(unchecked) var lastMs = -Double.infinity
    @exclusivity(unchecked) var breakdown = ContextCounts()
    @exclusivity(unchecked) var slowest: SlowestRun?
    /// How many logged executions bound each value, per parameter (`$1` first), counted only from the
    /// statements whose parameters stand where the normalized text's do (the same `layout`). Inline:
    /// empty, it is two empty arrays, and it is written on every execution that has bind values.
    var boundValues = BoundValueCounts()
    /// Temporary files, lock waits and plans: allocated for the few statements that have any, since
    /// every distinct statement of a log pays for what its KeyStats holds inline.
    private var events: KeyEvents?
    private var ensuredEvents: KeyEvents {
        if let events { return events }
        let created = KeyEvents()
        events = created
        return created
    }
    var tempFiles: Int { get { events?.tempFiles ?? 0 } set { ensuredEvents.tempFiles = newValue } }
    var tempBytes: Int64 { get { events?.tempBytes ?? 0 } set { ensuredEvents.tempBytes = newValue } }
    var tempMaxBytes: Int64 { get { events?.tempMaxBytes ?? 0 } set { ensuredEvents.tempMaxBytes = newValue } }
    var lockWaits: Int { get { events?.lockWaits ?? 0 } set { ensuredEvents.lockWaits = newValue } }
    var planMs: Double { get { events?.planMs ?? -1 } set { ensuredEvents.planMs = newValue } }
    var plan: String? { get { events?.plan } set { ensuredEvents.plan = newValue } }
    var planCalls: Int { get { events?.planCalls ?? 0 } set { ensuredEvents.planCalls = newValue } }
    var planTotal: DurationSum { get { events?.planTotal ?? DurationSum() } set { ensuredEvents.planTotal = newValue } }
    /// Each plan insight's worst occurrence in this key's plans: at most one per rule, whatever the log's size.
    var planInsights: [String: LogPlanInsight] { events?.planInsights ?? [:] }
    /// Set once the key has left the pre-scan cache and its figures joined its fingerprint's aggregate.
    var fingerprint: FingerprintKey?
    var parsed: Bool { fingerprint?.parsed ?? false }
    /// The aggregate these figures were merged into (a log_statement waiting for its duration may
    /// still hold this object: it follows the pointer).
    var mergedInto: KeyStats? {
        didSet { hasLeftCache = true }
    }
    /// How many keys had entered the cache when this one last moved to the front of the LRU list.
    var movedAt = 0

    /// Where figures recorded now belong: this object, or the aggregate it was merged into.
    var current: KeyStats {
        var k = self
        while let next = k.mergedInto { k = next }
        return k
    }

    /// Set once the key has left its core's pre-scan cache (merged into an aggregate or become one):
    /// its figures are then shared. A stored flag: every statement reads it.
    private(set) var hasLeftCache = false

    init(key: [UInt8], hash: UInt64, representative: String, origin: Int, layout: UInt64) {
        self.key = key
        self.hash = hash
        self.representative = representative
        self.origin = origin
        self.layout = layout
    }

    static func origin(file: Int, line: Int) -> Int { file << 40 | line }

    /// Whether a statement read at `origin` with `layout` comes before this key's text (see `TextRank`).
    @inline(__always)
    func textComesAfter(layout: UInt64, origin: Int) -> Bool {
        layout < self.layout || (layout == self.layout && origin < self.origin)
    }

    /// A statement that comes before this key's text becomes it. The bind values counted so far go if
    /// its layout differs: they were bound in other places.
    func adopt(statement text: String, layout: UInt64, origin: Int) {
        if layout != self.layout { boundValues = BoundValueCounts() }
        self.layout = layout
        self.origin = origin
        guard let fingerprint else { representative = text; return }
        if fingerprint.parsed, case .success(let n) = PgQuery.normalize(text) { normalized = n }
        representative = slowest != nil ? "" : text
    }

    /// Whether a call (or another key's sample, when merging) becomes the sample; call it before
    /// recording the call's duration. The slowest timed call, else the first; ties go to the earliest in
    /// the input, whichever core adds it first.
    func takesSample(_ duration: Double?, file: Int32, line: Int) -> Bool {
        let value = duration ?? -1
        // Decided without reading `slowest` (a copy of it, strings retained) but on a tie: a key
        // with a sample has `maxMs` set by it, or -1 when it was untimed.
        if value != maxMs { return value > maxMs }
        guard let sampleFile = slowest?.file, let sampleLine = slowest?.line else { return true }
        return (Int(file), line) < (Int(sampleFile), sampleLine)
    }

    func merge(_ other: KeyStats) {
        if other.layout < layout {
            boundValues = other.boundValues
        } else if other.layout == layout {
            boundValues.merge(other.boundValues)
        }
        if textComesAfter(layout: other.layout, origin: other.origin) { adoptText(of: other) }
        calls += other.calls
        timedCalls += other.timedCalls
        total.add(other.total)
        minMs = min(minMs, other.minMs)
        if let sample = other.slowest, takesSample(other.maxMs < 0 ? nil : other.maxMs, file: sample.file, line: sample.line) {
            slowest = sample
        }
        maxMs = max(maxMs, other.maxMs)
        histogram.merge(other.histogram)
        firstMs = min(firstMs, other.firstMs)
        lastMs = max(lastMs, other.lastMs)
        for (id, count) in other.breakdown.pairs { breakdown.add(id, count) }
        guard let theirs = other.events else { return }
        let mine = ensuredEvents
        mine.tempFiles += theirs.tempFiles
        mine.tempBytes = saturatingSum(mine.tempBytes, theirs.tempBytes)
        mine.tempMaxBytes = max(mine.tempMaxBytes, theirs.tempMaxBytes)
        mine.lockWaits += theirs.lockWaits
        if theirs.planMs > mine.planMs { mine.planMs = theirs.planMs; mine.plan = theirs.plan }
        mine.planCalls += theirs.planCalls
        mine.planTotal.add(theirs.planTotal)
        for (rule, occurrence) in theirs.planInsights { record(occurrence, rule: rule) }
    }

    func record(_ occurrence: LogPlanInsight, rule: String) {
        let events = ensuredEvents
        events.planInsights[rule] = events.planInsights[rule].map { $0.combined(with: occurrence) } ?? occurrence
    }

    /// This key becomes its fingerprint's aggregate: its texts give way to the normalized text (the
    /// pre-normalised one when libpg_query cannot read it), which is all the report needs of them.
    func becomeAggregate(fingerprint: FingerprintKey) {
        self.fingerprint = fingerprint
        hasLeftCache = true
        adoptText(of: self)
        key = []
    }

    private func adoptText(of other: KeyStats) {
        if fingerprint?.parsed == true, case .success(let n) = PgQuery.normalize(other.representative) { normalized = n } else {
            normalized = String(decoding: other.key, as: UTF8.self)
        }
        origin = other.origin
        layout = other.layout
        // A plan-only statement reports its text as its sample.
        representative = slowest != nil ? "" : other.representative
    }
}

/// Which of a fingerprint's texts it is reported with (`KeyStats.layout`). One fingerprint can bind
/// its parameters in different places (IN lists of different lengths), and its bind values are counted
/// only from the statements whose parameters stand where its text's do: a `$3` that is an id in one
/// statement and a status in another must not be counted as one parameter. The text is chosen so that
/// the choice is the same however cores and the cache split the log: the statements with explicit
/// parameters first (theirs are the bind values), the fewest parameters (the shortest IN list), then
/// by layout; among equals, the first in the input.
enum TextRank {
    static let withoutParameters: UInt64 = 1 << 63
    /// A text read from a temporary file's, a lock wait's or a plan's line rather than an execution.
    static let notExecuted = UInt64.max

    /// The rank of the statement `normalizer` read last.
    static func of(_ normalizer: borrowing FastNormalizer) -> UInt64 {
        let count = normalizer.parameterCount
        guard count > 0 else { return withoutParameters }
        return UInt64(min(count, 0x7FFF)) << 48 | normalizer.parameterLayout & 0xFFFF_FFFF_FFFF
    }
}

/// A fingerprint as the aggregates are keyed by while reading: a number, where its 16 hex digits as a
/// String cost a heap block per distinct fingerprint. Rendered as reports print it only for output.
struct FingerprintKey: Hashable, Comparable {
    /// libpg_query's 64-bit fingerprint, or for a statement it cannot parse the hash of its pre-scan key.
    let value: UInt64
    let parsed: Bool

    /// 16 lowercase hex digits as libpg_query prints them (`%016llx`); an unparsable statement's with a
    /// `u` first, so the two can never collide.
    var text: String {
        let digits = String(value, radix: 16)
        guard parsed else { return "u" + digits }
        return String(repeating: "0", count: 16 - digits.utf8.count) + digits
    }

    static func < (a: FingerprintKey, b: FingerprintKey) -> Bool { (a.parsed ? 0 : 1, a.value) < (b.parsed ? 0 : 1, b.value) }
}

/// A fingerprint's slowest run as the aggregate keeps it: its context (database, user, application) and
/// file as indices and its time as a number where it can (`SampleTime`), so that it costs a third of a
/// `QuerySample`, which it becomes for the report (`LogAnalyzer.querySample`).
struct SlowestRun {
    var text: String
    var durationMs: Double?
    var parameters: [String]?
    var time: SampleTime
    /// Into the analyzer's `FingerprintAggregates.contexts`.
    var context: Int32
    /// Into the analyzer's files.
    var file: Int32
    var line: Int
}

/// When a sample ran, as logged.
enum SampleTime {
    case none
    /// The text `formatWall(ms, zone:)` gives back.
    case wall(Double, zone: String?)
    case text(String)

    var text: String? {
        switch self {
        case .none: nil
        case .wall(let ms, let zone): formatWall(ms, zone: zone)
        case .text(let text): text
        }
    }
}

/// What a few statements have besides their calls (see `KeyStats.events`).
final class KeyEvents {
    var tempFiles = 0
    var tempBytes: Int64 = 0
    var tempMaxBytes: Int64 = 0
    var lockWaits = 0
    var planMs = -1.0
    var plan: String?
    var planCalls = 0
    var planTotal = DurationSum()
    var planInsights: [String: LogPlanInsight] = [:]
}

/// Calls per context (database, user, application id). Nearly every fingerprint runs in one context,
/// so the first is kept inline and a dictionary is allocated only for a second one.
struct ContextCounts {
    private var firstID: Int32 = -1
    private var firstCount = 0
    private var others: [Int32: Int] = [:]

    mutating func add(_ id: Int32, _ count: Int) {
        if id == firstID || firstID < 0 {
            firstID = id
            firstCount += count
        } else {
            others[id, default: 0] += count
        }
    }

    var pairs: [(id: Int32, count: Int)] {
        firstID < 0 ? [] : [(firstID, firstCount)] + others.map { ($0.key, $0.value) }
    }
}

/// A run of one key from one session, for N+1 detection.
struct StatementRun {
    var keyHash: UInt64
    var session: UInt64
    var count: Int
    var firstMs: Double
    var lastMs: Double
    var total: DurationSum
    var firstValue: UInt64
    var lastValue: UInt64
    var varied: Bool
    var samples: [String]
    var file: Int
    var line: Int
    var sessionName: String
    var isFirstInPiece: Bool
    /// The first execution's values when they are short (see `shortLiteralSample`).
    var firstSample: String

    mutating func commitValue() {
        if count == 1 { firstValue = lastValue } else if lastValue != firstValue { varied = true }
    }

    /// `other` directly follows `self` in the same session: one run.
    mutating func absorb(_ other: StatementRun) {
        varied = varied || other.varied || other.firstValue != firstValue
        count += other.count
        lastMs = other.lastMs
        total.add(other.total)
        for s in other.samples where samples.count < 3 { samples.append(s) }
    }
}

/// The order-dependent part of one piece of input: runs that may continue across piece boundaries.
struct RunSegment {
    var leading: [UInt64: StatementRun] = [:]
    var trailing: [UInt64: StatementRun] = [:]
    var completed: [StatementRun] = []
}

/// One core's aggregate. Readers push events; order-independent totals live here for the whole run,
/// while runs (N+1) are collected per piece in `runs` and handed to the coordinator in order.
final class LogWorker {
    let options: LogAnalysisOptions
    /// Not checked for overlapping access at run time: only this worker's core uses it, and every
    /// statement reads it several times.
    @exclusivity(unchecked) var normalizer = FastNormalizer()
    let scratch = ScratchBuffer()

    /// The pre-scan cache: the distinct pre-normalised texts (keys) seen lately with their figures, at
    /// most `keyCapacity`, in least-recently-used order (`lruNext`/`lruPrev` link the slots, the most
    /// recent at `lruHead`). An evicted key's figures are folded into its fingerprint's aggregate
    /// (libpg_query, once per key), and only its 64-bit hash stays behind in `aggregateOfEvictedKey`:
    /// memory grows with fingerprints, not with distinct texts (schema-per-tenant, partition-per-day).
    /// The aggregates are shared by the cores: a text seen again after its key left the cache adds to
    /// its aggregate under the aggregate's lock (`FingerprintAggregates.acquire`).
    var keyIndex: [UInt64: Int32] = [:]
    var keys: [KeyStats] = []
    private var lruPrev: [Int32] = []
    private var lruNext: [Int32] = []
    private var lruHead: Int32 = -1
    private var lruTail: Int32 = -1
    let keyCapacity: Int
    private var insertions = 0
    /// Per fingerprint, never evicted, shared by the analyzer's cores: what `report()` turns into queries.
    let aggregates: FingerprintAggregates
    /// Keys that left the cache → their fingerprint's aggregate (libpg_query runs once per key and core).
    var aggregateOfEvictedKey: [UInt64: KeyStats] = [:]
    /// Context hash → its id in `aggregates.contexts`, the shared table asked once per context.
    private var contextIndex: [UInt64: Int32] = [:]
    private var lastContextHash: UInt64 = 0
    private var lastContextID: Int32 = -1

    var lines = 0
    var skippedLines = 0
    var statements = 0
    var timedStatements = 0
    var durationTotal = DurationSum()
    var parseBindSteps = 0
    var parseBindTotal = DurationSum()
    var firstMs = Double.infinity
    var lastMs = -Double.infinity
    var zone: String?
    var sawSession = false
    var fileIndex = 0

    // What the worker collects besides statements, one value each (see LogCollectors.swift).
    var errors = ErrorCollector()
    var maintenance = MaintenanceCollector()
    var sessions = SessionCollector()
    var timeline = TimelineCollector()
    var pgbouncer = PgBouncerCollector()
    /// Records whose severity was recognised: what tells a log with no statement from unreadable input.
    var recognisedRecords = 0
    /// Lines read through another shape than the detected one (see StderrReader's alternates).
    var otherShapeLines = 0
    var sessionRuns: SessionRunTracker
    /// Statements logged by log_statement, waiting for a bare `duration:` line from the same session,
    /// with the sample they make if that duration is their fingerprint's slowest.
    private var untimed: [UInt64: (key: KeyStats, run: SlowestRun)] = [:]

    private enum Previous {
        case none
        case statement(KeyStats, key: UInt64, session: UInt64, line: Int, layout: UInt64)
        case error(String)
        case tempFile(Int64)
        case lockWait
    }
    private var previous = Previous.none

    init(options: LogAnalysisOptions, aggregates: FingerprintAggregates) {
        self.options = options
        self.aggregates = aggregates
        keyCapacity = max(1, options.keyCacheCapacity / max(1, options.jobs))
        sessionRuns = SessionRunTracker(minCalls: options.nPlusOneMinCalls, maxGapMs: options.nPlusOneMaxGapMs)
    }

    // MARK: Events

    func consume(_ event: inout LogEvent) {
        let ms = observeTime(event.timestamp)
        if event.severity != .unknown { recognisedRecords += 1 }
        if event.severity.isSecondary {
            attach(event.severity, event.message, event)
            return
        }
        previous = .none
        let message = event.message
        if event.severity == .log {
            if message.hasPrefix("duration: ") {
                durationLine(message, ms, &event)
            } else if message.hasPrefix("statement: ") {
                let recorded = recordStatement(message.dropFirst(11), duration: nil, ms, event, awaitsDuration: !event.session.isEmpty)
                if let run = recorded.run {
                    if untimed.count > 100_000 { untimed.removeAll(keepingCapacity: true) }   // bounded memory
                    untimed[hashBytes(UnsafeRawBufferPointer(event.session.buffer))] = (recorded.key, run)
                }
            } else if message.hasPrefix("execute "), let colon = message.firstIndex(of: ": ") {
                _ = recordStatement(message.dropFirst(colon + 2), duration: nil, ms, event)
            } else {
                otherLog(message, ms)
            }
        } else if event.severity.isError {
            recordError(event, ms)
        }
        if !event.detail.isEmpty { attach(.detail, event.detail, event) }
        if !event.statement.isEmpty { attach(.statement, event.statement, event) }
    }

    private func observeTime(_ timestamp: ByteSlice) -> Double? {
        let ms = wallMillis(timestamp)
        if let ms {
            if ms < firstMs { firstMs = ms }
            if ms > lastMs { lastMs = ms }
            if zone == nil { zone = zoneText(timestamp) }
        }
        return ms
    }

    func pgbouncerLine(timestamp: ByteSlice, level: LogSeverity, message: ByteSlice, line: Int) {
        recognisedRecords += 1
        let ms = observeTime(timestamp)
        pgbouncer.consume(message, ms: ms, file: fileIndex, line: line)
    }

    private func durationLine(_ message: ByteSlice, _ ms: Double?, _ event: inout LogEvent) {
        var i = 10
        var value = 0.0
        var scale = 0.0
        while i < message.count {
            let c = message[i]
            if isDigit(c) {
                value = value * 10 + Double(c - 0x30)
                if scale > 0 { scale *= 10 }
            } else if c == 0x2E, scale == 0 { scale = 1 } else { break }
            i += 1
        }
        let duration = scale > 0 ? value / scale : value
        let rest = message.dropFirst(i)
        guard rest.hasPrefix(" ms") else { return }
        var body = rest.dropFirst(3)
        while body.count > 0, body[0] == 0x20 { body = body.dropFirst(1) }
        if body.hasPrefix("statement: ") {
            _ = recordStatement(body.dropFirst(11), duration: duration, ms, event)
        } else if body.hasPrefix("execute ") || body.hasPrefix("parse ") || body.hasPrefix("bind ") {
            guard let colon = body.firstIndex(of: ": ") else { return }
            if body.hasPrefix("execute ") {
                _ = recordStatement(body.dropFirst(colon + 2), duration: duration, ms, event)
            } else {
                parseBindSteps += 1
                parseBindTotal.add(duration)
            }
        } else if body.hasPrefix("plan:") {
            autoExplain(body.dropFirst(5), duration, line: event.line)
        } else if body.isEmpty || body[0] == 0x0A {
            // log_duration / log_statement pairs: the text came earlier from the same session.
            guard !event.session.isEmpty else { return }
            let session = hashBytes(UnsafeRawBufferPointer(event.session.buffer))
            guard let waiting = untimed.removeValue(forKey: session) else { return }
            timedStatements += 1
            durationTotal.add(duration)
            timeline.duration(duration, at: ms)
            var run = waiting.run
            run.durationMs = duration
            aggregates.update(waiting.key) { k in
                if k.takesSample(duration, file: run.file, line: run.line) { k.slowest = run }
                k.timedCalls += 1
                k.total.add(duration)
                k.histogram.record(milliseconds: duration)
                k.minMs = min(k.minMs, duration)
                k.maxMs = max(k.maxMs, duration)
            }
        }
    }

    /// Adds a statement to its figures. Returns them, and the statement as a sample when it became its
    /// fingerprint's or when `awaitsDuration` (a later `duration:` line may make it the slowest).
    @discardableResult
    private func recordStatement(_ text: ByteSlice, duration: Double?, _ ms: Double?, _ event: LogEvent,
                                 awaitsDuration: Bool = false) -> (key: KeyStats, run: SlowestRun?) {
        let statement = text.trimmingTrailingWhitespace()
        let (key, keyHash) = lookupKey(statement, line: event.line, executed: true)
        let layout = TextRank.of(normalizer)
        let origin = KeyStats.origin(file: fileIndex, line: event.line)
        statements += 1
        timeline.statement(at: ms, duration: duration)
        if let duration {
            timedStatements += 1
            durationTotal.add(duration)
        }
        let context = contextID(event)
        let file = Int32(truncatingIfNeeded: fileIndex)
        func asSample() -> SlowestRun {
            SlowestRun(text: statement.messageString, durationMs: duration, time: sampleTime(event.timestamp, ms),
                       context: context, file: file, line: event.line)
        }
        var run: SlowestRun?
        let k = aggregates.acquire(key)
        if k.textComesAfter(layout: layout, origin: origin) { k.adopt(statement: statement.messageString, layout: layout, origin: origin) }
        k.calls += 1
        if k.takesSample(duration, file: file, line: event.line) {
            run = asSample()
            k.slowest = run
        }
        if let duration {
            k.timedCalls += 1
            k.total.add(duration)
            k.histogram.record(milliseconds: duration)
            if duration < k.minMs { k.minMs = duration }
            if duration > k.maxMs { k.maxMs = duration }
        }
        if let ms {
            if ms < k.firstMs { k.firstMs = ms }
            if ms > k.lastMs { k.lastMs = ms }
        }
        k.breakdown.add(context, 1)
        aggregates.release(k)
        if awaitsDuration, run == nil { run = asSample() }
        var session: UInt64 = 0
        if !event.session.isEmpty {
            sawSession = true
            session = hashBytes(UnsafeRawBufferPointer(event.session.buffer))
            observeRun(session: session, key: keyHash, ms: ms, duration: duration ?? 0, statement: statement, event: event)
        }
        previous = .statement(key, key: keyHash, session: session, line: event.line, layout: layout)
        return (key, run)
    }

    /// The figures a statement's text adds to, and its key's hash (what N+1 runs compare): its entry in
    /// the pre-scan cache, its fingerprint's (shared) aggregate when the key was evicted, or a new entry.
    /// Write to it through `aggregates.acquire` or `update`. `executed`: the text is a statement's
    /// execution (it ranks by its parameters, `TextRank`), not a line that names one.
    private func lookupKey(_ statement: ByteSlice, line: Int, executed: Bool = false) -> (KeyStats, UInt64) {
        var hash = normalizer.normalize(statement.buffer)
        while true {
            if let idx = keyIndex[hash] {
                let k = keys[Int(idx)]
                if k.key == normalizer.key {
                    // A key moved to the front less than an eighth of the cache's insertions ago is
                    // still near the front: moving it again would cost every hit of a hot statement
                    // and change its eviction by at most that eighth.
                    if insertions - k.movedAt > keyCapacity / 8 {
                        touch(idx)
                        k.movedAt = insertions
                    }
                    return (k, hash)
                }
                hash &+= 0x9E37_79B9   // a true collision: probe the next slot
                continue
            }
            if let aggregate = aggregateOfEvictedKey[hash] { return (aggregate, hash) }
            // An exact-size copy: `normalizer.key` keeps a 4 kB buffer for reuse, which a plain copy
            // would share and then keep alive per distinct text once the normalizer writes its next key.
            let key = normalizer.key.withUnsafeBufferPointer { Array($0) }
            let k = KeyStats(key: key, hash: hash, representative: statement.messageString,
                             origin: KeyStats.origin(file: fileIndex, line: line),
                             layout: executed ? TextRank.of(normalizer) : TextRank.notExecuted)
            insertions += 1
            k.movedAt = insertions
            let idx: Int32
            if keys.count < keyCapacity {
                idx = Int32(keys.count)
                keys.append(k)
                lruPrev.append(-1)
                lruNext.append(-1)
            } else {
                idx = lruTail
                evict(idx)
                keys[Int(idx)] = k
            }
            keyIndex[hash] = idx
            linkAtHead(idx)
            return (k, hash)
        }
    }

    // MARK: Pre-scan cache (LRU)

    private func touch(_ idx: Int32) {
        guard idx != lruHead else { return }
        unlink(idx)
        linkAtHead(idx)
    }

    private func unlink(_ idx: Int32) {
        let prev = lruPrev[Int(idx)], next = lruNext[Int(idx)]
        if prev >= 0 { lruNext[Int(prev)] = next } else { lruHead = next }
        if next >= 0 { lruPrev[Int(next)] = prev } else { lruTail = prev }
        lruPrev[Int(idx)] = -1
        lruNext[Int(idx)] = -1
    }

    private func linkAtHead(_ idx: Int32) {
        lruPrev[Int(idx)] = -1
        lruNext[Int(idx)] = lruHead
        if lruHead >= 0 { lruPrev[Int(lruHead)] = idx }
        lruHead = idx
        if lruTail < 0 { lruTail = idx }
    }

    /// Takes a key out of the cache, its figures folded into its fingerprint's aggregate.
    private func evict(_ idx: Int32) {
        let victim = keys[Int(idx)]
        unlink(idx)
        if keyIndex[victim.hash] == idx { keyIndex.removeValue(forKey: victim.hash) }
        aggregateOfEvictedKey[victim.hash] = fold(victim)
    }

    /// Every key still cached, folded into the aggregates (before the workers merge and the report).
    func evictAll() {
        while lruTail >= 0 { evict(lruTail) }
        keys.removeAll()
        lruPrev.removeAll()
        lruNext.removeAll()
        keyIndex.removeAll()
    }

    /// Folds a key's figures into its fingerprint's aggregate, which it returns. Unparsable text gets a
    /// fingerprint of its own key.
    private func fold(_ k: KeyStats) -> KeyStats {
        let fingerprint: FingerprintKey
        if case .success(let text) = PgQuery.fingerprint(k.representative), let value = UInt64(text, radix: 16) {
            fingerprint = FingerprintKey(value: value, parsed: true)
        } else {
            fingerprint = FingerprintKey(value: k.hash, parsed: false)
        }
        return aggregates.fold(k, fingerprint: fingerprint)
    }

    /// A timestamp as its wall-clock milliseconds when `formatWall` gives back the logged text exactly
    /// (`%m` in one zone, csvlog, jsonlog): a heap String less per distinct statement.
    private func sampleTime(_ timestamp: ByteSlice, _ ms: Double?) -> SampleTime {
        guard !timestamp.isEmpty else { return .none }
        if let ms, let rendered = formatWall(ms, zone: zone), rendered.utf8.elementsEqual(timestamp.buffer) { return .wall(ms, zone: zone) }
        return .text(timestamp.string)
    }

    private func contextID(_ event: LogEvent) -> Int32 {
        var h = hashBytes(UnsafeRawBufferPointer(event.database.buffer))
        h = h &* 31 &+ hashBytes(UnsafeRawBufferPointer(event.user.buffer))
        h = h &* 31 &+ hashBytes(UnsafeRawBufferPointer(event.application.buffer))
        if h == lastContextHash, lastContextID >= 0 { return lastContextID }
        let id: Int32
        if let known = contextIndex[h] { id = known } else {
            id = aggregates.contextID(hash: h) { (event.database.string, event.user.string, event.application.string) }
            contextIndex[h] = id
        }
        lastContextHash = h
        lastContextID = id
        return id
    }

    // MARK: N+1 runs

    private func observeRun(session: UInt64, key: UInt64, ms: Double?, duration: Double, statement: ByteSlice, event: LogEvent) {
        let execution = SessionRunTracker.Execution(session: session, key: key, ms: ms ?? 0, duration: duration,
                                                    file: fileIndex, line: event.line)
        sessionRuns.observe(execution, valueHash: literalValueHash(statement), firstSample: { shortLiteralSample(statement) },
                            sample: { literalSample(statement) }, sessionName: { event.session.string })
    }

    /// The order-dependent state of the piece just processed; resets it for the next piece.
    func takeRunSegment() -> RunSegment { sessionRuns.takeSegment() }

    private func literalValueHash(_ statement: ByteSlice) -> UInt64 {
        var h: UInt64 = 0
        guard let base = statement.base else { return 0 }
        for r in normalizer.literalRanges where r.upperBound <= statement.count {
            h = h &* 31 &+ hashBytes(UnsafeRawBufferPointer(start: base + r.lowerBound, count: r.count))
        }
        return h
    }

    /// The first execution's values, kept only when they fit in a String's inline storage (15 bytes):
    /// every statement starts a run, so this must not allocate.
    private func shortLiteralSample(_ statement: ByteSlice) -> String {
        guard let base = statement.base, normalizer.literalCount == 1, let r = normalizer.literalRanges.first,
              r.count <= 15, r.upperBound <= statement.count else { return "" }
        return String(decoding: UnsafeBufferPointer(start: base + r.lowerBound, count: r.count), as: UTF8.self)
    }

    private func literalSample(_ statement: ByteSlice) -> String {
        guard let base = statement.base else { return "" }
        return normalizer.literalRanges.filter { $0.upperBound <= statement.count }.map {
            String(decoding: UnsafeBufferPointer(start: base + $0.lowerBound, count: $0.count), as: UTF8.self)
        }.joined(separator: ", ")
    }

    // MARK: Secondary lines

    private func attach(_ severity: LogSeverity, _ text: ByteSlice, _ event: LogEvent) {
        switch (severity, previous) {
        case (.detail, .statement(let k, let keyHash, let session, let line, let layout)):
            guard text.hasPrefix("parameters: ") else { return }
            let values = parseParameters(text.dropFirst(12))
            let file = Int32(truncatingIfNeeded: fileIndex)
            aggregates.update(k) { k in
                // Still this statement's sample: another core may have added a slower one meanwhile.
                if let sample = k.slowest, sample.file == file, sample.line == line { k.slowest?.parameters = values }
                if layout == k.layout { k.boundValues.record(values) }
            }
            if session != 0 {
                sessionRuns.parameters(values, hash: hashBytes(UnsafeRawBufferPointer(text.buffer)), session: session, key: keyHash)
            }
        case (.statement, .error(let group)):
            errors.attachStatement(text, to: group)
        case (.statement, .tempFile(let bytes)):
            aggregates.update(lookupKey(text.trimmingTrailingWhitespace(), line: event.line).0) { k in
                k.tempFiles += 1
                k.tempBytes = saturatingSum(k.tempBytes, bytes)
                k.tempMaxBytes = max(k.tempMaxBytes, bytes)
            }
        case (.statement, .lockWait):
            aggregates.update(lookupKey(text.trimmingTrailingWhitespace(), line: event.line).0) { $0.lockWaits += 1 }
        default:
            break
        }
    }

    // MARK: Other LOG lines

    private func otherLog(_ message: ByteSlice, _ ms: Double?) {
        guard message.count > 8 else { return }
        if sessions.consume(message, ms: ms) { return }
        switch maintenance.consume(message) {
        case .tempFile(let bytes): previous = .tempFile(bytes)
        case .lockWait: previous = .lockWait
        case nil: break
        }
    }

    // MARK: auto_explain

    private func autoExplain(_ body: ByteSlice, _ duration: Double, line: Int) {
        let text = body.messageString.trimmingWhitespace()
        let query: String
        if text.hasPrefix("{") {
            guard let value = try? JSONValue.parse(text), let q = value["Query Text"]?.string else { return }
            query = q
        } else {
            guard text.hasPrefix("Query Text: ") else { return }
            let firstPlanLine = text.firstIndex(of: "\n") ?? text.endIndex
            // The query text may span lines; the plan starts at the first line that looks like a plan node.
            var queryEnd = firstPlanLine
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var consumed = lines.first.map { $0.count } ?? 0
            for line in lines.dropFirst() {
                if looksLikePlanNode(line) { break }
                consumed += 1 + line.count
                queryEnd = text.index(text.startIndex, offsetBy: consumed)
            }
            query = String(text[text.index(text.startIndex, offsetBy: 12)..<queryEnd])
        }
        var copy = query
        let key = copy.withUTF8 { buf in lookupKey(ByteSlice(buf), line: line).0 }
        // Judged now, as it is read: only each insight's worst occurrence is kept, not every plan.
        let insights = (options.planInsights?(text) ?? []).map { finding in
            var located = finding
            located.file = String(fileIndex)
            located.line = line
            return LogPlanInsight(finding: located, durationMs: duration)
        }
        aggregates.update(key) { k in
            k.planCalls += 1
            k.planTotal.add(duration)
            if duration > k.planMs {
                k.planMs = duration
                k.plan = text
            }
            for insight in insights { k.record(insight, rule: insight.finding.rule) }
        }
    }

    private func looksLikePlanNode(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.hasPrefix("->") { return true }
        return trimmed.contains("  (cost=") || trimmed.contains(" (cost=") || trimmed.contains("(actual time=")
    }

    // MARK: Errors

    private func recordError(_ event: LogEvent, _ ms: Double?) {
        timeline.error(at: ms)
        previous = .error(errors.record(event, ms: ms, file: fileIndex))
    }

    // MARK: Merging

    /// Merges another worker's figures besides the (shared) aggregates.
    func merge(_ other: LogWorker) {
        lines += other.lines
        skippedLines += other.skippedLines
        statements += other.statements
        timedStatements += other.timedStatements
        durationTotal.add(other.durationTotal)
        parseBindSteps += other.parseBindSteps
        parseBindTotal.add(other.parseBindTotal)
        firstMs = min(firstMs, other.firstMs)
        lastMs = max(lastMs, other.lastMs)
        zone = zone ?? other.zone
        sawSession = sawSession || other.sawSession
        recognisedRecords += other.recognisedRecords
        otherShapeLines += other.otherShapeLines
        errors.merge(other.errors)
        maintenance.merge(other.maintenance)
        sessions.merge(other.sessions)
        timeline.merge(other.timeline)
        pgbouncer.merge(other.pgbouncer)
    }
}

// MARK: - Helpers

/// Bind values from `$1 = '42', $2 = NULL, $3 = 'it''s'`, unquoted.
func parseParameters(_ text: ByteSlice) -> [String] {
    let bytes = text.buffer
    var values: [String] = []
    var i = 0
    while i < bytes.count {
        while i < bytes.count, bytes[i] != 0x3D { i += 1 }      // '='
        i += 1
        while i < bytes.count, bytes[i] == 0x20 { i += 1 }
        guard i < bytes.count else { break }
        if bytes[i] == 0x27 {
            var value: [UInt8] = []
            i += 1
            while i < bytes.count {
                if bytes[i] == 0x27 {
                    if i + 1 < bytes.count, bytes[i + 1] == 0x27 { value.append(0x27); i += 2; continue }
                    i += 1
                    break
                }
                value.append(bytes[i])
                i += 1
            }
            values.append(String(decoding: value, as: UTF8.self))
        } else {
            let start = i
            while i < bytes.count, bytes[i] != 0x2C { i += 1 }
            values.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        while i < bytes.count, bytes[i] != 0x24 { i += 1 }      // next '$'
    }
    return values
}

/// `0:00:01.234` or `12:34:56.789` into milliseconds. Digits and a decimal point only, as PostgreSQL
/// prints it: `Double("1e300")`, `"inf"` and `"nan"` parse too, and such a session time trapped later
/// where it became an integer instant.
func parseInterval(_ text: Substring) -> Double? {
    let parts = text.split(separator: ":")
    guard parts.count == 3, parts.allSatisfy({ $0.utf8.allSatisfy { isDigit($0) || $0 == 0x2E } }),
          let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) else { return nil }
    return ((h * 60 + m) * 60 + s) * 1000
}

func field(_ text: String, _ name: String) -> String? {
    guard let r = text.range(of: name) else { return nil }
    let value = text[r.upperBound...].prefix { $0 != " " && $0 != "\n" }
    return value.isEmpty ? nil : String(value)
}

/// Groups error messages that differ only in numbers or quoted names.
func errorShape(_ message: String) -> String {
    var out = ""
    var inQuote = false
    var lastWasDigit = false
    var text = message
    if let r = text.range(of: " at character ") { text = String(text[..<r.lowerBound]) }
    for ch in text.prefix(300) {
        if ch == "\"" { inQuote.toggle(); if inQuote { out += "\"?\"" }; continue }
        if inQuote { continue }
        if ch.isNumber { if !lastWasDigit { out += "N" }; lastWasDigit = true; continue }
        lastWasDigit = false
        out.append(ch)
    }
    return out
}

func displayMessage(_ message: String) -> String {
    if let r = message.range(of: " at character ") { return String(message[..<r.lowerBound]) }
    return message
}

/// A log timestamp as milliseconds of its own wall clock (the zone is kept aside as text): good for
/// gaps and ordering within one server's log.
func wallMillis(_ ts: ByteSlice) -> Double? {
    guard ts.count >= 10, let p = ts.base else { return nil }
    func num(_ at: Int, _ len: Int) -> Int? {
        var v = 0
        for i in at..<(at + len) {
            let d = p[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }
    if ts.count >= 19, p[4] == 0x2D, p[7] == 0x2D {
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let s = num(17, 2) else { return nil }
        var frac = 0.0
        var i = 19
        if i < ts.count, p[i] == 0x2E {
            i += 1
            var scale = 1.0
            while i < ts.count, isDigit(p[i]) {
                scale /= 10
                frac += Double(p[i] - 0x30) * scale
                i += 1
            }
        }
        let days = daysFromCivil(y, mo, d)
        return (Double(days * 86400 + h * 3600 + mi * 60 + s) + frac) * 1000
    }
    // %n: seconds since the epoch with milliseconds.
    var v = 0.0
    var scale = 0.0
    for i in 0..<ts.count {
        let c = p[i]
        if isDigit(c) { v = v * 10 + Double(c - 0x30); if scale > 0 { scale *= 10 } } else if c == 0x2E { scale = 1 } else { return nil }
    }
    let ms = (scale > 0 ? v / scale : v) * 1000
    // Up to the end of year 9999, as far as the other timestamp forms reach: 23 digits of seconds
    // (or 400) are not a time, and became an instant too large for the integer minutes and milliseconds.
    return ms.isFinite && ms < latestWallMillis ? ms : nil
}

/// 10000-01-01 00:00:00 in wall-clock milliseconds: no log timestamp is later.
let latestWallMillis = Double(daysFromCivil(10_000, 1, 1)) * 86_400_000

func zoneText(_ ts: ByteSlice) -> String? {
    guard ts.count > 19 else { return nil }
    var i = 19
    if ts[i] == 0x2E { i += 1; while i < ts.count, isDigit(ts[i]) { i += 1 } }
    let rest = ts.dropFirst(i).string.trimmingCharacters(in: .whitespaces)
    return rest.isEmpty ? nil : rest
}

func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

/// Formats wall-clock milliseconds back into the log's own style, with its zone.
func formatWall(_ ms: Double, zone: String?) -> String? {
    guard let totalMs = Int64(exactly: ms.rounded()) else { return nil }
    var days = Int(totalMs / 86_400_000)
    var rem = Int(totalMs % 86_400_000)
    if rem < 0 { rem += 86_400_000; days -= 1 }
    // civil from days
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    // Digits appended by hand: String(format:) boxes every argument, and a report formats one
    // timestamp per timeline bucket (up to 4,000), which made it a fifth of analysing a short log.
    var text = ""
    text.reserveCapacity(23 + (zone.map { $0.utf8.count + 1 } ?? 0))
    appendPadded(&text, y, width: 4)
    text += "-"
    appendPadded(&text, m, width: 2)
    text += "-"
    appendPadded(&text, d, width: 2)
    text += " "
    appendPadded(&text, rem / 3_600_000, width: 2)
    text += ":"
    appendPadded(&text, rem / 60_000 % 60, width: 2)
    text += ":"
    appendPadded(&text, rem / 1000 % 60, width: 2)
    text += "."
    appendPadded(&text, rem % 1000, width: 3)
    return zone.map { text + " " + $0 } ?? text
}

/// The bind values a statement's logged executions used, counted per parameter, in constant memory
/// per statement whatever the log's size: the first `distinctLimit` values of each parameter are
/// counted, later new ones only as "other". The values that carry most executions of a skewed
/// column (a status, a few large accounts) recur from the start, so they are among the first seen.
struct BoundValueCounts {
    static let distinctLimit = 64
    /// Parameters counted per statement: the equality keys worth costing apart come first in
    /// practice, and a bulk VALUES list of hundreds of parameters must not cost memory per parameter.
    static let parameterLimit = 16

    private(set) var counts: [[String: Int]] = []
    private(set) var other: [Int] = []

    mutating func record(_ values: [String]) {
        for (i, value) in values.prefix(Self.parameterLimit).enumerated() { add(value, executions: 1, parameter: i) }
    }

    /// The other's most executed values first (then by value): when the limit is reached, which values
    /// stay counted does not depend on a dictionary's order.
    mutating func merge(_ other: BoundValueCounts) {
        for (i, values) in other.counts.enumerated() {
            for (value, n) in values.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { add(value, executions: n, parameter: i) }
            self.other[i] += other.other[i]
        }
    }

    private mutating func add(_ value: String, executions: Int, parameter i: Int) {
        while counts.count <= i { counts.append([:]); other.append(0) }
        if counts[i][value] != nil || counts[i].count < Self.distinctLimit {
            counts[i][value, default: 0] += executions
        } else {
            other[i] += executions
        }
    }

    /// As the shared model's observed values, most used first; nil when nothing was bound.
    var observed: [ObservedParameterValues]? {
        guard !counts.isEmpty else { return nil }
        return counts.enumerated().map { i, values in
            var observed = ObservedParameterValues(parameter: i + 1, source: .log, counts: values)
            observed.otherExecutions += other[i]
            return observed
        }
    }
}

/// A sum of durations in whole nanoseconds. Logs print durations to the microsecond, so the sum is
/// exact, and the same in any order: a report does not depend on how cores, pieces and the pre-scan
/// cache split the statements (a floating-point sum differed in its last digits).
struct DurationSum: Equatable {
    private(set) var nanos: Int64 = 0

    var ms: Double { Double(nanos) / 1e6 }

    init() {}

    init(_ ms: Double) { add(ms) }

    @inline(__always)
    mutating func add(_ ms: Double) {
        // Rounded to the nearest nanosecond without a call to libm's round() on every statement.
        add(nanos: ms.isFinite && ms > 0 ? Int64(Swift.min(ms, 1e12) * 1e6 + 0.5) : 0)
    }

    mutating func add(_ other: DurationSum) { add(nanos: other.nanos) }

    @inline(__always)
    private mutating func add(nanos more: Int64) { nanos = saturatingSum(nanos, more) }
}

/// `value` in decimal, zero-padded to `width` digits as `%0*d` pads it (the sign counts in the width).
private func appendPadded(_ text: inout String, _ value: Int, width: Int) {
    let digits = String(value.magnitude)
    if value < 0 { text += "-" }
    let padding = width - digits.utf8.count - (value < 0 ? 1 : 0)
    if padding > 0 { text += String(repeating: "0", count: padding) }
    text += digits
}
