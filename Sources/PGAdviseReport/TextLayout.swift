import Foundation
import PGAdviseCore

/// A plain-text table aligned for a fixed width: numeric columns right-aligned, the last column
/// truncated with an ellipsis so that every line fits.
public struct TextTable {
    public enum Alignment { case left, right }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []

    public init(headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The table with every line prefixed by `indent`, still fitting `width` columns in all.
    public func render(width: Int, indent: String) -> String {
        render(width: width - indent.count).split(separator: "\n").map { indent + $0 }.joined(separator: "\n")
    }

    public func render(width: Int = 100) -> String {
        guard !headers.isEmpty else { return "" }
        var widths = headers.map(displayWidth)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(cell)) }
        }
        let fixed = widths.dropLast().reduce(0, +) + 2 * (widths.count - 1)
        widths[widths.count - 1] = max(8, min(widths[widths.count - 1], width - fixed))
        var lines: [String] = []
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, w) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let clipped = truncate(cell, to: w)
                let pad = String(repeating: " ", count: max(0, w - displayWidth(clipped)))
                let isLast = i == widths.count - 1
                parts.append(alignments[i] == .right ? pad + clipped : (isLast ? clipped : clipped + pad))
            }
            return parts.joined(separator: "  ")
        }
        lines.append(line(headers))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { lines.append(line(row)) }
        return lines.joined(separator: "\n")
    }
}

/// Characters on screen (counting each Unicode scalar once; pgadvise output is mostly ASCII).
public func displayWidth(_ s: String) -> Int { s.count }

/// `s` cut to `width` characters with a trailing ellipsis, newlines and tabs folded to spaces.
public func truncate(_ s: String, to width: Int) -> String {
    let flat = oneLine(s)
    if flat.count <= width { return flat }
    if width <= 1 { return String(flat.prefix(width)) }
    return String(flat.prefix(width - 1)) + "…"
}

/// Collapses runs of whitespace (including newlines) into single spaces.
public func oneLine(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    var pendingSpace = false
    for ch in s {
        if ch.isWhitespace {
            pendingSpace = !out.isEmpty
        } else {
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(ch)
        }
    }
    return out
}

/// Wraps prose at word boundaries to `width` columns, each line prefixed with `indent`.
/// `text` wrapped under `indent`, its first line led by `lead` instead (a list item whose marker
/// stands out: `lead` "   - ", `indent` "     "); `lead` is at most as wide as `indent`.
public func wrap(_ text: String, width: Int, lead: String, indent: String) -> String {
    let wrapped = wrap(text, width: width, indent: indent)
    guard lead.count <= indent.count else { return wrapped }
    return lead + wrapped.dropFirst(indent.count)
}

public func wrap(_ text: String, width: Int = 100, indent: String = "") -> String {
    var lines: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var current = indent
        for word in paragraph.split(separator: " ") {
            if current.count > indent.count && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent
            }
            current += (current.count > indent.count ? " " : "") + word
        }
        lines.append(current)
    }
    return lines.joined(separator: "\n")
}

/// Escapes text for a Markdown table cell.
public func markdownCell(_ s: String) -> String {
    oneLine(s).replacingOccurrences(of: "|", with: "\\|")
}

/// SQL as code in a Markdown table cell: a backtick inside would end the code span, so it becomes `'`.
public func markdownCodeCell(_ s: String) -> String {
    "`" + markdownCell(s).replacingOccurrences(of: "`", with: "'") + "`"
}
