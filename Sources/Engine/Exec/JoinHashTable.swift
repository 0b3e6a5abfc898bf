import CKernels
import Columnar

// MARK: - Keys

/// The equality keys of a batch's rows for a hash join: a hash per row, and which rows
/// have a NULL in some key (in SQL a NULL equals nothing, so those rows never match).
///
/// Equal keys hash alike whatever batch they come from: integers and timestamps hash
/// their value, doubles their bits after folding -0.0 into 0.0 and every NaN into one
/// (so `=` and the hash agree, as in grouping), booleans 0 or 1, strings their bytes.
struct JoinKeys {
    let columns: [Column]
    let hashes: [UInt64]
    /// nil when no key column has a NULL.
    let hasNull: [Bool]?

    init(_ columns: [Column], count n: Int) {
        self.columns = columns
        var hashes = [UInt64](repeating: 0, count: max(n, 1))
        var nulls: [Bool]?
        hashes.withUnsafeMutableBufferPointer { out in
            let h = out.baseAddress!
            for (j, c) in columns.enumerated() {
                JoinKeys.hash(c, n, into: h, first: j == 0)
            }
        }
        for c in columns where c.validityWords != nil {
            if nulls == nil { nulls = [Bool](repeating: false, count: n) }
            for r in 0..<n where !c.isValid(r) { nulls![r] = true }
        }
        self.hashes = hashes
        hasNull = nulls
    }

    /// Hashes (first column) or combines (further columns) column `c` into `h`.
    private static func hash(_ c: Column, _ n: Int, into h: UnsafeMutablePointer<UInt64>, first: Bool) {
        guard n > 0 else { return }
        switch c.type {
        case .int64, .timestamp:
            if first { ck_hash_i64(c.int64s, c.validityWords, nil, n, h) } else { ck_hash_combine_i64(c.int64s, c.validityWords, nil, n, h) }
        case .string:
            if first {
                ck_hash_str(c.offsets, c.bytes, c.validityWords, nil, n, h)
            } else {
                ck_hash_combine_str(c.offsets, c.bytes, c.validityWords, nil, n, h)
            }
        case .float64, .bool:
            var words = [Int64](repeating: 0, count: n)
            for r in 0..<n { words[r] = normalizedWord(c, r) }
            words.withUnsafeBufferPointer { w in
                if first { ck_hash_i64(w.baseAddress!, c.validityWords, nil, n, h) } else { ck_hash_combine_i64(w.baseAddress!, c.validityWords, nil, n, h) }
            }
        }
    }

    @inline(__always)
    private static func normalizedWord(_ c: Column, _ r: Int) -> Int64 {
        if c.type == .bool { return c.bools[r] != 0 ? 1 : 0 }
        var v = c.float64s[r]
        if v == 0 { v = 0 }
        if v.isNaN { v = .nan }
        return Int64(bitPattern: v.bitPattern)
    }

    /// Whether row r can match: no NULL in its key.
    @inline(__always)
    func matchable(_ r: Int) -> Bool { hasNull.map { !$0[r] } ?? true }

    /// Whether the key of row `r` of `a` equals the key of row `s` of `b` (same types).
    static func equal(_ a: [Column], _ r: Int, _ b: [Column], _ s: Int) -> Bool {
        for (x, y) in zip(a, b) {
            switch x.type {
            case .int64, .timestamp:
                if x.int64s[r] != y.int64s[s] { return false }
            case .float64:
                let u = x.float64s[r], v = y.float64s[s]
                if !(u == v || (u.isNaN && v.isNaN)) { return false }
            case .bool:
                if (x.bools[r] != 0) != (y.bools[s] != 0) { return false }
            case .string:
                if !x.stringBytes(at: r).elementsEqual(y.stringBytes(at: s)) { return false }
            }
        }
        return true
    }
}

// MARK: - Hash table

/// A chained hash table from key hashes to the row ids of a row store (the build side of a
/// join, or one input's state in a two-input join). The table only stores hashes: callers
/// compare the keys themselves (`JoinKeys.equal`), since chains may mix keys whose hashes
/// share a slot.
struct JoinHashTable {
    /// Per slot: the first row of its chain + 1 (0: empty).
    private var slots: [Int32]
    /// Per row id: the next row of its chain + 1 (0: end); rows never inserted stay 0.
    private var next: [Int32] = []
    private var rowHash: [UInt64] = []
    private var mask: Int
    private(set) var count = 0

    init(expected: Int = 16) {
        var s = 16
        while s < expected * 2 { s <<= 1 }
        slots = [Int32](repeating: 0, count: s)
        mask = s - 1
    }

    /// Adds row `row` with key hash `hash`; it is found before the rows inserted earlier.
    mutating func insert(row: Int, hash: UInt64) {
        if row >= next.count {
            let grow = max(row + 1, next.count * 2)
            next += [Int32](repeating: 0, count: grow - next.count)
            rowHash += [UInt64](repeating: 0, count: grow - rowHash.count)
        }
        if (count + 1) * 2 > slots.count { rehash(slots.count * 2) }
        let s = Int(truncatingIfNeeded: hash) & mask
        rowHash[row] = hash
        next[row] = slots[s]
        slots[s] = Int32(row + 1)
        count += 1
    }

    private mutating func rehash(_ size: Int) {
        var rows: [Int] = []
        rows.reserveCapacity(count)
        for head in slots {
            var e = head
            while e != 0 {
                rows.append(Int(e - 1))
                e = next[Int(e - 1)]
            }
        }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        // Reinserting each slot's chain backwards keeps the order of rows within a key.
        for r in rows.reversed() {
            let s = Int(truncatingIfNeeded: rowHash[r]) & mask
            next[r] = slots[s]
            slots[s] = Int32(r + 1)
        }
    }

    /// Calls `body` with every row whose key hash is `hash` (latest inserted first).
    @inline(__always)
    func forEach(hash: UInt64, _ body: (Int) -> Void) {
        var e = slots[Int(truncatingIfNeeded: hash) & mask]
        while e != 0 {
            let r = Int(e - 1)
            if rowHash[r] == hash { body(r) }
            e = next[r]
        }
    }
}

// MARK: - Gathering

extension Column {
    /// A new column with row `ids[i]` of `self` for each i, NULL where the id is negative
    /// (the missing side of an outer join).
    func gatherOptional(_ ids: [Int32]) -> Column {
        let out = Column(type, capacity: max(ids.count, 1))
        out.appendOptional(from: self, ids)
        return out
    }

    /// Appends row `ids[i]` of `other` for each i, NULL where the id is negative.
    func appendOptional(from other: Column, _ ids: [Int32]) {
        if !ids.contains(where: { $0 < 0 }) {
            let rows = ids.map { UInt32($0) }
            rows.withUnsafeBufferPointer { appendGathered(from: other, $0.baseAddress, $0.count) }
            return
        }
        reserve(count + ids.count)
        for id in ids {
            if id < 0 { appendNull() } else { append(from: other, row: Int(id)) }
        }
    }
}
