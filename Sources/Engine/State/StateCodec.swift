import CKernels
import Columnar

/// The binary encoding of operator state (aggregation tables, sessions, Top-N candidates,
/// a run's pane bookkeeping): what spill files and checkpoints store.
///
/// A sealed state is an envelope around a payload:
///
/// ```
/// magic "SPST" | format version u16 | flags u16 (none defined: 0) | payload length u64 | payload | checksum u64
/// ```
///
/// Integers are little-endian; counts and small numbers are LEB128 varints. Every object
/// in the payload starts with a four-byte tag, so a reader that lost its place says which
/// object it expected where. The checksum is the engine's 64-bit byte hash
/// (`ck_hash_bytes_one`, one scalar body on every ISA, so identical wherever the state
/// is read) over header and payload: it catches truncation and flipped bits, not
/// tampering. Decoders validate what they read as well (counts against the bytes left,
/// ids against what they index), so even a damaged payload whose checksum matches does
/// not make a restore crash or allocate more than the state's own size: bad bytes give a
/// `SpateError`.
enum StateFormat {
    /// Bumped whenever the encoding of any object changes; readers accept only this one.
    static let version: UInt16 = 1
    static let magic: [UInt8] = Array("SPST".utf8)
    /// Magic, version, flags, payload length.
    static let headerBytes = 16
    static let trailerBytes = 8

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ck_hash_bytes_one(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
}

/// A four-character object tag ("AGGS", "TOPN", ...), stored as its ASCII bytes.
struct StateTag: Equatable, CustomStringConvertible {
    let raw: UInt32

    init(_ name: StaticString) {
        precondition(name.utf8CodeUnitCount == 4, "state tags are four ASCII characters")
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(name.utf8Start[i]) << (8 * UInt32(i)) }
        raw = v
    }

    init(raw: UInt32) { self.raw = raw }

    var description: String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt32($0))) }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return "0x" + String(raw, radix: 16)
        }
        return "'" + String(decoding: bytes, as: UTF8.self) + "'"
    }
}

// MARK: - Writer

/// Appends the payload of a state; `sealed()` wraps it in the envelope.
struct StateWriter {
    private(set) var payload: [UInt8] = []

    init(reservingCapacity bytes: Int = 0) { payload.reserveCapacity(bytes) }

    var count: Int { payload.count }

    /// The payload in its envelope (magic, version, length, checksum): what files store.
    func sealed() -> [UInt8] { StateWriter.seal(payload) }

