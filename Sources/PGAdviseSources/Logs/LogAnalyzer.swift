import Foundation
import PGAdviseCore
import PGAdviseSQL

public struct LogAnalysisOptions: Sendable {
    /// Force a format instead of detecting it.
    public var format: LogFormat?
    /// The log_line_prefix, when the user states it.
    public var prefix: String?
    /// Cores to use on one file.
    public var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// A burst is at least this many executions of one query in a row from one session...
    public var nPlusOneMinCalls: Int = 10
    /// ...each within this many milliseconds of the previous one.
    public var nPlusOneMaxGapMs: Double = 1000
    /// How many slowest statements to keep.
    public var slowestCount: Int = 20
    /// Distinct pre-normalised statement texts kept in the pre-scan cache (over all cores); beyond it
    /// the least recently used are folded into their fingerprint's figures. About 1 kB each.
    public var keyCacheCapacity: Int = 50_000
    /// How many queries the report's `queries` keeps: nil keeps every fingerprint (index advice and
    /// snapshots read them all); N keeps the N heaviest by total time and the N most called, all that a
    /// rendered report shows. Every fingerprint is still counted, judged by `queryFindings` and ranked
    /// for `slowestStatements`; the limit only spares a QueryStats per distinct statement in memory.
    public var queriesKept: Int?
    /// Called on each fingerprint's QueryStats as it is built (the query rules live above this target);
    /// what it returns is the report's `findings`.
    public var queryFindings: (@Sendable (QueryStats) -> [Finding])?
    /// Bytes read per block (the unit of streaming and of parallel work).
    public var blockSize: Int = 16 << 20
    /// Called after each block with the input's name and the bytes read so far (for a progress line).
    public var progress: (@Sendable (String, Int64) -> Void)?
    /// The plan insights, run on every auto_explain plan as it is read (the rules live above this
    /// target): the plan as logged → findings. Nil: plans are kept as samples but not judged.
    public var planInsights: (@Sendable (String) -> [Finding])?

    public init() {}
}

/// Reads log files of any supported format and builds one LogReport: the statements as a Workload
/// (fingerprinted by libpg_query) plus everything else the log says.
public final class LogAnalyzer {
    let options: LogAnalysisOptions
    private var workers: [LogWorker]
    private let aggregates = FingerprintAggregates()
    private var files: [LogFileSummary] = []
    private var notes: [String] = []
    private var openRuns: [UInt64: StatementRun] = [:]
    private var bursts: [StatementRun] = []
    private var perWorkerReaders: [RecordReader] = []
    private var perWorkerReaderSource: String = ""

    private func perWorkerReadersFor(_ reader: RecordReader) -> Bool {
        let identity = reader.identity
        defer { perWorkerReaderSource = identity }
        return identity == perWorkerReaderSource
    }

    static let longestRecord = 64 << 20

    public init(options: LogAnalysisOptions = LogAnalysisOptions()) {
        self.options = options
        let aggregates = self.aggregates
        workers = (0..<max(1, options.jobs)).map { _ in LogWorker(options: options, aggregates: aggregates) }
    }

