import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseSources

@main
struct PGAdvise: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pgadvise",
        abstract: "A PostgreSQL performance advisor: slow-query logs, SQL anti-patterns, live scans and index advice.",
        discussion: """
        Exit codes: 0 success, 1 findings at or above --fail-on, 2 bad usage or unreadable input, \
        3 cannot connect to the database.
        """,
        version: version,
        subcommands: commandRegistry
    )

    /// Maps every failure to the documented exit codes: argument errors are 2 (not ArgumentParser's 64),
    /// PGAdviseError carries its own code, and nothing reaches the user as a trap.
    static func main() {
        Interruption.shared.install()
        do {
            var command = try parseAsRoot()
            try (command as? PathChecking)?.checkPaths()
            try command.run()
            // A command whose steps caught a lost connection or a signal and finished anyway did
            // not do what was asked: it says so and exits as if the failure had reached here.
            try exitIfInterruptedOrDisconnected()
        } catch is InterruptedError {
            exitInterrupted()
        } catch let error as PGAdviseError {
            if Interruption.shared.interruptsOutcome { exitInterrupted() }
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            if Interruption.shared.interruptsOutcome { exitInterrupted() }
            if let lost = PostgresConnection.lostConnection {
                printError(lost.message)
                Foundation.exit(lost.exitCode)
            }
            Foundation.exit(error.rawValue)
        } catch {
            if Interruption.shared.interruptsOutcome { exitInterrupted() }
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            if code.rawValue == 64 /* EX_USAGE */ {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            if code == .failure {
                // An unexpected Swift error that escaped a command: say what it was, exit 2.
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    static func exitIfInterruptedOrDisconnected() throws {
        if Interruption.shared.interruptsOutcome { exitInterrupted() }
        if let lost = PostgresConnection.lostConnection { throw lost }
    }

    /// Exits 130 (SIGINT) or 143 (SIGTERM) with the one line saying what was rolled back.
    static func exitInterrupted() -> Never {
        printError(Interruption.shared.summary())
        Foundation.exit(Interruption.shared.exitCode)
    }
}

func printError(_ message: String) {
    let text = message.hasPrefix("pgadvise") || message.hasPrefix("Error:") || message.hasPrefix("Usage:")
        ? message : "pgadvise: \(message)"
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}
