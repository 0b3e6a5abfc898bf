import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Writes results as an aligned table for people (the default of `spate sql` on a
/// terminal):
///
///     auction  channel  price  ts
///     ───────  ───────  ─────  ───────────────────────
///           1  Google    10.5  2024-01-02 03:04:05.678
///           2  NULL       3.0  NULL
///     (2 rows)
///
/// Numbers are right-aligned, everything else left-aligned; NULL is `NULL`; control
/// characters in text show as `\n`, `\t`, `\r` or `\xNN`. Column widths come from the
/// header and the first `sampleRows` rows (buffered, then printed); later rows reuse
/// the widths, so results stream. When the table is wider than the terminal
/// (TIOCGWINSZ, else $COLUMNS, else 120) the widest text columns shrink and long
/// values end in `…`; numbers and timestamps are never cut.
public final class TableResultWriter: ResultWriter {
    private let out: BufferedResultFile
    private let width: Int
    private let sampleRows: Int
    private var names: [String] = []
    private var rightAligned: [Bool] = []
    private var shrinkable: [Bool] = []
    private var pending: [[String?]] = []
    private var widths: [Int]?
    private var rows = 0
    public var isClosed: Bool { out.pipeClosed }

    /// `path` nil or "-" writes to standard output. `width`: the line width to fit
    /// (default: the terminal's).
    public init(path: String?, width: Int? = nil, sampleRows: Int = 200) throws {
        out = try BufferedResultFile(path: path)
        self.width = width ?? TableResultWriter.terminalWidth(out.isTerminal ? 1 : nil)
        self.sampleRows = max(1, sampleRows)
    }

    /// The width of the terminal on `fd`, else $COLUMNS, else 120.
    public static func terminalWidth(_ fd: Int32?) -> Int {
        if let fd {
            var ws = winsize()
            if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 { return Int(ws.ws_col) }
        }
        if let raw = getenv("COLUMNS"), let n = Int(String(cString: raw)), n > 0 { return n }
        return 120
    }

    public func begin(_ schema: Schema) throws {
        names = schema.fields.map { TableResultWriter.printable($0.name) }
        rightAligned = schema.fields.map { $0.type.isNumeric }
        shrinkable = schema.fields.map { f in
            switch f.type {
            case .string: return true
            default: return false
            }
        }
    }

    public func write(_ batch: Batch) throws {
        if out.pipeClosed { return }
        for i in 0..<batch.activeCount {
            let r = batch.row(i)
            let cells = batch.columns.map { c -> String? in c.isValid(r) ? TableResultWriter.text(c, r) : nil }
            rows += 1
            if let widths {
                line(cells, widths)
                try out.flushIfFull(1 << 16)
            } else {
                pending.append(cells)
                if pending.count >= sampleRows { try layOut() }
            }
        }
        // Whatever is printed shows up now: results of a streaming query appear as
        // their windows close.
        if widths != nil { try out.flush() }
    }

    public func finish() throws {
        if widths == nil { try layOut() }
        out.append("(\(rows) row\(rows == 1 ? "" : "s"))\n")
        try out.finish()
    }

    public func abandon() {
        if widths == nil && !pending.isEmpty { try? layOut() }
        try? out.flush()
        out.abandon()
    }

    // MARK: - Layout

    private func layOut() throws {
        var w = names.map(TableResultWriter.displayWidth)
        for cells in pending {
            for (j, cell) in cells.enumerated() { w[j] = max(w[j], TableResultWriter.displayWidth(cell ?? "NULL")) }
        }
        w = TableResultWriter.fit(w, shrinkable: shrinkable, names: names, into: width)
        widths = w
        line(names, w, header: true)
        for (j, cw) in w.enumerated() {
            if j > 0 { out.append("  ") }
            for _ in 0..<cw { out.append("─") }
        }
        out.append(10)
        for cells in pending { line(cells, w) }
        pending = []
        try out.flush()
    }

    /// Shrinks the widest shrinkable columns (never below 4 characters, or their
    /// natural width) until the line fits `total`.
    static func fit(_ natural: [Int], shrinkable: [Bool], names: [String], into total: Int) -> [Int] {
        var w = natural
        let gaps = 2 * max(0, w.count - 1)
        var excess = w.reduce(0, +) + gaps - total
        while excess > 0 {
            var widest = -1
            for j in w.indices where shrinkable[j] && w[j] > min(4, natural[j]) {
                if widest < 0 || w[j] > w[widest] { widest = j }
            }
            guard widest >= 0 else { break }
            // Shrink the widest down to the next widest in one step where possible.
            var next = 0
            for j in w.indices where j != widest && shrinkable[j] { next = max(next, w[j]) }
            let floor = max(min(4, natural[widest]), next, w[widest] - excess)
            let step = max(1, w[widest] - floor)
            w[widest] -= step
            excess -= step
        }
        return w
    }

    private func line(_ cells: [String?], _ w: [Int], header: Bool = false) {
        for (j, cell) in cells.enumerated() {
            if j > 0 { out.append("  ") }
            let text = cell ?? "NULL"
            let width = w[j]
            let shown = shrinkable[j] || header ? TableResultWriter.truncate(text, to: width) : text
            let pad = max(0, width - TableResultWriter.displayWidth(shown))
            let last = j == cells.count - 1
            if rightAligned[j] {
                for _ in 0..<pad { out.append(32) }
                out.append(shown)
            } else {
                out.append(shown)
                if !last { for _ in 0..<pad { out.append(32) } }
            }
        }
        out.append(10)
    }

    // MARK: - Text

    static func text(_ c: Column, _ r: Int) -> String {
        switch c.type {
        case .int64: return String(c.int64s[r])
        case .float64: return ValueFormat.double(c.float64s[r])
        case .bool: return c.bools[r] != 0 ? "true" : "false"
        case .timestamp(let unit): return Timestamp.formatMillis(JSONLinesResultWriter.millis(c.int64s[r], unit))
        case .string: return printable(c.string(at: r))
        }
    }

    /// Control characters made visible, so one value stays on one line.
    static func printable(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case 0..<0x20, 0x7F:
                let h = String(u.value, radix: 16, uppercase: true)
                out += "\\x" + (h.count < 2 ? "0" : "") + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Columns a character takes on a terminal: 0 for combining marks and zero-width
    /// characters, 2 for East Asian wide and emoji, else 1.
    static func scalarWidth(_ v: UInt32) -> Int {
        switch v {
        case 0x0300...0x036F, 0x200B...0x200F, 0xFE00...0xFE0F, 0x20D0...0x20FF: return 0
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default: return 1
        }
    }

    static func displayWidth(_ s: String) -> Int {
        var ascii = true
        for b in s.utf8 where b >= 0x80 { ascii = false; break }
        if ascii { return s.utf8.count }
        return s.unicodeScalars.reduce(0) { $0 + scalarWidth($1.value) }
    }

    /// `s` cut to `width` columns, ending in "…" when cut.
    static func truncate(_ s: String, to width: Int) -> String {
        guard displayWidth(s) > width else { return s }
        guard width >= 1 else { return "" }
        var out = ""
        var used = 0
        for u in s.unicodeScalars {
            let w = scalarWidth(u.value)
            if used + w > width - 1 { break }
            out.unicodeScalars.append(u)
            used += w
        }
        return out + "…"
    }
}
