#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels

/// Constants and records of the capture file format (`'format' = 'spate'`), Spate's
/// compressed columnar binary log. docs/capture-format.md describes every byte.
///
/// ```
/// file    = header block* footer trailer
/// header  = "SPATECAP" version schema checksum
/// block   = block-header chunk*          (one chunk per column, zstd or raw)
/// footer  = "SPFT" index-of-blocks checksum
/// trailer = footer-offset footer-length "SPATEEND"
/// ```
public enum CaptureFormat {
    /// The first 8 bytes of every capture file.
    public static let magic: [UInt8] = Array("SPATECAP".utf8)
    /// The last 8 bytes of a complete capture file.
    public static let endMagic: [UInt8] = Array("SPATEEND".utf8)
    public static let version: UInt16 = 1
    /// "SPBK" as a little-endian UInt32.
    static let blockMagic: UInt32 = 0x4B42_5053
    /// "SPFT" as a little-endian UInt32.
    static let footerMagic: UInt32 = 0x5446_5053
    static let trailerSize = 24
    static let blockHeaderFixed = 48
    static let chunkDescriptorSize = 64
    static let footerFixed = 40
    static let footerBlockFixed = 40
    static let footerChunkSize = 24
    /// Seeds of the XXH64 checksums, one per kind of record, so that a record copied
    /// to the wrong place never verifies.
    static let headerSeed: UInt64 = 0x5350_4143_4845_4144  // "SPACHEAD"
    static let blockSeed: UInt64 = 0x5350_4143_424C_4F43  // "SPACBLOC"
    static let chunkSeed: UInt64 = 0x5350_4143_4348_554E  // "SPACCHUN"
    static let footerSeed: UInt64 = 0x5350_4143_464F_4F54  // "SPACFOOT"

    /// True when `bytes` (the start of a file) begins with the capture magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 8 && zip(bytes.prefix(8), magic).allSatisfy { $0 == $1 }
    }

    /// True when the file at `path` begins with the capture magic (false when it cannot
    /// be read).
    public static func isCaptureFile(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 8)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, 8) }
        guard n == 8 else { return false }
        return head == magic
    }

    static func typeCode(_ t: DataType) -> (UInt8, UInt8) {
        switch t {
        case .int64: return (0, 0)
        case .float64: return (1, 0)
        case .bool: return (2, 0)
        case .string: return (3, 0)
        case .timestamp(let u):
            switch u {
            case .second: return (4, 0)
            case .millisecond: return (4, 1)
            case .microsecond: return (4, 2)
            case .nanosecond: return (4, 3)
            }
        }
    }

    static func dataType(code: UInt8, unit: UInt8) -> DataType? {
        switch (code, unit) {
        case (0, 0): return .int64
        case (1, 0): return .float64
        case (2, 0): return .bool
        case (3, 0): return .string
        case (4, 0): return .timestamp(.second)
        case (4, 1): return .timestamp(.millisecond)
        case (4, 2): return .timestamp(.microsecond)
        case (4, 3): return .timestamp(.nanosecond)
        default: return nil
        }
    }
}

/// How a chunk's values are laid out before compression.
public enum ChunkEncoding: UInt8, Sendable, CustomStringConvertible {
    /// 8 bytes per row (int64, timestamp, float64).
    case plain = 0
    /// Frame of reference: value = base + w-bit unsigned integer.
    case frameOfReference = 1
    /// Delta: value[i] = value[i-1] + zigzag-decoded w-bit integer; value[0] = base.
    case delta = 2
    /// Booleans, one bit per row.
    case bits = 3
    /// Strings: w-bit lengths (plus base), then the UTF-8 bytes of all rows.
    case lengths = 4
    /// Strings: a dictionary of the block's distinct strings and a 1, 2 or 4-byte code
    /// per row (see docs/capture-format.md).
    case dictionary = 5

