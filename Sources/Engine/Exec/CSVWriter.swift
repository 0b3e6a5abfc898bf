import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer for formatting output without per-value allocations.
struct OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    func free() { base.deallocate() }

    @inline(__always)
    mutating func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity * 2, count + more))
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = max(capacity * 2, count + more)
    }

    @inline(__always) mutating func append(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count += n
    }

    mutating func append(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    mutating func append(_ s: String) {
        var copy = s
        copy.withUTF8 { append($0.baseAddress!, $0.count) }
    }

    @inline(__always) mutating func appendInt(_ v: Int64) {
        reserve(20)
        var m = v.magnitude
        if v < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var t = m / 10
        while t > 0 { digits += 1; t /= 10 }
        var k = count + digits - 1
        repeat {
            base[k] = UInt8(truncatingIfNeeded: 48 + m % 10)
            m /= 10
            k -= 1
        } while m > 0
        count += digits
    }

    @inline(__always) mutating func appendTimestamp(_ ms: Int64) {
        reserve(Timestamp.maxFormattedLength)
        count += Timestamp.format(millis: ms, into: base + count)
    }

    mutating func removeAll() { count = 0 }
}

/// Writes results as RFC 4180 CSV with a header row: fields containing the delimiter,
/// a quote, CR or LF (or leading/trailing spaces) are quoted, quotes doubled; NULL is an
/// empty field.
///
/// To a file, output goes to a temporary name in the same directory and is renamed over
/// the target only when the query has finished, so a failed or interrupted run never
/// leaves a half-written file behind (and never clobbers the previous one).
public final class CSVResultWriter: ResultWriter {
    private let file: OutputFile
    private var buffer = OutputBuffer(capacity: 1 << 20)
    private let delimiter: UInt8
    private let header: Bool
    /// Set when stdout's reader went away (`spate ... | head`): the rest is discarded.
    public var pipeClosed: Bool { file.pipeClosed }
    public var isClosed: Bool { file.pipeClosed }

    /// `path` nil or "-" writes to standard output.
    public init(path: String?, delimiter: UInt8 = UInt8(ascii: ","), header: Bool = true) throws {
        self.delimiter = delimiter
        self.header = header
        do {
            file = try OutputFile(path: path)
        } catch {
            buffer.free()
            throw error
        }
    }

    deinit {
        buffer.free()
        lastText.deallocate()
    }

    public func begin(_ schema: Schema) throws {
        guard header else { return }
        for (i, f) in schema.fields.enumerated() {
            if i > 0 { buffer.append(delimiter) }
            var name = f.name
            name.withUTF8 { appendField($0.baseAddress!, $0.count) }
        }
        buffer.append(10)
    }

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

    public func write(_ batch: Batch) throws {
        if pipeClosed { return }
        let views = batch.columns.map(ColumnView.init)
        let n = batch.activeCount
        try withExtendedLifetime(batch) {
            try views.withUnsafeBufferPointer { cols in
                for i in 0..<n {
                    let r = batch.row(i)
                    for j in 0..<cols.count {
                        let c = cols[j]
                        if j > 0 { buffer.append(delimiter) }
                        if let v = c.validity, (v[r >> 6] >> UInt64(r & 63)) & 1 == 0 { continue }
                        switch c.type {
                        case .int64: buffer.appendInt(c.values.assumingMemoryBound(to: Int64.self)[r])
                        case .timestamp: appendTimestamp(c.values.assumingMemoryBound(to: Int64.self)[r], column: j)
                        case .bool: c.values.assumingMemoryBound(to: UInt8.self)[r] != 0 ? buffer.append("true") : buffer.append("false")
                        case .float64: buffer.append(ValueFormat.double(c.values.assumingMemoryBound(to: Double.self)[r]))
                        case .string:
                            let o = c.values.assumingMemoryBound(to: Int32.self)
                            let start = Int(o[r])
                            appendField(c.bytes! + start, Int(o[r + 1]) - start)
                        }
                    }
                    buffer.append(10)
                    if buffer.count >= 1 << 20 { try flushBuffer() }
                }
            }
        }
    }

    /// Window columns repeat one value for many rows: remember each column's last
    /// timestamp and where its text starts in `lastText` (48 bytes per column).
    private var lastValue: [Int64] = []
    private var lastLength: [Int] = []
    private var lastText = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    private func appendTimestamp(_ ms: Int64, column j: Int) {
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
            buffer.append(slot, lastLength[j])
            return
        }
        let n = Timestamp.format(millis: ms, into: slot)
        lastValue[j] = ms
        lastLength[j] = n
        buffer.append(slot, n)
    }

    private func appendField(_ p: UnsafePointer<UInt8>, _ n: Int) {
        var needsQuotes = n > 0 && (p[0] == 32 || p[n - 1] == 32)
        if !needsQuotes {
            for k in 0..<n {
                let b = p[k]
                if b == delimiter || b == 34 || b == 10 || b == 13 { needsQuotes = true; break }
            }
        }
        guard needsQuotes else {
            buffer.append(p, n)
            return
        }
        buffer.append(34)
        for k in 0..<n {
            if p[k] == 34 { buffer.append(34) }
            buffer.append(p[k])
        }
        buffer.append(34)
    }

    /// Writes the buffered rows out now (errors surface at `finish`).
    public func flush() {
        do { try flushBuffer() } catch { pendingError = pendingError ?? error }
    }

    private var pendingError: Error?

    private func flushBuffer() throws {
        try file.write(buffer.base, buffer.count)
        buffer.removeAll()
    }

    public func finish() throws {
        if let pendingError { throw pendingError }
        try flushBuffer()
        try file.commit()
    }

    public func abandon() { file.discard() }
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
