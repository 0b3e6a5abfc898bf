import CKernels
import Testing

// MARK: - References

let allOps: [ck_cmp] = [CK_CMP_EQ, CK_CMP_NE, CK_CMP_LT, CK_CMP_LE, CK_CMP_GT, CK_CMP_GE]

func refCompare(_ op: ck_cmp, _ x: Int64, _ y: Int64) -> Bool {
    switch op {
    case CK_CMP_EQ: x == y
    case CK_CMP_NE: x != y
    case CK_CMP_LT: x < y
    case CK_CMP_LE: x <= y
    case CK_CMP_GT: x > y
    default: x >= y
    }
}

/// IEEE: Swift's Double operators are false on NaN except `!=`.
func refCompare(_ op: ck_cmp, _ x: Double, _ y: Double) -> Bool {
    switch op {
    case CK_CMP_EQ: x == y
    case CK_CMP_NE: x != y
    case CK_CMP_LT: x < y
    case CK_CMP_LE: x <= y
    case CK_CMP_GT: x > y
    default: x >= y
    }
}

let i64Pool: [Int64] = [.min, .min + 1, -3, -2, -1, 0, 1, 2, 3, 1 << 40, .max - 1, .max]
let f64Pool: [Double] = [
    -.infinity, -2, -1.5, -1, -0.0, 0.0, 1, 1.5, 2, .infinity, .nan, -.nan,
    .leastNonzeroMagnitude, .greatestFiniteMagnitude,
]

func randomI64(_ rng: inout TestRNG) -> Int64 {
    rng.next() % 4 == 0 ? Int64(bitPattern: rng.next()) : i64Pool[Int(rng.next() % UInt64(i64Pool.count))]
}

func randomF64(_ rng: inout TestRNG) -> Double {
    rng.next() % 4 == 0
        ? Double(Int64(bitPattern: rng.next()) >> 40) / 7 : f64Pool[Int(rng.next() % UInt64(f64Pool.count))]
}

/// Calls `kernel(sel, n, out)` at every level, out of place and (with a selection)
/// in place with out_sel == sel, and checks the result against `expected`; the slot
/// after the n-th output entry must stay untouched.
func checkSelKernel(
    _ sel: [UInt32]?, size: Int, expected: [UInt32], _ context: @autoclosure () -> String,
    _ kernel: (UnsafePointer<UInt32>?, Int, UnsafeMutablePointer<UInt32>) -> Int
) {
    let n = sel?.count ?? size
    let sentinel: UInt32 = 0xDEAD_BEEF
    forEachLevel { level in
        var out = [UInt32](repeating: sentinel, count: n + 1)
        let k = withOptPtr(sel, pad: 0) { s in
            out.withUnsafeMutableBufferPointer { kernel(s, n, $0.baseAddress!) }
        }
        let ok = k <= n && Array(out[0..<k]) == expected && out[n] == sentinel
        #expect(ok, "\(context()) \(levelName(level)): got \(k) rows, want \(expected.count)")
        if let sel {
            var buf = sel + [sentinel]
            let k2 = buf.withUnsafeMutableBufferPointer { b in
                kernel(UnsafePointer(b.baseAddress!), n, b.baseAddress!)
            }
            let ok2 = k2 <= n && Array(buf[0..<k2]) == expected && buf[n] == sentinel
            #expect(ok2, "in place \(context()) \(levelName(level))")
        }
    }
}

/// Runs `body` for every size x selection mode x null density.
func forEachShape(seed: UInt64, _ body: (Int, SelMode, [UInt32]?, [UInt64]?, inout TestRNG) -> Void) {
    var rng = TestRNG(seed: seed)
    for size in edgeSizes {
        for mode in SelMode.allCases {
            for density in nullDensities {
                let sel = makeSelection(mode, size: size, rng: &rng)
                let validity = makeValidity(size: size, nullFraction: density, rng: &rng)
                body(size, mode, sel, validity, &rng)
            }
        }
    }
}

func shapeName(_ size: Int, _ mode: SelMode, _ validity: [UInt64]?) -> String {
    "size=\(size) \(mode) validity=\(validity == nil ? "nil" : "bitmap")"
}

extension KernelTests {
    @Suite struct FilterTests {
        @Test func i64Const() {
            forEachShape(seed: 1) { size, mode, sel, validity, rng in
                let values = (0..<size).map { _ in randomI64(&rng) }
                let rows = consideredRows(sel, size: size)
                for op in allOps {
                    for c in [Int64(0), -1, .min, .max] {
                        let want = rows.filter { isValid(validity, $0) && refCompare(op, values[$0], c) }
                            .map(UInt32.init)
                        withPtr(values, pad: 0) { v in
                            withOptPtr(validity, pad: 0) { vb in
                                checkSelKernel(sel, size: size, expected: want,
                                    "i64 op=\(op.rawValue) c=\(c) \(shapeName(size, mode, validity))"
                                ) { s, n, out in ck_filter_i64_const(op, v, vb, s, n, c, out) }
                            }
                        }
                    }
                }
            }
        }

