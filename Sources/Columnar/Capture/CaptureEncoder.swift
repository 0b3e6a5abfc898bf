#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels
import CZstd

/// Turns the rows of one block into chunk bytes: picks each column's encoding, packs,
/// compresses and checksums. One encoder per thread (it owns a zstd context and its
/// scratch buffers, reused block after block).
final class BlockEncoder {
    let schema: Schema
    let eventTimeColumn: Int?
    let options: CaptureWriterOptions
    private let cctx: OpaquePointer
    /// The block's rows, gathered contiguously.
    let columns: [Column]
    private let payload = AlignedBuffer(capacity: 1 << 20)
    /// Header + body of the last encoded block.
    let output = AlignedBuffer(capacity: 1 << 20)
    private(set) var outputCount = 0

    init(schema: Schema, eventTimeColumn: Int?, options: CaptureWriterOptions) {
        self.schema = schema
        self.eventTimeColumn = eventTimeColumn
        self.options = options
        cctx = ZSTD_createCCtx()
        columns = schema.fields.map { Column($0.type, capacity: options.blockRows) }
    }

    deinit { ZSTD_freeCCtx(cctx) }

    /// Empties the gathered rows.
    func reset() { for c in columns { c.reset() } }

    /// Appends rows start..<start+n of `batch` (no selection) to the block.
    func gather(_ batch: Batch, start: Int, count n: Int) {
        for (dst, src) in zip(columns, batch.columns) { CaptureCopy.append(dst, from: src, start: start, count: n) }
    }

    var rowCount: Int { columns.first?.count ?? 0 }

    /// Encodes the gathered rows as block `index` (to be written at file offset
    /// `offset`) into `output`; returns its description.
    func encode(index: Int, offset: Int) -> BlockInfo {
        let rows = rowCount
        // Bound on the body: every chunk's payload, compressed or not.
        var payloadSizes: [Int] = []
        var bound = 0
        for c in columns {
            let p = CaptureCopy.maxPayload(c, rows: rows)
            payloadSizes.append(p)
            bound += max(p, Int(ZSTD_compressBound(p))) + 64
        }
        let headerSize = CaptureFormat.blockHeaderFixed + columns.count * CaptureFormat.chunkDescriptorSize + 8
        output.reserve(headerSize + bound, preserving: 0)
        let body = output.pointer + headerSize
        var at = 0
        var chunks: [ChunkInfo] = []
        var minTime = Int64.max, maxTime = Int64.min
        for (j, c) in columns.enumerated() {
            payload.reserve(payloadSizes[j] + 64, preserving: 0)
            var info = encodeChunk(c, rows: rows, into: payload.pointer)
            if j == eventTimeColumn, c.type.isInt64Backed {
                var lo: Int64 = 0, hi: Int64 = 0, dor: UInt64 = 0
                ck_capture_stats_i64(c.int64s, rows > 0 && c.hasNulls ? c.validityWords : nil, rows, &lo, &hi, &dor)
                minTime = lo
                maxTime = hi
            }
            info.offset = at
            let dst = body + at
            var stored = info.payloadSize
            var compressed = false
            if options.zstd && info.payloadSize > 0 {
                let cap = Int(ZSTD_compressBound(info.payloadSize))
                let r = ZSTD_compressCCtx(cctx, dst, cap, payload.pointer, info.payloadSize, options.level)
                if ZSTD_isError(r) == 0 {
                    let keep: Bool
                    switch info.encoding {
                    case .frameOfReference, .delta, .bits:
                        keep = Double(r) <= Double(info.payloadSize) * (1 - options.minZstdSaving)
                    case .plain, .lengths, .dictionary:
                        keep = r < info.payloadSize
                    }
                    if keep {
                        stored = r
                        compressed = true
                    }
                }
            }
            if !compressed { dst.copyMemory(from: payload.pointer, byteCount: info.payloadSize) }
            info.compression = compressed ? .zstd : .none
            info.storedSize = stored
            info.checksum = ck_xxh64(dst, stored, CaptureFormat.chunkSeed)
            chunks.append(info)
            at += stored
        }
        let block = BlockInfo(index: index, offset: offset, headerSize: headerSize, bodySize: at, rows: rows,
                              minTime: minTime, maxTime: maxTime, chunks: chunks)
        let header = block.encodeHeader()
        precondition(header.count == headerSize)
        header.withUnsafeBytes { output.pointer.copyMemory(from: $0.baseAddress!, byteCount: headerSize) }
        outputCount = headerSize + at
        return block
    }

