import CKernels
import Columnar

/// Swift owner of a `ck_group_table`: the memory it points into, and growth.
final class GroupTable {
    private(set) var raw: ck_group_table
    private var slots: AlignedBuffer
    private var keys: AlignedBuffer
    private var hashes: AlignedBuffer
    let width: Int

    init(width: Int, expectedGroups: Int = 256) {
        self.width = width
        let groups = max(expectedGroups, 16)
        let slotCount = GroupTable.slotCount(for: groups)
        slots = AlignedBuffer(capacity: slotCount * 8)
        slots.fill(0, count: slotCount * 8)
        keys = AlignedBuffer(capacity: groups * max(width, 1) * 8)
        hashes = AlignedBuffer(capacity: groups * 8)
        raw = ck_group_table(
            slots: slots.typed(UInt64.self), slot_mask: UInt64(slotCount - 1),
            keys: keys.typed(Int64.self), hashes: hashes.typed(UInt64.self),
            width: UInt32(width), count: 0, group_capacity: UInt32(groups), _pad: 0)
    }

    static func slotCount(for groups: Int) -> Int {
        var s = 16
        while s < groups * 2 { s <<= 1 }
        return s
    }

    var count: Int { Int(raw.count) }
    var keyWords: UnsafeMutablePointer<Int64> { raw.keys }
    var groupHashes: UnsafeMutablePointer<UInt64> { raw.hashes }

    /// Grows so that `incoming` more groups fit.
    func reserve(_ incoming: Int) {
        guard ck_group_reserve_needed(&raw, incoming) != 0 else { return }
        let need = count + incoming
        var groups = Int(raw.group_capacity)
        while groups < need { groups *= 2 }
        if groups != Int(raw.group_capacity) {
            keys.reserve(groups * max(width, 1) * 8, preserving: count * width * 8)
            hashes.reserve(groups * 8, preserving: count * 8)
            raw.keys = keys.typed(Int64.self)
            raw.hashes = hashes.typed(UInt64.self)
            raw.group_capacity = UInt32(groups)
        }
        let slotCount = GroupTable.slotCount(for: need)
        if slotCount > Int(raw.slot_mask) + 1 {
            slots = AlignedBuffer(capacity: slotCount * 8)
            raw.slots = slots.typed(UInt64.self)
            raw.slot_mask = UInt64(slotCount - 1)
            ck_group_rehash(&raw)
        }
    }

    /// Group ids for the rows `sel[0..<n]` (row-indexed output), inserting new groups.
    func findOrInsert(
        _ keyCols: [UnsafePointer<Int64>], stride: Int, hashes: UnsafePointer<UInt64>, hashStride: Int,
        _ sel: UnsafePointer<UInt32>?, _ n: Int, into groups: UnsafeMutablePointer<UInt32>
    ) -> Int {
        reserve(n)
        return keyCols.withUnsafeBufferPointer { cols in
            cols.withMemoryRebound(to: UnsafePointer<Int64>?.self) { c in
                ck_group_find_or_insert(&raw, c.baseAddress, stride, hashes, hashStride, sel, n, groups)
            }
        }
    }
}

/// Maps distinct strings to dense ids 0, 1, 2, ... (so string keys become key words).
final class StringInterner {
    private var slots: [Int32]  // id + 1, 0 = empty
    private var hashes: [UInt64] = []
    private(set) var offsets: [Int32] = [0]
    private(set) var bytes: [UInt8] = []

    init() { slots = [Int32](repeating: 0, count: 64) }

    var count: Int { hashes.count }

    func string(_ id: Int) -> UnsafeBufferPointer<UInt8> {
        bytes.withUnsafeBufferPointer { b in
            UnsafeBufferPointer(rebasing: b[Int(offsets[id])..<Int(offsets[id + 1])])
        }
    }

    /// Appends string `id` to a string column.
    func append(_ id: Int, to column: Column) {
        bytes.withUnsafeBytes { b in
            column.append(bytes: UnsafeRawBufferPointer(rebasing: b[Int(offsets[id])..<Int(offsets[id + 1])]))
        }
    }

    func intern(_ p: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int64 {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[s]
            if slot == 0 { break }
            let id = Int(slot - 1)
            if hashes[id] == hash {
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                if end - start == p.count
                    && bytes.withUnsafeBufferPointer({ b in memcmpEqual(b.baseAddress! + start, p.baseAddress, p.count) })
                {
                    return Int64(id)
                }
            }
            s = (s + 1) & mask
        }
        let id = hashes.count
        hashes.append(hash)
        bytes.append(contentsOf: p)
        offsets.append(Int32(bytes.count))
        slots[s] = Int32(id + 1)
        if hashes.count * 2 > slots.count { grow() }
        return Int64(id)
    }

