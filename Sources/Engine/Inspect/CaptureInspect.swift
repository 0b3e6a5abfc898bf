import Columnar

/// `spate inspect` for capture files: schema, rows, event-time range, blocks,
/// per-column stored and decoded sizes with the compression ratio, and with `verify`
/// every block checked (checksums, decompression, decoding).
public enum CaptureInspect {
    /// The report, and whether the file is sound (complete, and with `verify` every
    /// block good).
    public static func report(path: String, verify: Bool) throws -> (text: String, ok: Bool) {
        let reader = try CaptureReader.open(path: path)
        var out: [String] = []
        var ok = reader.hasFooter
        out.append("\(path): Spate capture file, format version \(CaptureFormat.version), \(grouped(reader.fileSize)) bytes")
        out.append("schema:")
        let width = max(reader.schema.fields.map(\.name.count).max() ?? 0, 6)
        for (i, f) in reader.schema.fields.enumerated() {
            var line = "  " + pad(f.name, width) + "  " + f.type.description + (f.nullable ? "" : " NOT NULL")
            if i == reader.eventTimeColumn { line += "  (event time)" }
            out.append(line)
        }
        let blocks = reader.blocks
        out.append("rows: \(grouped(reader.rowCount)) in \(blocks.count) block\(blocks.count == 1 ? "" : "s") (up to \(grouped(reader.blockRows)) rows each)")
        if let e = reader.eventTimeColumn {
            let lo = reader.minTime, hi = reader.maxTime
            if lo <= hi {
                out.append("event time (\(reader.schema[e].name)): \(formatTime(lo, reader.schema[e].type)) .. \(formatTime(hi, reader.schema[e].type))")
            } else {
                out.append("event time (\(reader.schema[e].name)): no values")
            }
        } else {
            out.append("event time: none")
        }

        // Per-column sizes: stored (in the file) and decoded (in memory: 8 bytes per
        // int64/timestamp/float64 value, 1 per boolean, 4 per string offset plus the
        // bytes, plus a validity bit per row where the chunk has nulls).
        var stored = [Int](repeating: 0, count: reader.schema.count)
        var decoded = [Int](repeating: 0, count: reader.schema.count)
        var encodings = [[String: Int]](repeating: [:], count: reader.schema.count)
        var headerProblems: [Int: String] = [:]
        for (i, b) in blocks.enumerated() {
            let header: BlockInfo
            do {
                header = try reader.blockHeader(i)
            } catch let e as SpateError {
                headerProblems[i] = e.message
                continue
            }
            for (j, c) in header.chunks.enumerated() {
                stored[j] += c.storedSize
                let t = reader.schema[j].type
                var d = t == .string ? 4 * b.rows + c.rowBytes : (t == .bool ? b.rows : 8 * b.rows)
                if c.hasValidity { d += (b.rows + 7) / 8 }
                decoded[j] += d
                let label = c.encoding == .plain || c.encoding == .bits || c.encoding == .dictionary
                    ? "\(c.encoding)" : "\(c.encoding) \(c.bitWidth)b"
                encodings[j][label + (c.compression == .zstd ? "+zstd" : ""), default: 0] += 1
            }
        }
        out.append("columns:")
        let nameWidth = max(width, 5)
        out.append("  " + pad("column", nameWidth) + "  " + lpad("stored", 12) + "  " + lpad("decoded", 12) + "  " + lpad("ratio", 7) + "  encodings (blocks)")
        for (j, f) in reader.schema.fields.enumerated() {
            let enc = encodings[j].sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .prefix(3).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            out.append("  " + pad(f.name, nameWidth) + "  " + lpad(grouped(stored[j]), 12) + "  " + lpad(grouped(decoded[j]), 12)
                       + "  " + lpad(ratio(decoded[j], stored[j]), 7) + "  " + enc)
        }
        let st = stored.reduce(0, +), de = decoded.reduce(0, +)
        out.append("  " + pad("total", nameWidth) + "  " + lpad(grouped(st), 12) + "  " + lpad(grouped(de), 12) + "  " + lpad(ratio(de, st), 7))
        if reader.hasFooter {
            out.append("footer: ok")
        } else {
            out.append("footer: \(reader.footerProblem ?? "missing"); recovered \(blocks.count) block\(blocks.count == 1 ? "" : "s") by scanning from the header")
            if let d = reader.damage { out.append("damage: \(d.message)") }
        }
        for (i, p) in headerProblems.sorted(by: { $0.key < $1.key }) {
            ok = false
            out.append("damage: \(p)")
            _ = i
        }
        if verify {
            let checks = reader.verify()
            let good = checks.filter(\.ok)
            let bad = checks.filter { !$0.ok }
            out.append("verify: \(good.count) of \(blocks.count) block\(blocks.count == 1 ? "" : "s") good (\(grouped(good.reduce(0) { $0 + $1.rows })) rows readable)")
            if !good.isEmpty { out.append("  good blocks: " + ranges(good.map(\.block))) }
            for b in bad {
                ok = false
                out.append("  bad: block \(b.block) at offset \(b.offset): \(b.problem!)")
            }
            if bad.isEmpty && reader.hasFooter { out.append("verify: ok") }
        }
        return (out.joined(separator: "\n"), ok && headerProblems.isEmpty)
    }

    static func formatTime(_ v: Int64, _ type: DataType) -> String {
        if case .timestamp(.millisecond) = type { return Timestamp.formatMillis(v) }
        return String(v)
    }

    /// "0-16, 18-152"
    static func ranges(_ xs: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < xs.count {
            var j = i
            while j + 1 < xs.count && xs[j + 1] == xs[j] + 1 { j += 1 }
            parts.append(i == j ? "\(xs[i])" : "\(xs[i])-\(xs[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    static func ratio(_ decoded: Int, _ stored: Int) -> String {
        guard stored > 0 else { return "-" }
        let r = Double(decoded) / Double(stored)
        let tenths = Int((r * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)x"
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (k, ch) in s.enumerated() {
            if k > 0 && (s.count - k) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}
