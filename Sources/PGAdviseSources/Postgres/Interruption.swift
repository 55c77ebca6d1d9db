import CLibPQ
import Dispatch
import Foundation

/// SIGINT or SIGTERM reached pgadvise: the statement that was running was cancelled and what was
/// open rolled back. Not a PostgresError, so no "skip this step" handler swallows it on the way out.
public struct InterruptedError: Error, CustomStringConvertible, Sendable {
    public var signal: Int32
    public var description: String { "interrupted by \(Interruption.signalName(signal))" }
}

/// The process-wide answer to SIGINT and SIGTERM. A signal source on its own queue records the
/// signal and sends a cancel request (PQcancel) for the statement running on every open connection,
/// so a long index build or EXPLAIN ANALYZE stops at once instead of running to its end. The main
/// thread then unwinds by the ordinary error path: the cancelled statement fails (SQLSTATE 57014),
/// the connection turns that into `InterruptedError`, `defer`red ROLLBACKs run, connections close,
/// and `main` exits 130 (SIGINT) or 143 (SIGTERM) with `summary()`.
///
/// Work that must be undone on interruption announces itself with `begin(_:)` ("the index build of
/// x on public.t"), so the last line can say what was rolled back.
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()

    /// How long the main thread may take to unwind before the process exits anyway (a connection
    /// attempt or a long computation that never reaches a statement). The server rolls back an
    /// open transaction of a connection that closes, so leaving then is still safe.
    public var gracePeriod: TimeInterval = 10

    private struct Registered {
        var cancel: OpaquePointer
        /// Sending a statement that is not an undo (ROLLBACK, DEALLOCATE): cancel requests repeat
        /// until it returns, because a request that arrives between statements cancels nothing.
        var busy = false
    }

    private let lock = NSLock()
    private let queue = DispatchQueue(label: "pgadvise.interruption")
    private var sources: [DispatchSourceSignal] = []
    private var connections: [Int: Registered] = [:]
    private var activities: [Int: String] = [:]
    private var nextToken = 0
    private var received: Int32?
    private var interruptedActivities: [String] = []
    private var cancelledStatement = false

    private var committed = false
    private var observers: [@Sendable () -> Void] = []

    /// The signal received, if any.
    public var signal: Int32? { lock.withLock { received } }

    /// True when a signal arrived before the command's point of no return (`commit`): the command
    /// must exit 130/143 whatever its steps made of the cancelled statements.
    public var interruptsOutcome: Bool { lock.withLock { received != nil && !committed } }

    /// The point of no return, checked and marked at once: throws if a signal arrived; after it, a
    /// signal no longer changes the outcome (the work was stored whole; the process exits 0).
    public func commit() throws {
        try lock.withLock {
            if let received { throw InterruptedError(signal: received) }
            committed = true
        }
    }

    /// Starts listening for SIGINT and SIGTERM (once per process). Until then they kill at once.
    public func install() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                // The dispatch source only sees the signal once its default action is off.
                Foundation.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [weak self] in self?.handle(number) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Runs `observer` on the first signal, before running statements are cancelled, so that loops
    /// of many connections (a load run) stop starting new statements at once.
    public func onInterrupt(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { observers.append(observer) }
    }

    private func handle(_ number: Int32) {
        let (first, decided, connected): (Bool, Bool, Bool) = lock.withLock {
            guard received == nil else { return (false, committed, !connections.isEmpty) }
            received = number
            interruptedActivities = activities.sorted { $0.key < $1.key }.map(\.value)
            cancelledStatement = connections.values.contains { $0.busy }
            return (true, committed, !connections.isEmpty)
        }
        // A second signal means "now": the server still rolls back whatever the closed sockets left open.
        guard first else { Self.exitNow(number, "interrupted again: exiting at once; the server rolls back what was open") }
        // The work was stored whole: the command finishes as it would have.
        if decided { return }
        // No session to unwind (reading logs, writing the SQLite store, whose transaction does not
        // survive the process): leave at once rather than after the current file or step.
        if !connected { Self.exitNow(number, summary()) }
        for observer in lock.withLock({ observers }) { observer() }
        cancelRunningStatements()
        let deadline = Date().addingTimeInterval(gracePeriod)
        repeatCancels(until: deadline, signal: number)
    }

    /// Re-sends cancel requests to connections still busy with work, until none is or the grace
    /// period ends (then exits, as the default action of the signal would have).
    private func repeatCancels(until deadline: Date, signal number: Int32) {
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [weak self] in
            guard let self else { return }
            if Date() >= deadline {
                Self.exitNow(number, "interrupted: pgadvise did not stop within \(Int(self.gracePeriod)) s; "
                             + "exiting, the server rolls back what was open")
            }
            self.cancelRunningStatements()
            self.repeatCancels(until: deadline, signal: number)
        }
    }

    private func cancelRunningStatements() {
        lock.withLock {
            for registered in connections.values where registered.busy {
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(registered.cancel, &buffer, Int32(buffer.count))
            }
        }
    }

    private static func exitNow(_ number: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("pgadvise: \(message)\n".utf8))
        Foundation.exit(128 + number)
    }

    // MARK: - Connections

    /// Registers a connection's cancel handle; the handle is freed by `unregister`.
    func register(cancel: OpaquePointer) -> Int {
        lock.withLock {
            nextToken += 1
            connections[nextToken] = Registered(cancel: cancel)
            return nextToken
        }
    }

    func unregister(_ token: Int) {
        // Under the lock, so the signal queue never calls PQcancel on a freed handle.
        lock.withLock {
            if let registered = connections.removeValue(forKey: token) { PQfreeCancel(registered.cancel) }
        }
    }

    /// Marks the connection busy with a statement (or idle again). Throws before a statement that is
    /// not an undo is sent once a signal arrived, so no new work starts.
    func setBusy(_ token: Int, _ busy: Bool) throws {
        let interrupted: Int32? = lock.withLock {
            connections[token]?.busy = busy && received == nil
            return received
        }
        if busy, let interrupted { throw InterruptedError(signal: interrupted) }
    }

    // MARK: - Activities

    /// Announces work that an interruption rolls back; `end` it when it is over. The description
    /// completes "rolled back ...", e.g. "the index build of x on public.t".
    public func begin(_ description: String) -> Int {
        lock.withLock {
            nextToken += 1
            activities[nextToken] = description
            return nextToken
        }
    }

    /// Replaces the description of a running activity (its phase changed).
    public func update(_ token: Int, _ description: String) {
        lock.withLock { if activities[token] != nil { activities[token] = description } }
    }

    public func end(_ token: Int) {
        lock.withLock { _ = activities.removeValue(forKey: token) }
    }

    /// Throws `InterruptedError` once a signal arrived: for long work between statements.
    public func checkpoint() throws {
        if let received = signal { throw InterruptedError(signal: received) }
    }

    /// The one line printed on exit after a signal: what was rolled back, or that nothing needed to be.
    public func summary() -> String {
        lock.withLock {
            let name = Self.signalName(received ?? SIGINT)
            if !interruptedActivities.isEmpty {
                return "interrupted (\(name)): rolled back \(interruptedActivities.joined(separator: " and ")); nothing was left on the server"
            }
            if cancelledStatement {
                return "interrupted (\(name)): cancelled the running statement; nothing was written"
            }
            return "interrupted (\(name)): nothing was written"
        }
    }

    /// 130 for SIGINT, 143 for SIGTERM: the shell's convention for a process ended by a signal.
    public var exitCode: Int32 { 128 + (signal ?? SIGINT) }

    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(number)"
        }
    }
}
