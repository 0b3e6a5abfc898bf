#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels
import CZstd

/// Where a capture file is damaged: the first block that cannot be read when the
/// footer is missing or corrupt (the blocks before it are intact and readable).
public struct CaptureDamage: Sendable, Hashable {
    public var block: Int
    public var offset: Int
    public var reason: String

    public var message: String { "block \(block) at offset \(offset): \(reason)" }
}

/// The outcome of checking one block (`CaptureReader.verify`).
public struct CaptureBlockCheck: Sendable {
    public var block: Int
    public var offset: Int
    public var rows: Int
    /// nil when every chunk's checksum and decoding checked out.
    public var problem: String?
    public var ok: Bool { problem == nil }
}

/// Reads a capture file (docs/capture-format.md): the header's schema, the footer's
/// block index, and blocks decoded column by column.
///
/// The file is memory-mapped. Only the chunks of the requested columns are checked,
/// decompressed and decoded; blocks can be skipped by event time. When the footer is
/// missing or damaged (a writer that did not finish, a truncated copy), the reader
/// recovers the index by walking the blocks forward from the header: every block
/// header carries a magic, its length and a checksum, so the walk stops at the first
/// damaged block and every block before it stays readable (`damage` says where).
///
/// Thread safety: `readBlock` may run concurrently on any blocks.
public final class CaptureReader: @unchecked Sendable {
    public let path: String
    public let schema: Schema
    /// The event-time column (a TIMESTAMP), if the writer named one.
    public let eventTimeColumn: Int?
    /// Rows per block the writer aimed for.
    public let blockRows: Int
    public let fileSize: Int
    public let headerSize: Int
    /// The readable blocks, in file order.
    public let blocks: [BlockInfo]
    /// True when the footer was found and checked out.
    public let hasFooter: Bool
    /// Why the footer could not be used, when it could not.
    public let footerProblem: String?
    /// The first damaged block found while recovering without a footer (nil when the
    /// file is complete, or the blocks end cleanly before a missing footer... which is
    /// reported as damage at the next block's position, since rows may be missing).
    public let damage: CaptureDamage?

    private let base: UnsafeMutableRawPointer?
    private let monitor = Monitor()
    private var contexts: [OpaquePointer] = []
    private var _chunksRead = 0
    private var _chunksDecompressed = 0

    /// Chunks read (checksummed and decoded) so far, and how many needed zstd.
    public var chunksRead: Int { monitor.locked { _chunksRead } }
    public var chunksDecompressed: Int { monitor.locked { _chunksDecompressed } }

    public var rowCount: Int { blocks.reduce(0) { $0 + $1.rows } }
    public var minTime: Int64 { blocks.map(\.minTime).min() ?? Int64.max }
    public var maxTime: Int64 { blocks.map(\.maxTime).max() ?? Int64.min }

    /// Opens and indexes `path`. Throws when it is not a capture file or its header is
    /// damaged; a damaged footer or block is not an error here (see `damage`).
    public static func open(path: String) throws -> CaptureReader {
        try CaptureReader(path: path)
    }

