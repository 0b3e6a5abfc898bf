import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Writes results as RFC 4180 CSV with a header row: fields containing the delimiter,
/// a quote, CR or LF (or leading/trailing spaces) are quoted, quotes doubled; NULL is an
/// empty field.
///
/// To a file, output goes to a temporary name in the same directory and is renamed over
/// the target only when the query has finished, so a failed or interrupted run never
/// leaves a half-written file behind (and never clobbers the previous one).
public final class CSVResultWriter: ResultWriter {
    private let buffer: BufferedResultFile
    private let delimiter: UInt8
    private let header: Bool
    /// Set when stdout's reader went away (`spate ... | head`): the rest is discarded.
    public var pipeClosed: Bool { buffer.pipeClosed }
    public var isClosed: Bool { buffer.pipeClosed }

    /// `path` nil or "-" writes to standard output.
    public init(path: String?, delimiter: UInt8 = UInt8(ascii: ","), header: Bool = true) throws {
        self.delimiter = delimiter
        self.header = header
        buffer = try BufferedResultFile(path: path)
        inTurn = CSVEncoder(delimiter: delimiter)
    }

    public func begin(_ schema: Schema) throws {
        guard header else { return }
        for (i, f) in schema.fields.enumerated() {
            if i > 0 { buffer.append(delimiter) }
            var name = f.name
            name.withUTF8 { inTurn.appendField($0.baseAddress!, $0.count, into: buffer) }
        }
        buffer.append(10)
    }

    public func write(_ batch: Batch) throws {
        if pipeClosed { return }
        try inTurn.encode(batch, into: buffer) { try buffer.flushIfFull() }
    }

    /// Formats on the worker that made the batch (see `ResultWriter.encode`).
    public func encode(_ batch: Batch) -> EncodedBatch? {
        let bytes = ByteBuffer(capacity: batch.activeCount * 24 + 64)
        CSVEncoder(delimiter: delimiter).encode(batch, into: bytes, afterRow: {})
        return EncodedBatch(bytes: bytes, rows: batch.activeCount)
    }

    public func write(encoded: EncodedBatch) throws {
        if pipeClosed { return }
        if encoded.bytes.count >= 1 << 16 {
            try buffer.writeThrough(encoded.bytes.base, encoded.bytes.count)
        } else {
            buffer.append(encoded.bytes.base, encoded.bytes.count)
            try buffer.flushIfFull()
        }
    }

    /// The encoder of batches written in turn.
    private let inTurn: CSVEncoder

    /// Writes the buffered rows out now (errors surface at `finish`).
    public func flush() {
        do { try buffer.flush() } catch { pendingError = pendingError ?? error }
    }

    private var pendingError: Error?

    public func finish() throws {
        if let pendingError { throw pendingError }
        try buffer.finish()
    }

    public func abandon() { buffer.abandon() }
}

/// Collects results in memory (tests, and the SQL test runner).
public final class CollectingWriter: ResultWriter {
    public private(set) var schema: Schema?
    public private(set) var batches: [Batch] = []

    public init() {}
    public func begin(_ schema: Schema) throws { self.schema = schema }
    public func write(_ batch: Batch) throws { batches.append(batch.compacted()) }
    public func finish() throws {}
    public func abandon() {}

    /// Every row as text fields (NULL as "NULL").
    public var rows: [[String]] {
        batches.flatMap { b in
            (0..<b.count).map { r in
                b.columns.map { c in c.isValid(r) ? ValueFormat.text(c, r) : "NULL" }
            }
        }
    }
}

/// Formats rows as RFC 4180 CSV: fields containing the delimiter, a quote, CR or LF (or
/// leading/trailing spaces) are quoted, quotes doubled; NULL is an empty field.
final class CSVEncoder {
    let delimiter: UInt8

    init(delimiter: UInt8) { self.delimiter = delimiter }

    deinit { lastText.deallocate() }

    /// Raw pointers of one column, so the row loop touches no reference counts.
    private struct ColumnView {
        let type: DataType
        let values: UnsafeMutableRawPointer
        let validity: UnsafeMutablePointer<UInt64>?
        let bytes: UnsafeMutablePointer<UInt8>?

        init(_ c: Column) {
            type = c.type
            values = c.values.pointer
            validity = c.validityWords
            bytes = c.type == .string ? c.bytes : nil
        }
    }

    /// Appends the batch's active rows to `out`, calling `afterRow` after each.
    func encode(_ batch: Batch, into out: ByteBuffer, afterRow: () throws -> Void = {}) rethrows {
        let views = batch.columns.map(ColumnView.init)
        let n = batch.activeCount
        try withExtendedLifetime(batch) {
            try views.withUnsafeBufferPointer { cols in
                for i in 0..<n {
                    let r = batch.row(i)
                    for j in 0..<cols.count {
                        let c = cols[j]
                        if j > 0 { out.append(delimiter) }
                        if let v = c.validity, (v[r >> 6] >> UInt64(r & 63)) & 1 == 0 { continue }
                        switch c.type {
                        case .int64: out.appendInt(c.values.assumingMemoryBound(to: Int64.self)[r])
                        case .timestamp: appendTimestamp(c.values.assumingMemoryBound(to: Int64.self)[r], column: j, into: out)
                        case .bool: c.values.assumingMemoryBound(to: UInt8.self)[r] != 0 ? out.append("true") : out.append("false")
                        case .float64: out.appendDouble(c.values.assumingMemoryBound(to: Double.self)[r])
                        case .string:
                            let o = c.values.assumingMemoryBound(to: Int32.self)
                            let start = Int(o[r])
                            appendField(c.bytes! + start, Int(o[r + 1]) - start, into: out)
                        }
                    }
                    out.append(10)
                    try afterRow()
                }
            }
        }
    }

    /// Window columns repeat one value for many rows: remember each column's last
    /// timestamp and where its text starts in `lastText` (48 bytes per column).
    private var lastValue: [Int64] = []
    private var lastLength: [Int] = []
    private var lastText = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    private func appendTimestamp(_ ms: Int64, column j: Int, into out: ByteBuffer) {
        if j >= lastValue.count {
            let columns = j + 1
            lastValue += Array(repeating: 0, count: columns - lastValue.count)
            lastLength += Array(repeating: 0, count: columns - lastLength.count)
            lastText.deallocate()
            lastText = .allocate(capacity: columns * Timestamp.maxFormattedLength)
            for k in 0..<columns { lastLength[k] = 0 }
        }
        let slot = lastText + j * Timestamp.maxFormattedLength
        if lastLength[j] > 0 && lastValue[j] == ms {
            out.append(slot, lastLength[j])
            return
        }
        let n = Timestamp.format(millis: ms, into: slot)
        lastValue[j] = ms
        lastLength[j] = n
        out.append(slot, n)
    }

    func appendField(_ p: UnsafePointer<UInt8>, _ n: Int, into out: ByteBuffer) {
        var needsQuotes = n > 0 && (p[0] == 32 || p[n - 1] == 32)
        if !needsQuotes {
            for k in 0..<n {
                let b = p[k]
                if b == delimiter || b == 34 || b == 10 || b == 13 { needsQuotes = true; break }
            }
        }
        guard needsQuotes else {
            out.append(p, n)
            return
        }
        out.append(34)
        for k in 0..<n {
            if p[k] == 34 { out.append(34) }
            out.append(p[k])
        }
        out.append(34)
    }
}
