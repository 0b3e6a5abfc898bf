import CKernels
import Testing

// MARK: - Reference hash (an independent Swift transcription of hash.c's definition)

enum RefHash {
    static let seed: UInt64 = 0x2D35_8DCC_AA6C_78A5
    static let m1: UInt64 = 0xF2A7_4DE4_52E6_B439
    static let m2: UInt64 = 0x6513_270E_269E_0D37
    static let strSeed: UInt64 = 0x8BB8_4B93_962E_ACC9
    static let k1: UInt64 = 0x4B33_A62E_D433_D4A3
    static let k2: UInt64 = 0x9FB2_1C65_1E98_DF25
    static let k3: UInt64 = 0xA076_1D64_78BD_642F
    static let k4: UInt64 = 0xE703_7ED1_A0B4_28DB

    static func mix(_ x0: UInt64) -> UInt64 {
        var x = x0
        x ^= x >> 31
        x &*= m1
        x ^= x >> 29
        x &*= m2
        x ^= x >> 32
        return x
    }

    static func i64(_ v: Int64) -> UInt64 { mix(UInt64(bitPattern: v) ^ seed) }

    static func combine(_ s: UInt64, _ h: UInt64) -> UInt64 { mix(((s << 27) | (s >> 37)) &+ h) }

    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (hi, lo) = a.multipliedFullWidth(by: b)
        return lo ^ hi
    }

    static func load(_ p: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(p[at + i]) << UInt64(8 * i) }
        return v
    }

    static func bytes(_ p: [UInt8]) -> UInt64 {
        let len = p.count
        var h = strSeed ^ (UInt64(len) &* m1)
        var a: UInt64 = 0
        var b: UInt64 = 0
        if len <= 16 {
            if len >= 4 {
                let d = len >= 8 ? 4 : 0
                a = load(p, 0, 4) << 32 | load(p, len - 4, 4)
                b = load(p, d, 4) << 32 | load(p, len - 4 - d, 4)
            } else if len > 0 {
                a = UInt64(p[0]) | UInt64(p[len >> 1]) << 8 | UInt64(p[len - 1]) << 16
            }
        } else {
            var i = 0
            repeat {
                h = fold(load(p, i, 8) ^ k1, load(p, i + 8, 8) ^ k2 ^ h)
                i += 16
            } while len - i > 16
            a = load(p, len - 16, 8)
            b = load(p, len - 8, 8)
        }
        return mix(fold(a ^ k3, b ^ k4 ^ h))
    }
}

/// Runs `kernel(sel, n, out)` at every level on a copy of `initial` and checks that
/// the result equals `expected` exactly (so all levels agree bit for bit).
func checkRowKernel<T: Equatable>(
    _ sel: [UInt32]?, size: Int, initial: [T], expected: [T], _ context: @autoclosure () -> String,
    _ kernel: (UnsafePointer<UInt32>?, Int, UnsafeMutablePointer<T>) -> Void
) {
    let n = sel?.count ?? size
    forEachLevel { level in
        var out = initial
        withOptPtr(sel, pad: 0) { s in out.withUnsafeMutableBufferPointer { kernel(s, n, $0.baseAddress!) } }
        #expect(out == expected, "\(context()) \(levelName(level))")
    }
}

extension KernelTests {
    @Suite struct HashTests {
        static let sentinel: UInt64 = 0xAAAA_AAAA_AAAA_AAAA