    /// Adds one file (`-` for standard input).
    public func add(path: String) throws {
        let input = try LogInput(path: path)
        let fileIndex = files.count
        for w in workers { w.fileIndex = fileIndex }
        var buffer: [UInt8] = []
        var eof = false
        while buffer.count < 1 << 16, !eof {
            if try input.read(into: &buffer, count: options.blockSize) == 0 { eof = true }
        }
        let format = options.format ?? LogAnalyzer.detectFormat(buffer)
        let converter: StderrConverter? = format == .syslog ? SyslogConverter() : (format == .cloudsql ? CloudSQLConverter() : nil)
        var convertedSkipped = 0
        var records: [UInt8] = []
        var raw = buffer
        if let converter {
            let cut = eof ? raw.count : (raw.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            raw.withUnsafeBufferPointer { buf in
                if cut > 0 { converter.convert(buf.baseAddress!, 0, cut, into: &records, skipped: &convertedSkipped) }
            }
            raw.removeSubrange(0..<cut)
        } else {
            records = raw
            raw = []
        }
        var prefix: LinePrefix? = nil
        var reader: RecordReader
        switch format {
        case .stderr, .syslog, .cloudsql:
            if let given = options.prefix { prefix = LinePrefix(format: given) } else { prefix = LogAnalyzer.detectPrefix(records) }
            reader = StderrReader(prefix: prefix)
        case .csvlog: reader = CSVReader()
        case .jsonlog, .cloudnativepg: reader = JSONLinesReader(format: format)
        case .pgbouncer: reader = PgBouncerReader()
        }
        let linesBefore = workers.reduce(0) { $0 + $1.lines }
        let skippedBefore = workers.reduce(0) { $0 + $1.skippedLines }
        let otherShapesBefore = workers.reduce(0) { $0 + $1.otherShapeLines }
        var nextLine = 1
        let readAheadBlock = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: options.blockSize)
        defer { readAheadBlock.deallocate() }
        while true {
            var cut: Int
            if eof && raw.isEmpty {
                cut = records.count
            } else {
                cut = records.withUnsafeBufferPointer { buf in buf.count == 0 ? 0 : lastCompleteCut(reader, buf.baseAddress!, buf.count) }
                // A record longer than this (a line without an end, binary junk) is read in parts
                // rather than held whole: memory stays bounded whatever the input.
                if cut == 0, records.count >= LogAnalyzer.longestRecord { cut = records.count }
            }
            // The next block is read while this one is parsed, so reading is not a serial step.
            var prefetchedCount = 0
            var prefetchError: Error?
            let prefetch = DispatchGroup()
            let readAhead = cut > 0 && !eof && converter == nil
            if readAhead {
                prefetch.enter()
                DispatchQueue.global().async {
                    do { prefetchedCount = try input.read(into: readAheadBlock) } catch { prefetchError = error }
                    prefetch.leave()
                }
            }
            if cut > 0 {
                nextLine = process(records, cut: cut, reader: reader, firstLine: nextLine)
                options.progress?(input.displayName, input.bytesRead)
            }
            prefetch.wait()
            if let prefetchError { throw prefetchError }
            if cut > 0 { records.removeSubrange(0..<cut) }
            if eof && raw.isEmpty { break }
            if readAhead {
                if prefetchedCount == 0 { eof = true }
                records.append(contentsOf: UnsafeBufferPointer(rebasing: readAheadBlock[0..<prefetchedCount]))
                continue
            }
            // Read more: either more raw bytes to convert, or more records.
            var chunk = raw
            raw = []
            let n = try input.read(into: &chunk, count: options.blockSize)
            if n == 0 { eof = true }
            if let converter {
                var rawCut = eof ? chunk.count : (chunk.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
                if rawCut == 0, chunk.count >= LogAnalyzer.longestRecord { rawCut = chunk.count }
                chunk.withUnsafeBufferPointer { buf in
                    if rawCut > 0 { converter.convert(buf.baseAddress!, 0, rawCut, into: &records, skipped: &convertedSkipped) }
                }
                raw = Array(chunk[rawCut...])
            } else {
                records.append(contentsOf: chunk)
            }
        }
        if let complaint = input.finish() { notes.append(complaint) }
        if input.bytesRead == 0, input.compression != nil {
            throw PGAdviseError(.input, "\(input.displayName): nothing could be decompressed")
        }
        let lines = workers.reduce(0) { $0 + $1.lines } - linesBefore
        let skipped = workers.reduce(0) { $0 + $1.skippedLines } - skippedBefore + convertedSkipped
        workers[0].skippedLines += convertedSkipped
        let otherShapes = workers.reduce(0) { $0 + $1.otherShapeLines } - otherShapesBefore
        files.append(LogFileSummary(path: path == "-" ? "-" : path, format: format.rawValue, prefix: prefix?.format,
                                    compression: input.compression, bytes: input.bytesRead, lines: lines, skippedLines: skipped,
                                    otherShapeLines: otherShapes > 0 ? otherShapes : nil))
    }

    /// Processes `records[0..<cut]`, split over the workers at record boundaries. Returns the next line number.
    private func process(_ records: [UInt8], cut: Int, reader: RecordReader, firstLine: Int) -> Int {
        // Each core gets its own reader: sharing one would share its arrays' reference counts, and
        // atomic reference counting on one cache line from two cores serialises them.
        if perWorkerReaders.count != workers.count || !perWorkerReadersFor(reader) {
            perWorkerReaders = workers.map { _ in reader.independentCopy() }
        }
        let readers = perWorkerReaders
        return records.withUnsafeBufferPointer { buf -> Int in
            let p = buf.baseAddress!
            let jobs = cut >= 1 << 20 ? workers.count : 1
            var bounds = [0]
            for j in 1..<jobs {
                let target = max(bounds[j - 1], cut * j / jobs)
                bounds.append(reader.nextRecordStart(p, from: target, end: cut))
            }
            bounds.append(cut)
            var lineCounts = [Int](repeating: 0, count: jobs)
            var segments = [RunSegment](repeating: RunSegment(), count: jobs)
            let workers = self.workers
            lineCounts.withUnsafeMutableBufferPointer { counts in
                DispatchQueue.concurrentPerform(iterations: jobs) { j in
                    counts[j] = countLines(p, bounds[j], bounds[j + 1])
                }
            }
            var starts = [firstLine]
            for j in 0..<jobs { starts.append(starts[j] + lineCounts[j] + (j == jobs - 1 && cut > 0 && p[cut - 1] != 0x0A ? 1 : 0)) }
            segments.withUnsafeMutableBufferPointer { segs in
                DispatchQueue.concurrentPerform(iterations: jobs) { j in
                    guard bounds[j] < bounds[j + 1] else { return }
                    readers[j].process(p, bounds[j], bounds[j + 1], firstLine: starts[j], into: workers[j])
                    segs[j] = workers[j].takeRunSegment()
                }
            }
            for segment in segments { mergeRuns(segment) }
            return starts[jobs]
        }
    }

    /// Joins a piece's runs onto the runs still open from earlier pieces, in log order.
    private func mergeRuns(_ segment: RunSegment) {
        for (session, lead) in segment.leading {
            let joined = join(openRuns.removeValue(forKey: session), lead)
            closeRun(joined)
        }
        for (session, trail) in segment.trailing {
            if trail.isFirstInPiece {
                openRuns[session] = join(openRuns.removeValue(forKey: session), trail)
            } else {
                openRuns[session] = trail
            }
        }
        for run in segment.completed { bursts.append(run) }
        // Sessions come and go (a pid per connection): keep memory bounded by closing the runs that
        // have been quiet longest once there are very many. A burst is seconds long; these are not.
        if openRuns.count > LogAnalyzer.maxOpenSessions {
            let quiet = openRuns.sorted { $0.value.lastMs < $1.value.lastMs }.prefix(openRuns.count / 2)
            for (session, run) in quiet {
                closeRun(run)
                openRuns.removeValue(forKey: session)
            }
        }
    }

    static let maxOpenSessions = 100_000

    private func join(_ earlier: StatementRun?, _ later: StatementRun) -> StatementRun {
        guard var earlier else { return later }
        if earlier.keyHash == later.keyHash, later.firstMs - earlier.lastMs <= options.nPlusOneMaxGapMs {
            earlier.absorb(later)
            if earlier.sessionName.isEmpty { earlier.sessionName = later.sessionName }
            return earlier
        }
        closeRun(earlier)
        return later
    }

    private func closeRun(_ run: StatementRun) {
        if run.count >= options.nPlusOneMinCalls, run.varied { bursts.append(run) }
    }

    // MARK: - Report

    /// The report of everything added. Call it once: it hands each fingerprint's figures over to its
    /// QueryStats and frees them as it goes, so that both forms are never held in full at once.
    public func report() throws -> LogReport {
        for (_, run) in openRuns { closeRun(run) }
        openRuns.removeAll()
        // Every key folds into its fingerprint's aggregate (libpg_query once per key still cached).
        for w in workers { w.evictAll() }
        let all = workers[0]
        for w in workers.dropFirst() { all.merge(w) }
        var byFingerprint = aggregates.takeAll()
        let statementsFound = all.statements + byFingerprint.values.reduce(0) { $0 + ($1.calls == 0 ? $1.planCalls : 0) }
        guard statementsFound > 0 || all.recognisedRecords > 0 else { throw nothingRecognisedError(all) }

        let zone = all.zone
        // Only the keys of N+1 bursts need their fingerprint.
        var fingerprintOfKey: [UInt64: String] = [:]
        for key in Set(bursts.map(\.keyHash)) {
            if let fingerprint = workers.lazy.compactMap({ $0.aggregateOfEvictedKey[key]?.fingerprint }).first {
                fingerprintOfKey[key] = fingerprint.text
            }
        }
        for w in workers { w.aggregateOfEvictedKey.removeAll() }
        let burstFingerprints = Set(fingerprintOfKey.values)
        let figures = queryFigures(&byFingerprint, all, burstFingerprints: burstFingerprints)
        let nPlusOne = nPlusOneBursts(fingerprintOfKey: fingerprintOfKey, normalizedOf: figures.normalizedOf, zone: zone)
        let summary = summarize(all, figures: figures, statementsFound: statementsFound, nPlusOne: nPlusOne)
        var temp = all.maintenance.temp
        temp.byStatement = figures.tempStatements.sorted { ($0.totalBytes, $1.fingerprint) > ($1.totalBytes, $0.fingerprint) }
        var locks = all.maintenance.locks
        locks.byStatement = figures.lockStatements.sorted { ($0.waits, $1.fingerprint) > ($1.waits, $0.fingerprint) }
        let sessions = all.sessions.finished(firstMs: all.firstMs, lastMs: all.lastMs, zone: zone)

        var report = LogReport(schemaVersion: jsonSchemaVersion, summary: summary, queries: figures.queries,
                               findings: figures.queryFindings, slowestStatements: figures.slowest, errors: errorGroups(all),
                               tempFiles: temp, lockWaits: locks,
                               checkpoints: all.maintenance.checkpoints, autovacuum: autovacuumSummary(all), sessions: sessions,
                               pgbouncer: all.pgbouncer.summary(zone: zone))
        report.nPlusOne = nPlusOne
        report.cancelledStatements = cancelledStatements(all)
        report.timeline = timeline(all.timeline.minutes, zone: zone)
        if all.timedStatements > 0 { report.latencyDistribution = all.timeline.latency }
        if !figures.planInsights.isEmpty {
            report.planInsights = figures.planInsights.sorted {
                ($0.insights.first?.finding.exclusiveMs ?? 0, $1.fingerprint) > ($1.insights.first?.finding.exclusiveMs ?? 0, $0.fingerprint)
            }
        }
        return report
    }

    /// Per fingerprint: its statement figures, its temporary files and lock waits, and its plans' insights.
    /// Each fingerprint's QueryStats is judged (`queryFindings`) and counted as it is built, and kept only
    /// when `queriesKept` allows: a log may hold hundreds of thousands of fingerprints.
    private func queryFigures(_ byFingerprint: inout [FingerprintKey: KeyStats], _ all: LogWorker,
                              burstFingerprints: Set<String>) -> QueryFigures {
        let order = byFingerprint.keys.sorted()
        var figures = QueryFigures(kept: options.queriesKept, slowestCount: options.slowestCount)
        for key in order {
            // Taken out: its figures are freed once this fingerprint's QueryStats is built.
            guard let k = byFingerprint.removeValue(forKey: key) else { continue }
            let fp = key.text
            if k.tempFiles > 0 {
                figures.tempStatements.append(TempFileStatement(fingerprint: fp, normalized: k.normalized, count: k.tempFiles,
                                                                totalBytes: k.tempBytes, maxBytes: k.tempMaxBytes))
            }
            if k.lockWaits > 0 { figures.lockStatements.append(LockWaitStatement(fingerprint: fp, normalized: k.normalized, waits: k.lockWaits)) }
            guard k.calls > 0 || k.planCalls > 0 else { continue }
            let q = queryStats(k, fingerprint: fp, all)
            if !k.planInsights.isEmpty {
                figures.planInsights.append(judgedPlans(k, fingerprint: fp, normalized: k.normalized, query: q))
            }
            if burstFingerprints.contains(fp) { figures.normalizedOf[fp] = q.normalized }
            figures.queryFindings += options.queryFindings?(q) ?? []
            figures.add(q)
        }
        figures.finish()
        return figures
    }

    /// One fingerprint's figures as the shared model's QueryStats.
    private func queryStats(_ k: KeyStats, fingerprint fp: String, _ all: LogWorker) -> QueryStats {
        let fromPlansOnly = k.calls == 0
        var q = QueryStats(fingerprint: fp, normalized: k.normalized, parsed: k.parsed,
                           calls: fromPlansOnly ? k.planCalls : k.calls,
                           totalMs: fromPlansOnly ? k.planTotal.ms : k.totalMs)
        if !fromPlansOnly, k.timedCalls > 0 {
            q.meanMs = k.totalMs / Double(k.timedCalls)
            q.minMs = k.minMs
            q.maxMs = k.maxMs
            q.p50Ms = clamp(k.histogram.percentile(0.50), k)
            q.p95Ms = clamp(k.histogram.percentile(0.95), k)
            q.p99Ms = clamp(k.histogram.percentile(0.99), k)
        } else if fromPlansOnly {
            q.maxMs = k.planMs
        } else {
            q.meanMs = 0
        }
        q.firstSeen = formatWall(k.firstMs, zone: all.zone)
        q.lastSeen = formatWall(k.lastMs, zone: all.zone)
        q.breakdown = breakdown(k, all)
        var sample = k.slowest.map { querySample($0, all) }
        if sample == nil, let plan = k.plan { sample = QuerySample(text: k.representative, durationMs: k.planMs, plan: plan) }
        if let plan = k.plan { sample?.plan = plan }
        q.slowest = sample
        q.observedValues = k.boundValues.observed
        return q
    }

    private func querySample(_ run: SlowestRun, _ all: LogWorker) -> QuerySample {
        let context = aggregates.contexts[Int(run.context)]
        return QuerySample(text: run.text, durationMs: run.durationMs, parameters: run.parameters, timestamp: run.time.text,
                           database: context.database.isEmpty ? nil : context.database,
                           user: context.user.isEmpty ? nil : context.user,
                           application: context.application.isEmpty ? nil : context.application,
                           file: Int(run.file) < files.count ? files[Int(run.file)].path : String(run.file), line: run.line)
    }

    /// The log as a whole: files, lines, statements, errors and bursts counted, and what settings would add.
    private func summarize(_ all: LogWorker, figures: QueryFigures, statementsFound: Int, nPlusOne: [NPlusOneBurst]) -> LogSummary {
        let zone = all.zone
        var summary = LogSummary()
        summary.files = files
        summary.statements = statementsFound
        summary.timedStatements = all.timedStatements
        summary.durationTotalMs = all.durationTotal.ms
        summary.distinctQueries = figures.distinctQueries
        summary.unparsedQueries = figures.unparsedQueries
        summary.firstTimestamp = formatWall(all.firstMs, zone: zone)
        summary.lastTimestamp = formatWall(all.lastMs, zone: zone)
        summary.lines = all.lines
        summary.skippedLines = files.reduce(0) { $0 + $1.skippedLines }
        summary.parseBindSteps = all.parseBindSteps
        summary.parseBindMs = all.parseBindTotal.ms
        summary.errors = all.errors.count
        summary.nPlusOneBursts = nPlusOne.reduce(0) { $0 + $1.bursts }
        summary.notes = notes
        if all.statements > 0, !all.sawSession {
            summary.notes.append("N+1 detection was skipped: the log lines carry no session (add %p or %c to log_line_prefix).")
        }
        if all.timedStatements == 0, all.statements > 0 {
            summary.notes.append("No statement durations were logged (set log_min_duration_statement); statements are counted, not timed.")
        }
        if statementsFound == 0, all.recognisedRecords > all.pgbouncer.lines {
            summary.notes.append("No SQL statement was logged, so there are no query figures: set log_min_duration_statement = 0 "
                + "(or a threshold in milliseconds) for timed statements, or log_statement = 'all' for counts without times; "
                + "log_line_prefix with %p or %c lets pgadvise find N+1 bursts.")
        }

        return summary
    }

    /// Errors grouped by severity, SQLSTATE and message, most frequent first.
    private func errorGroups(_ all: LogWorker) -> [LogErrorGroup] {
        let zone = all.zone
        var errors = all.errors.groups.values.map { e in
            LogErrorGroup(severity: e.severity, sqlstate: e.sqlstate, message: e.message, count: e.count, statement: e.statement,
                          firstSeen: formatWall(e.firstMs, zone: zone), file: e.file < files.count ? files[e.file].path : nil,
                          line: e.line)
        }
        errors.sort { ($0.count, $1.file ?? "", $1.line ?? 0) > ($1.count, $0.file ?? "", $0.line ?? 0) }
        return errors
    }

    /// Nil when nothing was cancelled, so reports of logs without cancellations are unchanged.
    private func cancelledStatements(_ all: LogWorker) -> [CancelledLogStatement]? {
        guard !all.errors.cancellations.isEmpty else { return nil }
        return all.errors.cancellations.map { key, c in
            let normalized = (try? PgQuery.normalize(c.sample).get()) ?? c.sample
            return CancelledLogStatement(fingerprint: key == c.sample ? "" : key, normalized: normalized, sample: c.sample, count: c.count)
        }.sorted { ($0.count, $1.fingerprint, $1.sample) > ($1.count, $0.fingerprint, $0.sample) }
    }

    private func autovacuumSummary(_ all: LogWorker) -> AutovacuumSummary {
        var autovacuum = AutovacuumSummary()
        autovacuum.tables = all.maintenance.autovacuum.values.sorted { ($0.vacuums + $0.analyzes, $1.table) > ($1.vacuums + $1.analyzes, $0.table) }
        autovacuum.vacuums = autovacuum.tables.reduce(0) { $0 + $1.vacuums }
        autovacuum.analyzes = autovacuum.tables.reduce(0) { $0 + $1.analyzes }
        return autovacuum
    }

    /// One fingerprint's worst occurrence of each plan insight, pointed at its statement and log line.
    private func judgedPlans(_ k: KeyStats, fingerprint: String, normalized: String, query: QueryStats) -> LogPlanInsights {
        let insights = k.planInsights.values.map { occurrence -> LogPlanInsight in
            var located = occurrence
            located.finding.fingerprint = fingerprint
            located.finding.calls = query.calls
            located.finding.totalMs = query.totalMs
            if let index = located.finding.file.flatMap({ Int($0) }), index < files.count { located.finding.file = files[index].path }
            return located
        }.sorted { a, b in
            a.finding.severity != b.finding.severity ? a.finding.severity > b.finding.severity : a.isWorse(than: b)
        }
        return LogPlanInsights(fingerprint: fingerprint, normalized: normalized, calls: query.calls, totalMs: query.totalMs,
                               plans: k.planCalls, insights: insights)
    }

    /// Minute buckets folded into the bucket size the log's span calls for, empty ones filled in.
    private func timeline(_ minutes: [Int64: TimelineCollector.Minute], zone: String?) -> LogTimeline? {
        guard let first = minutes.keys.min(), let last = minutes.keys.max() else { return nil }
        let spanMinutes = last - first
        var perBucket: Int64 = spanMinutes <= 12 * 60 ? 1 : (spanMinutes <= 90 * 24 * 60 ? 60 : 24 * 60)
        // Timestamps years apart (a clock reset, joined archives): at most a few thousand buckets all the same.
        if spanMinutes / perBucket > 4000 { perBucket = spanMinutes / 4000 + 1 }
        func bucket(_ minute: Int64) -> Int64 { (minute - (minute % perBucket + perBucket) % perBucket) }
        var folded: [Int64: TimelineCollector.Minute] = [:]
        for (minute, b) in minutes {
            folded[bucket(minute), default: TimelineCollector.Minute()].add(b)
        }
        var buckets: [LogTimeBucket] = []
        var at = bucket(first)
        while at <= last {
            let b = folded[at] ?? TimelineCollector.Minute()
            buckets.append(LogTimeBucket(start: formatWall(Double(at) * 60_000, zone: zone) ?? "", statements: b.statements,
                                         durationMs: b.duration.ms, errors: b.errors))
            at += perBucket
        }
        return LogTimeline(bucketSeconds: Int(perBucket) * 60, buckets: buckets)
    }

    private func clamp(_ value: Double?, _ k: KeyStats) -> Double? {
        guard let value else { return nil }
        return min(max(value, k.minMs), k.maxMs)
    }

    private func breakdown(_ k: KeyStats, _ all: LogWorker) -> [String: [String: Int]]? {
        var out: [String: [String: Int]] = [:]
        for (id, count) in k.breakdown.pairs {
            let c = aggregates.contexts[Int(id)]
            if !c.database.isEmpty { out["database", default: [:]][c.database, default: 0] += count }
            if !c.user.isEmpty { out["user", default: [:]][c.user, default: 0] += count }
            if !c.application.isEmpty { out["application", default: [:]][c.application, default: 0] += count }
        }
        return out.isEmpty ? nil : out
    }

    /// Each fingerprint's bursts as one fact: the largest burst described, the others counted.
    private func nPlusOneBursts(fingerprintOfKey: [UInt64: String], normalizedOf: [String: String], zone: String?) -> [NPlusOneBurst] {
        var byFingerprint: [String: [StatementRun]] = [:]
        for run in bursts {
            guard let fp = fingerprintOfKey[run.keyHash] else { continue }
            byFingerprint[fp, default: []].append(run)
        }
        var out: [NPlusOneBurst] = []
        for (fp, runs) in byFingerprint {
            guard let largest = runs.max(by: { ($0.count, $1.file, $1.line) < ($1.count, $0.file, $0.line) }) else { continue }
            out.append(NPlusOneBurst(
                fingerprint: fp, normalized: normalizedOf[fp] ?? "", bursts: runs.count, calls: runs.reduce(0) { $0 + $1.count },
                totalMs: runs.reduce(into: DurationSum()) { $0.add($1.total) }.ms, largestBurst: largest.count, session: largest.sessionName,
                windowMs: largest.lastMs - largest.firstMs,
                windowStart: largest.firstMs != 0 ? formatWall(largest.firstMs, zone: zone) : nil,
                windowEnd: largest.lastMs != 0 ? formatWall(largest.lastMs, zone: zone) : nil,
                sampleValues: largest.samples, file: largest.file < files.count ? files[largest.file].path : nil, line: largest.line))
        }
        return out.sorted { ($0.totalMs, $0.calls, $1.fingerprint) > ($1.totalMs, $1.calls, $0.fingerprint) }
    }

    private func nothingRecognisedError(_ all: LogWorker) -> PGAdviseError {
        let described = files.map { f -> String in
            var s = "\(f.path): \(f.format)"
            if let c = f.compression { s += " (\(c))" }
            if let p = f.prefix { s += ", log_line_prefix '\(p)'" } else if f.format == "stderr" { s += ", no log_line_prefix recognised" }
            s += ", \(f.lines) lines, \(f.skippedLines) not understood"
            return s
        }
        return PGAdviseError(.input, """
            nothing recognised in the input: no SQL statement found, and no other PostgreSQL or PgBouncer message.
            Detected: \(described.joined(separator: "; ")).
            pgadvise needs statements logged with their durations: log_min_duration_statement = 0 (or a threshold), \
            or log_statement = 'all' for counts without times. Session grouping and N+1 detection need %p or %c \
            in log_line_prefix; times need %m or %t; per-database/user/application figures need %d, %u, %a. \
            If the prefix was not recognised, state it with --prefix '<log_line_prefix>'.
            """)
    }

    // MARK: - Detection

    static func detectFormat(_ head: [UInt8]) -> LogFormat {
        let sample = head.prefix(1 << 16)
        if looksLikeCSVLog(Array(sample)) { return .csvlog }
        var json = 0, cloudSQL = 0, cnpg = 0, csv = 0, syslog = 0, pgbouncer = 0, total = 0
        sample.withUnsafeBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            var i = 0
            while i < buf.count, total < 200 {
                let e = lineEnd(p, i, buf.count)
                defer { i = e + 1 }
                guard e > i, p[i] != 0x09 else { continue }
                total += 1
                let line = ByteSlice(base: p + i, count: e - i)
                if p[i] == 0x7B {
                    json += 1
                    if line.firstIndex(of: "\"textPayload\"") != nil { cloudSQL += 1 }
                    if line.firstIndex(of: "\"record\"") != nil, line.firstIndex(of: "\"logger\"") != nil || line.firstIndex(of: "\"logging_pod\"") != nil { cnpg += 1 }
                    continue
                }
                if let tsEnd = scanTimestamp(p, e, from: i), tsEnd < e, p[tsEnd] == 0x2C { csv += 1; continue }
                if SyslogConverter.startsWithSyslogTimestamp(p, SyslogConverter.timestampStart(p, i, e), e),
                   SyslogConverter.parseHeader(p, i, e) != nil { syslog += 1; continue }
                if PgBouncerReader.parseHeader(p, i, e) != nil { pgbouncer += 1 }
            }
        }
        guard total > 0 else { return .stderr }
        if json * 2 > total {
            if cloudSQL * 2 > json { return .cloudsql }
            if cnpg * 2 > json { return .cloudnativepg }
            return .jsonlog
        }
        if csv * 2 > total { return .csvlog }
        if syslog * 2 > total { return .syslog }
        if pgbouncer * 2 > total { return .pgbouncer }
        return .stderr
    }

