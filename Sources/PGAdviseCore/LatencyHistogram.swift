/// A sparse log-linear histogram of durations, mergeable across cores: 64 sub-buckets per power of two
/// of microseconds, so a percentile is the midpoint of the bucket holding it: within 1/128 (0.8%) of the
/// true value plus 1 µs (durations are counted in whole microseconds), hence within 1.6% above 64 µs. Only the buckets that were hit are stored, as
/// sorted (bucket, count) pairs in one array: a statement with durations spread over 30 buckets takes
/// about 250 bytes, where a dense table of all 2,624 buckets took 10.5 kB per statement.
public struct LatencyHistogram: Sendable, Equatable, Codable {
    static let subBucketBits = 6
    static let subBuckets = 1 << subBucketBits
    /// Durations are kept in microseconds; 2^40 µs is about 12 days, enough for any statement.
    static let magnitudes = 41
    /// Each entry is `bucket << countBits | count`, sorted by bucket.
    static let countBits: UInt64 = 40
    static let countMask: UInt64 = (1 << countBits) - 1

    private var entries: [UInt64] = []
    public private(set) var count: Int = 0

    public init() {}

    /// Buckets in use (what the memory grows with).
    public var occupiedBuckets: Int { entries.count }

    public mutating func record(milliseconds: Double) {
        let micros = milliseconds.isFinite && milliseconds > 0 ? UInt64(Swift.min(milliseconds * 1000, 1e15)) : 0
        add(bucket: UInt64(Self.bucket(of: micros)), count: 1)
        count += 1
    }

    private mutating func add(bucket: UInt64, count added: UInt64) {
        // One uniqueness check for the whole search instead of one per element read.
        let found: Int? = entries.withUnsafeMutableBufferPointer { buf in
            var low = 0, high = buf.count
            while low < high {
                let mid = (low + high) >> 1
                if buf[mid] >> Self.countBits < bucket { low = mid + 1 } else { high = mid }
            }
            if low < buf.count, buf[low] >> Self.countBits == bucket {
                buf[low] = bucket << Self.countBits | ((buf[low] & Self.countMask) &+ added) & Self.countMask
                return nil
            }
            return low
        }
        if let insertAt = found { entries.insert(bucket << Self.countBits | added & Self.countMask, at: insertAt) }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        var merged: [UInt64] = []
        merged.reserveCapacity(entries.count + other.entries.count)
        var i = 0, j = 0
        while i < entries.count || j < other.entries.count {
            let a = i < entries.count ? entries[i] >> Self.countBits : UInt64.max
            let b = j < other.entries.count ? other.entries[j] >> Self.countBits : UInt64.max
            if a == b {
                merged.append(a << Self.countBits | ((entries[i] & Self.countMask) &+ (other.entries[j] & Self.countMask)) & Self.countMask)
                i += 1; j += 1
            } else if a < b {
                merged.append(entries[i]); i += 1
            } else {
                merged.append(other.entries[j]); j += 1
            }
        }
        entries = merged
        count += other.count
    }

    /// The value below which `fraction` of the recorded durations fall (nearest-rank), in ms.
    public func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for entry in entries {
            seen += Int(entry & Self.countMask)
            if seen >= rank { return Double(Self.midpoint(of: Int(entry >> Self.countBits))) / 1000 }
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
