import CKernels
import Columnar

/// The aggregate functions of this slice. Each has init / update / combine / finalize,
/// so partial states from workers (and later panes, spill runs, restored snapshots)
/// merge with the same `combine`.
public enum AggregateKind: String, Sendable {
    case countStar = "COUNT(*)"
    case count = "COUNT"
    case sum = "SUM"
    case min = "MIN"
    case max = "MAX"
    case avg = "AVG"
}

/// One aggregate call of a plan: its function, the input column it reads (position in
/// the evaluated aggregate inputs) and types.
public struct AggregateSpec: Sendable {
    public var kind: AggregateKind
    public var input: Int?
    public var inputType: DataType?
    public var outputType: DataType
    /// The call as the query wrote it, e.g. `SUM(price)`, for messages.
    public var label: String = ""

    /// The result type of `kind` over `input`.
    static func outputType(_ kind: AggregateKind, _ input: DataType?) -> DataType {
        switch kind {
        case .countStar, .count: return .int64
        case .avg: return .float64
        case .sum, .min, .max: return input ?? .int64
        }
    }
}

/// The accumulators of one group table: for each aggregate a column of values indexed
/// by group id, plus a count of non-null inputs where the result depends on it.
final class AccumulatorSet {
    let specs: [AggregateSpec]
    /// values[i]: Int64 or Double per group (count, sum, min, max).
    private var values: [AlignedBuffer]
    /// counts[i]: non-null inputs per group, for aggregates that return NULL when a group
    /// saw none (SUM, MIN, MAX, AVG); nil for COUNT. Aggregates over the same input share
    /// one buffer (SUM(x) and MAX(x) count x's non-null rows once); `ownsCount[i]` marks
    /// the aggregate that maintains it.
    private var counts: [AlignedBuffer?]
    private let ownsCount: [Bool]
    private(set) var capacity: Int
    private(set) var groups: Int = 0
    /// The first aggregate whose BIGINT sum overflowed (its values are then wrapped and
    /// must not be emitted).
    private(set) var overflowed: Int?

    init(_ specs: [AggregateSpec], capacity: Int = 256) {
        self.specs = specs
        self.capacity = max(capacity, 16)
        values = specs.map { _ in AlignedBuffer(capacity: max(capacity, 16) * 8) }
        var shared: [Int: AlignedBuffer] = [:]
        var owns: [Bool] = []
        counts = specs.map { s in
            guard s.kind != .countStar && s.kind != .count, let input = s.input else {
                owns.append(false)
                return nil
            }
            if let b = shared[input] {
                owns.append(false)
                return b
            }
            let b = AlignedBuffer(capacity: max(capacity, 16) * 8)
            shared[input] = b
            owns.append(true)
            return b
        }
        ownsCount = owns
    }

    /// Whether aggregate i accumulates Doubles (SUM/MIN/MAX/AVG over DOUBLE).
    private func isFloat(_ i: Int) -> Bool {
        specs[i].inputType == .float64 && specs[i].kind != .count && specs[i].kind != .countStar
    }

    /// Identity of the accumulator (what a group holds before any input).
    private func initialise(_ i: Int, from: Int, to: Int) {
        guard to > from else { return }
        let s = specs[i]
        if isFloat(i) {
            let p = values[i].typed(Double.self)
            let v: Double = s.kind == .min ? .infinity : (s.kind == .max ? -.infinity : 0)
            (p + from).update(repeating: v, count: to - from)
        } else {
            let p = values[i].typed(Int64.self)
            let v: Int64 = s.kind == .min ? .max : (s.kind == .max ? .min : 0)
            (p + from).update(repeating: v, count: to - from)
        }
        if ownsCount[i], let c = counts[i] { (c.typed(Int64.self) + from).update(repeating: 0, count: to - from) }
    }

    /// Makes room for `n` groups in total and initialises the new ones.
    func grow(to n: Int) {
        guard n > groups else { return }
        if n > capacity {
            var c = capacity
            while c < n { c *= 2 }
            for i in specs.indices {
                values[i].reserve(c * 8, preserving: groups * 8)
                if ownsCount[i] { counts[i]?.reserve(c * 8, preserving: groups * 8) }
            }
            capacity = c
        }
        for i in specs.indices { initialise(i, from: groups, to: n) }
        groups = n
    }

