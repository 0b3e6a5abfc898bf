import CKernels
import Testing

/// Equal, or both NaN (x86 may return either NaN operand when both are NaN, and the
/// compiler may commute operands).
func sameDouble(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
}

extension KernelTests {
    @Suite struct AggTests {
        /// Runs `body(groups, ngroups)` for the global aggregate (nil) and a few group
        /// counts.
        static func forEachGrouping(
            size: Int, rng: inout TestRNG, _ body: ([UInt32]?, Int, inout TestRNG) -> Void
        ) {
            body(nil, 1, &rng)
            for g in [1, 3, 100] {
                body((0..<size).map { _ in UInt32(rng.next() % UInt64(g)) }, g, &rng)
            }
        }

        static func group(_ groups: [UInt32]?, _ r: Int) -> Int { groups.map { Int($0[r]) } ?? 0 }

        @Test func counts() {
            forEachShape(seed: 20) { size, mode, sel, validity, rng in
                Self.forEachGrouping(size: size, rng: &rng) { groups, ng, rng in
                    let initial = (0..<ng).map { Int64($0) * 1000 }
                    var wantStar = initial
                    var wantCount = initial
                    for r in consideredRows(sel, size: size) {
                        wantStar[Self.group(groups, r)] += 1
                        if isValid(validity, r) { wantCount[Self.group(groups, r)] += 1 }
                    }
                    let ctx = "groups=\(groups == nil ? "nil" : "\(ng)") \(shapeName(size, mode, validity))"
                    withOptPtr(groups, pad: 0) { g in
                        withOptPtr(validity, pad: 0) { vb in
                            checkRowKernel(sel, size: size, initial: initial, expected: wantStar,
                                "count(*) \(ctx)") { s, n, acc in ck_agg_count_star(g, s, n, acc) }
                            checkRowKernel(sel, size: size, initial: initial, expected: wantCount,
                                "count \(ctx)") { s, n, acc in ck_agg_count(vb, g, s, n, acc) }
                        }
                    }
                }
            }
        }

        @Test func integerAggregates() {
            forEachShape(seed: 21) { size, mode, sel, validity, rng in
                // Extremes make the sums wrap.
                let values = (0..<size).map { _ in randomI64(&rng) }
                Self.forEachGrouping(size: size, rng: &rng) { groups, ng, rng in
                    let sums0 = (0..<ng).map { _ in Int64(bitPattern: rng.next() >> 8) }
                    let mins0 = [Int64](repeating: .max, count: ng)
                    let maxs0 = [Int64](repeating: .min, count: ng)
                    var sums = sums0, mins = mins0, maxs = maxs0
                    var overflowed = false
                    for r in consideredRows(sel, size: size) where isValid(validity, r) {
                        let g = Self.group(groups, r)
                        let (t, o) = sums[g].addingReportingOverflow(values[r])
                        overflowed = overflowed || o
                        sums[g] = t
                        mins[g] = min(mins[g], values[r])
                        maxs[g] = max(maxs[g], values[r])
                    }
                    let ctx = "groups=\(groups == nil ? "nil" : "\(ng)") \(shapeName(size, mode, validity))"
                    withPtr(values, pad: 0) { v in
                        withOptPtr(groups, pad: 0) { g in
                            withOptPtr(validity, pad: 0) { vb in
                                checkRowKernel(sel, size: size, initial: sums0, expected: sums,
                                    "sum i64 \(ctx)") { s, n, acc in ck_agg_sum_i64(v, vb, g, s, n, acc) }
                                var flagged = false
                                checkRowKernel(sel, size: size, initial: sums0, expected: sums,
                                    "checked sum i64 \(ctx)") { s, n, acc in
                                    flagged = ck_agg_sum_i64_checked(v, vb, g, s, n, acc) != 0 || flagged
                                }
                                #expect(flagged == overflowed, "checked sum overflow flag \(ctx)")
                                checkRowKernel(sel, size: size, initial: mins0, expected: mins,
                                    "min i64 \(ctx)") { s, n, acc in ck_agg_min_i64(v, vb, g, s, n, acc) }
                                checkRowKernel(sel, size: size, initial: maxs0, expected: maxs,
                                    "max i64 \(ctx)") { s, n, acc in ck_agg_max_i64(v, vb, g, s, n, acc) }
                            }
                        }
                    }
                }
            }
        }

        @Test func floatAggregates() {
            forEachShape(seed: 22) { size, mode, sel, validity, rng in
                // Mostly finite values (so sums stay comparable), some NaN / inf / -0.0.
                let values = (0..<size).map { _ -> Double in
                    rng.next() % 8 == 0 ? randomF64(&rng) : Double(Int64(bitPattern: rng.next()) >> 11) / 3
                }
                Self.forEachGrouping(size: size, rng: &rng) { groups, ng, rng in
                    let sums0 = [Double](repeating: -0.0, count: ng)
                    let mins0 = [Double](repeating: .infinity, count: ng)
                    let maxs0 = [Double](repeating: -.infinity, count: ng)
                    var sums = sums0, mins = mins0, maxs = maxs0
                    for r in consideredRows(sel, size: size) where isValid(validity, r) {
                        let g = Self.group(groups, r)
                        sums[g] += values[r]
                        if values[r] < mins[g] { mins[g] = values[r] }
                        if values[r] > maxs[g] { maxs[g] = values[r] }
                    }
                    let n = sel?.count ?? size
                    let ctx = "groups=\(groups == nil ? "nil" : "\(ng)") \(shapeName(size, mode, validity))"
                    forEachLevel { level in
                        var gotSums = sums0, gotMins = mins0, gotMaxs = maxs0
                        withPtr(values, pad: 0) { v in
                            withOptPtr(groups, pad: 0) { g in
                                withOptPtr(validity, pad: 0) { vb in
                                    withOptPtr(sel, pad: 0) { s in
                                        ck_agg_sum_f64(v, vb, g, s, n, &gotSums)
                                        ck_agg_min_f64(v, vb, g, s, n, &gotMins)
                                        ck_agg_max_f64(v, vb, g, s, n, &gotMaxs)
                                    }
                                }
                            }
                        }
                        // Row-order addition at every level: bit-identical sums.
                        #expect(zip(gotSums, sums).allSatisfy(sameDouble), "sum f64 \(ctx) \(levelName(level))")
                        #expect(sameBits(gotMins, mins), "min f64 \(ctx) \(levelName(level))")
                        #expect(sameBits(gotMaxs, maxs), "max f64 \(ctx) \(levelName(level))")
                    }
                }
            }
        }

        @Test func floatMinMaxSignedZeroAndNaN() {
            let values: [Double] = [.nan, -0.0, 0.0, .nan]
            forEachLevel { level in
                var mn = [Double.infinity], mx = [-Double.infinity]
                ck_agg_min_f64(values, nil, nil, nil, 4, &mn)
                ck_agg_max_f64(values, nil, nil, nil, 4, &mx)
                // NaN never wins; the first of -0.0 / +0.0 seen stays.
                #expect(mn[0].bitPattern == (-0.0).bitPattern, "\(levelName(level))")
                #expect(mx[0].bitPattern == (-0.0).bitPattern, "\(levelName(level))")
            }
        }
    }
}
