// Kernel throughput at every ISA level.
//
// Each benchmark runs one kernel call over a batch per scaled iteration, so
//     values per second = throughput (calls/s) x the batch size in the name.
// "100k" batches (0.8 MB of int64) stay in L2; "10M" (80 MB) measures memory speed.
// The level is forced with ck_isa_set at the start of every measured call (a few ns).
import Benchmark
import CKernels

// MARK: - Data (built once, shared read-only by every benchmark)

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A read-only buffer that lives for the whole process.
struct Buffer<T>: @unchecked Sendable {
    let ptr: UnsafeMutablePointer<T>
    let count: Int
    init(_ values: [T]) {
        ptr = .allocate(capacity: max(values.count, 1))
        _ = UnsafeMutableBufferPointer(start: ptr, count: values.count).initialize(from: values)
        count = values.count
    }
    init(repeating v: T, count: Int) {
        ptr = .allocate(capacity: max(count, 1))
        ptr.initialize(repeating: v, count: count)
        self.count = count
    }
    var const: UnsafePointer<T> { UnsafePointer(ptr) }
}

let small = 100_000
let large = 10_000_000

/// Uniform in [-1e6, 1e6): "> 0" keeps about half the rows (the branchy worst case).
func randomValues(_ n: Int, seed: UInt64) -> Buffer<Int64> {
    var rng = SplitMix(state: seed)
    return Buffer((0..<n).map { _ in Int64(rng.next() % 2_000_000) - 1_000_000 })
}

let valuesSmall = randomValues(small, seed: 1)
let valuesLarge = randomValues(large, seed: 2)
let selOut = Buffer<UInt32>(repeating: 0, count: large)
let hashOut = Buffer<UInt64>(repeating: 0, count: large)
let i64Out = Buffer<Int64>(repeating: 0, count: large)
let groupIDs: Buffer<UInt32> = {
    var rng = SplitMix(state: 3)
    return Buffer((0..<small).map { _ in UInt32(rng.next() % 1000) })
}()
let groupSums = Buffer<Int64>(repeating: 0, count: 1000)
let partCounts = Buffer<UInt32>(repeating: 0, count: 64)
let timestamps: Buffer<Int64> = {
    var rng = SplitMix(state: 4)
    var t: Int64 = 1_700_000_000_000
    return Buffer((0..<small).map { _ in t += Int64(rng.next() % 10); return t })
}()
/// 100k strings of 0..<32 bytes (typical keys: ids, names, symbols).
let strings: (offsets: Buffer<Int32>, arena: Buffer<UInt8>) = {
    var rng = SplitMix(state: 5)
    var offsets: [Int32] = [0]
    var arena: [UInt8] = []
    for _ in 0..<small {
        let len = Int(rng.next() % 32)
        for _ in 0..<len { arena.append(UInt8(97 + rng.next() % 26)) }
        offsets.append(Int32(arena.count))
    }
    return (Buffer(offsets), Buffer(arena))
}()
let hashesSmall: Buffer<UInt64> = {
    var rng = SplitMix(state: 6)
    return Buffer((0..<small).map { _ in rng.next() })
}()

// MARK: - Benchmarks

let levels: [ck_isa] = (CK_ISA_SCALAR.rawValue...ck_isa_detected().rawValue).map { ck_isa(rawValue: $0) }

func name(_ kernel: String, _ level: ck_isa) -> String {
    "\(kernel) [\(String(cString: ck_isa_name(level)))]"
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock],
        warmupIterations: 3,
        maxDuration: .milliseconds(1500),
        maxIterations: 20_000)

    for level in levels {
        Benchmark(name("filter i64 > c, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                blackHole(ck_filter_i64_const(CK_CMP_GT, valuesSmall.const, nil, nil, small, 0, selOut.ptr))
            }
        }
        Benchmark(name("filter i64 > c, 10M", level), configuration: .init(maxIterations: 100)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                blackHole(ck_filter_i64_const(CK_CMP_GT, valuesLarge.const, nil, nil, large, 0, selOut.ptr))
            }
        }
        Benchmark(name("hash i64, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_hash_i64(valuesSmall.const, nil, nil, small, hashOut.ptr)
                blackHole(hashOut.ptr[small - 1])
            }
        }
        Benchmark(name("hash str 0-31 B, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_hash_str(strings.offsets.const, strings.arena.const, nil, nil, small, hashOut.ptr)
                blackHole(hashOut.ptr[small - 1])
            }
        }
        Benchmark(name("sum i64 grouped (1000 groups), 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_agg_sum_i64(valuesSmall.const, nil, groupIDs.const, nil, small, groupSums.ptr)
                blackHole(groupSums.ptr[0])
            }
        }
        Benchmark(name("sum i64 global, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_agg_sum_i64(valuesSmall.const, nil, nil, nil, small, groupSums.ptr)
                blackHole(groupSums.ptr[0])
            }
        }
        Benchmark(name("tumble start 1 min, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_tumble_start(timestamps.const, nil, nil, small, 60_000, 0, i64Out.ptr)
                blackHole(i64Out.ptr[small - 1])
            }
        }
        Benchmark(name("partition 8 ways, 100k", level)) { benchmark in
            _ = ck_isa_set(level)
            for _ in benchmark.scaledIterations {
                ck_partition_hash(hashesSmall.const, nil, small, 8, partCounts.ptr, selOut.ptr)
                blackHole(partCounts.ptr[0])
            }
        }
    }
}