    private func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (id, h) in hashes.enumerated() {
            var s = Int(truncatingIfNeeded: h) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = Int32(id + 1)
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
    guard n > 0, let b else { return true }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// How the group keys of an aggregation become fixed-width int64 key words.
struct KeyLayout {
    let types: [DataType]
    /// A trailing word holds a bit per key that is NULL.
    let hasNullWord: Bool

    var width: Int { types.count + (hasNullWord ? 1 : 0) }
}

/// Reusable per-worker scratch space for encoding keys of one batch.
final class KeyScratch {
    var words: [AlignedBuffer] = []
    let hashes: AlignedBuffer
    let groups: AlignedBuffer
    let capacity: Int

    init(width: Int, capacity: Int) {
        self.capacity = max(capacity, 1)
        for _ in 0..<width { words.append(AlignedBuffer(capacity: self.capacity * 8)) }
        hashes = AlignedBuffer(capacity: self.capacity * 8)
        groups = AlignedBuffer(capacity: self.capacity * 4)
        zeros = AlignedBuffer(capacity: self.capacity * 8)
        zeros.fill(0, count: zeros.capacity)
    }

    /// Stands in for the null word of batches whose keys have no nulls.
    let zeros: AlignedBuffer
}

enum KeyEncoder {
    /// Writes the key words and hashes of the rows `sel[0..<n]` of `keys` (row-indexed)
    /// and returns the word pointers. String keys are interned through `interners[j]`.
    static func encode(
        _ keys: [Column], layout: KeyLayout, interners: [StringInterner?], scratch: KeyScratch,
        _ sel: UnsafePointer<UInt32>?, _ n: Int
    ) -> [UnsafePointer<Int64>] {
        var pointers: [UnsafePointer<Int64>] = []
        pointers.reserveCapacity(layout.width)
        let hashes = scratch.hashes.typed(UInt64.self)
        // The null word is only built when some key column of this batch has a bitmap;
        // otherwise it is all zeros (a shared zero buffer) and is not hashed: a key's
        // hash covers its null word only when that word is not zero, so equal keys hash
        // alike whichever batch they come from.
        let anyNulls = keys.contains { $0.validityWords != nil }
        let nullWord = layout.hasNullWord && anyNulls ? scratch.words[keys.count].typed(Int64.self) : nil
        if let nullWord {
            if let sel { for i in 0..<n { nullWord[Int(sel[i])] = 0 } } else { nullWord.update(repeating: 0, count: n) }
        }
        for (j, col) in keys.enumerated() {
            let dst = scratch.words[j].typed(Int64.self)
            let validity = col.validityWords
            @inline(__always) func row(_ i: Int) -> Int { sel.map { Int($0[i]) } ?? i }
            switch col.type {
            case .int64, .timestamp:
                if validity == nil {
                    pointers.append(UnsafePointer(col.int64s))
                } else {
                    for i in 0..<n {
                        let r = row(i)
                        dst[r] = col.isValid(r) ? col.int64s[r] : 0
                    }
                    pointers.append(UnsafePointer(dst))
                }
            case .float64:
                for i in 0..<n {
                    let r = row(i)
                    var v = col.float64s[r]
                    if v == 0 { v = 0 }  // -0.0 and 0.0 are one group
                    if v.isNaN { v = .nan }
                    dst[r] = col.isValid(r) ? Int64(bitPattern: v.bitPattern) : 0
                }
                pointers.append(UnsafePointer(dst))
            case .bool:
                for i in 0..<n {
                    let r = row(i)
                    dst[r] = col.isValid(r) ? Int64(col.bools[r]) : 0
                }
                pointers.append(UnsafePointer(dst))
            case .string:
                let interner = interners[j]!
                ck_hash_str(col.offsets, col.bytes, validity, sel, n, hashes)
                for i in 0..<n {
                    let r = row(i)
                    dst[r] = col.isValid(r) ? interner.intern(col.stringBytes(at: r), hash: hashes[r]) : 0
                }
                pointers.append(UnsafePointer(dst))
            }
            if let nullWord, validity != nil {
                let bit = Int64(1) << Int64(j)
                for i in 0..<n {
                    let r = row(i)
                    if !col.isValid(r) { nullWord[r] |= bit }
                }
            }
        }
        hashWords(pointers, sel, n, into: hashes)
        if let nullWord {
            for i in 0..<n {
                let r = sel.map { Int($0[i]) } ?? i
                if nullWord[r] != 0 { hashes[r] = ck_hash_combine_one(hashes[r], ck_hash_i64_one(nullWord[r])) }
            }
            pointers.append(UnsafePointer(nullWord))
        } else if layout.hasNullWord {
            pointers.append(UnsafePointer(scratch.zeros.typed(Int64.self)))
        }
        return pointers
    }

    /// The hash of one stored group key (`width` words, the last being the null word
    /// when `hasNullWord`), equal to what `encode` computes for the same key.
    static func groupHash(_ words: UnsafePointer<Int64>, width: Int, hasNullWord: Bool) -> UInt64 {
        let values = hasNullWord ? width - 1 : width
        var x = ck_hash_i64_one(words[0])
        for j in 1..<max(values, 1) { x = ck_hash_combine_one(x, ck_hash_i64_one(words[j])) }
        if hasNullWord && words[width - 1] != 0 { x = ck_hash_combine_one(x, ck_hash_i64_one(words[width - 1])) }
        return x
    }

    static func hashWords(_ words: [UnsafePointer<Int64>], _ sel: UnsafePointer<UInt32>?, _ n: Int,
                          into hashes: UnsafeMutablePointer<UInt64>) {
        guard let first = words.first else {
            if let sel { for i in 0..<n { hashes[Int(sel[i])] = 0 } } else { hashes.update(repeating: 0, count: n) }
            return
        }
        ck_hash_i64(first, nil, sel, n, hashes)
        for w in words.dropFirst() { ck_hash_combine_i64(w, nil, sel, n, hashes) }
    }
}
