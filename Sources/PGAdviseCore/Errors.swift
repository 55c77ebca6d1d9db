/// Errors a user can act on. The CLI maps each kind to its exit code (2 bad usage or unreadable
/// input, 3 cannot connect) and prints only `message`, never a stack or a Swift trap.
public struct PGAdviseError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case usage          // exit 2
        case input          // exit 2: unreadable or unrecognised input
        case connection     // exit 3
        case database       // exit 3: a query failed in a way that stops the command
        case internalError  // exit 2; should not happen, but never a trap
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public var exitCode: Int32 {
        switch kind {
        case .usage, .input, .internalError: return 2
        case .connection, .database: return 3
        }
    }
}
