import CKernels
import Columnar
import Foundation
import SpateTestSupport
import Testing

/// Capture files: kernels, round trips, projection, seeking, damage and recovery.
@Suite struct CaptureKernelTests {
    @Test func xxh64MatchesTheReference() {
        func h(_ s: String, _ seed: UInt64 = 0) -> UInt64 {
            var copy = s
            return copy.withUTF8 { ck_xxh64($0.baseAddress, $0.count, seed) }
        }
        // Published test vectors of XXH64.
        #expect(h("") == 0xEF46_DB37_51D8_E999)
        #expect(h("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(h("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(h("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
        // Every length and alignment takes the same value through an offset copy.
        var rng = SplitMix64(seed: 7)
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for n in [0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 65, 200] {
            let a = bytes.withUnsafeBytes { ck_xxh64($0.baseAddress, n, 42) }
            let shifted = [0] + bytes
            let b = shifted.withUnsafeBytes { ck_xxh64($0.baseAddress! + 1, n, 42) }
            #expect(a == b)
        }
    }

    @Test func bitPackingRoundTripsEveryWidth() {
        var rng = SplitMix64(seed: 11)
        for w in 0...64 {
            let n = Int.random(in: 1...300, using: &rng)
            let base = Int64.random(in: -1_000_000...1_000_000, using: &rng)
            let mask: UInt64 = w == 64 ? ~0 : (1 << UInt64(w)) - 1
            let values = (0..<n).map { _ in Int64(bitPattern: UInt64(bitPattern: base) &+ (rng.next() & mask)) }
            var packed = [UInt8](repeating: 0xAA, count: ck_bitpack_bytes(n, UInt32(w)))
            ck_bitpack_for_i64(values, nil, n, base, UInt32(w), &packed)
            #expect(packed.suffix(8).allSatisfy { $0 == 0 }, "width \(w): padding")
            for _ in 0..<5 {
                let start = Int.random(in: 0..<n, using: &rng)
                let count = Int.random(in: 0...(n - start), using: &rng)
                var out = [Int64](repeating: 0, count: max(count, 1))
                ck_bitunpack_for_i64(packed, start, count, base, UInt32(w), &out)
                #expect(Array(out.prefix(count)) == Array(values[start..<(start + count)]), "width \(w) start \(start)")
            }
        }
    }

    @Test func deltaPackingRoundTrips() {
        var rng = SplitMix64(seed: 12)
        for spread in [0, 1, 3, 1000, 1 << 40] {
            let n = 257
            var v: Int64 = Int64.random(in: -(1 << 50)...(1 << 50), using: &rng)
            var values: [Int64] = []
            for _ in 0..<n {
                values.append(v)
                v &+= Int64.random(in: -Int64(spread)...Int64(spread), using: &rng)
            }
            var dor: UInt64 = 0, lo: Int64 = 0, hi: Int64 = 0
            ck_capture_stats_i64(values, nil, n, &lo, &hi, &dor)
            let w = ck_bit_width(dor)
            var packed = [UInt8](repeating: 0, count: ck_bitpack_bytes(n, w))
            ck_bitpack_delta_i64(values, n, w, &packed)
            var out = [Int64](repeating: 0, count: n)
            // In two ranges, carrying the previous value.
            let last = ck_bitunpack_delta_i64(packed, 0, 100, values[0], w, &out)
            out.withUnsafeMutableBufferPointer { p in
                _ = ck_bitunpack_delta_i64(packed, 100, n - 100, last, w, p.baseAddress! + 100)
            }
            #expect(out == values, "spread \(spread)")
            #expect(lo == values.min()! && hi == values.max()!)
        }
    }