        @Test func f64Const() {
            forEachShape(seed: 2) { size, mode, sel, validity, rng in
                let values = (0..<size).map { _ in randomF64(&rng) }
                let rows = consideredRows(sel, size: size)
                for op in allOps {
                    for c in [0.0, -0.0, 1.5, .nan, -.infinity] {
                        let want = rows.filter { isValid(validity, $0) && refCompare(op, values[$0], c) }
                            .map(UInt32.init)
                        withPtr(values, pad: 0) { v in
                            withOptPtr(validity, pad: 0) { vb in
                                checkSelKernel(sel, size: size, expected: want,
                                    "f64 op=\(op.rawValue) c=\(c) \(shapeName(size, mode, validity))"
                                ) { s, n, out in ck_filter_f64_const(op, v, vb, s, n, c, out) }
                            }
                        }
                    }
                }
            }
        }

        @Test func i64Cols() {
            forEachShape(seed: 3) { size, mode, sel, va, rng in
                let a = (0..<size).map { _ in randomI64(&rng) }
                let b = (0..<size).map { i in rng.next() % 3 == 0 ? a[i] : randomI64(&rng) }
                // Second bitmap: none, or one with 10% nulls, so both-NULL, one-NULL and
                // both-present combinations all occur.
                let vb = rng.next() % 2 == 0 ? nil : makeValidity(size: size, nullFraction: 0.1, rng: &rng)
                let rows = consideredRows(sel, size: size)
                for op in allOps {
                    let want = rows.filter {
                        isValid(va, $0) && isValid(vb, $0) && refCompare(op, a[$0], b[$0])
                    }.map(UInt32.init)
                    withPtr(a, pad: 0) { pa in
                        withPtr(b, pad: 0) { pb in
                            withOptPtr(va, pad: 0) { pva in
                                withOptPtr(vb, pad: 0) { pvb in
                                    checkSelKernel(sel, size: size, expected: want,
                                        "i64 cols op=\(op.rawValue) vb=\(vb != nil) \(shapeName(size, mode, va))"
                                    ) { s, n, out in ck_filter_i64_cols(op, pa, pva, pb, pvb, s, n, out) }
                                    // Same columns the other way round: only vb present.
                                    let want2 = rows.filter {
                                        isValid(vb, $0) && refCompare(op, a[$0], b[$0])
                                    }.map(UInt32.init)
                                    checkSelKernel(sel, size: size, expected: want2,
                                        "i64 cols op=\(op.rawValue) va=nil \(shapeName(size, mode, vb))"
                                    ) { s, n, out in ck_filter_i64_cols(op, pa, nil, pb, pvb, s, n, out) }
                                }
                            }
                        }
                    }
                }
            }
        }

        @Test func f64Cols() {
            forEachShape(seed: 4) { size, mode, sel, va, rng in
                let a = (0..<size).map { _ in randomF64(&rng) }
                let b = (0..<size).map { i in rng.next() % 3 == 0 ? a[i] : randomF64(&rng) }
                let vb = rng.next() % 2 == 0 ? nil : makeValidity(size: size, nullFraction: 0.5, rng: &rng)
                let rows = consideredRows(sel, size: size)
                for op in allOps {
                    let want = rows.filter {
                        isValid(va, $0) && isValid(vb, $0) && refCompare(op, a[$0], b[$0])
                    }.map(UInt32.init)
                    withPtr(a, pad: 0) { pa in
                        withPtr(b, pad: 0) { pb in
                            withOptPtr(va, pad: 0) { pva in
                                withOptPtr(vb, pad: 0) { pvb in
                                    checkSelKernel(sel, size: size, expected: want,
                                        "f64 cols op=\(op.rawValue) vb=\(vb != nil) \(shapeName(size, mode, va))"
                                    ) { s, n, out in ck_filter_f64_cols(op, pa, pva, pb, pvb, s, n, out) }
                                }
                            }
                        }
                    }
                }
            }
        }