    /// Adds the rows `sel[0..<n]` of `inputs` to the groups `groups[row]`.
    func update(_ inputs: [Column], groups g: UnsafePointer<UInt32>?, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        for (i, s) in specs.enumerated() {
            guard let input = s.input.map({ inputs[$0] }) else {
                ck_agg_count_star(g, sel, n, values[i].typed(Int64.self))
                continue
            }
            let validity = input.validityWords
            if ownsCount[i], let c = counts[i] { ck_agg_count(validity, g, sel, n, c.typed(Int64.self)) }
            switch s.kind {
            case .countStar:
                ck_agg_count_star(g, sel, n, values[i].typed(Int64.self))
            case .count:
                ck_agg_count(validity, g, sel, n, values[i].typed(Int64.self))
            case .sum, .avg:
                if isFloat(i) {
                    ck_agg_sum_f64(input.float64s, validity, g, sel, n, values[i].typed(Double.self))
                } else if ck_agg_sum_i64_checked(input.int64s, validity, g, sel, n, values[i].typed(Int64.self)) != 0 {
                    overflowed = overflowed ?? i
                }
            case .min:
                if isFloat(i) {
                    ck_agg_min_f64(input.float64s, validity, g, sel, n, values[i].typed(Double.self))
                } else {
                    ck_agg_min_i64(input.int64s, validity, g, sel, n, values[i].typed(Int64.self))
                }
            case .max:
                if isFloat(i) {
                    ck_agg_max_f64(input.float64s, validity, g, sel, n, values[i].typed(Double.self))
                } else {
                    ck_agg_max_i64(input.int64s, validity, g, sel, n, values[i].typed(Int64.self))
                }
            }
        }
    }

    /// Merges `other`'s groups into this set: other's group k goes to group mapping[k],
    /// for the groups k in `sel[0..<n]` (all of other's groups 0..<n when sel is nil).
    func combine(_ other: AccumulatorSet, mapping: UnsafePointer<UInt32>, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        for (i, s) in specs.enumerated() {
            if ownsCount[i], let c = counts[i], let oc = other.counts[i] {
                ck_agg_sum_i64(oc.typed(Int64.self), nil, mapping, sel, n, c.typed(Int64.self))
            }
            let si = other.values[i].typed(Int64.self), di = values[i].typed(Int64.self)
            let sf = other.values[i].typed(Double.self), df = values[i].typed(Double.self)
            if overflowed == nil { overflowed = other.overflowed }
            switch (s.kind, isFloat(i)) {
            case (.countStar, _), (.count, _):
                ck_agg_sum_i64(si, nil, mapping, sel, n, di)
            case (.sum, false), (.avg, false):
                if ck_agg_sum_i64_checked(si, nil, mapping, sel, n, di) != 0 { overflowed = overflowed ?? i }
            case (.sum, true), (.avg, true): ck_agg_sum_f64(sf, nil, mapping, sel, n, df)
            case (.min, false): ck_agg_min_i64(si, nil, mapping, sel, n, di)
            case (.min, true): ck_agg_min_f64(sf, nil, mapping, sel, n, df)
            case (.max, false): ck_agg_max_i64(si, nil, mapping, sel, n, di)
            case (.max, true): ck_agg_max_f64(sf, nil, mapping, sel, n, df)
            }
        }
    }

    /// The result column of aggregate `i` for groups 0..<groups.
    func finalize(_ i: Int) -> Column {
        let s = specs[i]
        let n = groups
        let out = Column(s.outputType, capacity: max(n, 1))
        let count = counts[i]?.typed(Int64.self)
        switch s.kind {
        case .countStar, .count:
            out.int64s.update(from: values[i].typed(Int64.self), count: n)
        case .avg:
            let c = count!
            if isFloat(i) {
                let v = values[i].typed(Double.self)
                for g in 0..<n { out.float64s[g] = c[g] == 0 ? 0 : v[g] / Double(c[g]) }
            } else {
                let v = values[i].typed(Int64.self)
                for g in 0..<n { out.float64s[g] = c[g] == 0 ? 0 : Double(v[g]) / Double(c[g]) }
            }
        case .sum, .min, .max:
            // Same 8-byte payload whether Int64 or Double.
            out.int64s.update(from: values[i].typed(Int64.self), count: n)
        }
        out.setCount(n, nullCount: 0)
        if let count {
            for g in 0..<n where count[g] == 0 { out.setNull(g) }
        }
        return out
    }
}
