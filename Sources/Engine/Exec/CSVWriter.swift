import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Writes results as RFC 4180 CSV with a header row: fields containing the delimiter,
/// a quote, CR or LF are quoted (quotes doubled); NULL is an empty field.
///
/// To a file, output goes to a temporary name in the same directory and is renamed over
/// the target only when the query has finished, so a failed or interrupted run never
/// leaves a half-written file behind (and never clobbers the previous one).
public final class CSVResultWriter: ResultWriter {
    private var fd: Int32
    private let path: String?
    private let temporaryPath: String?
    private var buffer: [UInt8] = []
    private let delimiter: UInt8
    private let header: Bool
    private var closed = false
    /// Set when stdout's reader went away (`spate ... | head`): the rest is discarded.
    public private(set) var pipeClosed = false

    /// `path` nil or "-" writes to standard output.
    public init(path: String?, delimiter: UInt8 = UInt8(ascii: ","), header: Bool = true) throws {
        self.delimiter = delimiter
        self.header = header
        buffer.reserveCapacity(1 << 20)
        guard let path, path != "-" else {
            fd = 1
            self.path = nil
            temporaryPath = nil
            return
        }
        self.path = path
        let tmp = path + ".spate-tmp-\(getpid())"
        temporaryPath = tmp
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            let reason = String(cString: strerror(errno))
            throw SpateError(.io, "cannot write '\(path)': \(reason)",
                             hint: "check that the directory exists and is writable")
        }
    }

    public func begin(_ schema: Schema) throws {
        guard header else { return }
        for (i, f) in schema.fields.enumerated() {
            if i > 0 { buffer.append(delimiter) }
            appendField(Array(f.name.utf8))
        }
        buffer.append(10)
    }

    public func write(_ batch: Batch) throws {
        let cols = batch.columns
        let n = batch.activeCount
        var scratch: [UInt8] = []
        for i in 0..<n {
            let r = batch.row(i)
            for (j, c) in cols.enumerated() {
                if j > 0 { buffer.append(delimiter) }
                guard c.isValid(r) else { continue }
                switch c.type {
                case .int64: appendInt(c.int64s[r])
                case .timestamp: Timestamp.appendMillis(c.int64s[r], to: &buffer)
                case .bool: buffer.append(contentsOf: c.bools[r] != 0 ? Array("true".utf8) : Array("false".utf8))
                case .float64: buffer.append(contentsOf: ValueFormat.double(c.float64s[r]).utf8)
                case .string:
                    scratch.removeAll(keepingCapacity: true)
                    scratch.append(contentsOf: c.stringBytes(at: r))
                    appendField(scratch)
                }
            }
            buffer.append(10)
            if buffer.count >= 1 << 20 { try flush() }
        }
    }

    private func appendInt(_ v: Int64) {
        if v >= 0 && v < 10 { buffer.append(UInt8(48 + v)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var m = v.magnitude
        var k = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[k] = UInt8(48 + m % 10)
                m /= 10
                k += 1
            } while m > 0
            if v < 0 { buffer.append(UInt8(ascii: "-")) }
            while k > 0 { k -= 1; buffer.append(d[k]) }
        }
    }

    private func appendField(_ bytes: [UInt8]) {
        let needsQuotes = bytes.contains { $0 == delimiter || $0 == 34 || $0 == 10 || $0 == 13 }
            || bytes.first == 32 || bytes.last == 32
        guard needsQuotes else {
            buffer.append(contentsOf: bytes)
            return
        }
        buffer.append(34)
        for b in bytes {
            if b == 34 { buffer.append(34) }
            buffer.append(b)
        }
        buffer.append(34)
    }

    private func flush() throws {
        var offset = 0
        while offset < buffer.count && !pipeClosed {
            let written = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE && path == nil { pipeClosed = true; break }
                let reason = String(cString: strerror(errno))
                throw SpateError(.io, "cannot write \(path.map { "'\($0)'" } ?? "standard output"): \(reason)")
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public func finish() throws {
        try flush()
        guard let path, let temporaryPath, !closed else { return }
        closed = true
        if fsync(fd) != 0 || close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw SpateError(.io, "cannot write '\(path)': \(reason)")
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw SpateError(.io, "cannot move the result into '\(path)': \(reason)")
        }
    }

    public func abandon() {
        guard let temporaryPath, !closed else { return }
        closed = true
        close(fd)
        unlink(temporaryPath)
    }
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
