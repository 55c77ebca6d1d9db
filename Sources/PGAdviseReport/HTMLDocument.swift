/// The look every HTML report shares: system fonts, ruled tables with right-aligned numbers, code,
/// notes and chart labels. A report adds only the rules of its own elements.
let sharedHTMLStyle = """
    body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
    h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
    table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; font-size: 13px; }
    th, td { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; text-align: left; }
    th { background: #f3f3f3; } td.n { text-align: right; white-space: nowrap; }
    code { font: 12px ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
    .note { background: #fff6d6; border-left: 4px solid #e0b000; padding: .4em .8em; }
    svg text { font: 11px system-ui, sans-serif; fill: #333; }
    """

/// One self-contained page: no script, no external resource. `title` is escaped here; `body` must
/// already be HTML whose every database or log text went through `htmlEscape`.
func htmlDocument(title: String, style: String = "", body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>\(htmlEscape(title))</title>
    <style>
    \(sharedHTMLStyle)
    \(style)
    </style>
    </head>
    <body>
    \(body)</body>
    </html>

    """
}
