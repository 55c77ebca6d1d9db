import Foundation
import PGAdviseCore

/// What a renderer may need besides the report: how many statements each ranking shows, whether
/// text may carry ANSI colors, and for SARIF the rules' metadata and the tool's version.
public struct RenderOptions: Sendable {
    public var top: Int
    public var color: Bool
    public var rules: [RuleInfo]
    public var toolVersion: String

    public init(top: Int = 10, color: Bool = false, rules: [RuleInfo] = [], toolVersion: String = "") {
        self.top = top
        self.color = color
        self.rules = rules
        self.toolVersion = toolVersion
    }
}

/// The one output-format dispatch: each report a command prints says which `--format`s it offers
/// and renders itself in each of them. A command validates `--format` against `outputFormats` and
/// prints `render(format, options:)`; adding a format to a report is one case in its `render`.
public protocol RenderableReport {
    /// The formats `--format` accepts for this report; text comes first, as the default.
    static var outputFormats: [OutputFormat] { get }
    /// The findings `--fail-on` judges (empty when the report has none).
    var findingsForExitCode: [Finding] { get }
    /// The report in `format`, which is one of `outputFormats`.
    func render(_ format: OutputFormat, options: RenderOptions) throws -> String
}

extension ScanReport: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json, .markdown, .sarif]
    public var findingsForExitCode: [Finding] { findings }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(self)
        case .markdown: return renderScanMarkdown(self)
        case .sarif: return try renderSARIF(findings, rules: options.rules, toolVersion: options.toolVersion)
        default: return renderScanText(self, color: options.color)
        }
    }
}

extension LintReport: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json, .sarif]
    public var findingsForExitCode: [Finding] { findings }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(self)
        case .sarif: return try renderSARIF(findings, rules: options.rules, toolVersion: options.toolVersion)
        default: return renderLintText(self, color: options.color)
        }
    }
}

extension IndexAdvice: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json, .markdown]
    public var findingsForExitCode: [Finding] { [] }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try IndexAdviceRenderer.json(self)
        case .markdown: return IndexAdviceRenderer.markdown(self)
        default: return IndexAdviceRenderer.text(self)
        }
    }
}

extension WeeklyReport: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json, .markdown, .html]
    /// The query rules' findings on the week's regressions.
    public var findingsForExitCode: [Finding] { servers.flatMap { $0.regressions.flatMap(\.findings) } }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(self)
        case .markdown: return renderWeeklyReportMarkdown(self, top: options.top)
        case .html: return renderWeeklyReportHTML(self, top: options.top)
        default: return renderWeeklyReportText(self, top: options.top)
        }
    }
}

extension RuleCatalogDocument: RenderableReport {
    public static let outputFormats: [OutputFormat] = [.text, .json]
    public var findingsForExitCode: [Finding] { [] }

    public func render(_ format: OutputFormat, options: RenderOptions) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(self)
        default: return renderRuleCatalogText(rules)
        }
    }
}
