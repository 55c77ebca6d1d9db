import Foundation
import PGAdviseCore

/// SARIF 2.1.0 (the OASIS static-analysis format GitHub code scanning and other CI tools read): one run
/// of the pgadvise driver with its rules, and one result per finding.
public func renderSARIF(_ findings: [Finding], rules: [RuleInfo], toolVersion: String) throws -> String {
    let ruleIndex = Dictionary(rules.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    let results = findings.map { f -> SARIFLog.Result in
        var locations: [SARIFLog.Location]?
        if let file = f.file {
            let region = f.line.map { SARIFLog.Region(startLine: $0, startColumn: f.column) }
            locations = [SARIFLog.Location(physicalLocation: .init(artifactLocation: .init(uri: sarifURI(file)), region: region))]
        }
        var fingerprints: [String: String]?
        if let fp = f.fingerprint { fingerprints = ["queryFingerprint/v1": fp] }
        var text = f.message
        if let solution = f.solution { text += " Fix: " + solution }
        return SARIFLog.Result(ruleId: f.rule, ruleIndex: ruleIndex[f.rule], level: sarifLevel(f.severity),
                               message: .init(text: text), locations: locations, partialFingerprints: fingerprints,
                               properties: SARIFLog.ResultProperties(evidence: f.evidence, fix: f.fix, table: f.table,
                                                                     index: f.index, calls: f.calls, totalMs: f.totalMs))
    }
    let driverRules = rules.map { r in
        SARIFLog.ReportingDescriptor(
            id: r.id, name: r.id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
            shortDescription: .init(text: r.summary),
            fullDescription: .init(text: r.rationale.isEmpty ? r.summary : r.rationale),
            help: .init(text: r.solution),
            defaultConfiguration: .init(level: sarifLevel(r.severity)),
            properties: .init(tags: [r.category.rawValue]))
    }
    let log = SARIFLog(
        schema: "https://json.schemastore.org/sarif-2.1.0.json", version: "2.1.0",
        runs: [.init(tool: .init(driver: .init(name: "pgadvise", version: toolVersion,
                                               informationUri: "https://github.com/pgadvise/pgadvise", rules: driverRules)),
                     results: results, columnKind: "unicodeCodePoints")])
    return try JSONOutput.encode(log)
}

func sarifLevel(_ severity: Severity) -> String {
    switch severity {
    case .info: return "note"
    case .warning: return "warning"
    case .error: return "error"
    }
}

/// A relative path stays a relative URI reference (resolved against the checkout by the consumer);
/// an absolute one becomes a file URI. Characters URIs reserve are percent-encoded.
func sarifURI(_ path: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "?#[]@!$&'()*+,;=")
    let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    return path.hasPrefix("/") ? "file://" + encoded : encoded
}

/// The subset of the SARIF 2.1.0 object model pgadvise writes.
struct SARIFLog: Encodable {
    var schema: String
    var version: String
    var runs: [Run]

    enum CodingKeys: String, CodingKey {
        case schema = "$schema", version, runs
    }

    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
        var columnKind: String
    }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name: String
        var version: String
        var informationUri: String
        var rules: [ReportingDescriptor]
    }
    struct ReportingDescriptor: Encodable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message
        var help: Message
        var defaultConfiguration: Configuration
        var properties: RuleProperties
    }
    struct Configuration: Encodable { var level: String }
    struct RuleProperties: Encodable { var tags: [String] }
    struct Message: Encodable { var text: String }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int?
        var level: String
        var message: Message
        var locations: [Location]?
        var partialFingerprints: [String: String]?
        var properties: ResultProperties
    }
    struct ResultProperties: Encodable {
        var evidence: String?
        var fix: String?
        var table: String?
        var index: String?
        var calls: Int?
        var totalMs: Double?
    }
    struct Location: Encodable { var physicalLocation: PhysicalLocation }
    struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region?
    }
    struct ArtifactLocation: Encodable { var uri: String }
    struct Region: Encodable {
        var startLine: Int
        var startColumn: Int?
    }
}
