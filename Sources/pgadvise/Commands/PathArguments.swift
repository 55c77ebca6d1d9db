import Foundation
import PGAdviseCore

/// A command whose file arguments are checked before it does any work: a path pgadvise cannot use
/// as given (a URI, a directory where a file is expected, a folder that does not exist) stops it
/// with exit 2 and one line saying what was expected, and nothing is created.
protocol PathChecking {
    func checkPaths() throws
}

enum PathArgument {
    /// `postgresql://...`, `file:///...`, `s3://...`: a scheme and `//`, which no path pgadvise reads
    /// or writes starts with (a relative file named `postgresql:` would need `./postgresql://`).
    static func uriScheme(_ path: String) -> String? {
        guard let range = path.range(of: #"^[A-Za-z][A-Za-z0-9+.-]*://"#, options: .regularExpression) else { return nil }
        return String(path[range])
    }

    /// The URI itself is not repeated: `postgresql://user:password@host/db` carries a password.
    static func uriRefused(_ scheme: String, option: String, expected: String) -> PGAdviseError {
        PGAdviseError(.usage, "\(option) expects \(expected), not a \(scheme) URI")
    }

    /// A file pgadvise creates or replaces: not a URI, not a directory, in a folder that exists.
    static func checkWritableFile(_ path: String, option: String, expected: String) throws {
        if let scheme = uriScheme(path) {
            throw uriRefused(scheme, option: option, expected: expected)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw PGAdviseError(.usage, "\(option) \(path) is a directory: expected \(expected)")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw PGAdviseError(.usage, "\(option) \(path): the folder \(folder) does not exist; expected \(expected) in an existing folder")
        }
        guard isDirectory.boolValue else {
            throw PGAdviseError(.usage, "\(option) \(path): \(folder) is not a folder; expected \(expected) in an existing folder")
        }
    }

    /// A file (or, where `directoryAllowed`, a folder) pgadvise reads; `-` is standard input. Only
    /// the form is checked here: the reader says when it is missing or unreadable.
    static func checkReadable(_ path: String, option: String, expected: String, directoryAllowed: Bool = false) throws {
        if path == "-" { return }
        if let scheme = uriScheme(path) {
            throw uriRefused(scheme, option: option, expected: expected)
        }
        var isDirectory: ObjCBool = false
        if !directoryAllowed, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw PGAdviseError(.usage, "\(option) \(path) is a directory: expected \(expected)")
        }
    }
}

extension OutputOptions {
    func checkDestination() throws {
        guard let output, output != "-" else { return }
        try PathArgument.checkWritableFile(output, option: "--output", expected: "a file to write the report to")
    }
}

extension StoreOptions {
    /// The store the user named (--store, else PGADVISE_STORE); nil for the default, whose folder
    /// pgadvise creates on the first snapshot.
    var explicitPath: (option: String, path: String)? {
        if let store { return ("--store", store) }
        if let variable = ProcessInfo.processInfo.environment["PGADVISE_STORE"], !variable.isEmpty {
            return ("PGADVISE_STORE", variable)
        }
        return nil
    }

    static let expected = "the path of a pgadvise history file (SQLite)"

    func checkWritable() throws {
        guard let (option, path) = explicitPath else { return }
        try PathArgument.checkWritableFile(path, option: option, expected: Self.expected)
    }

    func checkReadable() throws {
        guard let (option, path) = explicitPath else { return }
        try PathArgument.checkReadable(path, option: option, expected: Self.expected)
    }
}

func checkLogArguments(_ paths: [String], option: String) throws {
    for path in paths {
        try PathArgument.checkReadable(path, option: option, expected: "a PostgreSQL log file (or - for standard input)")
    }
}

extension ScanCommand: PathChecking {
    func checkPaths() throws { try output.checkDestination() }
}

extension IndexesCommand: PathChecking {
    func checkPaths() throws {
        try checkLogArguments(logs, option: "--logs")
        try output.checkDestination()
    }
}

extension LogsCommand: PathChecking {
    func checkPaths() throws {
        try checkLogArguments(files, option: "log")
        try output.checkDestination()
    }
}

extension LintCommand: PathChecking {
    func checkPaths() throws {
        for (option, list) in [("lint", paths), ("--schema", schema)] {
            for path in list {
                try PathArgument.checkReadable(path, option: option, expected: "a .sql file or a folder of them", directoryAllowed: true)
            }
        }
        try output.checkDestination()
    }
}

extension SnapshotCommand: PathChecking {
    func checkPaths() throws {
        try storeOptions.checkWritable()
        try checkLogArguments(logs, option: "--logs")
    }
}

extension ReportCommand: PathChecking {
    func checkPaths() throws {
        try storeOptions.checkReadable()
        try output.checkDestination()
    }
}
