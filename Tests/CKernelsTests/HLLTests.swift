import CKernels
import Testing

/// A Swift reference for the HyperLogLog register update.
enum RefHLL {
    static let registers = Int(CK_HLL_REGISTERS)
    static let precision = UInt64(CK_HLL_PRECISION)

    static func index(_ h: UInt64) -> Int { Int(h >> (64 - precision)) }

    static func rank(_ h: UInt64) -> UInt8 {
        let rest = h << precision
        return rest == 0 ? UInt8(CK_HLL_MAX_RANK) : UInt8(rest.leadingZeroBitCount + 1)
    }
}

extension KernelTests {
    @Suite struct HLLTests {
        /// Hashes that hit the edges of index and rank: zero remainders (largest rank),
        /// top bit of the remainder set (rank 1), first and last register.
        static func hashes(_ size: Int, _ rng: inout TestRNG) -> [UInt64] {
            let special: [UInt64] = [0, .max, 1 << 63, 1 << 52, (1 << 52) - 1, 1 << 51, 0xFFF0_0000_0000_0000, 1]
            return (0..<size).map { i in
                switch rng.next() % 4 {
                case 0: return special[i % special.count]
                // Few bits set in the remainder: mid-range ranks.
                case 1: return (rng.next() & 0xFFF0_0000_0000_0000) | (1 << (rng.next() % 52))
                default: return rng.next()
                }
            }
        }

        @Test func rankAndIndexOfEdgeHashes() {
            #expect(RefHLL.rank(0) == 53 && RefHLL.index(0) == 0)
            #expect(RefHLL.rank(.max) == 1 && RefHLL.index(.max) == 4095)
            #expect(RefHLL.rank(1) == 52)
            #expect(RefHLL.rank(1 << 51) == 1)
            #expect(RefHLL.rank(1 << 50) == 2)
            forEachLevel { level in
                var regs = [UInt8](repeating: 0, count: RefHLL.registers)
                let hs: [UInt64] = [0, .max, 1, 1 << 50]
                withPtr(hs, pad: 0) { h in regs.withUnsafeMutableBufferPointer { ck_hll_update(h, nil, nil, nil, hs.count, $0.baseAddress!) } }
                #expect(regs[0] == 53 && regs[4095] == 1, "\(levelName(level))")
                #expect(regs.filter { $0 != 0 }.count == 2, "\(levelName(level))")
            }
        }

        @Test func updateMatchesReference() {
            forEachShape(seed: 40) { size, mode, sel, validity, rng in
                let hs = Self.hashes(size, &rng)
                AggTests.forEachGrouping(size: size, rng: &rng) { groups, ng, rng in
                    let ngroups = min(ng, 17)
                    let groups = groups.map { $0.map { $0 % UInt32(ngroups) } }
                    let m = RefHLL.registers
                    // Start from non-empty registers: the kernel only raises them.
                    let initial = (0..<(ngroups * m)).map { _ in rng.next() % 3 == 0 ? UInt8(rng.next() % 54) : 0 }
                    var want = initial
                    for r in consideredRows(sel, size: size) where isValid(validity, r) {
                        let g = AggTests.group(groups, r)
                        let slot = g * m + RefHLL.index(hs[r])
                        want[slot] = max(want[slot], RefHLL.rank(hs[r]))
                    }
                    let ctx = "groups=\(groups == nil ? "nil" : "\(ngroups)") \(shapeName(size, mode, validity))"
                    withPtr(hs, pad: 0) { h in
                        withOptPtr(groups, pad: 0) { g in
                            withOptPtr(validity, pad: 0) { vb in
                                checkRowKernel(sel, size: size, initial: initial, expected: want, "hll update \(ctx)") { s, n, regs in
                                    ck_hll_update(h, vb, g, s, n, regs)
                                }
                            }
                        }
                    }
                }
            }
        }

        @Test func mergeIsRegisterWiseMax() {
            var rng = TestRNG(seed: 41)
            for size in edgeSizes + [4096, 4097] {
                let a = (0..<size).map { _ in UInt8(rng.next() % 54) }
                let b = (0..<size).map { _ in UInt8(rng.next() % 54) }
                let want = zip(a, b).map { max($0, $1) }
                forEachLevel { level in
                    var dst = a + [0]
                    withPtr(b, pad: 0) { src in dst.withUnsafeMutableBufferPointer { ck_hll_merge($0.baseAddress!, src, size) } }
                    #expect(Array(dst.prefix(size)) == want, "merge size=\(size) \(levelName(level))")
                    // Merging a sketch into itself changes nothing.
                    dst.withUnsafeMutableBufferPointer { ck_hll_merge($0.baseAddress!, $0.baseAddress!, size) }
                    #expect(Array(dst.prefix(size)) == want, "self-merge size=\(size) \(levelName(level))")
                }
            }
        }

        @Test func histogramCountsRegisters() {
            var rng = TestRNG(seed: 42)
            for size in edgeSizes + [4096] {
                // Values past the largest rank count as the largest rank.
                let regs = (0..<size).map { _ in UInt8(rng.next() % 60) }
                var want = [UInt32](repeating: 0, count: Int(CK_HLL_MAX_RANK) + 1)
                for v in regs { want[min(Int(v), Int(CK_HLL_MAX_RANK))] += 1 }
                forEachLevel { level in
                    var got = [UInt32](repeating: 7, count: Int(CK_HLL_MAX_RANK) + 1)
                    withPtr(regs, pad: 0) { r in got.withUnsafeMutableBufferPointer { ck_hll_histogram(r, size, $0.baseAddress!) } }
                    #expect(got == want, "histogram size=\(size) \(levelName(level))")
                }
            }
        }
    }
}
