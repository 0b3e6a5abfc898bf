import CKernels
import Columnar

// MARK: - Tags

extension StateTag {
    static let aggState = StateTag("AGGS")
    static let accumulators = StateTag("ACCS")
    static let interner = StateTag("STRS")
    static let firstLast = StateTag("FRLS")
    static let distinct = StateTag("DSTN")
    static let hyperLogLog = StateTag("HLLS")
}

// MARK: - Plan fingerprints

/// A state is restored into an operator built from the query's plan (the key layout,
/// the aggregate specs, the Top-N plan), not rebuilt from the bytes alone: the plan
/// holds what bytes cannot (expressions, labels). The bytes carry a fingerprint of the
/// plan parts that decide their layout, and a restore checks it, the way Flink checks
/// state compatibility, so a state never silently lands in another query.
extension StateWriter {
    mutating func layout(_ l: KeyLayout) {
        count(l.types.count)
        for t in l.types { type(t) }
        bool(l.hasNullWord)
    }

    mutating func specs(_ specs: [AggregateSpec]) {
        count(specs.count)
        for s in specs {
            u8(s.kind.stateCode)
            zigzag(Int64(s.input ?? -1))
            if let t = s.inputType {
                bool(true)
                type(t)
            } else {
                bool(false)
            }
            type(s.outputType)
            bool(s.distinct)
            zigzag(Int64(s.filter ?? -1))
        }
    }
}

extension StateReader {
    mutating func expectLayout(_ l: KeyLayout) throws {
        let n = try count("the number of group keys", bytesEach: 1, limit: 4096)
        var types: [DataType] = []
        for j in 0..<n { types.append(try type("the type of group key \(j + 1)")) }
        let hasNullWord = try bool("the key null flag")
        guard types == l.types, hasNullWord == l.hasNullWord else {
            throw mismatch("it groups by (\(types.map(\.description).joined(separator: ", "))), "
                           + "this query by (\(l.types.map(\.description).joined(separator: ", ")))")
        }
    }

    mutating func expectSpecs(_ specs: [AggregateSpec]) throws {
        let n = try count("the number of aggregates", bytesEach: 6, limit: 65536)
        var found: [String] = []
        var same = n == specs.count
        for i in 0..<n {
            let at = offset
            let code = try u8("the function of aggregate \(i + 1)")
            guard let kind = AggregateKind(stateCode: code) else {
                throw StateReader.corrupt("aggregate \(i + 1) has unknown function code \(code)", at: at, source: source)
            }
            let input = try zigzag("the input of aggregate \(i + 1)")
            var inputType: DataType?
            if try bool("the input type flag of aggregate \(i + 1)") { inputType = try type("the input type of aggregate \(i + 1)") }
            let outputType = try type("the result type of aggregate \(i + 1)")
            let distinct = try bool("the DISTINCT flag of aggregate \(i + 1)")
            let filter = try zigzag("the FILTER of aggregate \(i + 1)")
            found.append(AggregateSpec.stateDescription(kind, inputType, distinct: distinct, filtered: filter >= 0))
            if i < specs.count {
                let s = specs[i]
                same = same && s.kind == kind && Int64(s.input ?? -1) == input && s.inputType == inputType
                    && s.outputType == outputType && s.distinct == distinct && Int64(s.filter ?? -1) == filter
            }
        }
        guard same else {
            let mine = specs.map { AggregateSpec.stateDescription($0.kind, $0.inputType, distinct: $0.distinct, filtered: $0.filter != nil) }
            throw mismatch("it holds the aggregates [\(found.joined(separator: ", "))], this query computes [\(mine.joined(separator: ", "))]")
        }
    }
}

extension AggregateKind {
    /// The kind's code in state bytes (fixed: the raw strings may be reworded).
    var stateCode: UInt8 {
        switch self {
        case .countStar: return 1
        case .count: return 2
        case .sum: return 3
        case .min: return 4
        case .max: return 5
        case .avg: return 6
        case .approxCountDistinct: return 7
        case .firstValue: return 8
        case .lastValue: return 9
        }
    }