        @Test func stringEqualsConst() {
            forEachShape(seed: 5) { size, mode, sel, validity, rng in
                let (strings, base) = makeStrings(count: size, rng: &rng)
                let column = StringColumn(strings)
                let rows = consideredRows(sel, size: size)
                for clen in [0, 1, 7, 8, 16, 17, 33, 70] {
                    let c = Array(base[0..<clen])
                    for negate in [false, true] {
                        let want = rows.filter { isValid(validity, $0) && ((strings[$0] == c) != negate) }
                            .map(UInt32.init)
                        withPtr(column.offsets, pad: 0) { offs in
                            withPtr(column.arena, pad: 0) { arena in
                                withPtr(c, pad: 0) { cp in
                                    withOptPtr(validity, pad: 0) { vb in
                                        checkSelKernel(sel, size: size, expected: want,
                                            "str clen=\(clen) negate=\(negate) \(shapeName(size, mode, validity))"
                                        ) { s, n, out in
                                            ck_filter_str_eq_const(offs, arena, vb, s, n, cp, clen, negate ? 1 : 0, out)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        @Test func stringEmptyColumnWithNullArena() {
            // All strings empty: the arena may be NULL, and so may the constant.
            let offsets = [Int32](repeating: 0, count: 6)
            let got = offsets.withUnsafeBufferPointer { offs in
                var out = [UInt32](repeating: 0, count: 5)
                let k = ck_filter_str_eq_const(offs.baseAddress!, nil, nil, nil, 5, nil, 0, 0, &out)
                return Array(out[0..<k])
            }
            #expect(got == [0, 1, 2, 3, 4])
        }

        @Test func bool() {
            forEachShape(seed: 6) { size, mode, sel, validity, rng in
                // Mostly 0/1; a few other non-zero bytes, which count as true.
                let values = (0..<size).map { _ -> UInt8 in
                    rng.next() % 10 == 0 ? UInt8(truncatingIfNeeded: rng.next() | 1) : UInt8(rng.next() & 1)
                }
                let rows = consideredRows(sel, size: size)
                for want in [UInt8(0), 1] {
                    let expected = rows.filter { isValid(validity, $0) && ((values[$0] != 0) == (want != 0)) }
                        .map(UInt32.init)
                    withPtr(values, pad: 0) { v in
                        withOptPtr(validity, pad: 0) { vb in
                            checkSelKernel(sel, size: size, expected: expected,
                                "bool want=\(want) \(shapeName(size, mode, validity))"
                            ) { s, n, out in ck_filter_bool(v, vb, s, n, want, out) }
                        }
                    }
                }
            }
        }

        @Test func selectionSetOperations() {
            var rng = TestRNG(seed: 7)
            for size in edgeSizes {
                for (pa, pb) in [(2, 2), (10, 2), (2, 10), (1, 1), (1000, 1000)] {
                    let a = (0..<size).filter { _ in rng.next() % UInt64(pa) == 0 }.map(UInt32.init)
                    let b = (0..<size).filter { _ in rng.next() % UInt64(pb) == 0 }.map(UInt32.init)
                    let setB = Set(b)
                    let setA = Set(a)
                    let inter = a.filter { setB.contains($0) }
                    let union = Array(setA.union(setB)).sorted()
                    let diff = a.filter { !setB.contains($0) }
                    forEachLevel { level in
                        let ctx = "size=\(size) na=\(a.count) nb=\(b.count) \(levelName(level))"
                        withPtr(a, pad: 0) { ap in
                            withPtr(b, pad: 0) { bp in
                                var out = [UInt32](repeating: 0, count: a.count + b.count + 1)
                                var k = ck_sel_intersect(ap, a.count, bp, b.count, &out)
                                #expect(Array(out[0..<k]) == inter, "intersect \(ctx)")
                                k = ck_sel_union(ap, a.count, bp, b.count, &out)
                                #expect(Array(out[0..<k]) == union, "union \(ctx)")
                                k = ck_sel_difference(ap, a.count, bp, b.count, &out)
                                #expect(Array(out[0..<k]) == diff, "difference \(ctx)")
                            }
                        }
                        // out == a for intersect and difference.
                        var buf = a + [0]
                        let ki = withPtr(b, pad: 0) { bp in
                            buf.withUnsafeMutableBufferPointer {
                                ck_sel_intersect($0.baseAddress!, a.count, bp, b.count, $0.baseAddress!)
                            }
                        }
                        #expect(Array(buf[0..<ki]) == inter, "intersect in place \(ctx)")
                        buf = a + [0]
                        let kd = withPtr(b, pad: 0) { bp in
                            buf.withUnsafeMutableBufferPointer {
                                ck_sel_difference($0.baseAddress!, a.count, bp, b.count, $0.baseAddress!)
                            }
                        }
                        #expect(Array(buf[0..<kd]) == diff, "difference in place \(ctx)")
                    }
                }
            }
        }
    }
}