    /// Wraps a payload in the envelope.
    static func seal(_ payload: [UInt8], version: UInt16 = StateFormat.version) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(StateFormat.headerBytes + payload.count + StateFormat.trailerBytes)
        out += StateFormat.magic
        appendLE(&out, version)
        appendLE(&out, UInt16(0))
        appendLE(&out, UInt64(payload.count))
        out += payload
        let sum = out.withUnsafeBytes { StateFormat.checksum($0) }
        appendLE(&out, sum)
        return out
    }

    private static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    // MARK: Scalars

    mutating func tag(_ t: StateTag) { u32(t.raw) }
    mutating func u8(_ v: UInt8) { payload.append(v) }
    mutating func bool(_ v: Bool) { payload.append(v ? 1 : 0) }
    mutating func u16(_ v: UInt16) { StateWriter.appendLE(&payload, v) }
    mutating func u32(_ v: UInt32) { StateWriter.appendLE(&payload, v) }
    mutating func u64(_ v: UInt64) { StateWriter.appendLE(&payload, v) }
    mutating func i64(_ v: Int64) { StateWriter.appendLE(&payload, v) }
    /// A double as its bit pattern (NaN payloads and -0.0 survive).
    mutating func f64(_ v: Double) { u64(v.bitPattern) }

    /// An unsigned LEB128 varint: seven bits a byte, high bit set on all but the last.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            payload.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        payload.append(UInt8(v))
    }

    /// A non-negative count or index.
    mutating func count(_ n: Int) {
        precondition(n >= 0, "state counts are non-negative")
        varint(UInt64(n))
    }

    /// A signed value, zig-zag encoded so small magnitudes of either sign stay short.
    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    /// A length-prefixed byte string.
    mutating func bytes(_ p: UnsafeRawBufferPointer) {
        count(p.count)
        payload.append(contentsOf: p)
    }

    mutating func bytes(_ a: [UInt8]) { a.withUnsafeBytes { bytes($0) } }

    // MARK: Arrays

    /// `n` fixed-width integers, little-endian, no length prefix (the reader knows it).
    mutating func words<T: FixedWidthInteger>(_ p: UnsafePointer<T>, _ n: Int) {
        guard n > 0 else { return }
        #if _endian(little)
        payload.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n * MemoryLayout<T>.size))
        #else
        for i in 0..<n { StateWriter.appendLE(&payload, p[i]) }
        #endif
    }

    mutating func words<T: FixedWidthInteger>(_ a: [T]) {
        a.withUnsafeBufferPointer { if let b = $0.baseAddress { words(b, $0.count) } }
    }

    /// `n` doubles as bit patterns, no length prefix.
    mutating func doubles(_ p: UnsafePointer<Double>, _ n: Int) {
        p.withMemoryRebound(to: UInt64.self, capacity: n) { words($0, n) }
    }

    /// `n` raw bytes, no length prefix.
    mutating func raw(_ p: UnsafeRawPointer, _ n: Int) {
        guard n > 0 else { return }
        payload.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }

    /// `n` bits, packed eight to a byte (bit i in byte i / 8, bit i % 8).
    mutating func bits(_ n: Int, _ bit: (Int) -> Bool) {
        var i = 0
        while i < n {
            var b: UInt8 = 0
            for k in 0..<Swift.min(8, n - i) where bit(i + k) { b |= 1 << UInt8(k) }
            payload.append(b)
            i += 8
        }
    }

    // MARK: Types and columns

    mutating func type(_ t: DataType) {
        switch t {
        case .int64: u8(1)
        case .float64: u8(2)
        case .bool: u8(3)
        case .string: u8(4)
        case .timestamp(let unit):
            u8(5)
            switch unit {
            case .second: u8(0)
            case .millisecond: u8(1)
            case .microsecond: u8(2)
            case .nanosecond: u8(3)
            }
        }
    }

    /// A column's first `count` rows: type, count, validity (only when some row is
    /// null; bits past the count cleared, so equal columns encode alike), then the
    /// values (strings as `count + 1` Int32 offsets from 0 and the bytes they span).
    mutating func column(_ c: Column) {
        type(c.type)
        let n = c.count
        count(n)
        // The bitmap itself decides (not `nullCount`, which a kernel writing the bitmap
        // directly may not have updated).
        if let v = c.validityWords, (0..<n).contains(where: { (v[$0 >> 6] >> UInt64($0 & 63)) & 1 == 0 }) {
            bool(true)
            let full = n >> 6
            words(v, full)
            if n & 63 != 0 { u64(v[full] & ((1 << UInt64(n & 63)) - 1)) }
        } else {
            bool(false)
        }
        switch c.type {
        case .int64, .timestamp, .float64: words(c.int64s, n)
        case .bool: raw(c.bools, n)
        case .string:
            let base = c.offsets[0]
            let end = Int(c.offsets[n] - base)
            count(end)
            if base == 0 {
                words(c.offsets, n + 1)
            } else {
                for r in 0...n { u32(UInt32(c.offsets[r] - base)) }
            }
            raw(c.bytes + Int(base), end)
        }
    }
}

// MARK: - Reader

/// Reads a sealed state: checks the envelope on creation, then hands out the payload's
/// fields in order. Every read is bounds-checked; what cannot be read, or reads as
/// nonsense, throws a `SpateError` naming the field and the byte offset in the sealed
/// bytes.
struct StateReader {
    private let bytes: [UInt8]
    /// The next byte to read (an offset into the sealed bytes).
    private(set) var offset: Int
    /// Where the payload ends.
    let end: Int
    /// A file name for messages, when the state came from one.
    let source: String?

