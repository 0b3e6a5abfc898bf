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
    /// A HyperLogLog estimate of the number of distinct non-null values.
    case approxCountDistinct = "APPROX_COUNT_DISTINCT"
    /// The value of the group's first row in input order, NULLs skipped (as Flink's
    /// FIRST_VALUE, which always ignores NULLs).
    case firstValue = "FIRST_VALUE"
    /// The value of the group's last row in input order, NULLs skipped.
    case lastValue = "LAST_VALUE"
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
    /// `COUNT/SUM/AVG(DISTINCT x)`: over each group's distinct non-null values.
    public var distinct: Bool = false
    /// `FILTER (WHERE cond)`: the position in the aggregate inputs of the BOOLEAN column
    /// `cond`; only rows where it is TRUE reach this aggregate.
    public var filter: Int? = nil

    /// The result type of `kind` over `input`.
    static func outputType(_ kind: AggregateKind, _ input: DataType?) -> DataType {
        switch kind {
        case .countStar, .count, .approxCountDistinct: return .int64
        case .avg: return .float64
        case .sum, .min, .max, .firstValue, .lastValue: return input ?? .int64
        }
    }

    /// Whether this aggregate keeps per-group state beyond one word (a set of values, a
    /// sketch, a value and its position): such aggregates run as GroupAccumulators, off
    /// the vectorised COUNT/SUM/MIN/MAX path.
    var needsGroupAccumulator: Bool {
        switch kind {
        case .approxCountDistinct, .firstValue, .lastValue: return true
        case .count, .sum, .avg: return distinct
        case .countStar, .min, .max: return false
        }
    }
}

/// An aggregate whose per-group state is more than one fixed-width word. Same shape as
/// the vectorised accumulators (grow / update / combine / finalize) so AccumulatorSet
/// drives both alike.
protocol GroupAccumulator: AnyObject {
    /// Makes room for groups 0..<n; the new groups have seen no input.
    func grow(to n: Int)
    /// Adds the non-null rows `sel[0..<n]` of `input` to the groups `groups[row]` (all
    /// group 0 when nil). Row r of the batch has input position `rowBase + r`.
    func update(_ input: Column, groups: UnsafePointer<UInt32>?, _ sel: UnsafePointer<UInt32>?, _ n: Int,
                rowBase: Int64)
    /// Merges `other`'s group k into group mapping[k] for the k in `sel[0..<n]` (all of
    /// 0..<n when nil). `other` (the same class and spec) is only read: several threads
    /// may combine from it at once, and it may be this accumulator itself (a session
    /// merged into another of the same set).
    func combine(_ other: GroupAccumulator, mapping: UnsafePointer<UInt32>, _ sel: UnsafePointer<UInt32>?, _ n: Int)
    /// The results of groups 0..<n.
    func finalize(_ n: Int) -> Column
    /// Whether a BIGINT sum overflowed (its result must not be emitted).
    var overflowed: Bool { get }
}

extension GroupAccumulator {
    var overflowed: Bool { false }
}

/// The accumulator for an aggregate that needs one (see `needsGroupAccumulator`).
func makeGroupAccumulator(_ spec: AggregateSpec) -> GroupAccumulator? {
    guard spec.needsGroupAccumulator, let type = spec.inputType else { return nil }
    switch spec.kind {
    case .approxCountDistinct: return HLLAccumulator(type: type)
    case .firstValue: return FirstLastAccumulator(type: type, last: false)
    case .lastValue: return FirstLastAccumulator(type: type, last: true)
    case .count: return DistinctAccumulator(type: type, result: .count)
    case .sum: return DistinctAccumulator(type: type, result: .sum)
    case .avg: return DistinctAccumulator(type: type, result: .avg)
    case .countStar, .min, .max: return nil
    }
}

/// The accumulators of one group table: for each aggregate a column of values indexed
/// by group id, plus a count of non-null inputs where the result depends on it.
final class AccumulatorSet {
    let specs: [AggregateSpec]
    /// values[i]: Int64 or Double per group (count, sum, min, max).
    var values: [AlignedBuffer]
    /// counts[i]: non-null inputs per group, for aggregates that return NULL when a group
    /// saw none (SUM, MIN, MAX, AVG); nil for COUNT. Aggregates over the same input share
    /// one buffer (SUM(x) and MAX(x) count x's non-null rows once); `ownsCount[i]` marks
    /// the aggregate that maintains it.
    var counts: [AlignedBuffer?]
    let ownsCount: [Bool]
    /// extras[i]: the accumulator of aggregate i when it needs one (DISTINCT,
    /// APPROX_COUNT_DISTINCT, FIRST/LAST_VALUE); nil for the vectorised aggregates.
    let extras: [GroupAccumulator?]
    /// Per FILTER input: the rows of the current batch where it is TRUE (room for a batch).
    private var filterRows: [Int: AlignedBuffer] = [:]
    private(set) var capacity: Int
    private(set) var groups: Int = 0
    /// The first aggregate whose BIGINT sum overflowed (its values are then wrapped and
    /// must not be emitted).
    var overflowed: Int?

