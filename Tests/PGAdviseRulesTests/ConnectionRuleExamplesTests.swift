import PGAdviseCore
import Testing
@testable import PGAdviseRules

/// Every connection rule's examples are its tests: each triggering observation gives exactly one
/// finding of the rule, at its severity, each non-triggering one none.
@Suite struct ConnectionRuleExamplesTests {
    static let rules: [any ConnectionRule] = RuleRegistry.connectionRules
    static let ids = rules.map { type(of: $0).description.id }

    func rule(_ id: String) throws -> any ConnectionRule {
        try #require(Self.rules.first { type(of: $0).description.id == id })
    }

    @Test func theFourConnectionRulesAreRegistered() {
        #expect(Set(Self.ids) == ["idle-in-transaction", "max-connections-oversized", "connection-churn", "many-idle-connections"])
        #expect(RuleRegistry.descriptions.filter { $0.scope == .connection }.count == 4)
    }

    // `guard let` rather than `#require` on `example.connection`: with Swift 6.3.1 at -Onone, #require
    // on this Optional<PoolObservation> crashed the test process (a double release), reproducibly.
    @Test(arguments: ids) func triggeringExamplesFire(id: String) throws {
        let rule = try rule(id)
        let description = type(of: rule).description
        #expect(!description.triggering.isEmpty && !description.nonTriggering.isEmpty, "\(id) needs examples")
        for example in description.triggering {
            guard let observation = example.connection else { Issue.record("\(id): an example without an observation"); continue }
            let findings = applyConnectionRules(observation, rules: [rule])
            #expect(findings.count == 1, "\(id): \(example.caption ?? "")")
            #expect(findings.allSatisfy { $0.rule == id && $0.severity == description.severity && !$0.message.isEmpty })
        }
    }

    @Test(arguments: ids) func nonTriggeringExamplesStaySilent(id: String) throws {
        let rule = try rule(id)
        for example in type(of: rule).description.nonTriggering {
            guard let observation = example.connection else { Issue.record("\(id): an example without an observation"); continue }
            #expect(rule.check(observation).isEmpty, "\(id) fired on: \(example.caption ?? "")")
        }
    }

    @Test func idleInTransactionNamesTheSessionAndItsFix() throws {
        let observation = PoolObservation(samples: 10, maxConnections: 100, byState: ["idle in transaction": 2],
                                          oldestIdleInTransaction: IdleTransaction(pid: 77, transactionAgeMs: 125_000, idleMs: 120_000,
                                                                                   database: "shop", user: "web app", application: "api"))
        let finding = try #require(applyConnectionRules(observation).first { $0.rule == "idle-in-transaction" })
        #expect(finding.message == "session 77 (web app@shop, api) has kept a transaction open for 2m 05s while idle (2 sessions idle in transaction)")
        #expect(finding.fix == "ALTER ROLE \"web app\" SET idle_in_transaction_session_timeout = '60s';")
    }

    @Test func churnIsJudgedOnTheWindowWhenSessionsEndedInIt() throws {
        let window = SessionCounters(seconds: 10, sessions: 50, sessionTimeMs: 50 * 200)
        let sinceReset = SessionCounters(seconds: 86_400, sessions: 60, sessionTimeMs: 60 * 3_600_000)
        let observation = PoolObservation(maxConnections: 100, sessionsInWindow: window, sessionsSinceReset: sinceReset)
        #expect(applyConnectionRules(observation).map(\.message) == ["5.0 new sessions per second lasting 200.0 ms on average: connections are not pooled"])
        let quiet = PoolObservation(maxConnections: 100, sessionsInWindow: SessionCounters(seconds: 10, sessions: 0), sessionsSinceReset: sinceReset)
        #expect(applyConnectionRules(quiet).isEmpty)
    }
}