    @Test func copyBitsAtAnyOffset() {
        var rng = SplitMix64(seed: 13)
        let words = (0..<5).map { _ in rng.next() }
        func bit(_ i: Int) -> Bool { (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
        for start in [0, 1, 63, 64, 65, 100, 200] {
            for n in [0, 1, 63, 64, 65, 120] where start + n <= 320 {
                var dst = [UInt64](repeating: ~0, count: max(1, (n + 63) / 64))
                let set = ck_copy_bits(words, 5, start, n, &dst)
                var expected = 0
                for i in 0..<n {
                    #expect(((dst[i >> 6] >> UInt64(i & 63)) & 1 == 1) == bit(start + i))
                    if bit(start + i) { expected += 1 }
                }
                #expect(set == expected)
            }
        }
    }
}

/// Builds test data and temporary files for the capture suites.
enum CaptureFixture {
    static let schema = Schema([
        Field("id", .int64), Field("score", .float64), Field("ok", .bool), Field("name", .string),
        Field("ts", .timestamp(.millisecond)), Field("us", .timestamp(.microsecond)), Field("big", .int64),
    ])

    /// One row of test values (nil: NULL).
    struct Row: Equatable {
        var id: Int64?
        var score: Double?
        var ok: Bool?
        var name: String?
        var ts: Int64?
        var us: Int64?
        var big: Int64?

        static func == (a: Row, b: Row) -> Bool {
            a.id == b.id && a.ok == b.ok && a.name == b.name && a.ts == b.ts && a.us == b.us && a.big == b.big
                && a.score?.bitPattern == b.score?.bitPattern
        }
    }

    static func rows(_ n: Int, seed: UInt64, nulls: Bool = true) -> [Row] {
        var rng = SplitMix64(seed: seed)
        let names = ["", "a", "héllo wörld", "Google", "channel-1234", String(repeating: "x", count: 300), "日本語"]
        var out: [Row] = []
        for i in 0..<n {
            func maybe<T>(_ v: T) -> T? { nulls && rng.next() % 9 == 0 ? nil : v }
            let special: [Int64] = [Int64.min, Int64.max, 0, -1]
            out.append(Row(
                id: maybe(Int64(i) * 3 + 1_000_000),
                score: maybe(i % 50 == 7 ? Double.nan : Double(Int64.random(in: -1000...1000, using: &rng)) / 8),
                ok: maybe(rng.next() & 1 == 1),
                name: maybe(names[Int(rng.next() % UInt64(names.count))] + (rng.next() % 3 == 0 ? String(i) : "")),
                ts: maybe(1_436_918_400_000 + Int64(i) * 10 - Int64(rng.next() % 2000)),
                us: maybe(Int64(i) * 1_000_001),
                big: i % 97 == 0 ? special[(i / 97) % 4] : maybe(Int64(bitPattern: rng.next()))))
        }
        return out
    }

    /// Rows lo..<hi as a batch.
    static func batch(_ rows: ArraySlice<Row>) -> Batch {
        let cols = schema.fields.map { Column($0.type, capacity: max(rows.count, 1)) }
        for r in rows {
            if let v = r.id { cols[0].append(v) } else { cols[0].appendNull() }
            if let v = r.score { cols[1].append(v) } else { cols[1].appendNull() }
            if let v = r.ok { cols[2].append(v) } else { cols[2].appendNull() }
            if let v = r.name { cols[3].append(v) } else { cols[3].appendNull() }
            if let v = r.ts { cols[4].append(v) } else { cols[4].appendNull() }
            if let v = r.us { cols[5].append(v) } else { cols[5].appendNull() }
            if let v = r.big { cols[6].append(v) } else { cols[6].appendNull() }
        }
        return Batch(schema: schema, columns: cols, count: rows.count)
    }

    /// The rows of a batch holding all of `schema`'s columns in order.
    static func rows(of b: Batch, columns: [Int] = Array(0..<7)) -> [Row] {
        (0..<b.activeCount).map { i in
            let r = b.row(i)
            var row = Row()
            for (k, j) in columns.enumerated() {
                let c = b.columns[k]
                guard c.isValid(r) else { continue }
                switch j {
                case 0: row.id = c.int64(at: r)
                case 1: row.score = c.float64(at: r)
                case 2: row.ok = c.bool(at: r)
                case 3: row.name = c.string(at: r)
                case 4: row.ts = c.int64(at: r)
                case 5: row.us = c.int64(at: r)
                default: row.big = c.int64(at: r)
                }
            }
            return row
        }
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-capture-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Writes `rows` in batches of varying sizes (some empty, some with a selection).
    @discardableResult
    static func write(_ rows: [Row], to path: String, options: CaptureWriterOptions, seed: UInt64 = 1) throws -> CaptureSummary {
        let w = try CaptureFileWriter(path: path, schema: schema, eventTimeColumn: 4, options: options)
        var rng = SplitMix64(seed: seed)
        var at = 0
        while at < rows.count {
            let n = min(rows.count - at, Int(rng.next() % 300))
            if n == 0 || rng.next() % 5 != 0 {
                try w.append(batch(rows[at..<(at + n)]))
            } else {
                // The same rows with junk rows in between, hidden by a selection.
                var padded: [Row] = []
                var sel: [UInt32] = []
                for r in rows[at..<(at + n)] {
                    padded.append(Row(id: -7, name: "junk"))
                    sel.append(UInt32(padded.count))
                    padded.append(r)
                }
                var b = batch(padded[...])
                b.selection = SelectionVector(sel)
                try w.append(b)
            }
            at += n
        }
        return try w.finish()
    }

    static func readAll(_ reader: CaptureReader, columns: [Int] = Array(0..<7), capacity: Int = 1000) throws -> [Row] {
        var out: [Row] = []
        for i in reader.blocks.indices {
            try reader.readBlock(i, columns: columns, batchCapacity: capacity) { out += rows(of: $0, columns: columns) }
        }
        return out
    }
}

@Suite struct CaptureFileTests {
    @Test func roundTripsEveryTypeWithNulls() throws {
        let rows = CaptureFixture.rows(5000, seed: 1)
        for threads in [0, 2] {
            for blockRows in [1, 77, 1024, 100_000] {
                let path = CaptureFixture.tempPath("t.spate")
                let summary = try CaptureFixture.write(rows, to: path, options: CaptureWriterOptions(blockRows: blockRows, threads: threads))
                #expect(summary.rows == rows.count)
                #expect(summary.blocks == (rows.count + blockRows - 1) / blockRows)
                let reader = try CaptureReader.open(path: path)
                #expect(reader.hasFooter && reader.damage == nil)
                #expect(reader.schema == CaptureFixture.schema)
                #expect(reader.eventTimeColumn == 4)
                #expect(reader.rowCount == rows.count)
                for capacity in [1, 3, 4096] where blockRows > 1 || capacity == 1 {
                    let back = try CaptureFixture.readAll(reader, capacity: capacity)
                    #expect(back == rows, "threads \(threads) block \(blockRows) capacity \(capacity)")
                }
                // Event-time ranges of the blocks cover exactly the valid timestamps.
                let ts = rows.compactMap(\.ts)
                #expect(reader.minTime == ts.min()! && reader.maxTime == ts.max()!)
                #expect(reader.verify().allSatisfy { $0.ok })
            }
        }
    }

    @Test func emptyFilesAndEmptyBatches() throws {
        let path = CaptureFixture.tempPath("empty.spate")
        let w = try CaptureFileWriter(path: path, schema: CaptureFixture.schema, eventTimeColumn: nil)
        try w.append(CaptureFixture.batch([][...]))
        let s = try w.finish()
        #expect(s.rows == 0 && s.blocks == 0)
        let r = try CaptureReader.open(path: path)
        #expect(r.hasFooter && r.blocks.isEmpty && r.rowCount == 0 && r.eventTimeColumn == nil)
        #expect(r.verify().count == 0)
        // All-null columns and a single row.
        let path2 = CaptureFixture.tempPath("nulls.spate")
        let rows = [CaptureFixture.Row(), CaptureFixture.Row(), CaptureFixture.Row(id: 5)]
        try CaptureFixture.write(rows, to: path2, options: CaptureWriterOptions(blockRows: 2))
        let r2 = try CaptureReader.open(path: path2)
        #expect(try CaptureFixture.readAll(r2) == rows)
        #expect(r2.blocks[0].minTime == Int64.max && r2.blocks[0].maxTime == Int64.min)
    }

    @Test func threadedAndInlineWritersProduceTheSameBytes() throws {
        let rows = CaptureFixture.rows(20_000, seed: 3)
        let a = CaptureFixture.tempPath("a.spate"), b = CaptureFixture.tempPath("b.spate")
        try CaptureFixture.write(rows, to: a, options: CaptureWriterOptions(blockRows: 1000, threads: 0))
        try CaptureFixture.write(rows, to: b, options: CaptureWriterOptions(blockRows: 1000, threads: 3), seed: 99)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }

    @Test func encodingsFitTheData() throws {
        // Sorted ids with a wide range: delta; a narrow range: frame of reference.
        let schema = Schema([Field("sorted", .int64), Field("narrow", .int64), Field("t", .timestamp(.millisecond)),
                             Field("few", .string), Field("unique", .string)])
        let cols = schema.fields.map { Column($0.type, capacity: 10_000) }
        for i in 0..<10_000 {
            cols[0].append(Int64(i) * 1_000_003 + 1 << 40)
            cols[1].append(Int64(5000 + i % 200))
            cols[2].append(1_436_918_400_000 + Int64(i / 10))
            if i % 13 == 0 { cols[3].appendNull() } else { cols[3].append("https://www.nexmark.com/item.htm?channel_id=\(i % 300)") }
            cols[4].append("row \(i)")
        }
        let path = CaptureFixture.tempPath("enc.spate")
        let w = try CaptureFileWriter(path: path, schema: schema, eventTimeColumn: 2, options: CaptureWriterOptions(blockRows: 10_000))
        try w.append(Batch(schema: schema, columns: cols, count: 10_000))
        try w.finish()
        let r = try CaptureReader.open(path: path)
        let h = try r.blockHeader(0)
        #expect(h.chunks[0].encoding == .delta && h.chunks[0].bitWidth <= 22)
        #expect(h.chunks[1].encoding == .frameOfReference && h.chunks[1].bitWidth == 8)
        #expect(h.chunks[3].encoding == .dictionary && h.chunks[3].bitWidth == 16 && h.chunks[3].base == 301)  // 300 strings and the null rows' empty one
        #expect(h.chunks[4].encoding == .lengths)
        let back = try r.readBlock(0, columns: [0, 1, 2, 3, 4])
        var batches: [Batch] = []
        try r.readBlock(0, columns: [3], batchCapacity: 333) { batches.append($0) }
        for i in 0..<10_000 {
            let few = i % 13 == 0 ? nil : "https://www.nexmark.com/item.htm?channel_id=\(i % 300)"
            #expect((back.columns[3].isValid(i) ? back.columns[3].string(at: i) : nil) == few)
            let b = batches[i / 333], k = i % 333
            #expect((b.columns[0].isValid(k) ? b.columns[0].string(at: k) : nil) == few)
            #expect(back.columns[4].string(at: i) == "row \(i)")
        }
        for i in stride(from: 0, to: 10_000, by: 37) {
            #expect(back.columns[0].int64(at: i) == Int64(i) * 1_000_003 + 1 << 40)
            #expect(back.columns[1].int64(at: i) == Int64(5000 + i % 200))
        }
    }

    @Test func projectionDecompressesOnlyTheRequestedChunks() throws {
        // Random ints (stored bit-packed, not zstd) and repetitive strings (zstd).
        let schema = Schema([Field("n", .int64), Field("s", .string), Field("m", .int64)])
        var rng = SplitMix64(seed: 5)
        let cols = schema.fields.map { Column($0.type, capacity: 4000) }
        for _ in 0..<4000 {
            cols[0].append(Int64(bitPattern: rng.next() >> 20))
            cols[1].append("https://www.nexmark.com/item.htm?query=\(rng.next() % 4)")
            cols[2].append(Int64(bitPattern: rng.next() >> 30))
        }
        let path = CaptureFixture.tempPath("proj.spate")
        let w = try CaptureFileWriter(path: path, schema: schema, eventTimeColumn: nil, options: CaptureWriterOptions(blockRows: 1000))
        try w.append(Batch(schema: schema, columns: cols, count: 4000))
        try w.finish()
        let r = try CaptureReader.open(path: path)
        #expect(try r.blockHeader(0).chunks[1].compression == .zstd)
        #expect(try r.blockHeader(0).chunks[0].compression == .none)
        var sum: Int64 = 0
        for i in r.blocks.indices {
            try r.readBlock(i, columns: [0], batchCapacity: 512) { b in
                #expect(b.schema.fields.map(\.name) == ["n"])
                for k in 0..<b.count { sum &+= b.columns[0].int64(at: k) }
            }
        }
        var expected: Int64 = 0
        for k in 0..<4000 { expected &+= cols[0].int64(at: k) }
        #expect(sum == expected)
        #expect(r.chunksRead == 4 && r.chunksDecompressed == 0)
        _ = try r.readBlock(2, columns: [1])
        #expect(r.chunksRead == 5 && r.chunksDecompressed == 1)
        _ = try r.readBlock(3, columns: [2, 0])
        #expect(r.chunksRead == 7 && r.chunksDecompressed == 1)
    }

    @Test func seeksByEventTime() throws {
        let rows = CaptureFixture.rows(10_000, seed: 8, nulls: false)
        let path = CaptureFixture.tempPath("seek.spate")
        try CaptureFixture.write(rows, to: path, options: CaptureWriterOptions(blockRows: 500))
        let r = try CaptureReader.open(path: path)
        for t in [Int64.min, 1_436_918_400_000, 1_436_918_430_000, 1_436_918_499_000, Int64.max] {
            let chosen = r.blocks(from: t)
            // Every skipped block holds only earlier rows; every row at or after t is kept.
            for i in r.blocks.indices where !chosen.contains(i) { #expect(r.blocks[i].maxTime < t) }
            var kept: [CaptureFixture.Row] = []
            for i in chosen { try r.readBlock(i, columns: Array(0..<7), batchCapacity: 4096) { kept += CaptureFixture.rows(of: $0) } }
            #expect(kept.filter { $0.ts! >= t }.count == rows.filter { $0.ts! >= t }.count)
            if t == 1_436_918_430_000 { #expect(chosen.first! > 0 && chosen.count < r.blocks.count) }
        }
        #expect(r.blocks(from: Int64.max).isEmpty)
    }

    @Test func writerMemoryIsBounded() throws {
        let schema = Schema([Field("a", .int64), Field("s", .string)])
        for threads in [0, 2] {
            let path = CaptureFixture.tempPath("big.spate")
            let options = CaptureWriterOptions(blockRows: 1000, threads: threads)
            let w = try CaptureFileWriter(path: path, schema: schema, eventTimeColumn: nil, options: options)
            var total = 0
            for k in 0..<300 {
                let cols = [Column(.int64, capacity: 700), Column(.string, capacity: 700)]
                for i in 0..<700 {
                    cols[0].append(Int64(k * 700 + i))
                    cols[1].append("row \(i)")
                }
                try w.append(Batch(schema: schema, columns: cols, count: 700))
                total += 700
            }
            let s = try w.finish()
            #expect(s.rows == total && s.blocks == 210)
            // Pending rows (< one block + one batch), queued blocks (<= threads) and the
            // blocks being encoded (<= threads): independent of the 210,000 rows written.
            #expect(w.peakBufferedRows <= 1000 * (2 * threads + 1) + 700, "threads \(threads): \(w.peakBufferedRows)")
            // Blocks also close on string bytes.
            let p2 = CaptureFixture.tempPath("bytes.spate")
            let w2 = try CaptureFileWriter(path: p2, schema: schema, eventTimeColumn: nil,
                                           options: CaptureWriterOptions(blockRows: 1_000_000, blockBytes: 10_000, threads: threads))
            let cols = [Column(.int64, capacity: 5000), Column(.string, capacity: 5000)]
            for i in 0..<5000 {
                cols[0].append(Int64(i))
                cols[1].append(String(repeating: "y", count: 20))
            }
            try w2.append(Batch(schema: schema, columns: cols, count: 5000))
            let blocks2 = try w2.finish().blocks
            #expect(blocks2 == 10, "\(blocks2) blocks")
        }
    }

    @Test func fileAppearsOnlyWhenComplete() throws {
        let path = CaptureFixture.tempPath("atomic.spate")
        let w = try CaptureFileWriter(path: path, schema: CaptureFixture.schema, eventTimeColumn: 4, options: CaptureWriterOptions(blockRows: 10))
        try w.append(CaptureFixture.batch(CaptureFixture.rows(100, seed: 2)[...]))
        #expect(!FileManager.default.fileExists(atPath: path))
        w.abandon()
        #expect(!FileManager.default.fileExists(atPath: path))
        let dir = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "the temporary file is removed")
        try CaptureFixture.write(CaptureFixture.rows(100, seed: 2), to: path, options: CaptureWriterOptions(blockRows: 10))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["atomic.spate"])
    }
}

@Suite struct CaptureDamageTests {
    static func sample() throws -> (path: String, rows: [CaptureFixture.Row], bytes: [UInt8], reader: CaptureReader) {
        let rows = CaptureFixture.rows(3000, seed: 21)
        let path = CaptureFixture.tempPath("good.spate")
        try CaptureFixture.write(rows, to: path, options: CaptureWriterOptions(blockRows: 500))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (path, rows, bytes, try CaptureReader.open(path: path))
    }

    static func write(_ bytes: [UInt8]) -> String {
        let p = CaptureFixture.tempPath("damaged.spate")
        try! Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    @Test func truncatedAtEveryBlockBoundaryAndMidBlock() throws {
        let s = try Self.sample()
        let blocks = s.reader.blocks
        #expect(blocks.count == 6)
        var cuts: [(at: Int, complete: Int)] = []
        for (k, b) in blocks.enumerated() {
            cuts.append((b.offset, k))                          // at the boundary before block k
            cuts.append((b.offset + 10, k))                     // inside its header
            cuts.append((b.bodyOffset + b.bodySize / 2, k))     // inside its body
            cuts.append((b.offset + b.size - 1, k))             // one byte short
        }
        let end = blocks.last!.offset + blocks.last!.size
        cuts.append((end, blocks.count))                        // the whole footer missing
        cuts.append((end + 20, blocks.count))                   // inside the footer
        cuts.append((s.bytes.count - 1, blocks.count))          // inside the trailer
        for cut in cuts {
            let p = Self.write(Array(s.bytes.prefix(cut.at)))
            let r = try CaptureReader.open(path: p)
            #expect(!r.hasFooter, "cut at \(cut.at)")
            #expect(r.blocks.count == cut.complete, "cut at \(cut.at)")
            let d = try #require(r.damage)
            #expect(d.block == cut.complete && d.offset == (cut.complete < blocks.count ? blocks[cut.complete].offset : end))
            let expectedRows = Array(s.rows.prefix(cut.complete * 500))
            #expect(try CaptureFixture.readAll(r) == expectedRows, "cut at \(cut.at)")
            let checks = r.verify()
            #expect(checks.filter(\.ok).count == cut.complete)
            #expect(checks.last.map { !$0.ok && $0.block == cut.complete } == true)
            let message = r.damageError!.description
            #expect(message.contains("damaged.spate: error: block \(cut.complete) at offset \(d.offset): "), "\(message)")
        }
        // Cut inside the header: not readable at all, and said so.
        let p = Self.write(Array(s.bytes.prefix(20)))
        #expect(throws: SpateError.self) { try CaptureReader.open(path: p) }
    }

    @Test func flippedByteInABlockNamesTheBlock() throws {
        let s = try Self.sample()
        for k in [0, 3, 5] {
            let b = s.reader.blocks[k]
            for at in [b.bodyOffset + 1, b.bodyOffset + b.bodySize - 1, b.offset + 30, b.offset + 2] {
                var bytes = s.bytes
                bytes[at] ^= 0x40
                let r = try CaptureReader.open(path: Self.write(bytes))
                #expect(r.hasFooter)
                do {
                    _ = try r.readBlock(k, columns: Array(0..<7))
                    Issue.record("block \(k) byte \(at): no error")
                } catch let e as SpateError {
                    #expect(e.message.hasPrefix("block \(k) at offset \(b.offset): "), "\(e.message)")
                    #expect(e.path?.hasSuffix("damaged.spate") == true && e.hint != nil)
                }
                // Every other block still reads, and --verify names exactly this one.
                for i in r.blocks.indices where i != k {
                    let got = CaptureFixture.rows(of: try r.readBlock(i, columns: Array(0..<7)))
                    #expect(got == Array(s.rows[(i * 500)..<(i * 500 + 500)]))
                }
                let checks = r.verify()
                #expect(checks.filter { !$0.ok }.map(\.block) == [k])
            }
        }
    }

    @Test func flippedByteInTheFooterFallsBackToScanning() throws {
        let s = try Self.sample()
        let end = s.reader.blocks.last!.offset + s.reader.blocks.last!.size
        for at in [end + 1, end + 45, s.bytes.count - 30, s.bytes.count - 20] {
            var bytes = s.bytes
            bytes[at] ^= 0x01
            let r = try CaptureReader.open(path: Self.write(bytes))
            #expect(!r.hasFooter)
            #expect(r.blocks.count == 6, "byte \(at)")
            #expect(try CaptureFixture.readAll(r) == s.rows)
            #expect(r.damage?.block == 6)
            #expect(r.footerProblem != nil)
        }
        // A flipped byte in a block while the footer is also gone: the scan stops there.
        var bytes = s.bytes
        bytes[s.reader.blocks[2].bodyOffset + 5] ^= 0x10
        let r = try CaptureReader.open(path: Self.write(Array(bytes.prefix(end))))
        #expect(r.blocks.count == 2 && r.damage?.block == 2)
        #expect(r.damage?.reason.contains("checksum mismatch") == true)
    }

    @Test func damagedHeaderIsAnError() throws {
        let s = try Self.sample()
        var bytes = s.bytes
        bytes[40] ^= 0x01
        do {
            _ = try CaptureReader.open(path: Self.write(bytes))
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message == "header: checksum mismatch")
        }
        let text = Self.write(Array("auction,price\n1,2\n".utf8))
        do {
            _ = try CaptureReader.open(path: text)
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message.contains("not a capture file"))
        }
    }
}

/// Chunks whose bytes were changed and whose checksums were then recomputed (a crafted
/// file, not an accident): decoding must fail with an error or give some rows, never
/// crash or read out of bounds.
@Suite struct CaptureCraftedInputTests {
    static let chunkSeed: UInt64 = 0x5350_4143_4348_554E  // docs/capture-format.md
    static let blockSeed: UInt64 = 0x5350_4143_424C_4F43

    @Test func rechecksummedGarbageNeverCrashes() throws {
        // Uncompressed chunks of every encoding (dictionary and lengths strings, frame
        // of reference, delta, bits, plain), so the changed bytes reach the decoders.
        var rows = CaptureFixture.rows(600, seed: 31)
        for i in 0..<300 where rows[i].name != nil { rows[i].name = ["Google", "Facebook", "channel-12"][i % 3] }  // block 0: a dictionary
        for i in 300..<600 { rows[i].us = Int64(i) * 1_000_001 }                        // block 1: delta
        let path = CaptureFixture.tempPath("crafted.spate")
        try CaptureFixture.write(rows, to: path, options: CaptureWriterOptions(blockRows: 300, zstd: false))
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let reader = try CaptureReader.open(path: path)
        var rng = SplitMix64(seed: 77)
        var errors = 0, decoded = 0
        for trial in 0..<1500 {
            var bytes = good
            let k = trial % reader.blocks.count
            let b = reader.blocks[k]
            let header = try reader.blockHeader(k)
            let j = Int(rng.next() % UInt64(header.chunks.count))
            let c = header.chunks[j]
            guard c.compression == .none, c.storedSize > 0 else { continue }
            let start = b.bodyOffset + c.offset
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                // Mostly the first bytes (validity, dictionary header, widths), sometimes anywhere.
                let at = rng.next() % 3 == 0 ? Int(rng.next() % UInt64(c.storedSize)) : Int(rng.next() % UInt64(min(c.storedSize, 24)))
                bytes[start + at] = UInt8(truncatingIfNeeded: rng.next())
            }
            // New chunk checksum into its descriptor, then the block header's own.
            let sum = bytes.withUnsafeBytes { ck_xxh64($0.baseAddress! + start, c.storedSize, Self.chunkSeed) }
            let d = b.offset + 48 + 64 * j + 48
            for q in 0..<8 { bytes[d + q] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(q))) }
            let hsum = bytes.withUnsafeBytes { ck_xxh64($0.baseAddress! + b.offset, b.headerSize - 8, Self.blockSeed) }
            for q in 0..<8 { bytes[b.offset + b.headerSize - 8 + q] = UInt8(truncatingIfNeeded: hsum >> (8 * UInt64(q))) }
            let p = CaptureDamageTests.write(bytes)
            let r = try CaptureReader.open(path: p)
            do {
                try r.readBlock(k, columns: Array(0..<7), batchCapacity: 7) { batch in
                    // Touch every value, strings included.
                    _ = CaptureFixture.rows(of: batch)
                }
                decoded += 1
            } catch let e as SpateError {
                #expect(e.message.hasPrefix("block \(k) at offset \(b.offset): "), "\(e.message)")
                errors += 1
            }
        }
        #expect(errors > 0 && decoded > 0, "errors \(errors), decoded \(decoded)")
        let encodings = Set(try reader.blocks.indices.flatMap { try reader.blockHeader($0).chunks.map(\.encoding) })
        #expect(encodings == [.plain, .frameOfReference, .delta, .bits, .dictionary, .lengths], "\(encodings)")
    }
}