    private init(path: String) throws {
        self.path = path
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SpateError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))",
                             hint: "check the path and the file's permissions")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SpateError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        fileSize = Int(st.st_size)
        guard fileSize > 0 else {
            throw SpateError(.data, "not a capture file: the file is empty", path: path,
                             hint: "a capture file starts with SPATECAP; write one with `spate convert IN OUT.spate`")
        }
        guard let m = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw SpateError(.io, "cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        base = m
        let header: CaptureHeader
        do {
            header = try CaptureHeader.decode(m, count: fileSize)
        } catch {
            munmap(m, fileSize)
            throw SpateError(.data, error.message, path: path,
                             hint: error.message.hasPrefix("not a capture file")
                                 ? "capture files are written by `spate convert` or `spate sql --format spate`"
                                 : "the file's header is damaged: no block can be located without it")
        }
        schema = header.schema
        eventTimeColumn = header.eventTimeColumn
        blockRows = header.blockRows
        headerSize = header.size

        // The footer, found through the trailer.
        var footerBlocks: [BlockInfo]?
        var problem: String?
        let t = CaptureFormat.trailerSize
        if fileSize >= headerSize + t,
           CaptureFormat.endMagic.elementsEqual(UnsafeRawBufferPointer(start: m + fileSize - 8, count: 8)) {
            let fo = Int(clamping: UInt64(littleEndian: m.loadUnaligned(fromByteOffset: fileSize - t, as: UInt64.self)))
            let fl = Int(clamping: UInt64(littleEndian: m.loadUnaligned(fromByteOffset: fileSize - t + 8, as: UInt64.self)))
            if fo >= headerSize, fl > 0, fo <= fileSize, fl <= fileSize, fo + fl == fileSize - t {
                do {
                    let (entries, _) = try CaptureFooter.decode(m + fo, count: fl, columns: header.schema.count, fileSize: fileSize)
                    var list: [BlockInfo] = []
                    var expected = headerSize
                    for (k, e) in entries.enumerated() {
                        guard e.offset == expected, e.offset + e.headerSize + e.bodySize <= fo else {
                            throw CaptureHeaderError("footer: block \(k)'s offset or size is inconsistent")
                        }
                        expected = e.offset + e.headerSize + e.bodySize
                        list.append(BlockInfo(
                            index: k, offset: e.offset, headerSize: e.headerSize, bodySize: e.bodySize, rows: e.rows,
                            minTime: e.minTime, maxTime: e.maxTime,
                            chunks: e.chunks.map {
                                ChunkInfo(encoding: .plain, compression: .none, hasValidity: false, bitWidth: 0, nullCount: 0,
                                          base: 0, offset: $0.offset, storedSize: $0.stored, payloadSize: $0.payload,
                                          arenaSize: 0, checksum: 0)
                            }))
                    }
                    guard expected == fo else { throw CaptureHeaderError("footer: the blocks do not end where the footer starts") }
                    footerBlocks = list
                } catch {
                    problem = (error as? CaptureHeaderError)?.message ?? "footer: \(error)"
                }
            } else {
                problem = "footer: the trailer points outside the file"
            }
        } else {
            problem = "the footer is missing (the file does not end with SPATEEND: was the writer interrupted?)"
        }

        if let footerBlocks {
            blocks = footerBlocks
            hasFooter = true
            footerProblem = nil
            damage = nil
        } else {
            // Recovery: walk the blocks forward from the header.
            var list: [BlockInfo] = []
            var at = headerSize
            var found: CaptureDamage?
            let size = fileSize, hs = headerSize
            var footerStart: Int?
            if size >= hs + t, CaptureFormat.endMagic.elementsEqual(UnsafeRawBufferPointer(start: m + size - 8, count: 8)) {
                footerStart = Int(clamping: UInt64(littleEndian: m.loadUnaligned(fromByteOffset: size - t, as: UInt64.self)))
            }
            while true {
                let k = list.count
                if let fs = footerStart, at == fs { found = CaptureDamage(block: k, offset: at, reason: problem!); break }
                if at == fileSize {
                    found = CaptureDamage(block: k, offset: at, reason: "the file ends here: the footer is missing (was the writer interrupted?)")
                    break
                }
                do {
                    let b = try BlockInfo.decodeHeader(m + at, available: fileSize - at, offset: at, schema: header.schema)
                    guard b.index == k else { throw CaptureHeaderError("the block header says block \(b.index)") }
                    guard b.bodySize <= fileSize - at - b.headerSize else {
                        throw CaptureHeaderError("truncated (the block needs \(b.headerSize + b.bodySize) bytes, the file has \(fileSize - at) left)")
                    }
                    for (j, c) in b.chunks.enumerated() {
                        let p = m + at + b.headerSize + c.offset
                        if ck_xxh64(p, c.storedSize, CaptureFormat.chunkSeed) != c.checksum {
                            throw CaptureHeaderError("checksum mismatch in chunk \(j) ('\(header.schema[j].name)')")
                        }
                    }
                    list.append(b)
                    at += b.headerSize + b.bodySize
                } catch {
                    found = CaptureDamage(block: k, offset: at, reason: (error as? CaptureHeaderError)?.message ?? "\(error)")
                    break
                }
            }
            blocks = list
            hasFooter = false
            footerProblem = problem
            damage = found
        }
    }

    deinit {
        if let base { munmap(base, fileSize) }
        for c in contexts { ZSTD_freeDCtx(c) }
    }

    /// Indexes of the blocks holding an event time at or after `time` (every block whose
    /// largest event time is below it is skipped). Without an event-time column: all.
    public func blocks(from time: Int64) -> [Int] {
        guard eventTimeColumn != nil else { return Array(blocks.indices) }
        return blocks.indices.filter { blocks[$0].maxTime >= time }
    }

    /// An error about block i, naming it the way every capture error does.
    func blockError(_ i: Int, _ reason: String) -> SpateError {
        let offset = i < blocks.count ? blocks[i].offset : 0
        return SpateError(.data, "block \(i) at offset \(offset): \(reason)", path: path,
                          hint: "the file is damaged; `spate inspect --verify \(path)` lists the readable blocks")
    }

    /// The damage as an error (nil for a complete file).
    public var damageError: SpateError? {
        guard let damage else { return nil }
        return SpateError(.data, damage.message, path: path,
                          hint: "blocks 0..<\(damage.block) are readable; `spate inspect --verify \(path)` lists them")
    }

    /// Block i's header, read from the file and checked against the index.
    public func blockHeader(_ i: Int) throws -> BlockInfo {
        precondition(i >= 0 && i < blocks.count, "block index out of range")
        let entry = blocks[i]
        guard let base else { throw blockError(i, "file not mapped") }
        let b: BlockInfo
        do {
            b = try BlockInfo.decodeHeader(base + entry.offset, available: fileSize - entry.offset, offset: entry.offset, schema: schema)
        } catch {
            throw blockError(i, error.message)
        }
        guard b.index == i, b.rows == entry.rows, b.bodySize == entry.bodySize, b.headerSize == entry.headerSize,
              zip(b.chunks, entry.chunks).allSatisfy({ $0.offset == $1.offset && $0.storedSize == $1.storedSize })
        else { throw blockError(i, "the block header disagrees with the footer") }
        guard entry.offset + b.headerSize + b.bodySize <= fileSize else { throw blockError(i, "truncated") }
        return b
    }

    /// The whole block i as one batch of `columns` (indexes into `schema`).
    public func readBlock(_ i: Int, columns: [Int]) throws -> Batch {
        var out: Batch?
        try readBlock(i, columns: columns, batchCapacity: max(blocks[i].rows, 1)) { out = $0 }
        return out ?? Batch(schema: Schema(columns.map { schema[$0] }), columns: columns.map { Column(schema[$0].type, capacity: 1) }, count: 0)
    }

    /// Decodes block i's `columns` (indexes into `schema`), emitting batches of at most
    /// `batchCapacity` rows in row order. Only those columns' chunks are touched.
    public func readBlock(_ i: Int, columns: [Int], batchCapacity: Int, emit: (Batch) throws -> Void) throws {
        let b = try blockHeader(i)
        let body = UnsafeRawPointer(base!) + b.bodyOffset
        let outSchema = Schema(columns.map { schema[$0] })
        var decoders: [ChunkDecoder] = []
        var scratch: [AlignedBuffer] = []
        defer { withExtendedLifetime(scratch) {} }
        for j in columns {
            precondition(j >= 0 && j < schema.count, "column index out of range")
            let c = b.chunks[j]
            let stored = body + c.offset
            if ck_xxh64(stored, c.storedSize, CaptureFormat.chunkSeed) != c.checksum {
                throw blockError(i, "checksum mismatch in chunk \(j) ('\(schema[j].name)')")
            }
            var payload = stored
            if c.compression == .zstd {
                let buffer = AlignedBuffer(capacity: c.payloadSize + 64)
                let n = decompress(into: buffer.pointer, capacity: c.payloadSize, from: stored, size: c.storedSize)
                guard n == c.payloadSize else {
                    throw blockError(i, "chunk \(j) ('\(schema[j].name)') does not decompress to its declared size")
                }
                scratch.append(buffer)
                payload = UnsafeRawPointer(buffer.pointer)
            } else if c.storedSize != c.payloadSize {
                throw blockError(i, "chunk \(j) ('\(schema[j].name)') has inconsistent sizes")
            }
            guard let d = ChunkDecoder(c, type: schema[j].type, rows: b.rows, payload: payload) else {
                throw blockError(i, "chunk \(j) ('\(schema[j].name)') has an invalid layout (\(c.encoding), \(c.bitWidth) bits)")
            }
            decoders.append(d)
        }
        monitor.locked {
            _chunksRead += columns.count
            _chunksDecompressed += columns.filter { b.chunks[$0].compression == .zstd }.count
        }
        let cap = max(1, batchCapacity)
        var r0 = 0
        while r0 < b.rows {
            let n = min(cap, b.rows - r0)
            var cols: [Column] = []
            cols.reserveCapacity(decoders.count)
            for k in decoders.indices {
                guard let col = decoders[k].decode(start: r0, count: n) else {
                    throw blockError(i, "chunk \(columns[k]) ('\(schema[columns[k]].name)') holds string lengths past its data")
                }
                cols.append(col)
            }
            try emit(Batch(schema: outSchema, columns: cols, count: n))
            r0 += n
        }
    }

    private func decompress(into dst: UnsafeMutableRawPointer, capacity: Int, from src: UnsafeRawPointer, size: Int) -> Int {
        let ctx: OpaquePointer = monitor.locked { contexts.popLast() } ?? ZSTD_createDCtx()
        let r = ZSTD_decompressDCtx(ctx, dst, capacity, src, size)
        monitor.locked { contexts.append(ctx) }
        return ZSTD_isError(r) != 0 ? -1 : r
    }

    /// Checks every block: the header, each chunk's checksum, and that every chunk
    /// decompresses and decodes. The damage found without a footer is the last entry.
    public func verify() -> [CaptureBlockCheck] {
        var out: [CaptureBlockCheck] = []
        let all = Array(0..<schema.count)
        for (i, b) in blocks.enumerated() {
            var problem: String?
            do {
                try readBlock(i, columns: all, batchCapacity: 65536) { _ in }
            } catch let e as SpateError {
                let prefix = "block \(i) at offset \(b.offset): "
                problem = e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
            } catch {
                problem = "\(error)"
            }
            out.append(CaptureBlockCheck(block: i, offset: b.offset, rows: b.rows, problem: problem))
        }
        if let damage {
            out.append(CaptureBlockCheck(block: damage.block, offset: damage.offset, rows: 0, problem: damage.reason))
        }
        return out
    }
}