    init?(stateCode: UInt8) {
        switch stateCode {
        case 1: self = .countStar
        case 2: self = .count
        case 3: self = .sum
        case 4: self = .min
        case 5: self = .max
        case 6: self = .avg
        case 7: self = .approxCountDistinct
        case 8: self = .firstValue
        case 9: self = .lastValue
        default: return nil
        }
    }
}

extension AggregateSpec {
    /// `SUM(DISTINCT BIGINT) FILTER`: an aggregate as a mismatch message names it.
    static func stateDescription(_ kind: AggregateKind, _ input: DataType?, distinct: Bool, filtered: Bool) -> String {
        if kind == .countStar { return "COUNT(*)" + (filtered ? " FILTER" : "") }
        return kind.rawValue + "(" + (distinct ? "DISTINCT " : "") + (input?.description ?? "") + ")" + (filtered ? " FILTER" : "")
    }
}

// MARK: - String interners

extension StringInterner {
    /// The strings in id order: count, byte count, `count + 1` Int32 offsets, bytes.
    func serialize(into w: inout StateWriter) {
        w.tag(.interner)
        w.count(count)
        w.count(bytes.count)
        w.words(offsets)
        w.words(bytes)
    }

    /// Re-interns the strings of a serialized interner into this empty one, in order, so
    /// each gets its old id back.
    func restore(from r: inout StateReader, _ what: String) throws {
        precondition(count == 0, "restore into an empty interner")
        try r.tag(.interner, "the strings of \(what)")
        let n = try r.count("the string count of \(what)", bytesEach: 4)
        let size = try r.count("the string bytes of \(what)", bytesEach: 1)
        let offsets = try r.words(Int32.self, n + 1, "the string offsets of \(what)")
        guard offsets[0] == 0, Int(offsets[n]) == size else {
            throw r.corrupt("the string offsets of \(what) run from \(offsets[0]) to \(offsets[n]), not from 0 to \(size)")
        }
        for i in 0..<n where offsets[i + 1] < offsets[i] {
            throw r.corrupt("the string offsets of \(what) decrease at string \(i)")
        }
        let data = try r.words(UInt8.self, size, "the string bytes of \(what)")
        try data.withUnsafeBufferPointer { b in
            for i in 0..<n {
                let s = UnsafeBufferPointer(rebasing: b[Int(offsets[i])..<Int(offsets[i + 1])])
                let id = intern(s, hash: ck_hash_bytes_one(s.baseAddress, s.count))
                guard id == Int64(i) else {
                    throw r.corrupt("string \(i) of \(what) repeats string \(id)")
                }
            }
        }
    }
}

// MARK: - AggState

extension AggState {
    /// Writes the groups (key words in group-id order, the key strings) and the
    /// accumulators. Restoring gives the same group ids, so everything indexed by group
    /// (accumulators, pane bookkeeping) stays valid.
    ///
    /// The null words (one per group, a bit per NULL key) are only written when some
    /// group has a NULL key: most states have none, and they would cost 8 bytes a group.
    func serialize(into w: inout StateWriter) {
        w.tag(.aggState)
        w.layout(layout)
        let width = layout.width
        if width > 0 {
            let n = table.count
            w.count(n)
            for interner in interners { interner?.serialize(into: &w) }
            let words = table.keyWords
            let values = layout.hasNullWord ? width - 1 : width
            let nulls = layout.hasNullWord && (0..<n).contains { words[$0 * width + values] != 0 }
            if layout.hasNullWord { w.bool(nulls) }
            if !layout.hasNullWord || nulls {
                w.words(words, n * width)
            } else {
                for g in 0..<n { w.words(words + g * width, values) }
            }
        }
        accs.serialize(into: &w)
    }

    /// A state like the one `serialize` wrote, for a query with this key layout and these
    /// aggregates (a mismatch is an error, not a silent misreading).
    convenience init(restoring r: inout StateReader, layout: KeyLayout, specs: [AggregateSpec]) throws {
        self.init(layout: layout, specs: specs, expectedGroups: 16)
        try restore(from: &r)
    }

