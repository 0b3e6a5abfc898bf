import CKernels
import Columnar

/// Session windows of one set of rows: per key, the sessions (first and last event time,
/// and an accumulator slot each) that the rows form. Two rows of a key are in one
/// session when they are at most `gap` apart (Flink: the windows [t, t + gap) of the
/// rows intersect, ends included); a session is the window [first, last + gap).
///
/// A worker fills one store per morsel with the morsel's on-time rows and merges it into
/// the run's store (SessionRun) before the morsel counts as done; merging is union of
/// intervals and combine of accumulators, so the result does not depend on how the
/// input was split between workers.
final class SessionStore {
    let gap: Int64
    /// The key table (a group table with no aggregates): key id per distinct key.
    let keys: AggState
    /// Per slot: its key id, the first and last event time of its rows, and whether it
    /// is a session (merged-away and fired slots are dead until the next compaction).
    var keyOfSlot: [UInt32] = []
    var first: [Int64] = []
    var last: [Int64] = []
    var alive: [Bool] = []
    var liveSlots = 0
    /// Per key id: its live slots.
    var open: [[UInt32]] = []
    var accs: AccumulatorSet
    let specs: [AggregateSpec]
    /// A scratch slot mapping for merges within `accs`.
    private var mapping: [UInt32] = []
    /// Slots folded into others since the last add/merge began: slots handed out earlier
    /// in that call are forwarded before their rows are accumulated.
    private var folded: [UInt32: UInt32] = [:]

    private func resolve(_ slot: UInt32) -> UInt32 {
        var s = slot
        while let t = folded[s] { s = t }
        return s
    }

    init(gap: Int64, layout: KeyLayout, specs: [AggregateSpec]) {
        self.gap = gap
        self.specs = specs
        keys = AggState(layout: layout, specs: [])
        accs = AccumulatorSet(specs)
    }

    var slotCount: Int { keyOfSlot.count }

