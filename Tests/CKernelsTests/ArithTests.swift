import CKernels
import Testing

extension KernelTests {
    @Suite struct ArithTests {
        typealias IntKernel = (UnsafePointer<Int64>, UnsafePointer<Int64>, Int, UnsafeMutablePointer<Int64>) -> Int32
        typealias IntRef = (Int64, Int64) -> (partialValue: Int64, overflow: Bool)

        /// Each binary integer operation with Swift's reporting operator as reference.
        static func intOps() -> [(String, IntKernel, IntRef)] { [
            ("add", { ck_add_i64($0, $1, $2, $3) }, { $0.addingReportingOverflow($1) }),
            ("sub", { ck_sub_i64($0, $1, $2, $3) }, { $0.subtractingReportingOverflow($1) }),
            ("mul", { ck_mul_i64($0, $1, $2, $3) }, { $0.multipliedReportingOverflow(by: $1) }),
        ] }

        static func values(_ size: Int, wide: Bool, _ rng: inout TestRNG) -> [Int64] {
            (0..<size).map { _ in wide ? randomI64(&rng) : Int64(rng.next() % 2001) - 1000 }
        }

        @Test func integerColumns() {
            var rng = TestRNG(seed: 40)
            for size in edgeSizes {
                for wide in [false, true] {
                    let a = Self.values(size, wide: wide, &rng)
                    let b = Self.values(size, wide: wide, &rng)
                    for (name, kernel, ref) in Self.intOps() {
                        let results = zip(a, b).map { ref($0, $1) }
                        let want = results.map(\.partialValue)
                        let wantFlag: Int32 = results.contains { $0.overflow } ? 1 : 0
                        forEachLevel { level in
                            let ctx = "\(name) size=\(size) wide=\(wide) \(levelName(level))"
                            var out = [Int64](repeating: 0, count: size + 1)
                            let flag = withPtr(a, pad: 0) { pa in
                                withPtr(b, pad: 0) { pb in
                                    out.withUnsafeMutableBufferPointer { kernel(pa, pb, size, $0.baseAddress!) }
                                }
                            }
                            #expect(Array(out[0..<size]) == want && flag == wantFlag, "\(ctx)")
                            // In place: out == a, then out == b.
                            var inA = a + [0]
                            let flagA = withPtr(b, pad: 0) { pb in
                                inA.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, pb, size, $0.baseAddress!) }
                            }
                            #expect(Array(inA[0..<size]) == want && flagA == wantFlag, "in place a \(ctx)")
                            var inB = b + [0]
                            let flagB = withPtr(a, pad: 0) { pa in
                                inB.withUnsafeMutableBufferPointer { kernel(pa, $0.baseAddress!, size, $0.baseAddress!) }
                            }
                            #expect(Array(inB[0..<size]) == want && flagB == wantFlag, "in place b \(ctx)")
                        }
                    }
                }
            }
        }

        @Test func integerConstants() {
            var rng = TestRNG(seed: 41)
            for size in edgeSizes {
                for wide in [false, true] {
                    let a = Self.values(size, wide: wide, &rng)
                    for c in [Int64(0), 1, -1, 7, .min, .max] {
                        let cases: [(String, (UnsafePointer<Int64>, Int, UnsafeMutablePointer<Int64>) -> Int32, (Int64) -> (partialValue: Int64, overflow: Bool))] = [
                            ("add const", { ck_add_i64_const($0, c, $1, $2) }, { $0.addingReportingOverflow(c) }),
                            ("sub const", { ck_sub_i64_const($0, c, $1, $2) }, { $0.subtractingReportingOverflow(c) }),
                            ("mul const", { ck_mul_i64_const($0, c, $1, $2) }, { $0.multipliedReportingOverflow(by: c) }),
                            ("const sub", { ck_const_sub_i64(c, $0, $1, $2) }, { c.subtractingReportingOverflow($0) }),
                        ]
                        for (name, kernel, ref) in cases {
                            let results = a.map(ref)
                            let want = results.map(\.partialValue)
                            let wantFlag: Int32 = results.contains { $0.overflow } ? 1 : 0
                            forEachLevel { level in
                                let ctx = "\(name) c=\(c) size=\(size) wide=\(wide) \(levelName(level))"
                                var out = [Int64](repeating: 0, count: size + 1)
                                let flag = withPtr(a, pad: 0) { pa in
                                    out.withUnsafeMutableBufferPointer { kernel(pa, size, $0.baseAddress!) }
                                }
                                #expect(Array(out[0..<size]) == want && flag == wantFlag, "\(ctx)")
                                var inPlace = a + [0]
                                let flag2 = inPlace.withUnsafeMutableBufferPointer {
                                    kernel($0.baseAddress!, size, $0.baseAddress!)
                                }
                                #expect(Array(inPlace[0..<size]) == want && flag2 == wantFlag, "in place \(ctx)")
                            }
                        }
                    }
                }
            }
        }

        @Test func floatKernels() {
            var rng = TestRNG(seed: 42)
            typealias Bin = (UnsafePointer<Double>, UnsafePointer<Double>, Int, UnsafeMutablePointer<Double>) -> Void
            typealias Un = (UnsafePointer<Double>, Int, UnsafeMutablePointer<Double>) -> Void
            for size in edgeSizes {
                let a = (0..<size).map { _ in randomF64(&rng) }
                let b = (0..<size).map { _ in randomF64(&rng) }
                let binary: [(String, Bin, (Double, Double) -> Double)] = [
                    ("add", { ck_add_f64($0, $1, $2, $3) }, { $0 + $1 }),
                    ("sub", { ck_sub_f64($0, $1, $2, $3) }, { $0 - $1 }),
                    ("mul", { ck_mul_f64($0, $1, $2, $3) }, { $0 * $1 }),
                    ("div", { ck_div_f64($0, $1, $2, $3) }, { $0 / $1 }),
                ]
                var unary: [(String, Un, (Double) -> Double)] = []
                for c in [0.0, -0.0, 3.0, .nan, .infinity] {
                    unary += [
                        ("add const \(c)", { ck_add_f64_const($0, c, $1, $2) }, { $0 + c }),
                        ("sub const \(c)", { ck_sub_f64_const($0, c, $1, $2) }, { $0 - c }),
                        ("mul const \(c)", { ck_mul_f64_const($0, c, $1, $2) }, { $0 * c }),
                        ("div const \(c)", { ck_div_f64_const($0, c, $1, $2) }, { $0 / c }),
                        ("const sub \(c)", { ck_const_sub_f64(c, $0, $1, $2) }, { c - $0 }),
                        ("const div \(c)", { ck_const_div_f64(c, $0, $1, $2) }, { c / $0 }),
                    ]
                }
                forEachLevel { level in
                    for (name, kernel, ref) in binary {
                        let want = zip(a, b).map(ref)
                        var out = [Double](repeating: 0, count: size + 1)
                        withPtr(a, pad: 0) { pa in
                            withPtr(b, pad: 0) { pb in
                                out.withUnsafeMutableBufferPointer { kernel(pa, pb, size, $0.baseAddress!) }
                            }
                        }
                        #expect(zip(out, want).allSatisfy(sameDouble), "\(name) size=\(size) \(levelName(level))")
                        var inPlace = a + [0]
                        withPtr(b, pad: 0) { pb in
                            inPlace.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, pb, size, $0.baseAddress!) }
                        }
                        #expect(zip(inPlace, want).allSatisfy(sameDouble), "in place \(name) size=\(size) \(levelName(level))")
                    }
                    for (name, kernel, ref) in unary {
                        let want = a.map(ref)
                        var out = [Double](repeating: 0, count: size + 1)
                        withPtr(a, pad: 0) { pa in
                            out.withUnsafeMutableBufferPointer { kernel(pa, size, $0.baseAddress!) }
                        }
                        #expect(zip(out, want).allSatisfy(sameDouble), "\(name) size=\(size) \(levelName(level))")
                    }
                }
            }
        }

        @Test func conversionAndValidity() {
            var rng = TestRNG(seed: 43)
            for size in edgeSizes {
                let a = (0..<size).map { _ in randomI64(&rng) }
                let words = (size + 63) / 64
                let va = (0..<words).map { _ in rng.next() }
                let vb = (0..<words).map { _ in rng.next() }
                forEachLevel { level in
                    var out = [Double](repeating: 0, count: size + 1)
                    withPtr(a, pad: 0) { pa in ck_i64_to_f64(pa, size, &out) }
                    #expect(sameBits(Array(out[0..<size]), a.map(Double.init)), "i64->f64 size=\(size) \(levelName(level))")
                    var w = [UInt64](repeating: 7, count: words + 1)
                    withPtr(va, pad: 0) { pa in withPtr(vb, pad: 0) { pb in ck_validity_and(pa, pb, words, &w) } }
                    #expect(Array(w[0..<words]) == zip(va, vb).map { $0 & $1 } && w[words] == 7)
                    withPtr(vb, pad: 0) { pb in ck_validity_and(nil, pb, words, &w) }
                    #expect(Array(w[0..<words]) == vb)
                    ck_validity_and(nil, nil, words, &w)
                    #expect(Array(w[0..<words]) == [UInt64](repeating: ~0, count: words) && w[words] == 7)
                }
            }
        }
    }
}