    /// Fills this empty state from `r`.
    func restore(from r: inout StateReader) throws {
        precondition(table.count == 0 && accs.groups == 0, "restore into an empty state")
        try r.tag(.aggState, "an aggregation state")
        try r.expectLayout(layout)
        let width = layout.width
        if width > 0 {
            let values = layout.hasNullWord ? width - 1 : width
            let n = try r.count("the group count", bytesEach: max(values * 8, 1))
            for (j, interner) in interners.enumerated() {
                try interner?.restore(from: &r, "group key \(j + 1)")
            }
            var nulls = false
            if layout.hasNullWord { nulls = try r.bool("the NULL key flag") }
            var words = [Int64](repeating: 0, count: n * width)
            if !layout.hasNullWord || nulls {
                try words.withUnsafeMutableBufferPointer { try r.words(into: $0.baseAddress!, n * width, "the group keys") }
            } else {
                let packed = try r.words(Int64.self, n * values, "the group keys")
                for g in 0..<n {
                    for j in 0..<values { words[g * width + j] = packed[g * values + j] }
                }
            }
            try validateKeys(words, n, &r)
            try insertRestoredKeys(words, n, &r)
        }
        // A keyed state has an accumulator per group; a global one has one once it has
        // seen input (or been finalized).
        try accs.restore(from: &r, groups: width > 0 ? table.count...table.count : 0...1)
    }

    /// String keys must be ids of the restored strings, NULL keys zero words, and the
    /// null word may only mark keys that exist: otherwise finalize would read out of
    /// bounds or split one group in two.
    private func validateKeys(_ words: [Int64], _ n: Int, _ r: inout StateReader) throws {
        let width = layout.width
        let keys = layout.types.count
        for g in 0..<n {
            let nullWord = layout.hasNullWord ? words[g * width + width - 1] : 0
            if keys < 64, nullWord >> Int64(keys) != 0 {
                throw r.corrupt("group \(g) marks NULL keys that do not exist (null word \(nullWord))")
            }
            for (j, type) in layout.types.enumerated() {
                let w = words[g * width + j]
                if j < 64, (nullWord >> Int64(j)) & 1 == 1 {
                    guard w == 0 else { throw r.corrupt("group \(g) has a NULL key \(j + 1) with a value word \(w)") }
                    continue
                }
                switch type {
                case .string:
                    guard w >= 0, w < Int64(interners[j]!.count) else {
                        throw r.corrupt("group \(g) has string id \(w) for key \(j + 1), but there are \(interners[j]!.count) strings")
                    }
                case .bool:
                    guard w == 0 || w == 1 else { throw r.corrupt("group \(g) has \(w) for BOOLEAN key \(j + 1)") }
                default:
                    break
                }
            }
        }
    }

    /// Inserts the keys in group order: every key is new, so each gets its old id back.
    /// The hashes are recomputed from the words (KeyEncoder.groupHash, what `encode`
    /// computes), which costs less than storing them; a repeated key means damage.
    private func insertRestoredKeys(_ words: [Int64], _ n: Int, _ r: inout StateReader) throws {
        guard n > 0 else { return }
        let width = layout.width
        var hashes = [UInt64](repeating: 0, count: n)
        words.withUnsafeBufferPointer { w in
            for g in 0..<n {
                hashes[g] = KeyEncoder.groupHash(w.baseAddress! + g * width, width: width, hasNullWord: layout.hasNullWord)
            }
        }
        var ids = [UInt32](repeating: 0, count: n)
        words.withUnsafeBufferPointer { w in
            hashes.withUnsafeBufferPointer { h in
                ids.withUnsafeMutableBufferPointer { out in
                    let cols = (0..<width).map { UnsafePointer(w.baseAddress! + $0) }
                    _ = table.findOrInsert(cols, stride: width, hashes: h.baseAddress!, hashStride: 1, nil, n,
                                           into: out.baseAddress!)
                }
            }
        }
        guard table.count == n else {
            let g = (0..<n).first { ids[$0] != UInt32($0) } ?? 0
            throw r.corrupt("group \(g) repeats the key of group \(ids[g])")
        }
    }

    /// The state as sealed bytes (a whole file's worth; see StateFormat).
    func encoded() -> [UInt8] {
        var w = StateWriter()
        serialize(into: &w)
        return w.sealed()
    }

