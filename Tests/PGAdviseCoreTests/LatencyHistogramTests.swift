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

    /// The stated bound: every percentile within 1/128 of the true value (nearest rank) plus 1 µs.
    @Test func percentileErrorIsWithinTheStatedBound() {
        var h = LatencyHistogram()
        var values: [Double] = []
        var x = 0.07
        while x < 50_000 { values.append(x); x *= 1.013 }
        for v in values { h.record(milliseconds: v) }
        let sorted = values.sorted()
        for fraction in [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let exact = sorted[max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)]
            let estimate = h.percentile(fraction)!
            #expect(abs(estimate - exact) <= exact / 128 + 0.001, "p\(fraction): \(estimate) against \(exact)")
            #expect(abs(estimate - exact) / exact <= 1.0 / 64, "p\(fraction): \(estimate) against \(exact)")
        }
    }

    /// Memory grows with the buckets hit, not with a fixed table: 10,000 durations of one statement
    /// spread over a decade of milliseconds stay within a few hundred buckets.
    @Test func storageIsSparse() {
        var h = LatencyHistogram()
        #expect(h.occupiedBuckets == 0)
        for _ in 0..<10_000 { h.record(milliseconds: 1.5) }
        #expect(h.occupiedBuckets == 1)
        for i in 0..<10_000 { h.record(milliseconds: 1 + Double(i) / 1000) }
        #expect(h.occupiedBuckets <= 64 * 4)
        var merged = LatencyHistogram()
        merged.merge(h)
        merged.merge(h)
        #expect(merged.occupiedBuckets == h.occupiedBuckets)
        #expect(merged.count == 2 * h.count)
        #expect(merged.percentile(0.5) == h.percentile(0.5))
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
