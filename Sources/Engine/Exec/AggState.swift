import CKernels
import Columnar

/// The aggregation state of one window (or of the whole stream for a non-windowed
/// GROUP BY) on one worker: a group table, the accumulators and the string interners
/// of its string keys.
final class AggState: @unchecked Sendable {
    let layout: KeyLayout
    let table: GroupTable
    let accs: AccumulatorSet
    let interners: [StringInterner?]

    init(layout: KeyLayout, specs: [AggregateSpec], expectedGroups: Int = 256) {
        self.layout = layout
        table = GroupTable(width: layout.width, expectedGroups: expectedGroups)
        accs = AccumulatorSet(specs, capacity: expectedGroups)
        interners = layout.types.map { $0 == .string ? StringInterner() : nil }
    }

    var groupCount: Int { table.count }

    /// Adds rows `sel[0..<n]`: their keys (`keys`, evaluated) and aggregate inputs.
    /// Row i of the batch has input position `rowBase + i`, comparable across batches and
    /// workers (FIRST_VALUE/LAST_VALUE keep the value of the smallest/largest position).
    func add(keys: [Column], inputs: [Column], scratch: KeyScratch, _ sel: UnsafePointer<UInt32>?, _ n: Int,
             rowBase: Int64 = 0) {
        guard n > 0 else { return }
        let groups = scratch.groups.typed(UInt32.self)
        if layout.width == 0 {
            accs.grow(to: 1)
            accs.update(inputs, groups: nil, sel, n, rowBase: rowBase)
            return
        }
        let words = KeyEncoder.encode(keys, layout: layout, interners: interners, scratch: scratch, sel, n)
        _ = table.findOrInsert(words, stride: 1, hashes: scratch.hashes.typed(UInt64.self), hashStride: 1,
                               sel, n, into: groups)
        accs.grow(to: table.count)
        accs.update(inputs, groups: groups, sel, n, rowBase: rowBase)
    }

    /// Merges another worker's partial state for the same window into this one: its
    /// groups `sel[0..<n]`, or all of them when sel is nil.
    func combine(_ other: AggState, _ sel: UnsafePointer<UInt32>? = nil, _ count: Int? = nil) {
        if layout.width == 0 {
            guard other.accs.groups > 0 else { return }
            accs.grow(to: 1)
            var zero: UInt32 = 0
            accs.combine(other.accs, mapping: &zero, nil, 1)
            return
        }
        let n = count ?? other.table.count
        guard n > 0 else { return }
        let mapping = insertKeys(of: other, sel, n)
        accs.grow(to: table.count)
        mapping.withUnsafeBufferPointer { accs.combine(other.accs, mapping: $0.baseAddress!, sel, n) }
    }

    /// Inserts the keys of `other`'s groups `sel[0..<n]` (all when sel is nil; same key
    /// layout) and returns, indexed by `other`'s group id, their groups here.
    func insertKeys(of other: AggState, _ sel: UnsafePointer<UInt32>? = nil, _ count: Int? = nil) -> [UInt32] {
        let all = other.table.count
        let n = count ?? all
        var mapping = [UInt32](repeating: 0, count: max(all, 1))
        guard n > 0 else { return mapping }
        let width = layout.width
        func insert(_ words: UnsafePointer<Int64>, _ hashes: UnsafePointer<UInt64>) {
            let cols = (0..<width).map { words + $0 }
            mapping.withUnsafeMutableBufferPointer { m in
                _ = table.findOrInsert(cols, stride: width, hashes: hashes, hashStride: 1, sel, n, into: m.baseAddress!)
            }
        }
        guard interners.contains(where: { $0 != nil }) else {
            insert(other.table.keyWords, other.table.groupHashes)
            return mapping
        }
        // String ids are local to each state: re-intern other's strings here, then hash
        // the translated key words.
        var words = Array(UnsafeBufferPointer(start: other.table.keyWords, count: all * width))
        for (j, mine) in interners.enumerated() {
            guard let mine, let theirs = other.interners[j] else { continue }
            var map = [Int64](repeating: 0, count: theirs.count)
            for id in 0..<theirs.count {
                let s = theirs.string(id)
                map[id] = mine.intern(s, hash: ck_hash_bytes_one(s.baseAddress, s.count))
            }
            for g in 0..<all {
                let isNull = layout.hasNullWord && (words[g * width + width - 1] >> Int64(j)) & 1 == 1
                if !isNull { words[g * width + j] = map[Int(words[g * width + j])] }
            }
        }
        var hashes = [UInt64](repeating: 0, count: all)
        words.withUnsafeBufferPointer { w in
            for g in 0..<all {
                hashes[g] = KeyEncoder.groupHash(w.baseAddress! + g * width, width: width, hasNullWord: layout.hasNullWord)
            }
        }
        words.withUnsafeBufferPointer { w in hashes.withUnsafeBufferPointer { insert(w.baseAddress!, $0.baseAddress!) } }
        return mapping
    }

    /// Whether the group hashes depend only on key values (no interned string ids), so
    /// equal keys in different states hash alike and can be partitioned by hash.
    var hashesAreGlobal: Bool { !interners.contains { $0 != nil } }

    /// The groups as columns: one per key (decoded), then one per aggregate. A global
    /// aggregate (no keys) yields one row even over no input, as SQL requires.
    func finalize() -> [Column] {
        if layout.width == 0 { accs.grow(to: 1) }
        let n = layout.width == 0 ? accs.groups : table.count
        var out = keyColumns((0..<n).map { UInt32($0) })
        for i in accs.specs.indices { out.append(accs.finalize(i)) }
        return out
    }

    /// The key columns of groups `ids`, decoded, in that order.
    func keyColumns(_ ids: [UInt32]) -> [Column] {
        let width = layout.width
        let words = table.keyWords
        return layout.types.enumerated().map { j, type in
            let col = Column(type, capacity: max(ids.count, 1))
            for id in ids {
                let g = Int(id)
                let w = words[g * width + j]
                if layout.hasNullWord && (words[g * width + width - 1] >> Int64(j)) & 1 == 1 {
                    col.appendNull()
                    continue
                }
                switch type {
                case .int64, .timestamp: col.append(w)
                case .float64: col.append(Double(bitPattern: UInt64(bitPattern: w)))
                case .bool: col.append(w != 0)
                case .string: interners[j]!.append(Int(w), to: col)
                }
            }
            return col
        }
    }
}