    init(_ specs: [AggregateSpec], capacity: Int = 256) {
        self.specs = specs
        self.capacity = max(capacity, 16)
        values = specs.map { _ in AlignedBuffer(capacity: max(capacity, 16) * 8) }
        // Shared by aggregates that see the same rows: same input and same FILTER.
        var shared: [[Int]: AlignedBuffer] = [:]
        var owns: [Bool] = []
        counts = specs.map { s in
            guard s.kind != .countStar && s.kind != .count && !s.needsGroupAccumulator, let input = s.input else {
                owns.append(false)
                return nil
            }
            let key = [input, s.filter ?? -1]
            if let b = shared[key] {
                owns.append(false)
                return b
            }
            let b = AlignedBuffer(capacity: max(capacity, 16) * 8)
            shared[key] = b
            owns.append(true)
            return b
        }
        ownsCount = owns
        extras = specs.map(makeGroupAccumulator)
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
        for i in specs.indices {
            initialise(i, from: groups, to: n)
            extras[i]?.grow(to: n)
        }
        groups = n
    }

    /// The rows of `sel[0..<n]` where FILTER input `f` is TRUE (NULL counts as false),
    /// computed once per batch for all aggregates sharing that FILTER.
    private func filtered(_ f: Int, _ inputs: [Column], _ sel: UnsafePointer<UInt32>?, _ n: Int,
                          _ done: inout [Int: Int]) -> (UnsafePointer<UInt32>, Int) {
        if let b = filterRows[f], let count = done[f] { return (UnsafePointer(b.typed(UInt32.self)), count) }
        let buffer: AlignedBuffer
        if let b = filterRows[f], b.capacity >= n * 4 {
            buffer = b
        } else {
            buffer = AlignedBuffer(capacity: max(n, 16) * 4)
            filterRows[f] = buffer
        }
        let cond = inputs[f]
        let out = buffer.typed(UInt32.self)
        let count = ck_filter_bool(cond.bools, cond.validityWords, sel, n, 1, out)
        done[f] = count
        return (UnsafePointer(out), count)
    }

    /// Adds the rows `sel[0..<n]` of `inputs` to the groups `groups[row]`. Row r of the
    /// batch has input position `rowBase + r` (what FIRST_VALUE/LAST_VALUE order by).
    func update(_ inputs: [Column], groups g: UnsafePointer<UInt32>?, _ allSel: UnsafePointer<UInt32>?, _ allN: Int,
                rowBase: Int64 = 0) {
        var filterDone: [Int: Int] = [:]
        for (i, s) in specs.enumerated() {
            var sel = allSel, n = allN
            if let f = s.filter {
                let (rows, count) = filtered(f, inputs, allSel, allN, &filterDone)
                guard count > 0 else { continue }
                sel = rows
                n = count
            }
            guard let input = s.input.map({ inputs[$0] }) else {
                ck_agg_count_star(g, sel, n, values[i].typed(Int64.self))
                continue
            }
            if let x = extras[i] {
                x.update(input, groups: g, sel, n, rowBase: rowBase)
                if x.overflowed { overflowed = overflowed ?? i }
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
            case .approxCountDistinct, .firstValue, .lastValue:
                break  // GroupAccumulators, handled above
            }
        }
    }

    /// Merges `other`'s groups into this set: other's group k goes to group mapping[k],
    /// for the groups k in `sel[0..<n]` (all of other's groups 0..<n when sel is nil).
    func combine(_ other: AccumulatorSet, mapping: UnsafePointer<UInt32>, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        if overflowed == nil { overflowed = other.overflowed }
        for (i, s) in specs.enumerated() {
            if let x = extras[i], let theirs = other.extras[i] {
                x.combine(theirs, mapping: mapping, sel, n)
                if x.overflowed { overflowed = overflowed ?? i }
                continue
            }
            if ownsCount[i], let c = counts[i], let oc = other.counts[i] {
                ck_agg_sum_i64(oc.typed(Int64.self), nil, mapping, sel, n, c.typed(Int64.self))
            }
            let si = other.values[i].typed(Int64.self), di = values[i].typed(Int64.self)
            let sf = other.values[i].typed(Double.self), df = values[i].typed(Double.self)
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
            case (.approxCountDistinct, _), (.firstValue, _), (.lastValue, _): break  // handled above
            }
        }
    }

    /// The result column of aggregate `i` for groups 0..<groups.
    func finalize(_ i: Int) -> Column {
        if let x = extras[i] { return x.finalize(groups) }
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
        case .approxCountDistinct, .firstValue, .lastValue:
            preconditionFailure("\(s.kind.rawValue) is finalized by its GroupAccumulator")
        }
        out.setCount(n, nullCount: 0)
        if let count {
            for g in 0..<n where count[g] == 0 { out.setNull(g) }
        }
        return out
    }
}

