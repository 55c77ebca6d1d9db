/// A fixed-size log-linear histogram of durations: memory per fingerprint is constant however long
/// the log, and any percentile is within ~1.1% of the true value (64 sub-buckets per power of two).
public struct LatencyHistogram: Sendable, Equatable, Codable {
    static let subBucketBits = 6
    static let subBuckets = 1 << subBucketBits
    /// Durations are kept in microseconds; 2^40 µs is about 12 days, enough for any statement.
    static let magnitudes = 41

    private var counts: [UInt32]
    public private(set) var count: Int = 0

    public init() {
        counts = Array(repeating: 0, count: LatencyHistogram.subBuckets * LatencyHistogram.magnitudes)
    }

    public mutating func record(milliseconds: Double) {
        let micros = milliseconds.isFinite && milliseconds > 0 ? UInt64(Swift.min(milliseconds * 1000, 1e15)) : 0
        let index = Self.bucket(of: micros)
        counts[index] &+= 1
        count += 1
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
        count += other.count
    }

    /// The value below which `fraction` of the recorded durations fall (nearest-rank), in ms.
    public func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int(c)
            if seen >= rank { return Double(Self.midpoint(of: i)) / 1000 }
        }
        return nil
    }

    static func bucket(of micros: UInt64) -> Int {
        if micros < UInt64(subBuckets) { return Int(micros) }
        // Magnitude m ≥ 1 holds [64·2^(m-1), 128·2^(m-1)) in 64 buckets of width 2^(m-1).
        let magnitude = 63 - micros.leadingZeroBitCount - subBucketBits + 1
        guard magnitude < magnitudes else { return magnitudes * subBuckets - 1 }
        let sub = Int((micros >> UInt64(magnitude - 1)) & UInt64(subBuckets - 1))
        return magnitude * subBuckets + sub
    }

    static func midpoint(of index: Int) -> UInt64 {
        let magnitude = index / subBuckets
        let sub = UInt64(index % subBuckets)
        if magnitude == 0 { return sub }
        let low = (UInt64(subBuckets) | sub) << UInt64(magnitude - 1)
        let width = UInt64(1) << UInt64(magnitude - 1)
        return low + width / 2
    }
}
