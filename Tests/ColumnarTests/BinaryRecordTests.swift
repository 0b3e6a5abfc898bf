import CKernels
import Columnar
import SpateTestSupport
import Testing

/// Builds little-endian records the way a C program's fwrite of a packed struct does.
struct RecordWriter {
    var bytes: [UInt8] = []

    mutating func int<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func float(_ v: Float) { int(v.bitPattern) }
    mutating func double(_ v: Double) { int(v.bitPattern) }
    mutating func text(_ s: String, _ width: Int, pad: UInt8 = 0) {
        var b = Array(s.utf8.prefix(width))
        b += [UInt8](repeating: pad, count: width - b.count)
        bytes += b
    }
    mutating func pad(_ n: Int) { bytes += [UInt8](repeating: 0xAB, count: n) }
}

@Suite struct BinaryRecordTests {
    static let layoutText = """
        a:int8, b:int16, c:int32, d:int64, e:uint8, f:uint16, g:uint32, h:uint64, _:pad[3], \
        x:float32, y:float64, name:char[8], ts:timestamp_ms, s:timestamp_s, u:timestamp_us, n:timestamp_ns, flag:uint8, _:int32
        """

    static let columns: [(String, DataType)] = [
        ("a", .int64), ("b", .int64), ("c", .int64), ("d", .int64), ("e", .int64), ("f", .int64), ("g", .int64),
        ("h", .float64), ("x", .float64), ("y", .float64), ("name", .string), ("ts", .timestamp(.millisecond)),
        ("s", .timestamp(.millisecond)), ("u", .timestamp(.millisecond)), ("n", .timestamp(.millisecond)), ("flag", .bool),
    ]

    func record(_ w: inout RecordWriter, _ i: Int) {
        let k = Int64(i)
        w.int(Int8(truncatingIfNeeded: -k))
        w.int(Int16(truncatingIfNeeded: -1000 * k))
        w.int(Int32(truncatingIfNeeded: -100_000 * k))
        w.int(Int64.min + k)
        w.int(UInt8(truncatingIfNeeded: 200 + k))
        w.int(UInt16(truncatingIfNeeded: 65_000 + k))
        w.int(UInt32(4_000_000_000) + UInt32(k))
        w.int(UInt64.max - UInt64(k))
        w.pad(3)
        w.float(Float(k) + 0.5)
        w.double(-Double(k) / 3)
        w.text(i % 3 == 0 ? "héllo" : i % 3 == 1 ? "exactly8" : "sp", 8, pad: i % 2 == 0 ? 0 : 32)
        w.int(1_700_000_000_123 + k)
        w.int(-k)
        w.int(-1 - k * 1000)
        w.int(1_999_999 + k)
        w.int(UInt8(i % 2))
        w.int(Int32(7))
    }

    func expected(_ i: Int) -> [String] {
        let k = Int64(i)
        return [
            "\(Int8(truncatingIfNeeded: -k))", "\(Int16(truncatingIfNeeded: -1000 * k))", "\(Int32(truncatingIfNeeded: -100_000 * k))",
            "\(Int64.min + k)", "\(UInt8(truncatingIfNeeded: 200 + k))", "\(UInt16(truncatingIfNeeded: 65_000 + k))",
            "\(UInt32(4_000_000_000) + UInt32(k))", "\(Double(UInt64.max - UInt64(k)))", "\(Double(Float(k) + 0.5))", "\(-Double(k) / 3)",
            i % 3 == 0 ? "héllo" : i % 3 == 1 ? "exactly8" : "sp",
            Timestamp.formatMillis(1_700_000_000_123 + k), Timestamp.formatMillis(-k * 1000),
            // -1 - 1000k microseconds: the millisecond it falls in (floor).
            Timestamp.formatMillis(-1 - k), Timestamp.formatMillis((1_999_999 + k) / 1_000_000),
            i % 2 == 1 ? "true" : "false",
        ]
    }

    func read(_ bytes: [UInt8], layout: String = layoutText, columns: [(String, DataType)] = columns, header: Int = 0,
              capacity: Int = 4096, morsel: Int = 1 << 20) throws -> [[String]] {
        let l = try BinaryLayout.parse(layout)
        let cols = columns.map { BinaryColumn(name: $0.0, type: $0.1, field: l.field(named: $0.0)!) }
        let scan = try BinaryScan(file: MappedInput(contents: bytes, path: "r.bin"), layout: l, headerBytes: header,
                                  columns: cols, batchCapacity: capacity, morselSize: morsel)
        var rows: [[String]] = []
        while let m = scan.claimMorsel() {
            try scan.read(m) { b in
                #expect(b.count >= 1 && b.count <= capacity)
                rows += jsonRenderRows(b)
            }
        }
        return rows
    }

    @Test func layoutSyntax() throws {
        let l = try BinaryLayout.parse(Self.layoutText)
        #expect(l.recordSize == 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 3 + 4 + 8 + 8 + 8 * 4 + 1 + 4)
        #expect(l.field(named: "NAME")?.offset == 45)
        #expect(l.field(named: "_") == nil)
        #expect(l.description.hasPrefix("a:int8, b:int16"))
        for (bad, fragment) in [
            ("a:int", "unknown type 'int'"), ("a", "has no type"), ("a:int8,,b:int8", "field 2 of the layout is empty"),
            ("a:char[0]", "needs a length"), ("a:char[x]", "needs a length"), ("a:int8, A:int16", "appears twice"),
            ("a b:int8", "not a plain name"),
        ] {
            do {
                _ = try BinaryLayout.parse(bad)
                Issue.record("\(bad) parsed")
            } catch let e as SpateError {
                #expect(e.message.contains(fragment), "\(e.message)")
                #expect(e.hint != nil)
            }
        }
        // Padding alone is a layout of skipped bytes: valid, nothing to read.
        #expect(try BinaryLayout.parse("_:pad[2]").recordSize == 2)
    }

