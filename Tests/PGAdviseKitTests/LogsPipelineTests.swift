import Foundation
import PGAdviseCore
import PGAdviseKit
import PGAdviseSources
import PGAdviseTestSupport
import Testing

/// The logs pipeline called as a library, without the binary: the log's facts judged by the rules.
@Suite struct LogsPipelineTests {
    static func run(_ names: [String]) throws -> LogReport {
        try LogsPipeline(paths: names.map { RepositoryPaths.fixture("logs/\($0)").path }).run()
    }

    @Test func burstsBecomeNPlusOneFindingsThroughTheRule() throws {
        let r = try Self.run(["stderr-default.log"])
        let nPlusOne = r.findings.filter { $0.rule == "n-plus-one" }
        #expect(nPlusOne.count == 1)
        let finding = try #require(nPlusOne.first)
        #expect(finding.severity == .warning)
        #expect(finding.category == .workload)
        #expect(finding.calls == 25)
        #expect(finding.details?["largestBurst"] == "25")
        #expect(finding.details?["bursts"] == "1")
        #expect(finding.details?["sampleValues"] == "7 | 14 | 21")
        #expect(finding.evidence == "SELECT id, name, email FROM customers WHERE id = $1;")
        #expect(finding.fix == "-- $1 is an array of all the values, e.g. '{7,14,21}'\nSELECT id, name, email FROM customers WHERE id = ANY($1);")
        #expect(finding.solution?.hasPrefix("Fetch the related rows in one statement") == true)
        #expect(finding.file?.hasSuffix("stderr-default.log") == true)
        #expect(finding.line == r.nPlusOne?.first?.line)
        #expect(finding.message.hasPrefix("N+1 queries: the same statement ran 25 times in a row in session "))
    }

    @Test func queryRulesPointAtTheSlowestRunsLine() throws {
        let r = try Self.run(["stderr-default.log"])
        let queryFindings = r.findings.filter { $0.rule != "n-plus-one" }
        #expect(!queryFindings.isEmpty)
        for finding in queryFindings {
            let query = try #require(r.queries.first { $0.fingerprint == finding.fingerprint })
            #expect(finding.file == query.slowest?.file && finding.line == query.slowest?.line, "\(finding.rule)")
        }
        // Ranked by impact, as every report is.
        #expect(r.findings == r.findings.sortedByImpact())
    }

    @Test func severalFilesAndAStatementlessOne() throws {
        let r = try Self.run(["stderr-default.log", "stderr-no-statements.log", "pgbouncer.log"])
        #expect(r.summary.files.map(\.format) == ["stderr", "stderr", "pgbouncer"])
        #expect(r.summary.statements == 96)
        #expect(r.summary.errors == 8)
        #expect(r.pgbouncer?.clientLogins == 22)
        #expect(r.findings.filter { $0.rule == "n-plus-one" }.count == 1)
    }
}
