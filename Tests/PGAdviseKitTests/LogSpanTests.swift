@testable import PGAdviseKit
import Testing

/// The window a log's counts cover, to which table write counters are scaled for a logs-only workload.
struct LogSpanTests {
    @Test func theSpanIsBetweenTheFirstAndLastLoggedLines() {
        #expect(IndexesPipeline.logSpanSeconds(first: "2026-12-06 01:00:00.000 UTC", last: "2026-12-06 01:10:30.500 UTC") == 630.5)
        #expect(IndexesPipeline.logSpanSeconds(first: "2026-12-06 01:00:00.000 UTC", last: "2026-12-06 01:00:00.000 UTC") == nil)
        #expect(IndexesPipeline.logSpanSeconds(first: nil, last: "2026-12-06 01:00:00.000 UTC") == nil)
    }
}
