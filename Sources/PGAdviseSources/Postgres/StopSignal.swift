import Foundation

/// A stop request shared by every thread of a long operation (sampling, a load run). The signal
/// handler only calls `stop()`; workers poll `isStopped` between statements, and the running
/// statements are cancelled through the registered cancellers so nobody waits for a slow one.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var cancellers: [ObjectIdentifier: PostgresCanceller] = [:]

    public init() {}

    public var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    /// Sets the flag and cancels every registered connection's running statement.
    public func stop() {
        lock.lock()
        stopped = true
        let all = Array(cancellers.values)
        lock.unlock()
        for canceller in all { canceller.cancelRunningStatement() }
    }

    public func register(_ canceller: PostgresCanceller) {
        lock.lock(); cancellers[ObjectIdentifier(canceller)] = canceller; lock.unlock()
    }

    public func unregister(_ canceller: PostgresCanceller) {
        lock.lock(); cancellers[ObjectIdentifier(canceller)] = nil; lock.unlock()
    }

    /// Sleeps up to `seconds`, waking early on a stop; false when stopped.
    public func sleep(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if isStopped { return false }
            Thread.sleep(forTimeInterval: min(0.02, max(0, deadline.timeIntervalSinceNow)))
        }
        return !isStopped
    }
}
