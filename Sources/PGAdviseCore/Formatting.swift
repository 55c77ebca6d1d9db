import Foundation

// How every report and rule writes numbers: one place, so a count reads the same in a finding's
// message and in a rendered table.

/// The version of every JSON document pgadvise prints. Bump it only with a breaking change to
/// field names or meanings; adding fields is not breaking.
public let jsonSchemaVersion = 1

/// Milliseconds as a person reads them: `0.42 ms`, `12.3 ms`, `4.21 s`, `3m 12s`, `2h 05m`.
public func formatDuration(ms: Double) -> String {
    if !ms.isFinite { return "-" }
    if ms < 1 { return String(format: "%.2f ms", ms) }
    if ms < 1000 { return String(format: "%.1f ms", ms) }
    let s = ms / 1000
    if s < 60 { return String(format: "%.2f s", s) }
    if s < 3600 { return String(format: "%dm %02ds", Int(s) / 60, Int(s) % 60) }
    return String(format: "%dh %02dm", Int(s) / 3600, (Int(s) % 3600) / 60)
}

/// Bytes with binary units: `512 B`, `8.0 kB`, `1.2 GB` (as pg_size_pretty).
public func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while abs(value) >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Thousands separators for counts: `1,234,567`.
public func formatCount(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

/// A fraction as a percentage with the precision its size needs: `0.005%`, `4.2%`, `37%`.
public func formatPercent(_ fraction: Double) -> String {
    if fraction > 0 && fraction < 0.001 { return String(format: "%.3f%%", fraction * 100) }
    if fraction < 0.1 { return String(format: "%.1f%%", fraction * 100) }
    return String(format: "%.0f%%", fraction * 100)
}

/// A figure read from input (a plan's rows, costs, kB) as a whole number for a message. Input may
/// hold any digits (FuzzExplain found actual rows of 124 digits), which `Int(_:)` traps on: beyond
/// Int's range it saturates.
/// `a + b`, held at the type's range: block counters of a pasted plan, and sizes in a log line, can be
/// anything.
public func saturatingSum<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? T.max : T.min) : sum
}

/// `a - b`, held at Int64's range.
public func saturatingDifference(_ a: Int64, _ b: Int64) -> Int64 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b < 0 ? Int64.max : Int64.min) : difference
}

public func wholeNumber(_ value: Double) -> Int {
    guard !value.isNaN else { return 0 }
    return Int(exactly: value.rounded()) ?? (value > 0 ? Int.max : Int.min)
}
