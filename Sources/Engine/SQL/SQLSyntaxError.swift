/// A position in SQL source text.
///
/// Every AST node carries one, so later phases (binder, planner) can report errors such as
/// "unknown column 'prcie'" with a caret under the exact spot, using
/// ``SQLSyntaxError/sourceExcerpt(sql:position:)``.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Offset from the start of the text, in UTF-8 bytes (0-based).
    public var offset: Int
    /// Line number, 1-based. Lines end at "\n", "\r\n" or "\r".
    public var line: Int
    /// Column, 1-based, counted in `Character`s (grapheme clusters) from the start of the line.
    /// A tab counts as one column.
    public var column: Int

    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// The very start of the text.
    public static let start = SourcePosition(offset: 0, line: 1, column: 1)

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        lhs.offset < rhs.offset
    }

    /// `line:column`, e.g. `3:12`.
    public var description: String { "\(line):\(column)" }
}

/// A syntax error in SQL text: what was expected versus found, where, and optionally a hint.
public struct SQLSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One-line description, e.g. `expected ')' to close the column list opened at 2:20, found 'WITH'`.
    public var message: String
    /// Where the error is; for errors at the end of the input, just after the last token.
    public var position: SourcePosition
    /// An optional suggestion, e.g. `did you mean SELECT?`.
    public var hint: String?

    public init(message: String, position: SourcePosition, hint: String? = nil) {
        self.message = message
        self.position = position
        self.hint = hint
    }

    /// `line:column: error: message` (plus `hint: ...` on a second line when there is a hint).
    public var description: String {
        var text = "\(position.line):\(position.column): error: \(message)"
        if let hint { text += "\nhint: \(hint)" }
        return text
    }

    /// Renders the error compiler-style, with the offending source line and a caret:
    ///
    ///     query.sql:3:21: error: expected an expression after 'AND'
    ///       3 | WHERE price > 10 AND
    ///         |                     ^
    ///     hint: ...
    ///
    /// The hint line appears only when there is a hint. Tabs in the source line are expanded
    /// (to 4-column stops) consistently in the echoed line and the caret line.
    public func render(sql: String, sourceName: String) -> String {
        var lines = ["\(sourceName):\(position.line):\(position.column): error: \(message)"]
        let excerpt = Self.sourceExcerpt(sql: sql, position: position)
        if !excerpt.isEmpty { lines.append(excerpt) }
        if let hint { lines.append("hint: \(hint)") }
        return lines.joined(separator: "\n")
    }

    /// The two-line excerpt used by ``render(sql:sourceName:)``: the source line at `position`
    /// prefixed by its line number, and a caret line pointing at `position.column`.
    /// Returns an empty string when `position.line` is not a line of `sql`.
    /// Other phases (binder, planner) can reuse it to render their own errors.
    public static func sourceExcerpt(sql: String, position: SourcePosition) -> String {
        guard position.line >= 1 else { return "" }
        // Find the requested line, splitting exactly like the lexer does.
        var lineNumber = 1
        var current: [Character] = []
        var found: [Character]?
        for ch in sql {
            if ch == "\n" || ch == "\r\n" || ch == "\r" {
                if lineNumber == position.line { found = current; break }
                lineNumber += 1
                current.removeAll(keepingCapacity: true)
            } else if lineNumber == position.line {
                current.append(ch)
            }
        }
        if found == nil && lineNumber == position.line { found = current }
        guard let line = found else { return "" }

        // Expand tabs and replace control characters; track the display column of the caret.
        let tabWidth = 4
        var cells: [(text: String, width: Int)] = []  // one per source character
        var width = 0
        for ch in line {
            let cell: (String, Int)
            if ch == "\t" {
                let spaces = tabWidth - width % tabWidth
                cell = (String(repeating: " ", count: spaces), spaces)
            } else if ch.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) {
                cell = ("\u{FFFD}", 1)
            } else {
                cell = (String(ch), displayWidth(ch))
            }
            cells.append(cell)
            width += cell.1
        }
        // Long lines are cut to a window around the caret, marked with "...".
        let caretIndex = max(position.column - 1, 0)
        let maxWidth = 100
        var first = 0
        var last = cells.count
        if width > maxWidth {
            var w = 0
            first = min(caretIndex, cells.count)
            while first > 0 && w + cells[first - 1].width <= maxWidth / 2 {
                first -= 1
                w += cells[first].width
            }
            last = first
            w = 0
            while last < cells.count && w + cells[last].width <= maxWidth {
                w += cells[last].width
                last += 1
            }
        }
        let prefix = first > 0 ? "..." : ""
        var shown = prefix
        var caretColumn = prefix.count
        for (i, cell) in cells[first..<max(first, last)].enumerated() {
            if first + i < caretIndex { caretColumn += cell.width }
            shown += cell.text
        }
        if last < cells.count { shown += "..." }
        if caretIndex > cells.count { caretColumn += caretIndex - cells.count }
        let gutter = String(repeating: " ", count: String(position.line).count)
        let sourceLine = shown.isEmpty ? "  \(position.line) |" : "  \(position.line) | \(shown)"
        let caretLine = "  \(gutter) | " + String(repeating: " ", count: max(caretColumn, 0)) + "^"
        return sourceLine + "\n" + caretLine
    }

    /// Terminal columns taken by a character: 2 for East Asian wide/fullwidth characters and
    /// most emoji, 1 otherwise. An approximation that keeps carets aligned for common text.
    static func displayWidth(_ ch: Character) -> Int {
        guard let scalar = ch.unicodeScalars.first else { return 1 }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
            0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF,
            0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}