        @Test func scalarHelpersMatchReference() {
            var rng = TestRNG(seed: 10)
            for v in i64Pool + (0..<200).map({ _ in Int64(bitPattern: rng.next()) }) {
                #expect(ck_hash_i64_one(v) == RefHash.i64(v))
                let s = rng.next()
                #expect(ck_hash_combine_one(s, ck_hash_i64_one(v)) == RefHash.combine(s, RefHash.i64(v)))
            }
            for len in 0...70 {
                let bytes = (0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let h = withPtr(bytes, pad: 0) { ck_hash_bytes_one($0, len) }
                #expect(h == RefHash.bytes(bytes), "len=\(len)")
            }
            #expect(ck_hash_bytes_one(nil, 0) == RefHash.bytes([]))
            #expect(CK_HASH_NULL != RefHash.bytes([]) && CK_HASH_NULL != RefHash.i64(0))
        }

        @Test func i64Column() {
            forEachShape(seed: 11) { size, mode, sel, validity, rng in
                let values = (0..<size).map { _ in randomI64(&rng) }
                let initial = [UInt64](repeating: Self.sentinel, count: size + 1)
                var want = initial
                for r in consideredRows(sel, size: size) {
                    want[r] = isValid(validity, r) ? RefHash.i64(values[r]) : CK_HASH_NULL
                }
                withPtr(values, pad: 0) { v in
                    withOptPtr(validity, pad: 0) { vb in
                        checkRowKernel(sel, size: size, initial: initial, expected: want,
                            "hash i64 \(shapeName(size, mode, validity))"
                        ) { s, n, out in ck_hash_i64(v, vb, s, n, out) }
                    }
                }
            }
        }

        @Test func combineI64Column() {
            forEachShape(seed: 12) { size, mode, sel, validity, rng in
                let values = (0..<size).map { _ in randomI64(&rng) }
                let initial = (0...size).map { _ in rng.next() }
                var want = initial
                for r in consideredRows(sel, size: size) {
                    want[r] = RefHash.combine(initial[r], isValid(validity, r) ? RefHash.i64(values[r]) : CK_HASH_NULL)
                }
                withPtr(values, pad: 0) { v in
                    withOptPtr(validity, pad: 0) { vb in
                        checkRowKernel(sel, size: size, initial: initial, expected: want,
                            "combine i64 \(shapeName(size, mode, validity))"
                        ) { s, n, out in ck_hash_combine_i64(v, vb, s, n, out) }
                    }
                }
            }
        }

        @Test func stringColumns() {
            forEachShape(seed: 13) { size, mode, sel, validity, rng in
                let (strings, _) = makeStrings(count: size, rng: &rng)
                let column = StringColumn(strings)
                let initial = [UInt64](repeating: Self.sentinel, count: size + 1)
                let seeds = (0...size).map { _ in rng.next() }
                var want = initial
                var wantCombined = seeds
                for r in consideredRows(sel, size: size) {
                    let h = isValid(validity, r) ? RefHash.bytes(strings[r]) : CK_HASH_NULL
                    want[r] = h
                    wantCombined[r] = RefHash.combine(seeds[r], h)
                }
                withPtr(column.offsets, pad: 0) { offs in
                    withPtr(column.arena, pad: 0) { arena in
                        withOptPtr(validity, pad: 0) { vb in
                            checkRowKernel(sel, size: size, initial: initial, expected: want,
                                "hash str \(shapeName(size, mode, validity))"
                            ) { s, n, out in ck_hash_str(offs, arena, vb, s, n, out) }
                            checkRowKernel(sel, size: size, initial: seeds, expected: wantCombined,
                                "combine str \(shapeName(size, mode, validity))"
                            ) { s, n, out in ck_hash_combine_str(offs, arena, vb, s, n, out) }
                        }
                    }
                }
            }
        }

        @Test func avalancheAndBitBalance() {
            // Flipping any input bit flips about half the output bits.
            var rng = TestRNG(seed: 14)
            let inputs = (0..<256).map { i in i < 128 ? Int64(i) : Int64(bitPattern: rng.next()) }
            for bit in 0..<64 {
                var flipped = 0
                for v in inputs {
                    let h1 = ck_hash_i64_one(v)
                    let h2 = ck_hash_i64_one(v ^ Int64(bitPattern: 1 << UInt64(bit)))
                    flipped += (h1 ^ h2).nonzeroBitCount
                }
                let mean = Double(flipped) / Double(inputs.count)
                #expect(mean > 30 && mean < 34, "input bit \(bit): \(mean) output bits flip")
            }
            // Consecutive keys spread evenly over low-bit and high-bit buckets.
            let n = 1 << 16
            let keys = (0..<n).map { Int64($0) }
            var hashes = [UInt64](repeating: 0, count: n)
            ck_hash_i64(keys, nil, nil, n, &hashes)
            for (name, bucket) in [("low", { (h: UInt64) in Int(h & 255) }), ("high", { (h: UInt64) in Int(h >> 56) })] {
                var counts = [Int](repeating: 0, count: 256)
                for h in hashes { counts[bucket(h)] += 1 }
                let expected = Double(n) / 256
                let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
                // 255 degrees of freedom: mean 255, 99.99th percentile about 350.
                #expect(chi2 < 350, "\(name) bits chi2 = \(chi2)")
            }
        }

        @Test func partition() {
            var rng = TestRNG(seed: 15)
            for size in edgeSizes {
                for mode in SelMode.allCases {
                    let sel = makeSelection(mode, size: size, rng: &rng)
                    let hashes = (0..<size).map { _ in rng.next() }
                    for nparts in [UInt32(1), 2, 3, 7, 64, 1000] {
                        let rows = consideredRows(sel, size: size)
                        let part = { (r: Int) in Int(((hashes[r] >> 32) * UInt64(nparts)) >> 32) }
                        var wantCounts = [UInt32](repeating: 0, count: Int(nparts))
                        for r in rows { wantCounts[part(r)] += 1 }
                        let wantSel = (0..<Int(nparts)).flatMap { p in rows.filter { part($0) == p } }.map(UInt32.init)
                        forEachLevel { level in
                            var counts = [UInt32](repeating: 99, count: Int(nparts))
                            var out = [UInt32](repeating: 0, count: rows.count + 1)
                            withPtr(hashes, pad: 0) { h in
                                withOptPtr(sel, pad: 0) { s in
                                    ck_partition_hash(h, s, rows.count, nparts, &counts, &out)
                                }
                            }
                            let ctx = "size=\(size) \(mode) nparts=\(nparts) \(levelName(level))"
                            #expect(counts == wantCounts, "counts \(ctx)")
                            #expect(Array(out[0..<rows.count]) == wantSel, "rows \(ctx)")
                        }
                    }
                }
            }
        }
    }
}
