import CKernels
import SpateTestSupport
import Testing

/// Every kernel suite nests inside this one: the ISA level is process-global, so
/// suites that switch it must not run concurrently (`.serialized` applies to nested
/// suites too).
@Suite(.serialized) struct KernelTests {}

// MARK: - Deterministic random numbers

/// Deterministic random numbers (see SpateTestSupport).
typealias TestRNG = SplitMix64

// MARK: - ISA levels

/// Every ISA level this machine supports, lowest first.
let allLevels: [ck_isa] = (CK_ISA_SCALAR.rawValue...ck_isa_detected().rawValue).map {
    ck_isa(rawValue: $0)
}

/// Runs `body` once per supported level with that level forced, restoring the
/// previous level afterwards.
func forEachLevel(_ body: (ck_isa) throws -> Void) rethrows {
    let saved = ck_isa_current()
    defer { _ = ck_isa_set(saved) }
    for level in allLevels {
        #expect(ck_isa_set(level) == level)
        try body(level)
    }
}

func levelName(_ level: ck_isa) -> String { String(cString: ck_isa_name(level)) }

// MARK: - Shapes: sizes, selections, validity

let edgeSizes = [0, 1, 3, 7, 63, 64, 65, 2047, 2048, 2049]

/// Which rows a kernel call considers.
enum SelMode: CaseIterable, CustomStringConvertible {
    case none, dense, half, sparse
    var description: String {
        switch self {
        case .none: "sel=nil"
        case .dense: "sel=dense"
        case .half: "sel=50%"
        case .sparse: "sel=5%"
        }
    }
}

/// The considered rows for `mode` (nil selection for `.none`), ascending.
func makeSelection(_ mode: SelMode, size: Int, rng: inout TestRNG) -> [UInt32]? {
    switch mode {
    case .none: return nil
    case .dense: return (0..<size).map { UInt32($0) }
    case .half: return (0..<size).filter { _ in rng.next() & 1 == 0 }.map { UInt32($0) }
    case .sparse: return (0..<size).filter { _ in rng.next() % 20 == 0 }.map { UInt32($0) }
    }
}

/// Rows considered by a call: the selection, or 0..<size.
func consideredRows(_ sel: [UInt32]?, size: Int) -> [Int] {
    sel.map { $0.map(Int.init) } ?? Array(0..<size)
}

/// Null densities to test; nil = no bitmap at all.
let nullDensities: [Double?] = [nil, 0, 0.1, 0.5, 0.9, 1.0]

/// A validity bitmap for `size` rows with about `nullFraction` nulls. Bits past the
/// last row are random: kernels must not read meaning into them.
func makeValidity(size: Int, nullFraction: Double?, rng: inout TestRNG) -> [UInt64]? {
    guard let nullFraction else { return nil }
    let words = (size + 63) / 64
    var bits = (0..<words).map { _ in rng.next() }
    for r in 0..<size {
        let isNull = Double(rng.next() % 1000) < nullFraction * 1000
        if isNull { bits[r >> 6] &= ~(1 << UInt64(r & 63)) } else { bits[r >> 6] |= 1 << UInt64(r & 63) }
    }
    return bits
}

func isValid(_ validity: [UInt64]?, _ r: Int) -> Bool {
    guard let validity else { return true }
    return (validity[r >> 6] >> UInt64(r & 63)) & 1 == 1
}

// MARK: - Pointer helpers
// Arrays are passed with one slack element so an empty array still has a base
// address (C may receive a non-NULL pointer with n == 0).

func withPtr<T, R>(_ a: [T], pad: T, _ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
    let padded = a + [pad]
    return try padded.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

func withOptPtr<T, R>(_ a: [T]?, pad: T, _ body: (UnsafePointer<T>?) throws -> R) rethrows -> R {
    guard let a else { return try body(nil) }
    return try withPtr(a, pad: pad) { try body($0) }
}

/// A string column in Spate's layout: int32 offsets (count + 1) and a byte arena.
struct StringColumn {
    var offsets: [Int32] = [0]
    var arena: [UInt8] = []
    init(_ strings: [[UInt8]]) {
        for s in strings {
            arena += s
            offsets.append(Int32(arena.count))
        }
    }
    func bytes(_ r: Int) -> [UInt8] { Array(arena[Int(offsets[r])..<Int(offsets[r + 1])]) }
}

/// Strings of lengths 0...70 that share prefixes: prefixes of one base string, some
/// with the last byte changed, so equality must look at every byte and the length.
func makeStrings(count: Int, rng: inout TestRNG) -> (strings: [[UInt8]], base: [UInt8]) {
    let base = (0..<70).map { _ in UInt8(97 + rng.next() % 26) }
    let strings = (0..<count).map { _ -> [UInt8] in
        let len = Int(rng.next() % 71)
        var s = Array(base[0..<len])
        if len > 0 && rng.next() % 3 == 0 { s[len - 1] ^= 0x20 }
        if len > 0 && rng.next() % 7 == 0 { s[Int(rng.next() % UInt64(len))] = 0 }
        return s
    }
    return (strings, base)
}

/// Bit-exact equality for doubles (NaN equals NaN with the same bits).
func sameBits(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}
