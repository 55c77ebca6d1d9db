import ArgumentParser
import Foundation
import PGAdviseCore
import PGAdviseReport
import PGAdviseRules

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List every rule pgadvise applies, or write their documentation pages.",
        discussion: "With --markdown DIR, writes DIR/<rule-id>.md for each rule and DIR/README.md as an index.")

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Write one Markdown page per rule into this directory (created if missing).")
    var markdown: String?

    func run() throws {
        let rules = RuleRegistry.descriptions.map(\.info)
        if let markdown {
            try writePages(rules, to: markdown)
            return
        }
        guard RuleCatalogDocument.outputFormats.contains(format) else {
            throw ValidationError("--format \(format.rawValue) is not offered here; choose text or json (or --markdown DIR)")
        }
        print(try RuleCatalogDocument(schemaVersion: jsonSchemaVersion, rules: rules).render(format, options: RenderOptions()))
    }

    func writePages(_ rules: [RuleInfo], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for rule in rules {
                let path = (directory as NSString).appendingPathComponent(rule.id + ".md")
                try renderRuleMarkdown(rule).write(toFile: path, atomically: true, encoding: .utf8)
            }
            let index = (directory as NSString).appendingPathComponent("README.md")
            try renderRuleIndexMarkdown(rules).write(toFile: index, atomically: true, encoding: .utf8)
        } catch {
            throw PGAdviseError(.input, "cannot write rule pages to \(directory): \(error.localizedDescription)")
        }
        print("Wrote \(rules.count) rule pages and README.md to \(directory).")
    }
}