    public var description: String {
        switch self {
        case .plain: return "plain"
        case .frameOfReference: return "for"
        case .delta: return "delta"
        case .bits: return "bits"
        case .lengths: return "lengths"
        case .dictionary: return "dict"
        }
    }
}

/// How a chunk's payload is stored.
public enum ChunkCompression: UInt8, Sendable {
    case none = 0
    case zstd = 1
}

/// One column's chunk in a block: how it is encoded and where its bytes are.
public struct ChunkInfo: Sendable, Hashable {
    public var encoding: ChunkEncoding
    public var compression: ChunkCompression
    public var hasValidity: Bool
    public var bitWidth: Int
    public var nullCount: Int
    /// Frame-of-reference base, first value (delta), or minimum length (strings).
    public var base: Int64
    /// Offset of the stored bytes from the start of the block's body.
    public var offset: Int
    /// Bytes in the file.
    public var storedSize: Int
    /// Bytes of the payload once decompressed.
    public var payloadSize: Int
    /// String bytes at the end of the payload (strings only).
    public var arenaSize: Int
    /// XXH64 of the stored bytes.
    public var checksum: UInt64
    /// Strings: bytes of all rows' strings once decoded (for `spate inspect`); 0 otherwise.
    public var rowBytes: Int = 0
}

/// One block: a group of rows, one chunk per column.
public struct BlockInfo: Sendable, Hashable {
    public var index: Int
    /// File offset of the block header.
    public var offset: Int
    public var headerSize: Int
    public var bodySize: Int
    public var rows: Int
    /// Smallest and largest valid event time (Int64.max / Int64.min when the block has
    /// none, or the file declares no event-time column).
    public var minTime: Int64
    public var maxTime: Int64
    public var chunks: [ChunkInfo]

    /// Bytes of the whole block in the file.
    public var size: Int { headerSize + bodySize }
    public var bodyOffset: Int { offset + headerSize }
}

// MARK: - Little-endian encoding

/// Appends little-endian values to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for k in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u32(_ v: UInt32) { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u64(_ v: UInt64) { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// Appends the XXH64 of everything so far.
    mutating func checksum(seed: UInt64) {
        let h = bytes.withUnsafeBytes { ck_xxh64($0.baseAddress, $0.count, seed) }
        u64(h)
    }
}

/// Reads little-endian values from raw memory with bounds checks; running past the
/// end throws `ByteCursor.End`.
struct ByteCursor {
    struct End: Error {}
    let base: UnsafeRawPointer
    let count: Int
    var position = 0