// MARK: - FIRST_VALUE / LAST_VALUE

/// FIRST_VALUE / LAST_VALUE: per group the value of the non-null row with the smallest
/// (largest) input position, and that position, so that combining partial states of
/// workers, panes or spill runs picks the right value whatever order they merge in.
/// Positions are the caller's (`rowBase + row`, non-negative); on a tie the value held
/// first stays.
///
/// NULL inputs are skipped: Flink's FIRST_VALUE/LAST_VALUE always ignore NULLs (it has
/// no RESPECT NULLS; FLINK-26764 asks for one), so a group whose rows are all NULL
/// gives NULL, and otherwise the first (last) non-null value.
final class FirstLastAccumulator: GroupAccumulator {
    let type: DataType
    let last: Bool
    /// Per group: the position of the held value, or `none`.
    var positions: [Int64] = []
    /// Per group: the held value as a word (integers and timestamps as themselves,
    /// DOUBLE as its bits, BOOLEAN as 0/1); unused for VARCHAR.
    var words: [Int64] = []
    /// Per group, VARCHAR only: the held string's bytes.
    var strings: [[UInt8]] = []
    /// Per group, VARCHAR only, during one update: the batch row that won (-1 = none), so
    /// only one string per group and batch is copied.
    private var pending: [Int] = []
    /// The position of "no value yet": one that every real position beats.
    let none: Int64

    init(type: DataType, last: Bool) {
        self.type = type
        self.last = last
        none = last ? .min : .max
    }

    @inline(__always) private func beats(_ p: Int64, _ held: Int64) -> Bool { last ? p > held : p < held }

    func grow(to n: Int) {
        guard n > positions.count else { return }
        let more = n - positions.count
        positions += repeatElement(none, count: more)
        if type == .string {
            strings += repeatElement([], count: more)
            pending += repeatElement(-1, count: more)
        } else {
            words += repeatElement(0, count: more)
        }
    }

    func update(_ input: Column, groups: UnsafePointer<UInt32>?, _ sel: UnsafePointer<UInt32>?, _ n: Int,
                rowBase: Int64) {
        let validity = input.validityWords
        var touched: [Int] = []
        for i in 0..<n {
            let r = sel.map { Int($0[i]) } ?? i
            if let validity, (validity[r >> 6] >> UInt64(r & 63)) & 1 == 0 { continue }
            let g = groups.map { Int($0[r]) } ?? 0
            let p = rowBase &+ Int64(r)
            guard beats(p, positions[g]) else { continue }
            positions[g] = p
            switch type {
            case .int64, .timestamp: words[g] = input.int64s[r]
            case .float64: words[g] = Int64(bitPattern: input.float64s[r].bitPattern)
            case .bool: words[g] = input.bools[r] != 0 ? 1 : 0
            case .string:
                if pending[g] < 0 { touched.append(g) }
                pending[g] = r
            }
        }
        for g in touched {
            strings[g] = Array(input.stringBytes(at: pending[g]))
            pending[g] = -1
        }
    }

    func combine(_ other: GroupAccumulator, mapping: UnsafePointer<UInt32>, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        let o = other as! FirstLastAccumulator
        for i in 0..<n {
            let k = sel.map { Int($0[i]) } ?? i
            let p = o.positions[k]
            let g = Int(mapping[k])
            guard p != none, beats(p, positions[g]) else { continue }
            positions[g] = p
            if type == .string { strings[g] = o.strings[k] } else { words[g] = o.words[k] }
        }
    }

    func finalize(_ n: Int) -> Column {
        let out = Column(type, capacity: max(n, 1))
        for g in 0..<n {
            guard positions[g] != none else {
                out.appendNull()
                continue
            }
            switch type {
            case .int64, .timestamp: out.append(words[g])
            case .float64: out.append(Double(bitPattern: UInt64(bitPattern: words[g])))
            case .bool: out.append(words[g] != 0)
            case .string: strings[g].withUnsafeBytes { out.append(bytes: $0) }
            }
        }
        return out
    }
}

extension AccumulatorSet {
    /// A new set whose group i holds this set's group `groups[i]` (the emitted windows
    /// of sessions and count windows, or the live ones when their sets are compacted).
    func moved(_ groups: [UInt32]) -> AccumulatorSet {
        let out = AccumulatorSet(specs, capacity: groups.count)
        out.grow(to: groups.count)
        var mapping = [UInt32](repeating: 0, count: max(self.groups, 1))
        for (i, g) in groups.enumerated() { mapping[Int(g)] = UInt32(i) }
        mapping.withUnsafeBufferPointer { m in
            groups.withUnsafeBufferPointer { out.combine(self, mapping: m.baseAddress!, $0.baseAddress, $0.count) }
        }
        return out
    }
}
