import CKernels
import Columnar

/// How a non-null aggregate input value becomes one Int64 word, equal exactly when the
/// values are equal: what DISTINCT sets store and HyperLogLog hashes.
enum ValueWords {
    /// DOUBLE: -0.0 and 0.0 are one value and every NaN is one value, as for GROUP BY
    /// keys, so `COUNT(DISTINCT x)` agrees with `SELECT COUNT(*) FROM (... GROUP BY x)`.
    @inline(__always) static func double(_ v: Double) -> Int64 {
        var v = v
        if v == 0 { v = 0 }
        if v.isNaN { v = .nan }
        return Int64(bitPattern: v.bitPattern)
    }
}

/// COUNT(DISTINCT x), SUM(DISTINCT x) and AVG(DISTINCT x), exact: the state is the set of
/// (group, value) pairs seen, one hash table for all groups (a table per group would
/// cost an allocation per group), with per-group count and sum of the distinct values
/// updated when a pair is new. Combine inserts the other state's pairs; only pairs new
/// here add to the counts and sums, so merging overlapping partial states (workers that
/// saw the same value, hop panes) counts each value once.
///
/// VARCHAR values are interned per state (ids are local, like string group keys), and
/// re-interned when another state's pairs come in. NULLs are skipped.
final class DistinctAccumulator: GroupAccumulator {
    enum Result { case count, sum, avg }

    let type: DataType
    let result: Result
    /// Keys (group id, value word); its group ids are pair ids, not used.
    let pairs = GroupTable(width: 2, expectedGroups: 64)
    let interner: StringInterner?
    /// Per group: how many distinct values, and their sum (BIGINT or DOUBLE input).
    var counts: [Int64] = []
    var intSums: [Int64] = []
    var floatSums: [Double] = []
    private(set) var overflowed = false
    /// Scratch for one insert: the pairs' group and value words, hashes and pair ids.
    private var scratchCapacity = 0
    var groupWords = AlignedBuffer(capacity: 0)
    var valueWords = AlignedBuffer(capacity: 0)
    private var hashes = AlignedBuffer(capacity: 0)
    private var ids = AlignedBuffer(capacity: 0)

    init(type: DataType, result: Result) {
        self.type = type
        self.result = result
        interner = type == .string ? StringInterner() : nil
    }

    /// Distinct (group, value) pairs held: the state's size.
    var pairCount: Int { pairs.count }

    func grow(to n: Int) {
        guard n > counts.count else { return }
        let more = n - counts.count
        counts += repeatElement(0, count: more)
        if result != .count {
            if type == .float64 { floatSums += repeatElement(0, count: more) } else { intSums += repeatElement(0, count: more) }
        }
    }

    func reserveScratch(_ n: Int) {
        guard n > scratchCapacity else { return }
        scratchCapacity = max(n, scratchCapacity * 2, 64)
        groupWords = AlignedBuffer(capacity: scratchCapacity * 8)
        valueWords = AlignedBuffer(capacity: scratchCapacity * 8)
        hashes = AlignedBuffer(capacity: scratchCapacity * 8)
        ids = AlignedBuffer(capacity: scratchCapacity * 4)
    }

    func update(_ input: Column, groups: UnsafePointer<UInt32>?, _ sel: UnsafePointer<UInt32>?, _ n: Int,
                rowBase: Int64) {
        reserveScratch(n)
        let gw = groupWords.typed(Int64.self), vw = valueWords.typed(Int64.self)
        let validity = input.validityWords
        var m = 0
        for i in 0..<n {
            let r = sel.map { Int($0[i]) } ?? i
            if let validity, (validity[r >> 6] >> UInt64(r & 63)) & 1 == 0 { continue }
            gw[m] = groups.map { Int64($0[r]) } ?? 0
            switch type {
            case .int64, .timestamp: vw[m] = input.int64s[r]
            case .float64: vw[m] = ValueWords.double(input.float64s[r])
            case .bool: vw[m] = input.bools[r] != 0 ? 1 : 0
            case .string:
                let s = input.stringBytes(at: r)
                vw[m] = interner!.intern(s, hash: ck_hash_bytes_one(s.baseAddress, s.count))
            }
            m += 1
        }
        insertScratch(m)
    }

    /// Inserts the first m pairs of the scratch words; each new pair counts (and sums)
    /// towards its group.
    func insertScratch(_ m: Int) {
        guard m > 0 else { return }
        let gw = groupWords.typed(Int64.self), vw = valueWords.typed(Int64.self)
        let h = hashes.typed(UInt64.self)
        ck_hash_i64(vw, nil, nil, m, h)
        ck_hash_combine_i64(gw, nil, nil, m, h)
        let before = pairs.count
        _ = pairs.findOrInsert([UnsafePointer(gw), UnsafePointer(vw)], stride: 1, hashes: h, hashStride: 1, nil, m,
                               into: ids.typed(UInt32.self))
        let keys = pairs.keyWords
        for p in before..<pairs.count {
            let g = Int(keys[2 * p]), w = keys[2 * p + 1]
            counts[g] += 1
            guard result != .count else { continue }
            if type == .float64 {
                floatSums[g] += Double(bitPattern: UInt64(bitPattern: w))
            } else {
                let (s, o) = intSums[g].addingReportingOverflow(w)
                intSums[g] = s
                if o { overflowed = true }
            }
        }
    }

    func combine(_ other: GroupAccumulator, mapping: UnsafePointer<UInt32>, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        let o = other as! DistinctAccumulator
        // Where each of other's groups goes (-1: not merged now).
        var target = [Int64](repeating: -1, count: o.counts.count)
        for i in 0..<n {
            let k = sel.map { Int($0[i]) } ?? i
            target[k] = Int64(mapping[k])
        }
        let total = o.pairs.count
        guard total > 0 else { return }
        // The pairs are copied to scratch before any insert, so `other` may be this
        // accumulator. String ids of another state are re-interned here, each once.
        reserveScratch(total)
        let gw = groupWords.typed(Int64.self), vw = valueWords.typed(Int64.self)
        let translate = interner != nil && o !== self
        var stringIds = [Int64](repeating: -1, count: translate ? o.interner!.count : 0)
        let keys = o.pairs.keyWords
        var m = 0
        for p in 0..<total {
            let t = target[Int(keys[2 * p])]
            guard t >= 0 else { continue }
            var w = keys[2 * p + 1]
            if translate {
                if stringIds[Int(w)] < 0 {
                    let s = o.interner!.string(Int(w))
                    stringIds[Int(w)] = interner!.intern(s, hash: ck_hash_bytes_one(s.baseAddress, s.count))
                }
                w = stringIds[Int(w)]
            }
            gw[m] = t
            vw[m] = w
            m += 1
        }
        insertScratch(m)
    }

    func finalize(_ n: Int) -> Column {
        switch result {
        case .count:
            let out = Column(.int64, capacity: max(n, 1))
            for g in 0..<n { out.append(counts[g]) }
            return out
        case .sum:
            let out = Column(type, capacity: max(n, 1))
            for g in 0..<n {
                if counts[g] == 0 { out.appendNull() } else if type == .float64 { out.append(floatSums[g]) } else { out.append(intSums[g]) }
            }
            return out
        case .avg:
            let out = Column(.float64, capacity: max(n, 1))
            for g in 0..<n {
                guard counts[g] > 0 else {
                    out.appendNull()
                    continue
                }
                let sum = type == .float64 ? floatSums[g] : Double(intSums[g])
                out.append(sum / Double(counts[g]))
            }
            return out
        }
    }
}
