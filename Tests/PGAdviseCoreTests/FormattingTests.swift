import Foundation
import PGAdviseCore
import Testing

/// The one timestamp parser and the number formats every report and rule shares.
@Suite struct FormattingTests {
    @Test func timestampsAsCollectorsAndLogsWriteThem() throws {
        let whole = try #require(ISOTimestamp.parse("2026-11-23T13:19:30+00:00"))
        // pg_stat_user_tables timestamps: microseconds and a `+00` offset.
        let micro = try #require(ISOTimestamp.parse("2026-11-23 13:19:30.507637+00"))
        #expect(abs(micro.timeIntervalSince(whole) - 0.507637) < 0.001)
        #expect(ISOTimestamp.parse("2026-11-23T14:00:00+01:00") == ISOTimestamp.parse("2026-11-23T13:00:00Z"))
        #expect(ISOTimestamp.parse("2026-11-23T13:00:00.5+00:00")?.timeIntervalSince(try #require(ISOTimestamp.parse("2026-11-23T13:00:00+00:00"))) == 0.5)
        #expect(ISOTimestamp.parse("2026-11-23") == ISOTimestamp.parse("2026-11-23T00:00:00Z"))
        #expect(ISOTimestamp.parse("yesterday") == nil)
        #expect(ISOTimestamp.parseLogged("2026-11-23 14:00:00.000 CET") == ISOTimestamp.parse("2026-11-23T13:00:00Z"))
    }

    @Test func numbersBytesDurationsAndPercents() {
        #expect(formatCount(1_234_567) == "1,234,567" && formatCount(-1_000) == "-1,000")
        #expect(formatBytes(512) == "512 B" && formatBytes(2_097_152) == "2.0 MB")
        #expect(formatDuration(ms: 0.42) == "0.42 ms" && formatDuration(ms: 4_210) == "4.21 s"
            && formatDuration(ms: 192_000) == "3m 12s" && formatDuration(ms: 7_500_000) == "2h 05m")
        #expect(formatPercent(0.00005) == "0.005%" && formatPercent(0.042) == "4.2%" && formatPercent(0.37) == "37%")
    }
}

/// Block counters of a pasted plan can be anything: their sums and differences saturate, never trap.
@Test func blockCountersSaturateInsteadOfTrapping() {
    var huge = BlockCounts()
    huge.tempRead = Int64.max; huge.tempWritten = Int64.max; huge.sharedHit = Int64.min
    // min + max + max, in the order the fields are summed: -1, then Int64.max - 1.
    #expect(huge.total == Int64.max - 1)
    #expect((huge + huge).tempRead == Int64.max)
    #expect((huge - huge).sharedHit == 0)
    var low = BlockCounts(); low.sharedHit = 1
    #expect((huge - low).sharedHit == Int64.min)
    #expect(saturatingSum(Int64.max, 1) == Int64.max)
    #expect(saturatingSum(Int64.min, -1) == Int64.min)
    #expect(saturatingDifference(Int64.min, 1) == Int64.min)
    #expect(saturatingDifference(Int64.max, -1) == Int64.max)
    #expect(saturatingDifference(5, 7) == -2)
}