    init(_ base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    var remaining: Int { count - position }

    mutating func need(_ n: Int) throws {
        if n < 0 || position + n > count { throw End() }
    }

    mutating func u8() throws -> UInt8 {
        try need(1)
        defer { position += 1 }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    mutating func u16() throws -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32() throws -> UInt32 {
        try need(4)
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64() throws -> UInt64 {
        try need(8)
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    /// A non-negative size that fits in Int and is at most `limit`.
    mutating func size(limit: Int) throws -> Int {
        let v = try u64()
        if v > UInt64(limit) { throw End() }
        return Int(v)
    }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        try need(n)
        defer { position += n }
        return Array(UnsafeRawBufferPointer(start: base + position, count: n))
    }

    mutating func skip(_ n: Int) throws {
        try need(n)
        position += n
    }

    /// XXH64 of bytes [0, position).
    func checksum(seed: UInt64) -> UInt64 { ck_xxh64(base, position, seed) }
}

// MARK: - Header

/// The decoded file header.
struct CaptureHeader {
    var schema: Schema
    var eventTimeColumn: Int?
    var blockRows: Int
    var size: Int

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.raw(CaptureFormat.magic)
        w.u16(CaptureFormat.version)
        w.u16(0)
        w.u32(0)  // header length, patched below
        w.u32(UInt32(schema.count))
        w.i32(Int32(eventTimeColumn ?? -1))
        w.u32(UInt32(clamping: blockRows))
        w.u32(0)
        for f in schema.fields {
            let (code, unit) = CaptureFormat.typeCode(f.type)
            w.u8(code)
            w.u8(unit)
            w.u8(f.nullable ? 1 : 0)
            w.u8(0)
            let name = Array(f.name.utf8)
            w.u32(UInt32(name.count))
            w.raw(name)
        }
        let total = w.bytes.count + 8
        for k in 0..<4 { w.bytes[12 + k] = UInt8(truncatingIfNeeded: UInt32(total) >> (8 * k)) }
        w.checksum(seed: CaptureFormat.headerSeed)
        return w.bytes
    }

    /// Parses the header at the start of `base[0..<count]`; the error text says what is
    /// wrong (the caller adds the path).
    static func decode(_ base: UnsafeRawPointer, count: Int) throws(CaptureHeaderError) -> CaptureHeader {
        guard count >= 8, CaptureFormat.hasMagic(UnsafeRawBufferPointer(start: base, count: 8)) else {
            throw CaptureHeaderError("not a capture file (it does not start with SPATECAP)")
        }
        var c = ByteCursor(base, count: count)
        do {
            try c.skip(8)
            let version = try c.u16()
            guard version == CaptureFormat.version else {
                throw CaptureHeaderError("capture format version \(version) is not supported (this Spate reads version \(CaptureFormat.version))")
            }
            _ = try c.u16()
            let length = Int(try c.u32())
            guard length >= 40, length <= count else {
                throw CaptureHeaderError(length > count ? "header: truncated (\(length) bytes declared, \(count) in the file)"
                                                        : "header: bad length \(length)")
            }
            c = ByteCursor(base, count: length - 8)
            try c.skip(16)
            let columns = Int(try c.u32())
            let event = Int(try c.i32())
            let blockRows = Int(try c.u32())
            _ = try c.u32()
            var fields: [Field] = []
            for i in 0..<columns {
                let code = try c.u8(), unit = try c.u8(), nullable = try c.u8()
                _ = try c.u8()
                let n = Int(try c.u32())
                let name = String(decoding: try c.bytes(n), as: UTF8.self)
                guard let type = CaptureFormat.dataType(code: code, unit: unit) else {
                    throw CaptureHeaderError("header: column \(i + 1) has an unknown type code \(code)/\(unit)")
                }
                fields.append(Field(name, type, nullable: nullable != 0))
            }
            guard c.remaining == 0 else { throw CaptureHeaderError("header: \(c.remaining) unexpected bytes after the schema") }
            let stored = base.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
            guard stored == c.checksum(seed: CaptureFormat.headerSeed) else {
                throw CaptureHeaderError("header: checksum mismatch")
            }
            guard event >= -1, event < columns else { throw CaptureHeaderError("header: event-time column \(event) out of range") }
            if event >= 0, case .timestamp = fields[event].type {} else if event >= 0 {
                throw CaptureHeaderError("header: event-time column '\(fields[event].name)' is not a timestamp")
            }
            return CaptureHeader(schema: Schema(fields), eventTimeColumn: event >= 0 ? event : nil, blockRows: blockRows, size: length)
        } catch let e as CaptureHeaderError {
            throw e
        } catch {
            throw CaptureHeaderError("header: truncated")
        }
    }
}

struct CaptureHeaderError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

// MARK: - Block header

extension BlockInfo {
    /// The block header bytes (fixed part, chunk descriptors, checksum).
    func encodeHeader() -> [UInt8] {
        var w = ByteWriter(capacity: CaptureFormat.blockHeaderFixed + chunks.count * CaptureFormat.chunkDescriptorSize + 8)
        w.u32(CaptureFormat.blockMagic)
        w.u32(UInt32(CaptureFormat.blockHeaderFixed + chunks.count * CaptureFormat.chunkDescriptorSize + 8))
        w.u64(UInt64(bodySize))
        w.u32(UInt32(index))
        w.u32(UInt32(rows))
        w.i64(minTime)
        w.i64(maxTime)
        w.u32(UInt32(chunks.count))
        w.u32(0)
        for c in chunks {
            w.u8(c.encoding.rawValue)
            w.u8(c.compression.rawValue)
            w.u8(c.hasValidity ? 1 : 0)
            w.u8(UInt8(c.bitWidth))
            w.u32(UInt32(c.nullCount))
            w.i64(c.base)
            w.u64(UInt64(c.offset))
            w.u64(UInt64(c.storedSize))
            w.u64(UInt64(c.payloadSize))
            w.u64(UInt64(c.arenaSize))
            w.u64(c.checksum)
            w.u64(UInt64(c.rowBytes))
        }
        w.checksum(seed: CaptureFormat.blockSeed)
        return w.bytes
    }

    /// Parses and checks a block header at file offset `offset`; `available` bytes of
    /// the file follow it. The thrown text says what is wrong.
    static func decodeHeader(_ p: UnsafeRawPointer, available: Int, offset: Int, schema: Schema) throws(CaptureHeaderError) -> BlockInfo {
        var c = ByteCursor(p, count: available)
        do {
            guard available >= CaptureFormat.blockHeaderFixed else { throw CaptureHeaderError("truncated (the file ends inside the block header)") }
            guard try c.u32() == CaptureFormat.blockMagic else { throw CaptureHeaderError("no block header here (bad block magic)") }
            let headerSize = Int(try c.u32())
            let expected = CaptureFormat.blockHeaderFixed + schema.count * CaptureFormat.chunkDescriptorSize + 8
            guard headerSize == expected else { throw CaptureHeaderError("bad block header length \(headerSize) (expected \(expected))") }
            guard headerSize <= available else { throw CaptureHeaderError("truncated (the file ends inside the block header)") }
            let stored = p.loadUnaligned(fromByteOffset: headerSize - 8, as: UInt64.self)
            guard stored == ck_xxh64(p, headerSize - 8, CaptureFormat.blockSeed) else {
                throw CaptureHeaderError("checksum mismatch in the block header")
            }
            let body = try c.size(limit: Int(Int32.max) * 64)
            let index = Int(try c.u32())
            let rows = Int(try c.u32())
            let minTime = try c.i64(), maxTime = try c.i64()
            let columns = Int(try c.u32())
            _ = try c.u32()
            guard columns == schema.count else { throw CaptureHeaderError("the block has \(columns) chunks but the schema \(schema.count) columns") }
            var chunks: [ChunkInfo] = []
            for i in 0..<columns {
                let enc = try c.u8(), comp = try c.u8(), flags = try c.u8(), width = Int(try c.u8())
                let nulls = Int(try c.u32())
                let base = try c.i64()
                let off = try c.size(limit: body), stored = try c.size(limit: body)
                let payload = try c.size(limit: Int(Int32.max) * 64), arena = try c.size(limit: Int(Int32.max))
                let sum = try c.u64()
                let rowBytes = try c.size(limit: Int.max)
                guard let encoding = ChunkEncoding(rawValue: enc), let compression = ChunkCompression(rawValue: comp),
                      width <= 64, off + stored <= body, nulls <= rows
                else { throw CaptureHeaderError("chunk \(i) ('\(schema[i].name)') has an invalid descriptor") }
                chunks.append(ChunkInfo(encoding: encoding, compression: compression, hasValidity: flags & 1 != 0,
                                        bitWidth: width, nullCount: nulls, base: base, offset: off, storedSize: stored,
                                        payloadSize: payload, arenaSize: arena, checksum: sum, rowBytes: rowBytes))
            }
            return BlockInfo(index: index, offset: offset, headerSize: headerSize, bodySize: body, rows: rows,
                             minTime: minTime, maxTime: maxTime, chunks: chunks)
        } catch let e as CaptureHeaderError {
            throw e
        } catch {
            throw CaptureHeaderError("truncated block header")
        }
    }
}

// MARK: - Footer

enum CaptureFooter {
    static func encode(blocks: [BlockInfo], rows: Int, minTime: Int64, maxTime: Int64, columns: Int) -> [UInt8] {
        var w = ByteWriter(capacity: CaptureFormat.footerFixed + blocks.count * (CaptureFormat.footerBlockFixed + columns * CaptureFormat.footerChunkSize) + 8)
        w.u32(CaptureFormat.footerMagic)
        w.u32(UInt32(columns))
        w.u64(UInt64(blocks.count))
        w.u64(UInt64(rows))
        w.i64(minTime)
        w.i64(maxTime)
        for b in blocks {
            w.u64(UInt64(b.offset))
            w.u64(UInt64(b.bodySize))
            w.u32(UInt32(b.headerSize))
            w.u32(UInt32(b.rows))
            w.i64(b.minTime)
            w.i64(b.maxTime)
            for c in b.chunks {
                w.u64(UInt64(c.offset))
                w.u64(UInt64(c.storedSize))
                w.u64(UInt64(c.payloadSize))
            }
        }
        w.checksum(seed: CaptureFormat.footerSeed)
        return w.bytes
    }

    static func trailer(footerOffset: Int, footerLength: Int) -> [UInt8] {
        var w = ByteWriter(capacity: 24)
        w.u64(UInt64(footerOffset))
        w.u64(UInt64(footerLength))
        w.raw(CaptureFormat.endMagic)
        return w.bytes
    }

    /// The footer's index: per block, its offset, sizes, rows and time range.
    struct Entry {
        var offset: Int
        var bodySize: Int
        var headerSize: Int
        var rows: Int
        var minTime: Int64
        var maxTime: Int64
        var chunks: [(offset: Int, stored: Int, payload: Int)]
    }

    static func decode(_ p: UnsafeRawPointer, count: Int, columns: Int, fileSize: Int) throws(CaptureHeaderError) -> (entries: [Entry], rows: Int) {
        var c = ByteCursor(p, count: max(count - 8, 0))
        do {
            guard count >= CaptureFormat.footerFixed + 8 else { throw CaptureHeaderError("footer: too short") }
            let stored = p.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            guard stored == ck_xxh64(p, count - 8, CaptureFormat.footerSeed) else { throw CaptureHeaderError("footer: checksum mismatch") }
            guard try c.u32() == CaptureFormat.footerMagic else { throw CaptureHeaderError("footer: bad magic") }
            guard Int(try c.u32()) == columns else { throw CaptureHeaderError("footer: column count disagrees with the header") }
            let n = try c.size(limit: fileSize)
            let rows = try c.size(limit: Int.max)
            _ = try c.i64(); _ = try c.i64()
            guard n * (CaptureFormat.footerBlockFixed + columns * CaptureFormat.footerChunkSize) == c.remaining else {
                throw CaptureHeaderError("footer: length disagrees with its block count")
            }
            var entries: [Entry] = []
            entries.reserveCapacity(n)
            for _ in 0..<n {
                let off = try c.size(limit: fileSize), body = try c.size(limit: fileSize)
                let hs = Int(try c.u32()), r = Int(try c.u32())
                let lo = try c.i64(), hi = try c.i64()
                var chunks: [(Int, Int, Int)] = []
                for _ in 0..<columns {
                    chunks.append((try c.size(limit: fileSize), try c.size(limit: fileSize), try c.size(limit: Int.max)))
                }
                entries.append(Entry(offset: off, bodySize: body, headerSize: hs, rows: r, minTime: lo, maxTime: hi, chunks: chunks))
            }
            return (entries, rows)
        } catch let e as CaptureHeaderError {
            throw e
        } catch {
            throw CaptureHeaderError("footer: truncated")
        }
    }
}

// MARK: - Threads

/// Available CPUs (the affinity mask's size; at least 1).
func captureCPUCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