    /// Checks the envelope of `sealed` (magic, version, length, checksum).
    init(_ sealed: [UInt8], source: String? = nil) throws {
        let total = sealed.count
        let minimum = StateFormat.headerBytes + StateFormat.trailerBytes
        guard total >= minimum else {
            throw StateReader.corrupt("it is \(total) bytes long, shorter than the smallest state (\(minimum) bytes)",
                                      at: total, source: source)
        }
        guard Array(sealed[0..<4]) == StateFormat.magic else {
            throw StateReader.corrupt("it does not start with the state magic 'SPST'", at: 0, source: source)
        }
        let version = UInt16(sealed[4]) | UInt16(sealed[5]) << 8
        guard version == StateFormat.version else {
            throw SpateError(
                .data, "operator state has format version \(version), but this build of Spate reads version \(StateFormat.version)",
                path: source,
                hint: "restore it with the Spate version that wrote it, or start the query without that state")
        }
        let flags = UInt16(sealed[6]) | UInt16(sealed[7]) << 8
        guard flags == 0 else {
            throw StateReader.corrupt("its header has unknown flags 0x\(String(flags, radix: 16))", at: 6, source: source)
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(sealed[8 + i]) << (8 * UInt64(i)) }
        guard length == UInt64(total - minimum) else {
            let what = length < UInt64(total - minimum) ? "has bytes after its end" : "is truncated"
            throw StateReader.corrupt(
                "its header gives a \(length)-byte payload but \(total - minimum) bytes follow (the state \(what))",
                at: 8, source: source)
        }
        var stored: UInt64 = 0
        for i in 0..<8 { stored |= UInt64(sealed[total - 8 + i]) << (8 * UInt64(i)) }
        let computed = sealed.withUnsafeBytes { StateFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(total - 8)])) }
        guard stored == computed else {
            throw StateReader.corrupt("its checksum does not match its contents (the bytes were damaged)",
                                      at: total - 8, source: source)
        }
        bytes = sealed
        self.source = source
        offset = StateFormat.headerBytes
        end = total - StateFormat.trailerBytes
    }

    var remaining: Int { end - offset }

    static func corrupt(_ detail: String, at offset: Int, source: String?) -> SpateError {
        SpateError(.data, "corrupt operator state at byte \(offset): \(detail)", path: source,
                   hint: "the state was truncated or damaged; restore from an earlier checkpoint, or start the query without it")
    }

    /// An error about the field just read (or about to be).
    func corrupt(_ detail: String) -> SpateError { StateReader.corrupt(detail, at: offset, source: source) }

    /// The state was written for another query (other key types, aggregates or plan).
    func mismatch(_ detail: String) -> SpateError {
        SpateError(.usage, "operator state does not belong to this query: \(detail)", path: source,
                   hint: "restore a state only into the query that wrote it")
    }

    /// Throws unless the whole payload has been read.
    func finish() throws {
        guard remaining == 0 else { throw corrupt("\(remaining) unexpected bytes after the end of the state") }
    }

    private mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw corrupt("truncated in \(what()): needs \(n) bytes, \(remaining) left")
        }
    }

    // MARK: Scalars

    mutating func tag(_ expected: StateTag, _ what: @autoclosure () -> String) throws {
        let at = offset
        let t = StateTag(raw: try u32(what()))
        guard t == expected else {
            throw StateReader.corrupt("expected \(what()) (tag \(expected)), found tag \(t)", at: at, source: source)
        }
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 {
        try need(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool(_ what: @autoclosure () -> String) throws -> Bool {
        let b = try u8(what())
        guard b <= 1 else {
            offset -= 1
            throw corrupt("\(what()) is \(b), not a boolean (0 or 1)")
        }
        return b == 1
    }

    private mutating func fixed<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size, what())
        var v: T = 0
        for i in 0..<size { v |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
        offset += size
        return v
    }

    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 { try fixed(UInt16.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try fixed(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try fixed(UInt64.self, what()) }
    mutating func i64(_ what: @autoclosure () -> String) throws -> Int64 { try fixed(Int64.self, what()) }
    mutating func f64(_ what: @autoclosure () -> String) throws -> Double { Double(bitPattern: try u64(what())) }

    mutating func varint(_ what: @autoclosure () -> String) throws -> UInt64 {
        let start = offset
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else {
                throw StateReader.corrupt("truncated in \(what()) (a varint runs past the end)", at: start, source: source)
            }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 {
                throw StateReader.corrupt("\(what()) is not a valid varint (more than 64 bits)", at: start, source: source)
            }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }

    mutating func zigzag(_ what: @autoclosure () -> String) throws -> Int64 {
        let u = try varint(what())
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A count of items each taking at least `bytesEach` bytes further on (so a damaged
    /// count can never make the reader allocate more than the state's own size), and at
    /// most `limit`.
    mutating func count(_ what: @autoclosure () -> String, bytesEach: Int = 0, limit: Int = Int(Int32.max))
        throws -> Int
    {
        let at = offset
        let v = try varint(what())
        guard v <= UInt64(limit) else {
            throw StateReader.corrupt("\(what()) is \(v), more than the most possible (\(limit))", at: at, source: source)
        }
        let n = Int(v)
        if bytesEach > 0 {
            let (total, overflow) = n.multipliedReportingOverflow(by: bytesEach)
            guard !overflow, total <= remaining else {
                throw StateReader.corrupt("\(what()) is \(n), but only \(remaining) bytes are left for them",
                                          at: at, source: source)
            }
        }
        return n
    }

    /// A length-prefixed byte string.
    mutating func bytes(_ what: @autoclosure () -> String) throws -> [UInt8] {
        let n = try count(what(), bytesEach: 1)
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    // MARK: Arrays

    /// Reads `n` fixed-width little-endian integers into `p`.
    mutating func words<T: FixedWidthInteger>(into p: UnsafeMutablePointer<T>, _ n: Int,
                                              _ what: @autoclosure () -> String) throws {
        let size = MemoryLayout<T>.size
        let (total, overflow) = n.multipliedReportingOverflow(by: size)
        guard !overflow else { throw corrupt("\(what()): \(n) values are too many") }
        try need(total, what())
        guard n > 0 else { return }
        let at = offset
        bytes.withUnsafeBytes { b in
            UnsafeMutableRawPointer(p).copyMemory(from: b.baseAddress! + at, byteCount: total)
        }
        #if _endian(big)
        for i in 0..<n { p[i] = T(littleEndian: p[i]) }
        #endif
        offset += total
    }

    mutating func words<T: FixedWidthInteger>(_: T.Type, _ n: Int, _ what: @autoclosure () -> String) throws -> [T] {
        let size = MemoryLayout<T>.size
        let (total, overflow) = n.multipliedReportingOverflow(by: size)
        guard !overflow else { throw corrupt("\(what()): \(n) values are too many") }
        try need(total, what())
        var out = [T](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { try words(into: b, n, what()) } }
        return out
    }

    mutating func doubles(into p: UnsafeMutablePointer<Double>, _ n: Int, _ what: @autoclosure () -> String) throws {
        try p.withMemoryRebound(to: UInt64.self, capacity: max(n, 1)) { try words(into: $0, n, what()) }
    }

    /// Reads `n` raw bytes into `p`.
    mutating func raw(into p: UnsafeMutableRawPointer, _ n: Int, _ what: @autoclosure () -> String) throws {
        try need(n, what())
        guard n > 0 else { return }
        let at = offset
        bytes.withUnsafeBytes { b in p.copyMemory(from: b.baseAddress! + at, byteCount: n) }
        offset += n
    }

    /// `n` bits packed as `StateWriter.bits` writes them.
    mutating func bits(_ n: Int, _ what: @autoclosure () -> String) throws -> [Bool] {
        let byteCount = (n + 7) / 8
        let packed = try words(UInt8.self, byteCount, what())
        if n & 7 != 0, packed[byteCount - 1] >> UInt8(n & 7) != 0 {
            throw corrupt("\(what()) has bits set past its \(n) entries")
        }
        return (0..<n).map { (packed[$0 >> 3] >> UInt8($0 & 7)) & 1 == 1 }
    }

    // MARK: Types and columns

    mutating func type(_ what: @autoclosure () -> String) throws -> DataType {
        let at = offset
        switch try u8(what()) {
        case 1: return .int64
        case 2: return .float64
        case 3: return .bool
        case 4: return .string
        case 5:
            switch try u8(what()) {
            case 0: return .timestamp(.second)
            case 1: return .timestamp(.millisecond)
            case 2: return .timestamp(.microsecond)
            case 3: return .timestamp(.nanosecond)
            case let u: throw StateReader.corrupt("\(what()) has unknown time unit code \(u)", at: at + 1, source: source)
            }
        case let t: throw StateReader.corrupt("\(what()) has unknown type code \(t)", at: at, source: source)
        }
    }

    /// A column as `StateWriter.column` writes it; its type must be `expected` when given.
    mutating func column(_ what: @autoclosure () -> String, expected: DataType? = nil) throws -> Column {
        let at = offset
        let type = try type("the type of \(what())")
        if let expected, expected != type {
            throw StateReader.corrupt("\(what()) has type \(type), expected \(expected)", at: at, source: source)
        }
        let minBytes = type == .string ? 4 : (type == .bool ? 1 : 8)
        let n = try count("the row count of \(what())", bytesEach: minBytes)
        let out = Column(type, capacity: max(n, 1))
        let hasValidity = try bool("the validity flag of \(what())")
        if hasValidity {
            let v = out.ensureValidity()
            let words = (n + 63) / 64
            try self.words(into: v, words, "the validity of \(what())")
            if n & 63 != 0, v[words - 1] >> UInt64(n & 63) != 0 {
                throw corrupt("the validity of \(what()) has bits set past its \(n) rows")
            }
        }
        switch type {
        case .int64, .timestamp, .float64:
            try words(into: out.int64s, n, "the values of \(what())")
        case .bool:
            try raw(into: out.bools, n, "the values of \(what())")
            for r in 0..<n where out.bools[r] > 1 {
                throw corrupt("row \(r) of \(what()) is \(out.bools[r]), not a boolean")
            }
        case .string:
            let arena = try count("the byte count of \(what())", bytesEach: 1)
            try words(into: out.offsets, n + 1, "the string offsets of \(what())")
            let o = out.offsets
            guard o[0] == 0, Int(o[n]) == arena else {
                throw corrupt("the string offsets of \(what()) run from \(o[0]) to \(o[n]), not from 0 to \(arena)")
            }
            for r in 0..<n where o[r + 1] < o[r] {
                throw corrupt("the string offsets of \(what()) decrease at row \(r)")
            }
            out.reserveArena(arena)
            try raw(into: out.bytes, arena, "the string bytes of \(what())")
            out.setArenaCount(arena)
        }
        out.setCount(n, nullCount: 0)
        if hasValidity { out.recountNulls() }
        return out
    }
}
