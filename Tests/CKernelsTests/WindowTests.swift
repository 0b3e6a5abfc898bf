import CKernels
import Testing

/// floor((ts - offset) / size) * size + offset, without overflow: each remainder is
/// normalised to [0, size) on its own before subtracting.
func refTumbleStart(_ ts: Int64, size: Int64, offset: Int64) -> Int64 {
    var r1 = ts % size
    if r1 < 0 { r1 += size }
    var r2 = offset % size
    if r2 < 0 { r2 += size }
    var d = r1 - r2
    if d < 0 { d += size }
    return ts &- d
}

extension KernelTests {
    @Suite struct WindowTests {
        static let sizes: [Int64] = [1, 2, 7, 1000, 1024, 3_600_000, 1 << 62, .max]
        static let offsets: [Int64] = [0, 1, -1, 500, -123_456_789, .min, .max]

        @Test func referenceDefinition() {
            // The reference itself against the definition, where plain arithmetic is exact.
            for size: Int64 in [1, 2, 3, 7, 10, 64] {
                for offset: Int64 in -25...25 {
                    for ts: Int64 in -200...200 {
                        let s = refTumbleStart(ts, size: size, offset: offset)
                        #expect(s <= ts && ts < s + size && (s - offset) % size == 0,
                                "ts=\(ts) size=\(size) offset=\(offset) start=\(s)")
                    }
                }
            }
        }

        @Test func tumbleStart() {
            forEachShape(seed: 30) { size, mode, sel, validity, rng in
                let ts = (0..<size).map { _ -> Int64 in
                    switch rng.next() % 4 {
                    case 0: Int64(bitPattern: rng.next())
                    case 1: [Int64.min, .min + 1, -1, 0, 1, .max - 1, .max][Int(rng.next() % 7)]
                    default: Int64(bitPattern: rng.next()) >> 20
                    }
                }
                let sentinel = Int64(0x5A5A_5A5A)
                let initial = [Int64](repeating: sentinel, count: size + 1)
                let rows = consideredRows(sel, size: size).filter { isValid(validity, $0) }
                for wsize in Self.sizes {
                    for offset in Self.offsets where offset == 0 || rng.next() % 2 == 0 {
                        var want = initial
                        for r in rows { want[r] = refTumbleStart(ts[r], size: wsize, offset: offset) }
                        withPtr(ts, pad: 0) { t in
                            withOptPtr(validity, pad: 0) { vb in
                                checkRowKernel(sel, size: size, initial: initial, expected: want,
                                    "tumble size=\(wsize) offset=\(offset) \(shapeName(size, mode, validity))"
                                ) { s, n, out in ck_tumble_start(t, vb, s, n, wsize, offset, out) }
                            }
                        }
                    }
                }
            }
        }

        @Test func orderedTimestampsReuseWindows() {
            // Sorted event times (the common case, served from the previous row's
            // window), across window boundaries and around the int64 limits, where a
            // start below INT64_MIN wraps and must not be reused.
            var rng = TestRNG(seed: 31)
            var walk: [Int64] = []
            var t: Int64 = -5_000
            for _ in 0..<3000 {
                t += Int64(rng.next() % 40)
                walk.append(t)
            }
            let edges: [Int64] = [.min, .min + 1, .min + 2, 3, 4, 5, 6, .max - 7, .max - 1, .max]
            for ts in [walk, edges, walk.reversed()] {
                for wsize: Int64 in [7, 60, 64, 1000, .max] {
                    for offset: Int64 in [0, 3, -1, .min] {
                        let want = ts.map { refTumbleStart($0, size: wsize, offset: offset) }
                        forEachLevel { level in
                            var out = [Int64](repeating: 0, count: ts.count)
                            ck_tumble_start(ts, nil, nil, ts.count, wsize, offset, &out)
                            #expect(out == want, "size=\(wsize) offset=\(offset) \(levelName(level))")
                        }
                    }
                }
            }
        }

        @Test func negativeTimestamps() {
            let ts: [Int64] = [-1, -999, -1000, -1001, -2500, 0, 999, 1000]
            var out = [Int64](repeating: 0, count: ts.count)
            ck_tumble_start(ts, nil, nil, ts.count, 1000, 0, &out)
            #expect(out == [-1000, -1000, -1000, -2000, -3000, 0, 0, 1000])
            ck_tumble_start(ts, nil, nil, ts.count, 1000, 250, &out)
            #expect(out == [-750, -1750, -1750, -1750, -2750, -750, 250, 250])
            // In place (out == ts).
            var inPlace = ts
            inPlace.withUnsafeMutableBufferPointer {
                ck_tumble_start($0.baseAddress!, nil, nil, ts.count, 1000, 0, $0.baseAddress!)
            }
            #expect(inPlace == [-1000, -1000, -1000, -2000, -3000, 0, 0, 1000])
        }
    }
}
