import Foundation

/// Every fingerprint's aggregate and every statement context (database, user, application), shared by
/// the cores reading one log. A fingerprint is held once however many cores see it: with an aggregate
/// per core, a log of many distinct queries cost about twice the memory per query on two cores.
///
/// A core writes to a key of its own pre-scan cache freely; once a key has left the cache (`fold`), its
/// statements add to the aggregate under the lock of the fingerprint's shard (`acquire`), one of 64, so
/// two cores rarely wait on each other. `contexts` and `takeAll` are for the report, once every core is
/// done.
final class FingerprintAggregates: @unchecked Sendable {
    private final class Shard {
        let lock = NSLock()
        var aggregates: [FingerprintKey: KeyStats] = [:]
    }
    private let shards: [Shard] = (0..<64).map { _ in Shard() }

    private let contextLock = NSLock()
    private var contextIndex: [UInt64: Int32] = [:]
    /// What `ContextCounts` and `SlowestRun.context` index into, the same for every core.
    private(set) var contexts: [(database: String, user: String, application: String)] = []

    private func shard(_ fingerprint: FingerprintKey) -> Shard { shards[Int(fingerprint.value % UInt64(shards.count))] }

    /// Folds a key that left a core's pre-scan cache into its fingerprint's aggregate, or makes it that
    /// aggregate when it is the first of its fingerprint. Returns the aggregate.
    func fold(_ k: KeyStats, fingerprint: FingerprintKey) -> KeyStats {
        let shard = shard(fingerprint)
        shard.lock.lock()
        defer { shard.lock.unlock() }
        if let aggregate = shard.aggregates[fingerprint] {
            aggregate.merge(k)
            k.mergedInto = aggregate
            return aggregate
        }
        k.becomeAggregate(fingerprint: fingerprint)
        shard.aggregates[fingerprint] = k
        return k
    }

    /// The figures a statement of `k` adds to: `k` itself while it is in its core's pre-scan cache (that
    /// core's alone), otherwise its fingerprint's aggregate with the shard locked. Hand it back to
    /// `release` once written.
    @inline(__always)
    func acquire(_ k: KeyStats) -> KeyStats {
        guard k.hasLeftCache else { return k }
        let aggregate = k.current
        if let fingerprint = aggregate.fingerprint { shard(fingerprint).lock.lock() }
        return aggregate
    }

    @inline(__always)
    func release(_ k: KeyStats) {
        if let fingerprint = k.fingerprint { shard(fingerprint).lock.unlock() }
    }

    /// `acquire`, `body`, `release`.
    func update(_ k: KeyStats, _ body: (KeyStats) -> Void) {
        let figures = acquire(k)
        body(figures)
        release(figures)
    }

    /// The shared id of a context, given its hash; `describe` is called only for a context not seen yet.
    func contextID(hash: UInt64, _ describe: () -> (database: String, user: String, application: String)) -> Int32 {
        contextLock.lock()
        defer { contextLock.unlock() }
        if let known = contextIndex[hash] { return known }
        let id = Int32(contexts.count)
        contexts.append(describe())
        contextIndex[hash] = id
        return id
    }

    /// Every aggregate, taken out (for the report, once every core has folded its cache).
    func takeAll() -> [FingerprintKey: KeyStats] {
        var all: [FingerprintKey: KeyStats] = [:]
        all.reserveCapacity(shards.reduce(0) { $0 + $1.aggregates.count })
        for shard in shards {
            shard.lock.lock()
            all.merge(shard.aggregates) { first, _ in first }
            shard.aggregates = [:]
            shard.lock.unlock()
        }
        return all
    }
}
