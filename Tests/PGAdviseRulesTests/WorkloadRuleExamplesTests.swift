import PGAdviseCore
import Testing
@testable import PGAdviseRules

/// Workload rules' examples are bursts: each triggering one gives exactly one finding about its
/// statement, placed and weighted like the burst; each non-triggering one gives none.
@Suite struct WorkloadRuleExamplesTests {
    static let ids = RuleRegistry.workloadRules.map { type(of: $0).description.id }

    static func rule(_ id: String) -> (any WorkloadRule)? {
        RuleRegistry.workloadRules.first { type(of: $0).description.id == id }
    }

    @Test(arguments: ids) func triggeringExamplesFire(id: String) throws {
        let rule = try #require(Self.rule(id))
        let description = type(of: rule).description
        #expect(!description.triggering.isEmpty)
        for example in description.triggering {
            var burst = try #require(example.burst)
            burst.file = "app.log"
            burst.line = 42
            let findings = RuleEngine.check(bursts: [burst], rules: [rule])
            #expect(findings.count == 1)
            let finding = try #require(findings.first)
            #expect(finding.rule == id && finding.severity == description.severity)
            #expect(finding.evidence == example.sql)
            #expect(finding.solution == description.solution)
            #expect(finding.file == "app.log" && finding.line == 42)
            #expect(finding.fingerprint == burst.fingerprint && finding.calls == burst.calls && finding.totalMs == burst.totalMs)
        }
    }

    @Test(arguments: ids) func nonTriggeringExamplesStaySilent(id: String) throws {
        let rule = try #require(Self.rule(id))
        for example in type(of: rule).description.nonTriggering {
            #expect(RuleEngine.check(bursts: [try #require(example.burst)], rules: [rule]).isEmpty)
        }
    }

    @Test func nPlusOneFindingSaysWhatABurstShowed() throws {
        let burst = NPlusOneBurst(fingerprint: "f", normalized: "SELECT id, name FROM customers WHERE id = $1;", bursts: 3,
                                  calls: 60, totalMs: 4.5, largestBurst: 25, session: "4242", windowMs: 3.25,
                                  windowStart: "2026-11-23 13:04:20.100 UTC", windowEnd: "2026-11-23 13:04:20.103 UTC",
                                  sampleValues: ["7", "14", "21"])
        let finding = try #require(RuleEngine.check(bursts: [burst]).first)
        #expect(finding.message == "N+1 queries: the same statement ran 25 times in a row in session 4242 within 3 ms, "
            + "only its values changing (largest of 3 bursts, 60 executions in all).")
        #expect(finding.details == ["bursts": "3", "largestBurst": "25", "session": "4242", "windowMs": "3.250",
                                    "windowStart": "2026-11-23 13:04:20.100 UTC", "windowEnd": "2026-11-23 13:04:20.103 UTC",
                                    "sampleValues": "7 | 14 | 21"])
        #expect(finding.fix == "-- $1 is an array of all the values, e.g. '{7,14,21}'\nSELECT id, name FROM customers WHERE id = ANY($1);")
    }
}
