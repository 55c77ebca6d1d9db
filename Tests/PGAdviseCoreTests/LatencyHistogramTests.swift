import Testing
@testable import PGAdviseCore

@Suite struct LatencyHistogramTests {
    @Test func percentilesOfAUniformSpreadAreWithinTwoPercent() {
        var h = LatencyHistogram()
        for ms in 1...1000 { h.record(milliseconds: Double(ms)) }
        #expect(h.count == 1000)
        for (fraction, expected) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let value = h.percentile(fraction)!
            #expect(abs(value - expected) / expected < 0.02, "p\(fraction) was \(value)")
        }
    }

    @Test func emptyHistogramHasNoPercentile() {
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }

    @Test func mergeAddsCounts() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(milliseconds: 1)
        b.record(milliseconds: 1000)
        b.record(milliseconds: 1000)
        a.merge(b)
        #expect(a.count == 3)
        #expect(abs(a.percentile(0.9)! - 1000) < 10)
        #expect(abs(a.percentile(0.1)! - 1) < 0.05)
    }

    @Test func absurdValuesDoNotTrap() {
        var h = LatencyHistogram()
        h.record(milliseconds: .infinity)
        h.record(milliseconds: -5)
        h.record(milliseconds: 1e30)
        #expect(h.count == 3)
    }
}

@Suite struct IdentifierQuotingTests {
    @Test func quotesOnlyWhenNeeded() {
        #expect(quoteIdentifierIfNeeded("orders") == "orders")
        #expect(quoteIdentifierIfNeeded("Orders") == "\"Orders\"")
        #expect(quoteIdentifierIfNeeded("order") == "\"order\"")
        #expect(quoteIdentifierIfNeeded("my table") == "\"my table\"")
        #expect(quoteIdentifierIfNeeded("a\"b") == "\"a\"\"b\"")
        #expect(quoteIdentifierIfNeeded("1abc") == "\"1abc\"")
        #expect(quoteIdentifierIfNeeded("café") == "\"café\"")
    }

    @Test func literalsDoubleQuotes() {
        #expect(quoteLiteral("it's") == "'it''s'")
        #expect(quoteLiteral("a\\b") == "E'a\\\\b'")
    }

    @Test func severityOrderDrivesFailOn() {
        let findings = [Finding(rule: "x", severity: .warning, message: "m")]
        #expect(findings.reaches(.warning))
        #expect(findings.reaches(.info))
        #expect(!findings.reaches(.error))
        #expect(!findings.reaches(nil))
    }
}
