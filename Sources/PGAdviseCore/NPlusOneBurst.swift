/// The same statement run many times in a row by one session, only its values changing: what
/// `pgadvise logs` observes in a log's session order (one value per fingerprint, its largest burst
/// described), for `NPlusOneRule` to judge.
public struct NPlusOneBurst: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var normalized: String
    /// Bursts of this statement in the log, and the executions in all of them.
    public var bursts: Int
    public var calls: Int
    public var totalMs: Double
    /// The largest burst: its executions, session, time window and first values.
    public var largestBurst: Int
    public var session: String
    public var windowMs: Double
    public var windowStart: String?
    public var windowEnd: String?
    public var sampleValues: [String]
    /// Where the largest burst starts in the input.
    public var file: String?
    public var line: Int?

    public init(fingerprint: String, normalized: String, bursts: Int, calls: Int, totalMs: Double, largestBurst: Int,
                session: String, windowMs: Double, windowStart: String? = nil, windowEnd: String? = nil,
                sampleValues: [String] = [], file: String? = nil, line: Int? = nil) {
        self.fingerprint = fingerprint; self.normalized = normalized; self.bursts = bursts; self.calls = calls
        self.totalMs = totalMs; self.largestBurst = largestBurst; self.session = session; self.windowMs = windowMs
        self.windowStart = windowStart; self.windowEnd = windowEnd; self.sampleValues = sampleValues
        self.file = file; self.line = line
    }
}
