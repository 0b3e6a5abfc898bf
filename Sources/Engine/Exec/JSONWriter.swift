import CKernels
import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Writes results as JSON lines: one object per row, keys the column names in
/// order, NULL as `null`, timestamps as `"YYYY-MM-DD HH:MM:SS.mmm"` strings (what the
/// JSON lines reader takes back), doubles in their shortest round-trip form (NaN and
/// the infinities, which JSON cannot spell, as the strings "NaN", "Infinity" and
/// "-Infinity", which the reader accepts for DOUBLE), strings escaped per RFC 8259
/// (invalid UTF-8 replaced by U+FFFD).
public final class JSONLinesResultWriter: ResultWriter {
    private let out: BufferedResultFile
    /// Per column: `{"name":` or `,"name":`, escaped.
    private var keys: [[UInt8]] = []
    public var isClosed: Bool { out.pipeClosed }

    /// `path` nil or "-" writes to standard output.
    public init(path: String?) throws {
        out = try BufferedResultFile(path: path)
    }

    public func begin(_ schema: Schema) throws {
        keys = schema.fields.enumerated().map { i, f in
            var k: [UInt8] = [i == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
            JSONLinesResultWriter.escape(Array(f.name.utf8), into: &k)
            k.append(UInt8(ascii: ":"))
            return k
        }
    }

    public func write(_ batch: Batch) throws {
        if out.pipeClosed { return }
        try format(batch, into: out) { try out.flushIfFull() }
    }

    /// Formats on the worker that made the batch (see `ResultWriter.encode`).
    public func encode(_ batch: Batch) -> EncodedBatch? {
        let bytes = ByteBuffer(capacity: batch.activeCount * 48 + 64)
        format(batch, into: bytes, afterRow: {})
        return EncodedBatch(bytes: bytes, rows: batch.activeCount)
    }

    public func write(encoded: EncodedBatch) throws {
        if out.pipeClosed { return }
        if encoded.bytes.count >= 1 << 16 {
            try out.writeThrough(encoded.bytes.base, encoded.bytes.count)
        } else {
            out.append(encoded.bytes.base, encoded.bytes.count)
            try out.flushIfFull()
        }
    }

    /// Appends the batch's active rows to `o`, calling `afterRow` after each.
    private func format(_ batch: Batch, into o: ByteBuffer, afterRow: () throws -> Void) rethrows {
        let n = batch.activeCount
        let columns = batch.columns
        for i in 0..<n {
            let r = batch.row(i)
            if columns.isEmpty { o.append("{}") }
            for (j, c) in columns.enumerated() {
                keys[j].withUnsafeBufferPointer { o.append($0.baseAddress!, $0.count) }
                guard c.isValid(r) else {
                    o.append("null")
                    continue
                }
                switch c.type {
                case .int64: o.appendInt(c.int64s[r])
                case .float64: Self.appendDouble(c.float64s[r], into: o)
                case .bool: o.append(c.bools[r] != 0 ? "true" : "false")
                case .timestamp(let unit):
                    o.append(UInt8(ascii: "\""))
                    o.appendTimestamp(Self.millis(c.int64s[r], unit))
                    o.append(UInt8(ascii: "\""))
                case .string: Self.appendString(c.stringBytes(at: r), into: o)
                }
            }
            if !columns.isEmpty { o.append(UInt8(ascii: "}")) }
            o.append(10)
            try afterRow()
        }
    }

    static func millis(_ v: Int64, _ unit: TimeUnit) -> Int64 {
        switch unit {
        case .millisecond: return v
        case .second: return v &* 1000
        case .microsecond: return v >= 0 ? v / 1000 : -((-v + 999) / 1000)
        case .nanosecond: return v >= 0 ? v / 1_000_000 : -((-v + 999_999) / 1_000_000)
        }
    }

    private static func appendDouble(_ v: Double, into o: ByteBuffer) {
        if v.isNaN { o.append("\"NaN\""); return }
        if v.isInfinite { o.append(v < 0 ? "\"-Infinity\"" : "\"Infinity\""); return }
        o.appendDouble(v)  // the shortest round-trip form, as `description`
    }

    private static func appendString(_ b: UnsafeBufferPointer<UInt8>, into out: ByteBuffer) {
        var plain = true
        var high = false
        for c in b {
            if c < 0x20 || c == 34 || c == 92 { plain = false }
            if c >= 0x80 { high = true }
        }
        if high && ck_json_valid_utf8(b.baseAddress, b.count) == 0 {
            // Repair invalid UTF-8 (U+FFFD) rather than write invalid JSON.
            var fixed = Array(String(decoding: b, as: UTF8.self).utf8)
            fixed.withUnsafeMutableBufferPointer { appendString(UnsafeBufferPointer($0), into: out) }
            return
        }
        out.append(34)
        if plain {
            if b.count > 0 { out.append(b.baseAddress!, b.count) }
        } else {
            var escaped: [UInt8] = []
            escaped.reserveCapacity(b.count + 8)
            Self.escapeBody(b, into: &escaped)
            escaped.withUnsafeBufferPointer { out.append($0.baseAddress!, $0.count) }
        }
        out.append(34)
    }

    /// `"text"` with JSON escapes.
    static func escape(_ text: [UInt8], into out: inout [UInt8]) {
        out.append(34)
        text.withUnsafeBufferPointer { escapeBody($0, into: &out) }
        out.append(34)
    }

    static func escapeBody(_ b: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for c in b {
            switch c {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 8: out += [92, UInt8(ascii: "b")]
            case 12: out += [92, UInt8(ascii: "f")]
            case 0..<0x20: out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
    }

    public func finish() throws { try out.finish() }
    public func abandon() { out.abandon() }
}
