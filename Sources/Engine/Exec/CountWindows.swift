import CKernels
import Columnar

/// Count windows (Flink's `countWindow(n)` on a keyed stream, the Swift API's
/// `.window(.count(n))`): each key's rows, in input order, are cut into windows of `n`
/// rows; a window is emitted when its n-th row arrives. Windows still short of n rows at
/// the end of the input are not emitted (as in Flink, whose count trigger never fires
/// for them).
///
/// Which window a row is in depends on every earlier row of its key, so workers parse
/// and evaluate their morsels in parallel but apply them here one morsel at a time, in
/// input order; applying is a hash lookup and a counter per row.
final class CountWindowRun: @unchecked Sendable {
    let size: Int
    let specs: [AggregateSpec]
    private let monitor = Monitor()
    /// The next morsel to apply.
    private var next = 0
    private var cancelled = false
    /// Key id per distinct key, and per key id its rows in the open window and the slot
    /// (accumulator group) of that window.
    private let keys: AggState
    private var counts: [Int] = []
    private var slotOfKey: [UInt32] = []
    /// Per slot: its key id and whether it is still open.
    private var keyOfSlot: [UInt32] = []
    private var open: [Bool] = []
    private var liveSlots = 0
    private var accs: AccumulatorSet
    private let scratch: KeyScratch
    private var slotIds: [UInt32]

    init(size: Int, layout: KeyLayout, specs: [AggregateSpec], batchCapacity: Int) {
        self.size = size
        self.specs = specs
        keys = AggState(layout: layout, specs: [])
        accs = AccumulatorSet(specs)
        scratch = KeyScratch(width: layout.width, capacity: batchCapacity)
        slotIds = [UInt32](repeating: 0, count: max(batchCapacity, 1))
    }

    /// One batch of a morsel, evaluated: the rows `sel` (nil: all `count`) of `keys` and
    /// `inputs`, row i at input position rowBase + i.
    struct Part {
        var keys: [Column]
        var inputs: [Column]
        var sel: SelectionVector?
        var count: Int
        /// Rows in the batch (row ids are below it).
        var rows: Int
        var rowBase: Int64
    }

    /// The query failed: morsels waiting for their turn stop waiting.
    func cancel() {
        monitor.locked {
            cancelled = true
            monitor.broadcast()
        }
    }

    /// Applies morsel `morsel`'s rows once every earlier morsel's are applied; returns the
    /// windows its rows completed (keys then aggregates, in the order they completed).
    func apply(_ morsel: Int, _ parts: [Part]) throws -> Batch? {
        try monitor.locked {
            while next != morsel {
                if cancelled { throw Aborted() }
                monitor.wait()
            }
        }
        defer {
            monitor.locked {
                next += 1
                monitor.broadcast()
            }
        }
        var completed: [UInt32] = []
        for part in parts where part.count > 0 {
            let sel: UnsafePointer<UInt32>? = part.sel.map { UnsafePointer($0.ids) }
            let ids = scratch.groups.typed(UInt32.self)
            let keyed = keys.layout.width > 0
            if keyed { keys.add(keys: part.keys, inputs: [], scratch: scratch, sel, part.count, rowBase: part.rowBase) }
            let keyCount = keyed ? keys.groupCount : 1
            if counts.count < keyCount {
                counts += Array(repeating: 0, count: keyCount - counts.count)
                slotOfKey += Array(repeating: 0, count: keyCount - slotOfKey.count)
            }
            if slotIds.count < part.rows { slotIds = [UInt32](repeating: 0, count: part.rows) }
            for i in 0..<part.count {
                let r = Int(sel?[i] ?? UInt32(i))
                let kid = keyed ? Int(ids[r]) : 0
                if counts[kid] == 0 {
                    slotOfKey[kid] = UInt32(keyOfSlot.count)
                    keyOfSlot.append(UInt32(kid))
                    open.append(true)
                    liveSlots += 1
                }
                slotIds[r] = slotOfKey[kid]
                counts[kid] += 1
                if counts[kid] == size {
                    completed.append(slotOfKey[kid])
                    counts[kid] = 0
                }
            }
            accs.grow(to: keyOfSlot.count)
            slotIds.withUnsafeBufferPointer {
                accs.update(part.inputs, groups: $0.baseAddress, sel, part.count, rowBase: part.rowBase)
            }
        }
        guard !completed.isEmpty else { return nil }
        // The completed windows' accumulators, moved to a set of their own for finalize.
        let out = accs.moved(completed)
        let keyColumns = keys.layout.width > 0 ? keys.keyColumns(completed.map { keyOfSlot[Int($0)] }) : []
        let columns = keyColumns + specs.indices.map { out.finalize($0) }
        for s in completed { open[Int(s)] = false }
        liveSlots -= completed.count
        if keyOfSlot.count > 4096 && liveSlots * 2 < keyOfSlot.count { compact() }
        var fields: [Field] = keyColumns.enumerated().map { Field("k\($0.offset)", $0.element.type) }
        for (i, s) in specs.enumerated() { fields.append(Field("a\(i)", s.outputType)) }
        return Batch(schema: Schema(fields), columns: columns, count: completed.count)
    }

    /// Drops the slots of emitted windows: the open ones move to a new accumulator set.
    private func compact() {
        var slotMap = [UInt32](repeating: 0, count: keyOfSlot.count)
        var live: [UInt32] = []
        for s in 0..<keyOfSlot.count where open[s] {
            slotMap[s] = UInt32(live.count)
            live.append(UInt32(s))
        }
        accs = accs.moved(live)
        keyOfSlot = live.map { keyOfSlot[Int($0)] }
        open = Array(repeating: true, count: live.count)
        for k in slotOfKey.indices where counts[k] > 0 { slotOfKey[k] = slotMap[Int(slotOfKey[k])] }
    }
}