    /// Writes the payload of column `c` (validity, values, string bytes) at `out`.
    private func encodeChunk(_ c: Column, rows: Int, into out: UnsafeMutableRawPointer) -> ChunkInfo {
        var info = ChunkInfo(encoding: .plain, compression: .none, hasValidity: false, bitWidth: 0, nullCount: 0,
                             base: 0, offset: 0, storedSize: 0, payloadSize: 0, arenaSize: 0, checksum: 0)
        var at = 0
        var validity: UnsafeMutablePointer<UInt64>? = nil
        if rows > 0, c.hasNulls, let v = c.validityWords {
            let words = (rows + 63) / 64
            let dst = out.assumingMemoryBound(to: UInt64.self)
            let nulls = rows - ck_copy_bits(v, words, 0, rows, dst)
            info.hasValidity = true
            info.nullCount = nulls
            validity = v
            at = words * 8
        }
        let values = (out + at).assumingMemoryBound(to: UInt8.self)
        switch c.type {
        case .int64, .timestamp:
            var lo: Int64 = 0, hi: Int64 = 0, dor: UInt64 = 0
            let valid = ck_capture_stats_i64(c.int64s, validity, rows, &lo, &hi, &dor)
            let forWidth = valid == 0 ? 0 : Int(ck_bit_width(UInt64(bitPattern: hi) &- UInt64(bitPattern: lo)))
            let deltaWidth = Int(ck_bit_width(dor))
            // Delta decodes serially (a prefix sum): worth it only when it saves at least
            // 4 bits and a quarter of the width (sorted ids, ordered timestamps).
            if validity == nil && rows > 0 && deltaWidth + max(4, forWidth / 4) <= forWidth {
                info.encoding = .delta
                info.bitWidth = deltaWidth
                info.base = c.int64s[0]
                ck_bitpack_delta_i64(c.int64s, rows, UInt32(deltaWidth), values)
                at += ck_bitpack_bytes(rows, UInt32(deltaWidth))
            } else if forWidth <= 56 {
                info.encoding = .frameOfReference
                info.bitWidth = forWidth
                info.base = valid == 0 ? 0 : lo
                ck_bitpack_for_i64(c.int64s, validity, rows, info.base, UInt32(forWidth), values)
                at += ck_bitpack_bytes(rows, UInt32(forWidth))
            } else {
                info.encoding = .plain
                (out + at).copyMemory(from: c.values.pointer, byteCount: rows * 8)
                at += rows * 8
            }
        case .float64:
            info.encoding = .plain
            (out + at).copyMemory(from: c.values.pointer, byteCount: rows * 8)
            at += rows * 8
        case .bool:
            info.encoding = .bits
            info.bitWidth = 1
            ck_bitpack_bools(c.bools, rows, values)
            at += ck_bitpack_bytes(rows, 1)
        case .string:
            if let size = encodeDictionary(c, rows: rows, into: out + at, info: &info) {
                at += size
                break
            }
            var lo: Int32 = 0, hi: Int32 = 0
            ck_capture_length_range(c.offsets, rows, &lo, &hi)
            let w = Int(ck_bit_width(UInt64(hi - lo)))
            info.encoding = .lengths
            info.bitWidth = w
            info.base = Int64(lo)
            ck_bitpack_lengths(c.offsets, rows, lo, UInt32(w), values)
            at += ck_bitpack_bytes(rows, UInt32(w))
            let start = Int(c.offsets[0]), bytes = Int(c.offsets[rows]) - start
            if bytes > 0 { (out + at).copyMemory(from: c.bytes + start, byteCount: bytes) }
            at += bytes
            info.arenaSize = bytes
            info.rowBytes = bytes
        }
        info.payloadSize = at
        return info
    }

    private var codes = AlignedBuffer(capacity: 64)
    private var firsts = AlignedBuffer(capacity: 64)
    private var table = AlignedBuffer(capacity: 64)
    private var dictOffsets = AlignedBuffer(capacity: 64)
    private var dictBytesBuffer = AlignedBuffer(capacity: 64)

