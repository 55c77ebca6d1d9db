import Foundation
import PGAdviseCore

public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, markdown, html, sarif
}

public enum JSONOutput {
    /// Stable, human-diffable JSON: sorted keys, pretty-printed, no escaped slashes.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return String(decoding: data, as: UTF8.self)
    }
}

/// True when standard output is a terminal and the user has not set NO_COLOR: the only time
/// text output carries ANSI colors.
public var standardOutputSupportsColor: Bool {
    isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}
