import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules

/// `pgadvise lint`: read the SQL files (directories recursively, .sql files only) and the schema
/// files, then check every statement against every query rule and the schema rules.
public struct LintPipeline {
    public let paths: [String]
    public let schemaPaths: [String]

    public init(paths: [String], schemaPaths: [String] = []) {
        self.paths = paths
        self.schemaPaths = schemaPaths
    }

    /// Throws a PGAdviseError(.input) naming the first path that cannot be read.
    public func run() throws -> LintReport {
        let sources = try paths.flatMap(Self.sqlFiles).map(Self.readSource)
        let schemaSources = try schemaPaths.map(Self.readSource)
        let result = Linter.lint(sources, schema: schemaSources)
        return LintReport(schemaVersion: jsonSchemaVersion, files: result.files, statements: result.statements,
                          findings: result.findings)
    }

    /// A file as given, or the .sql files under a directory in a stable order.
    static func sqlFiles(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PGAdviseError(.input, "cannot read \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw PGAdviseError(.input, "cannot read directory \(path)")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.lowercased().hasSuffix(".sql") else { continue }
            let full = (path as NSString).appendingPathComponent(relative)
            var childIsDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &childIsDirectory), !childIsDirectory.boolValue {
                files.append(full)
            }
        }
        return files.sorted()
    }

    static func readSource(_ path: String) throws -> LintSource {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PGAdviseError(.input, "cannot read \(path): permission denied or not a regular file")
        }
        let identity = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        return LintSource(path: path, text: String(decoding: data, as: UTF8.self), identity: identity)
    }
}