    /// Restores a state from sealed bytes, all of which must belong to it.
    static func decode(_ bytes: [UInt8], layout: KeyLayout, specs: [AggregateSpec], source: String? = nil) throws -> AggState {
        var r = try StateReader(bytes, source: source)
        let s = try AggState(restoring: &r, layout: layout, specs: specs)
        try r.finish()
        return s
    }
}

// MARK: - AccumulatorSet

/// A GroupAccumulator whose per-group state can be written and read back.
protocol SavedGroupAccumulator: GroupAccumulator {
    /// The fewest bytes `serialize` writes per group (bounds a damaged group count).
    var stateBytesPerGroup: Int { get }
    /// Writes the state of groups 0..<n.
    func serialize(into w: inout StateWriter, groups n: Int)
    /// Reads it back into this accumulator, freshly grown to n groups.
    func restore(from r: inout StateReader, groups n: Int) throws
}

extension AccumulatorSet {
    /// The accumulated values (and non-null counts) of every aggregate, group by group,
    /// and the state of the aggregates that keep more (sets, sketches, positions).
    /// Per-batch scratch (FILTER rows) is not state.
    func serialize(into w: inout StateWriter) {
        w.tag(.accumulators)
        w.specs(specs)
        let n = groups
        w.count(n)
        w.count(overflowed.map { $0 + 1 } ?? 0)
        for i in specs.indices {
            if let x = extras[i] {
                guard let saved = x as? SavedGroupAccumulator else {
                    preconditionFailure("\(type(of: x)) has no state encoding")
                }
                saved.serialize(into: &w, groups: n)
                continue
            }
            w.words(values[i].typed(Int64.self), n)
            if ownsCount[i], let c = counts[i] { w.words(c.typed(Int64.self), n) }
        }
    }

    /// Fills this empty set from `r`: the same groups, values and accumulator states.
    /// The owner knows how many groups it has (`expected`): checked before anything is
    /// allocated for them.
    func restore(from r: inout StateReader, groups expected: ClosedRange<Int>) throws {
        precondition(groups == 0, "restore into an empty accumulator set")
        try r.tag(.accumulators, "the accumulators")
        try r.expectSpecs(specs)
        var perGroup = 0
        for i in specs.indices {
            if let x = extras[i] {
                perGroup += (x as? SavedGroupAccumulator)?.stateBytesPerGroup ?? 0
            } else {
                perGroup += ownsCount[i] ? 16 : 8
            }
        }
        let countAt = r.offset
        let n = try r.count("the accumulator group count", bytesEach: perGroup)
        guard expected.contains(n) else {
            let want = expected.count == 1 ? "\(expected.lowerBound)" : "\(expected.lowerBound) to \(expected.upperBound)"
            throw StateReader.corrupt("the accumulators hold \(n) groups, but their owner has \(want)", at: countAt, source: r.source)
        }
        let at = r.offset
        let flag = try r.count("the overflow flag")
        guard flag <= specs.count else {
            throw StateReader.corrupt("the overflow flag names aggregate \(flag), but there are \(specs.count)", at: at, source: r.source)
        }
        grow(to: n)
        overflowed = flag == 0 ? nil : flag - 1
        for (i, s) in specs.enumerated() {
            let name = AggregateSpec.stateDescription(s.kind, s.inputType, distinct: s.distinct, filtered: s.filter != nil)
            if let x = extras[i] {
                guard let saved = x as? SavedGroupAccumulator else {
                    throw SpateError(.runtime, "\(name) has no state encoding in this build",
                                     hint: "run the query without restoring its state")
                }
                try saved.restore(from: &r, groups: n)
                continue
            }
            try r.words(into: values[i].typed(Int64.self), n, "the values of \(name)")
            if ownsCount[i], let c = counts[i] {
                try r.words(into: c.typed(Int64.self), n, "the non-NULL counts of \(name)")
            }
        }
    }
}

// MARK: - FIRST_VALUE / LAST_VALUE

extension FirstLastAccumulator: SavedGroupAccumulator {
    var stateBytesPerGroup: Int { type == .string ? 9 : 16 }

