import Foundation

/// ISO 8601 timestamps as pgadvise writes and reads them: UTC, `2026-11-23T08:00:00Z`, with
/// fractional seconds only when there are some.
public enum ISOTimestamp {
    public static func format(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
        return (whole ? plain : fractional).string(from: date)
    }

    /// Accepts `2026-11-23T08:00:00Z`, offsets, fractional seconds, a space for the `T`, and a bare
    /// date (`2026-11-23`, midnight UTC).
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count == 10, let d = plain.date(from: trimmed + "T00:00:00Z") { return d }
        var candidate = trimmed.replacingOccurrences(of: " ", with: "T")
        // PostgreSQL writes offsets as +00 or +05:30; ISO8601DateFormatter wants minutes.
        if let plus = candidate.lastIndex(where: { $0 == "+" || $0 == "-" }), candidate.distance(from: plus, to: candidate.endIndex) == 3,
           candidate.contains("T") {
            candidate += ":00"
        }
        return fractional.date(from: candidate) ?? plain.date(from: candidate)
    }

    /// A timestamp as the log reader reports it: `2026-11-23 13:04:19.362 UTC`, the zone an
    /// abbreviation (`UTC`, `CET`), a numeric offset (`+01`, `-05:30`) or absent (taken as UTC).
    /// Nil when the text or the zone is not understood.
    public static func parseLogged(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count >= 2, parts.count <= 3 else { return parse(text) }
        let local = parts[0] + "T" + parts[1]
        guard parts.count == 3 else { return parse(local + "Z") }
        let zone = String(parts[2])
        if zone.first == "+" || zone.first == "-" { return parse(local + (zone.count == 3 ? zone + ":00" : zone)) }
        guard let tz = TimeZone(abbreviation: zone) ?? TimeZone(identifier: zone),
              let utc = parse(local + "Z") else { return nil }
        return utc.addingTimeInterval(-Double(tz.secondsFromGMT(for: utc)))
    }

    private static let plain: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    private static let fractional: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
