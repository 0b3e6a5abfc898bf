@testable import Engine
import SpateTestSupport
import Testing

/// The CSV writer's direct path for doubles must print exactly what Swift's shortest
/// round-trip `description` prints (ValueFormat.double), for every value.
struct DoubleFormatTests {
    func text(_ v: Double) -> String {
        let b = ByteBuffer(capacity: 64)
        b.appendDouble(v)
        return String(decoding: UnsafeBufferPointer(start: b.base, count: b.count), as: UTF8.self)
    }

    @Test func matchesDescription() {
        var rng = SplitMix64(seed: 11)
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 0.1, 0.2, 0.3, 1.5, 2.25, 0.001, 0.0009, 0.125, 1e15, 9e15,
                                9.007199254740992e15, 1e16, 123456789.125, -42.75, .nan, .infinity, -.infinity,
                                Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 1.0 / 3.0]
        for _ in 0..<200_000 {
            let n = Int64(bitPattern: rng.next() % 2_000_000_000) - 1_000_000_000
            let d = Double(rng.next() % 7 + 1)
            values.append(Double(n) / d)                             // averages
            values.append(Double(n) / 1000)                          // money with decimals
            values.append(Double(bitPattern: rng.next()))            // anything
            values.append(Double(rng.next() % 100_000) * 0.01)       // cents
            values.append(Double(n) * 997 / d + 0.5)                 // near the 2^40 bound
        }
        for v in values {
            #expect(text(v) == ValueFormat.double(v), "\(v.bitPattern)")
        }
    }
}