/// The dictionary tells apart strings that differ in one byte anywhere, at every length
/// (its hash reads the tail with overlapping loads and compares inline).
@Suite struct CaptureDictionaryTests {
    @Test func nearlyEqualStringsStayDistinct() throws {
        var distinct: [String] = [""]
        for len in 1...40 {
            let base = String(repeating: "a", count: len)
            distinct.append(base)
            for pos in 0..<len {
                var bytes = Array(base.utf8)
                bytes[pos] = UInt8(ascii: "b")
                distinct.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        // Each string many times, so that the block is dictionary-encoded.
        var rows: [CaptureFixture.Row] = []
        var rng = SplitMix64(seed: 11)
        for i in 0..<(distinct.count * 10) {
            rows.append(CaptureFixture.Row(id: Int64(i), name: distinct[Int(rng.next() % UInt64(distinct.count))]))
        }
        let path = CaptureFixture.tempPath("dict.spate")
        _ = try CaptureFixture.write(rows, to: path, options: CaptureWriterOptions(blockRows: rows.count, threads: 0))
        let reader = try CaptureReader.open(path: path)
        #expect(try reader.blockHeader(0).chunks[3].encoding == .dictionary)
        let back = try CaptureFixture.readAll(reader)
        #expect(back.map(\.name) == rows.map(\.name))
    }
}