    @Test func everyFieldTypeAtEveryISAAndCapacity() throws {
        var w = RecordWriter()
        for i in 0..<300 { record(&w, i) }
        let want = (0..<300).map(expected)
        try jsonAtEveryISA { _ in
            for (capacity, morsel) in [(4096, 1 << 20), (1, 1), (3, 500), (64, 7777)] {
                let rows = try read(w.bytes, capacity: capacity, morsel: morsel)
                #expect(rows.count == 300)
                #expect(rows == want, "capacity \(capacity) morsel \(morsel)")
            }
        }
    }

    @Test func headerBytesAndProjection() throws {
        var w = RecordWriter()
        w.text("MAGIC HEADER", 16)
        for i in 0..<10 { w.int(Int32(i)); w.double(Double(i) * 1.5) }
        let rows = try read(w.bytes, layout: "id:int32, v:float64", columns: [("v", .float64), ("id", .int64)], header: 16)
        #expect(rows == (0..<10).map { ["\(Double($0) * 1.5)", "\($0)"] })
        #expect(try read([], layout: "id:int32", columns: [("id", .int64)]) == [])
        #expect(try read(Array(w.bytes.prefix(16)), layout: "id:int32", columns: [("id", .int64)], header: 16) == [])
    }

    @Test func sizeErrorsNameTheTrailingBytes() throws {
        var w = RecordWriter()
        for i in 0..<5 { w.int(Int64(i)); w.int(Int32(i)) }
        w.pad(5)
        do {
            _ = try read(w.bytes, layout: "a:int64, b:int32", columns: [("a", .int64)])
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message.contains("5 bytes trail the last whole record"), "\(e.message)")
            #expect(e.message.contains("record 6 would start at byte 60 of 65"), "\(e.message)")
            #expect(e.path == "r.bin" && e.kind == .data)
            #expect(e.hint?.contains("12 bytes: a:int64, b:int32") == true)
        }
        do {
            _ = try read([1, 2, 3], layout: "a:int64", columns: [("a", .int64)], header: 8)
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message.contains("less than its 8-byte header"))
        }
    }

    @Test func valueErrorsNameTheRecord() throws {
        var w = RecordWriter()
        for i in 0..<10 { w.int(UInt64(i == 7 ? UInt64(Int64.max) + 1 : UInt64(i))) }
        for morsel in [1 << 20, 16] {
            do {
                _ = try read(w.bytes, layout: "h:uint64", columns: [("h", .int64)], capacity: 3, morsel: morsel)
                Issue.record("no error")
            } catch let e as SpateError {
                #expect(e.message.contains("record 8 (byte 56): field 'h' holds 9223372036854775808, above BIGINT's maximum"), "\(e.message)")
                #expect(e.hint?.contains("DOUBLE") == true)
            }
        }
        // The same values read fine into DOUBLE.
        #expect(try read(w.bytes, layout: "h:uint64", columns: [("h", .float64)])[7] == ["9.223372036854776e+18"])

        var s = RecordWriter()
        s.int(Int64(1))
        s.int(Int64.max / 10)
        do {
            _ = try read(s.bytes, layout: "t:timestamp_s", columns: [("t", .timestamp(.millisecond))])
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message.contains("record 2 (byte 8)"), "\(e.message)")
        }

        var t = RecordWriter()
        t.text("ok", 4)
        t.bytes += [0x61, 0xFF, 0x62, 0]
        do {
            _ = try read(t.bytes, layout: "c:char[4]", columns: [("c", .string)])
            Issue.record("no error")
        } catch let e as SpateError {
            #expect(e.message.contains("record 2 (byte 4): field 'c' is not valid UTF-8"), "\(e.message)")
        }
    }

    /// The strided decoders agree with a plain Swift loop at every ISA, for every
    /// integer kind, at counts around vector widths.
    @Test func decodersMatchReference() {
        var rng = SplitMix64(seed: 7)
        for n in [0, 1, 3, 7, 63, 64, 65, 257] {
            let stride = 13
            let bytes = (0..<(n * stride + 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for (kind, size, signed) in [(CK_BIN_I8, 1, true), (CK_BIN_I16, 2, true), (CK_BIN_I32, 4, true), (CK_BIN_I64, 8, true),
                                         (CK_BIN_U8, 1, false), (CK_BIN_U16, 2, false), (CK_BIN_U32, 4, false)] {
                let want: [Int64] = (0..<n).map { r in
                    var v: UInt64 = 0
                    for k in 0..<size { v |= UInt64(bytes[r * stride + 5 + k]) << (8 * UInt64(k)) }
                    if signed && size < 8 && v >> (size * 8 - 1) & 1 == 1 { v |= ~0 << (UInt64(size) * 8) }
                    return Int64(bitPattern: v)
                }
                jsonAtEveryISA { level in
                    var out = [Int64](repeating: 0, count: max(n, 1))
                    let done = ck_binary_to_i64(bytes, stride, n, 5, Int32(kind.rawValue), &out)
                    #expect(done == n)
                    #expect(Array(out[0..<n]) == want, "kind \(kind.rawValue) n \(n) isa \(level.rawValue)")
                    var d = [Double](repeating: 0, count: max(n, 1))
                    _ = ck_binary_to_f64(bytes, stride, n, 5, Int32(kind.rawValue), &d)
                    #expect(Array(d[0..<n]) == want.map { Double($0) })
                }
            }
        }
    }
}