    /// Per group the position held (or "none"), then the values: words, or the strings'
    /// bytes.
    func serialize(into w: inout StateWriter, groups n: Int) {
        w.tag(.firstLast)
        w.words(positions, n)
        if type == .string {
            for g in 0..<n { w.bytes(strings[g]) }
        } else {
            w.words(words, n)
        }
    }

    func restore(from r: inout StateReader, groups n: Int) throws {
        let name = last ? "LAST_VALUE" : "FIRST_VALUE"
        try r.tag(.firstLast, "the state of \(name)")
        try positions.withUnsafeMutableBufferPointer { try r.words(into: $0.baseAddress!, n, "the positions of \(name)") }
        if type == .string {
            for g in 0..<n { strings[g] = try r.bytes("the value of \(name) in group \(g)") }
        } else {
            try words.withUnsafeMutableBufferPointer { try r.words(into: $0.baseAddress!, n, "the values of \(name)") }
        }
    }
}

// MARK: - DISTINCT

extension DistinctAccumulator: SavedGroupAccumulator {
    var stateBytesPerGroup: Int { 0 }

    /// The (group, value) pairs in insertion order, and the strings their value ids name.
    /// Counts and sums are not written: re-inserting the pairs in order recomputes them
    /// exactly (sums add in the same order, so even DOUBLE sums are bit-identical).
    func serialize(into w: inout StateWriter, groups n: Int) {
        w.tag(.distinct)
        interner?.serialize(into: &w)
        w.count(pairs.count)
        w.words(pairs.keyWords, pairs.count * 2)
    }

    func restore(from r: inout StateReader, groups n: Int) throws {
        precondition(pairs.count == 0, "restore into an empty DISTINCT state")
        try r.tag(.distinct, "a DISTINCT set")
        try interner?.restore(from: &r, "a DISTINCT set")
        let m = try r.count("the DISTINCT pair count", bytesEach: 16)
        let flat = try r.words(Int64.self, m * 2, "the DISTINCT pairs")
        reserveScratch(m)
        let gw = groupWords.typed(Int64.self), vw = valueWords.typed(Int64.self)
        let strings = interner?.count
        for p in 0..<m {
            let g = flat[2 * p], v = flat[2 * p + 1]
            guard g >= 0, g < Int64(n) else {
                throw r.corrupt("DISTINCT pair \(p) is in group \(g), but there are \(n) groups")
            }
            if let strings, v < 0 || v >= Int64(strings) {
                throw r.corrupt("DISTINCT pair \(p) has string id \(v), but there are \(strings) strings")
            }
            if type == .bool && v != 0 && v != 1 {
                throw r.corrupt("DISTINCT pair \(p) has \(v) for a BOOLEAN value")
            }
            gw[p] = g
            vw[p] = v
        }
        insertScratch(m)
        guard pairs.count == m else { throw r.corrupt("the DISTINCT set repeats a (group, value) pair") }
    }
}

// MARK: - APPROX_COUNT_DISTINCT

extension HLLAccumulator: SavedGroupAccumulator {
    var stateBytesPerGroup: Int { Self.registers }

    /// The registers, group after group (4 KiB a group).
    func serialize(into w: inout StateWriter, groups n: Int) {
        w.tag(.hyperLogLog)
        w.raw(sketches.pointer, n * Self.registers)
    }

    func restore(from r: inout StateReader, groups n: Int) throws {
        try r.tag(.hyperLogLog, "a HyperLogLog sketch")
        let m = Self.registers
        let (size, overflow) = n.multipliedReportingOverflow(by: m)
        guard !overflow else { throw r.corrupt("\(n) HyperLogLog sketches are too many") }
        let at = r.offset
        try r.raw(into: sketches.pointer, size, "the HyperLogLog registers")
        let regs = sketches.typed(UInt8.self)
        for i in 0..<size where regs[i] > UInt8(CK_HLL_MAX_RANK) {
            throw StateReader.corrupt("HyperLogLog register \(i % m) of group \(i / m) holds \(regs[i]), more than the largest rank \(CK_HLL_MAX_RANK)",
                                      at: at + i, source: r.source)
        }
    }
}