    /// Adds the rows `sel[0..<n]`: their evaluated keys, aggregate inputs and (valid)
    /// event times.
    func add(keys keyColumns: [Column], inputs: [Column], time: UnsafePointer<Int64>, scratch: KeyScratch,
             _ sel: UnsafePointer<UInt32>, _ n: Int, rowBase: Int64) {
        guard n > 0 else { return }
        let ids = scratch.groups.typed(UInt32.self)
        let keyed = keys.layout.width > 0
        if keyed { keys.add(keys: keyColumns, inputs: [], scratch: scratch, sel, n, rowBase: rowBase) }
        if open.count < keys.groupCount || !keyed { growKeys(max(keys.groupCount, 1)) }
        // The slot of each row, written by row id like the group ids it replaces.
        folded.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let r = Int(sel[i])
            let kid = keyed ? ids[r] : 0
            ids[r] = place(kid, time[r], time[r])
        }
        if !folded.isEmpty {
            for i in 0..<n { ids[Int(sel[i])] = resolve(ids[Int(sel[i])]) }
        }
        accs.grow(to: slotCount)
        accs.update(inputs, groups: UnsafePointer(ids), sel, n, rowBase: rowBase)
    }

    private func growKeys(_ n: Int) {
        while open.count < n { open.append([]) }
    }

    /// The slot for rows of key `kid` spanning [lo, hi]: the session they fall in,
    /// merged with every other session they bridge, or a new one.
    private func place(_ kid: UInt32, _ lo: Int64, _ hi: Int64) -> UInt32 {
        let k = Int(kid)
        var target: UInt32?
        var i = 0
        while i < open[k].count {
            let s = Int(open[k][i])
            if lo <= last[s] &+ gap && hi &+ gap >= first[s] {
                if let t = target {
                    // The new rows bridge two sessions: fold s into t.
                    mergeSlot(s, into: Int(t))
                    open[k].remove(at: i)
                    continue
                }
                target = UInt32(s)
                first[s] = min(first[s], lo)
                last[s] = max(last[s], hi)
            }
            i += 1
        }
        if let t = target { return t }
        let slot = UInt32(keyOfSlot.count)
        keyOfSlot.append(kid)
        first.append(lo)
        last.append(hi)
        alive.append(true)
        liveSlots += 1
        open[k].append(slot)
        return slot
    }

    private func mergeSlot(_ s: Int, into t: Int) {
        first[t] = min(first[t], first[s])
        last[t] = max(last[t], last[s])
        if mapping.count <= s { mapping = [UInt32](repeating: 0, count: max(s + 1, mapping.count * 2)) }
        mapping[s] = UInt32(t)
        accs.grow(to: slotCount)
        var one = UInt32(s)
        mapping.withUnsafeBufferPointer { accs.combine(accs, mapping: $0.baseAddress!, &one, 1) }
        alive[s] = false
        liveSlots -= 1
        folded[UInt32(s)] = UInt32(t)
    }

    /// Merges another store's sessions (same keys and aggregates) into this one.
    func merge(_ other: SessionStore) {
        let keyMap = keys.layout.width > 0 ? keys.insertKeys(of: other.keys) : [0]
        growKeys(max(keys.groupCount, 1))
        var slotMap = [UInt32](repeating: 0, count: max(other.slotCount, 1))
        var live: [UInt32] = []
        live.reserveCapacity(other.liveSlots)
        folded.removeAll(keepingCapacity: true)
        for s in 0..<other.slotCount where other.alive[s] {
            slotMap[s] = place(keyMap[Int(other.keyOfSlot[s])], other.first[s], other.last[s])
            live.append(UInt32(s))
        }
        if !folded.isEmpty {
            for s in live { slotMap[Int(s)] = resolve(slotMap[Int(s)]) }
        }
        accs.grow(to: slotCount)
        slotMap.withUnsafeBufferPointer { m in
            live.withUnsafeBufferPointer { accs.combine(other.accs, mapping: m.baseAddress!, $0.baseAddress, $0.count) }
        }
    }

    /// Removes the sessions that end (last + gap) by `upTo` and returns their rows:
    /// window_start, window_end, the keys, the aggregates, ordered by window_end then
    /// keys.
    func fire(upTo: Int64, schema: Schema) -> Batch? {
        var done: [UInt32] = []
        for s in 0..<slotCount where alive[s] && last[s] &+ gap <= upTo { done.append(UInt32(s)) }
        guard !done.isEmpty else { return nil }
        // The fired sessions' accumulators, moved to a set of their own for finalize.
        let out = accs.moved(done)
        let starts = Column(.timestamp(.millisecond), capacity: done.count)
        let ends = Column(.timestamp(.millisecond), capacity: done.count)
        for s in done {
            starts.append(first[Int(s)])
            ends.append(last[Int(s)] &+ gap)
        }
        let keyColumns = keys.keyColumns(done.map { keyOfSlot[Int($0)] })
        let aggColumns = specs.indices.map { out.finalize($0) }
        for s in done {
            alive[Int(s)] = false
            let k = Int(keyOfSlot[Int(s)])
            open[k].removeAll { $0 == s }
        }
        liveSlots -= done.count
        if slotCount > 1024 && liveSlots * 2 < slotCount { compact() }
        let batch = Batch(schema: schema, columns: [starts, ends] + keyColumns + aggColumns, count: done.count)
        return BatchSorter.sorted(batch, by: [1] + Array(2..<2 + keyColumns.count))
    }

    /// Drops dead slots: the live sessions move to a new accumulator set, numbered in
    /// slot order.
    private func compact() {
        var slotMap = [UInt32](repeating: 0, count: slotCount)
        var live: [UInt32] = []
        for s in 0..<slotCount where alive[s] {
            slotMap[s] = UInt32(live.count)
            live.append(UInt32(s))
        }
        accs = accs.moved(live)
        keyOfSlot = live.map { keyOfSlot[Int($0)] }
        first = live.map { first[Int($0)] }
        last = live.map { last[Int($0)] }
        alive = Array(repeating: true, count: live.count)
        for k in open.indices { open[k] = open[k].map { slotMap[Int($0)] } }
    }
}

/// The run's session windows: one store that every worker merges its morsels into, and
/// the firing of sessions once the watermark of the aggregated prefix of the input has
/// passed their end.
final class SessionRun: @unchecked Sendable {
    let gap: Int64
    let monitor = Monitor()
    var store: SessionStore?
    var detached: [Int64] = []
    var firedThrough = Int64.min
    var emitSeq = 0

    init(gap: Int64) {
        self.gap = gap
    }

    func merge(_ part: SessionStore) {
        monitor.locked {
            if let store { store.merge(part) } else { store = part }
        }
    }

    /// Worker `worker` has merged everything it aggregated before the watermark reached
    /// `upTo`; fires the sessions that every worker's rows are now in. Returns result
    /// batches (window_start, window_end, keys, aggregates) with sink sequence numbers.
    func fire(worker: Int, workers: Int, upTo: Int64, schema: Schema) -> [(Int, Batch)] {
        monitor.locked {
            if detached.isEmpty { detached = Array(repeating: Int64.min, count: workers) }
            detached[worker] = max(detached[worker], upTo)
            let closedUpTo = detached.min()!
            guard closedUpTo > firedThrough, let store, let batch = store.fire(upTo: closedUpTo, schema: schema) else {
                firedThrough = max(firedThrough, closedUpTo)
                return []
            }
            firedThrough = closedUpTo
            defer { emitSeq += 1 }
            return [(emitSeq, batch)]
        }
    }
}