    /// csvlog, told by its records rather than its lines or its name: most of the first records (quoted
    /// fields may span lines) have 22 to 26 fields (PostgreSQL 9.0 to 17, as the columns were added) and
    /// a timestamp first, quoted or not (log shippers and spreadsheet tools quote every field).
    static func looksLikeCSVLog(_ sample: [UInt8]) -> Bool {
        var records = 0, matching = 0
        var fields = 1
        var inQuotes = false
        var fieldStart = 0
        var firstField: Range<Int>? = nil
        var i = 0
        let n = sample.count
        while i < n, records < 50 {
            let c = sample[i]
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < n, sample[i + 1] == 0x22 { i += 2; continue }
                    inQuotes = false
                }
                i += 1
                continue
            }
            switch c {
            case 0x22:
                inQuotes = true
            case 0x2C, 0x0A:
                if fields == 1 { firstField = fieldStart..<i }
                if c == 0x2C {
                    fields += 1
                } else {
                    records += 1
                    if (22...26).contains(fields), let first = firstField, firstFieldIsTimestamp(sample, first) { matching += 1 }
                    fields = 1
                    firstField = nil
                }
                fieldStart = i + 1
            default:
                break
            }
            i += 1
        }
        return records > 0 && matching * 2 > records
    }

    private static func firstFieldIsTimestamp(_ sample: [UInt8], _ field: Range<Int>) -> Bool {
        var start = field.lowerBound
        var end = field.upperBound
        if end > start, sample[end - 1] == 0x0D { end -= 1 }
        if end - start >= 2, sample[start] == 0x22, sample[end - 1] == 0x22 { start += 1; end -= 1 }
        return sample.withUnsafeBufferPointer { buf in
            guard let p = buf.baseAddress else { return false }
            return scanTimestamp(p, end, from: start) == end
        }
    }

    /// The log_line_prefix that explains the most lines: common prefixes and ones inferred from the lines.
    static func detectPrefix(_ head: [UInt8]) -> LinePrefix? {
        let sample = Array(head.prefix(1 << 16))
        var lines: [Range<Int>] = []
        var inferred: [String] = []
        // The same with bare words as fields (`%u %d` written without labels): tried last, they win
        // only by explaining more lines than a prefix with those words as literal text.
        var fieldsInferred: [String] = []
        sample.withUnsafeBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            var i = 0
            let generic = StderrReader(prefix: nil)
            while i < buf.count, lines.count < 400 {
                var e = lineEnd(p, i, buf.count)
                let next = e + 1
                if e > i, p[e - 1] == 0x0D { e -= 1 }
                if e > i, p[i] != 0x09 {
                    lines.append(i..<e)
                    var event = LogEvent()
                    if inferred.count < 40, generic.parseHeader(p + i, e - i, into: &event), let m = event.message.base {
                        let bytes = prefixBytes(p + i, messageStart: m - (p + i))
                        let candidate = inferPrefix(fromSample: bytes)
                        if !inferred.contains(candidate) { inferred.append(candidate) }
                        let generalized = inferPrefix(fromSample: bytes, bareWordsAsFields: true)
                        if !fieldsInferred.contains(generalized) { fieldsInferred.append(generalized) }
                    }
                }
                i = next
            }
        }
        guard !lines.isEmpty else { return nil }
        var best: (prefix: LinePrefix, score: Int)? = nil
        for format in LinePrefix.known + inferred + fieldsInferred.filter({ !inferred.contains($0) }) {
            let prefix = LinePrefix(format: format)
            var score = 0
            sample.withUnsafeBufferPointer { buf in
                for r in lines {
                    var event = LogEvent()
                    var early = false
                    // Full matches count double, so a prefix that explains more of each line wins.
                    if let after = prefix.match(buf.baseAddress! + r.lowerBound, r.count, into: &event, stoppedEarly: &early),
                       severityEnd(buf.baseAddress! + r.lowerBound, r.count, at: after) != nil { score += early ? 1 : 2 }
                }
            }
            if score > 0, best == nil || score > best!.score { best = (prefix, score) }
        }
        guard let chosen = best?.prefix else { return nil }
        return sample.withUnsafeBufferPointer { chosen.namingUnlabelledFields($0.baseAddress!, lines: lines) }
    }
}