    /// Dictionary encoding of a string chunk when its strings repeat enough to pay for
    /// it (at most rows/2 distinct, and dictionary plus codes smaller than the bytes).
    /// Writes the dictionary header, codes, lengths and bytes; returns their size.
    private func encodeDictionary(_ c: Column, rows: Int, into out: UnsafeMutableRawPointer, info: inout ChunkInfo) -> Int? {
        guard rows >= 4 else { return nil }
        // Up to rows/8 distinct strings (a small, cache-friendly table); more: lengths.
        let maxEntries = max(rows / 8, 2)
        var slots = 64
        while slots < 4 * maxEntries { slots *= 2 }  // 2 words per entry, at most half full
        codes.reserve(rows * 4, preserving: 0)
        firsts.reserve(maxEntries * 4 + 4, preserving: 0)
        table.reserve(slots * 4, preserving: 0)
        let o = c.offsets
        let base = Int(o[0])
        let arenaBytes = Int(o[rows]) - base
        dictOffsets.reserve((maxEntries + 1) * 4, preserving: 0)
        dictBytesBuffer.reserve(max(arenaBytes, 1), preserving: 0)
        let entries = ck_capture_dict_build(o, c.bytes, rows, codes.typed(UInt32.self), firsts.typed(UInt32.self),
                                            maxEntries, table.typed(UInt32.self), slots,
                                            dictBytesBuffer.typed(UInt8.self), dictOffsets.typed(Int32.self))
        guard entries >= 0, entries <= maxEntries else { return nil }  // -1: too many distinct strings
        let codeBytes = entries <= 256 ? 1 : (entries <= 65536 ? 2 : 4)
        // The dictionary's own offsets (entry k at dict[d[k] ..< d[k + 1]]).
        let d = dictOffsets.typed(Int32.self)
        let dictBytes = Int(d[entries])
        guard dictBytes + rows * codeBytes < arenaBytes else { return nil }
        var lo: Int32 = 0, hi: Int32 = 0
        ck_capture_length_range(d, entries, &lo, &hi)
        let lw = Int(ck_bit_width(UInt64(hi - lo)))
        var at = 0
        func put32(_ v: UInt32) {
            (out + at).storeBytes(of: v.littleEndian, as: UInt32.self)
            at += 4
        }
        put32(UInt32(entries))
        put32(UInt32(bitPattern: lo))
        put32(UInt32(lw) | UInt32(codeBytes) << 8)
        put32(0)
        ck_capture_codes_write(codes.typed(UInt32.self), rows, UInt32(codeBytes), (out + at).assumingMemoryBound(to: UInt8.self))
        at += rows * codeBytes
        ck_bitpack_lengths(d, entries, lo, UInt32(lw), (out + at).assumingMemoryBound(to: UInt8.self))
        at += ck_bitpack_bytes(entries, UInt32(lw))
        if dictBytes > 0 { (out + at).copyMemory(from: dictBytesBuffer.pointer, byteCount: dictBytes) }
        at += dictBytes
        info.encoding = .dictionary
        info.bitWidth = codeBytes * 8
        info.base = Int64(entries)
        info.arenaSize = dictBytes
        info.rowBytes = arenaBytes
        return at
    }
}

/// Bulk copies between columns (the block gather) and payload size bounds.
enum CaptureCopy {
    /// Appends rows start..<start+n of `src` to `dst` (same type), copying whole ranges.
    static func append(_ dst: Column, from src: Column, start: Int, count n: Int) {
        guard n > 0 else { return }
        let base = dst.count
        dst.reserve(base + n)
        switch dst.type {
        case .string:
            let so = src.offsets, doff = dst.offsets
            let from = Int(so[start]), to = Int(so[start + n])
            let bytes = to - from
            dst.reserveArena(bytes)
            let arenaBase = dst.arenaCount
            if bytes > 0 { (dst.bytes + arenaBase).update(from: src.bytes + from, count: bytes) }
            let shift = Int32(arenaBase - from)
            for i in 1...n { doff[base + i] = so[start + i] &+ shift }
            dst.setArenaCount(arenaBase + bytes)
        case .bool:
            (dst.bools + base).update(from: src.bools + start, count: n)
        default:
            (dst.int64s + base).update(from: src.int64s + start, count: n)
        }
        var nulls = dst.nullCount
        if src.hasNulls, let sv = src.validityWords {
            let dv = dst.ensureValidity()
            for i in 0..<n {
                let r = start + i, row = base + i
                if (sv[r >> 6] >> UInt64(r & 63)) & 1 == 0 {
                    dv[row >> 6] &= ~((1 as UInt64) << UInt64(row & 63))
                    nulls += 1
                } else {
                    dv[row >> 6] |= (1 as UInt64) << UInt64(row & 63)
                }
            }
        } else if let dv = dst.validityWords {
            for row in base..<(base + n) { dv[row >> 6] |= (1 as UInt64) << UInt64(row & 63) }
        }
        dst.setCount(base + n, nullCount: nulls)
    }

    /// Upper bound on a chunk's payload for `rows` rows of `c`.
    static func maxPayload(_ c: Column, rows: Int) -> Int {
        let validity = ((rows + 63) / 64) * 8
        switch c.type {
        case .string:
            // Plain lengths, or a dictionary (16-byte header, codes of up to 4 bytes,
            // lengths, and at most as many bytes as the rows hold).
            return validity + 16 + rows * 4 + ck_bitpack_bytes(rows, 32) + Int(c.offsets[rows]) - Int(c.offsets[0])
        case .bool:
            return validity + ck_bitpack_bytes(rows, 1)
        default:
            return validity + max(rows * 8, ck_bitpack_bytes(rows, 64))
        }
    }

    /// Bytes of string data in rows start..<start+n of the string columns of `batch`.
    static func stringBytes(_ batch: Batch, start: Int, count n: Int) -> Int {
        var total = 0
        for c in batch.columns where c.type == .string {
            total += Int(c.offsets[start + n]) - Int(c.offsets[start])
        }
        return total
    }
}