/// Decodes row ranges of one chunk's payload into fresh columns.
struct ChunkDecoder {
    let info: ChunkInfo
    let type: DataType
    let rows: Int
    let validity: UnsafePointer<UInt64>?
    let values: UnsafePointer<UInt8>
    let arena: UnsafePointer<UInt8>?
    /// Delta: the value of the row before the next range; strings: where the next
    /// range's bytes start.
    var carry: Int64
    var nextRow = 0
    /// Dictionary chunks: entry offsets into `arena`, codes of `codeBytes` bytes.
    var dictionary: [Int32] = []
    var codeBytes = 0
    var codes: UnsafePointer<UInt8>?

    /// Checks that the payload's size matches its layout; nil when it does not.
    init?(_ info: ChunkInfo, type: DataType, rows: Int, payload: UnsafeRawPointer) {
        self.info = info
        self.type = type
        self.rows = rows
        let words = info.hasValidity ? (rows + 63) / 64 : 0
        validity = info.hasValidity ? payload.assumingMemoryBound(to: UInt64.self) : nil
        values = (payload + words * 8).assumingMemoryBound(to: UInt8.self)
        let w = UInt32(info.bitWidth)
        var expected = words * 8
        switch (type, info.encoding) {
        case (.int64, .plain), (.timestamp, .plain), (.float64, .plain):
            expected += rows * 8
        case (.int64, .frameOfReference), (.timestamp, .frameOfReference), (.int64, .delta), (.timestamp, .delta):
            expected += ck_bitpack_bytes(rows, w)
        case (.bool, .bits):
            guard info.bitWidth == 1 else { return nil }
            expected += ck_bitpack_bytes(rows, 1)
        case (.string, .lengths):
            guard info.bitWidth <= 32, info.base >= 0, info.base <= Int64(Int32.max) else { return nil }
            expected += ck_bitpack_bytes(rows, w) + info.arenaSize
        case (.string, .dictionary):
            // Header: entries, length base, length width | code bytes << 8, zero.
            guard expected + 16 <= info.payloadSize else { return nil }
            let raw = UnsafeRawPointer(values)
            let entries = Int(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let lbase = Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            let widths = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let lw = Int(widths & 0xFF), cb = Int((widths >> 8) & 0xFF)
            guard entries <= max(rows, 1), lbase >= 0, lw <= 32, cb == 1 || cb == 2 || cb == 4, widths >> 16 == 0 else { return nil }
            let lengthBytes = ck_bitpack_bytes(entries, UInt32(lw))
            expected += 16 + rows * cb + lengthBytes + info.arenaSize
            guard expected == info.payloadSize else { return nil }
            codeBytes = cb
            codes = values + 16
            var offsets = [Int32](repeating: 0, count: entries + 1)
            let lengths = values + 16 + rows * cb
            let end = offsets.withUnsafeMutableBufferPointer {
                ck_bitunpack_offsets(lengths, 0, entries, lbase, UInt32(lw), 0, $0.baseAddress!)
            }
            guard end == Int64(info.arenaSize) else { return nil }
            dictionary = offsets
            arena = values + 16 + rows * cb + lengthBytes
            carry = 0
            return
        default:
            return nil
        }
        guard expected == info.payloadSize else { return nil }
        arena = type == .string ? values + ck_bitpack_bytes(rows, w) : nil
        carry = info.encoding == .delta ? info.base : 0
    }

    /// Rows start..<start+n (ranges must come in order for delta and string chunks).
    mutating func decode(start: Int, count n: Int) -> Column? {
        let col = Column(type, capacity: n)
        let w = UInt32(info.bitWidth)
        switch info.encoding {
        case .plain:
            col.values.pointer.copyMemory(from: values + start * 8, byteCount: n * 8)
        case .frameOfReference:
            ck_bitunpack_for_i64(values, start, n, info.base, w, col.int64s)
        case .delta:
            precondition(start == nextRow, "delta chunks decode in order")
            if start == 0 { carry = info.base }
            carry = ck_bitunpack_delta_i64(values, start, n, carry, w, col.int64s)
        case .bits:
            ck_bitunpack_bools(values, start, n, col.bools)
        case .dictionary:
            let ids = UnsafeMutablePointer<UInt32>.allocate(capacity: max(n, 1))
            defer { ids.deallocate() }
            guard ck_capture_codes_read(codes!, UInt32(codeBytes), start, n, UInt32(dictionary.count - 1), ids) != 0 else { return nil }
            let off = col.offsets
            var total = 0
            dictionary.withUnsafeBufferPointer { d in
                for i in 0..<n {
                    let k = Int(ids[i])
                    total += Int(d[k + 1] - d[k])
                }
                guard total <= Int(Int32.max) else { return }
                col.reserveArena(total)
                let dst = col.bytes, src = arena!
                var at = 0
                off[0] = 0
                for i in 0..<n {
                    let k = Int(ids[i])
                    let from = Int(d[k]), len = Int(d[k + 1]) - from
                    (dst + at).update(from: src + from, count: len)
                    at += len
                    off[i + 1] = Int32(at)
                }
            }
            guard total <= Int(Int32.max) else { return nil }
            col.setArenaCount(total)
        case .lengths:
            precondition(start == nextRow, "string chunks decode in order")
            if start == 0 { carry = 0 }
            let end = ck_bitunpack_offsets(values, start, n, Int32(info.base), w, 0, col.offsets)
            guard end >= 0, carry + end <= Int64(info.arenaSize) else { return nil }
            let bytes = Int(end)
            col.reserveArena(bytes)
            if bytes > 0 { col.bytes.update(from: arena! + Int(carry), count: bytes) }
            col.setArenaCount(bytes)
            carry += end
        }
        var nulls = 0
        if let validity {
            let dst = col.ensureValidity()
            nulls = n - ck_copy_bits(validity, (rows + 63) / 64, start, n, dst)
        }
        col.setCount(n, nullCount: nulls)
        nextRow = start + n
        return col
    }
}
