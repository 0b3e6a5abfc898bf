import Columnar

extension StateTag {
    static let sessionStore = StateTag("SESS")
    static let sessionRun = StateTag("SRUN")
    static let topN = StateTag("TOPN")
}

// MARK: - Session windows

extension SessionStore {
    /// The key table, then per slot (live, merged-away and fired slots alike, so slot
    /// numbers and the accumulators indexed by them stay as they are) its key, first and
    /// last event time and whether it is alive, then the accumulators.
    ///
    /// The per-key lists of open slots are not written: they always hold the key's live
    /// slots in ascending order (slots are appended as they are created, removed in
    /// place, and compaction renumbers them monotonically), so restore rebuilds them.
    func serialize(into w: inout StateWriter) {
        w.tag(.sessionStore)
        w.i64(gap)
        keys.serialize(into: &w)
        let n = slotCount
        w.count(n)
        w.words(keyOfSlot, n)
        w.words(first, n)
        w.words(last, n)
        w.bits(n) { alive[$0] }
        accs.serialize(into: &w)
    }

    convenience init(restoring r: inout StateReader, gap: Int64, layout: KeyLayout, specs: [AggregateSpec]) throws {
        self.init(gap: gap, layout: layout, specs: specs)
        try restore(from: &r)
    }

    /// Fills this empty store from `r`.
    func restore(from r: inout StateReader) throws {
        precondition(slotCount == 0 && keys.groupCount == 0, "restore into an empty session store")
        try r.tag(.sessionStore, "a session window store")
        let savedGap = try r.i64("the session gap")
        guard savedGap == gap else {
            throw r.mismatch("its sessions have a gap of \(savedGap) ms, this query's \(gap) ms")
        }
        try keys.restore(from: &r)
        // Slot key (4 bytes), first and last time (8 each).
        let n = try r.count("the session slot count", bytesEach: 20)
        let slotKeys = try r.words(UInt32.self, n, "the keys of the session slots")
        let firsts = try r.words(Int64.self, n, "the first event times of the sessions")
        let lasts = try r.words(Int64.self, n, "the last event times of the sessions")
        let alive = try r.bits(n, "the live flags of the session slots")
        let keyed = keys.layout.width > 0
        let keyCount = keyed ? keys.groupCount : 1
        for s in 0..<n where Int(slotKeys[s]) >= keyCount {
            throw r.corrupt("session slot \(s) has key \(slotKeys[s]), but there are \(keyCount) keys")
        }
        let fresh = AccumulatorSet(specs, capacity: max(n, 16))
        try fresh.restore(from: &r, groups: n...n)
        keyOfSlot = slotKeys
        first = firsts
        last = lasts
        self.alive = alive
        accs = fresh
        liveSlots = alive.lazy.filter { $0 }.count
        open = Array(repeating: [], count: n > 0 || keys.groupCount > 0 ? keyCount : 0)
        for s in 0..<n where alive[s] { open[Int(slotKeys[s])].append(UInt32(s)) }
    }
}

/// A SessionRun's state at a barrier: the merged store, how far each worker has
/// detached, how far sessions have fired, and the next sink sequence number.
struct SessionRunSnapshot {
    var store: SessionStore?
    var detached: [Int64]
    var firedThrough: Int64
    var emitSeq: Int

    func serialize(into w: inout StateWriter) {
        w.tag(.sessionRun)
        w.count(detached.count)
        w.words(detached)
        w.i64(firedThrough)
        w.count(emitSeq)
        w.bool(store != nil)
        store?.serialize(into: &w)
    }

    init(store: SessionStore?, detached: [Int64], firedThrough: Int64, emitSeq: Int) {
        self.store = store
        self.detached = detached
        self.firedThrough = firedThrough
        self.emitSeq = emitSeq
    }

    init(restoring r: inout StateReader, gap: Int64, layout: KeyLayout, specs: [AggregateSpec]) throws {
        try r.tag(.sessionRun, "the session windows of a run")
        let workers = try r.count("the worker count of the session windows", bytesEach: 8, limit: 1 << 16)
        detached = try r.words(Int64.self, workers, "how far each worker has detached its sessions")
        firedThrough = try r.i64("how far the sessions have fired")
        emitSeq = try r.count("the next session result sequence number", limit: Int.max)
        store = nil
        if try r.bool("the session store flag") {
            store = try SessionStore(restoring: &r, gap: gap, layout: layout, specs: specs)
        }
    }
}

extension SessionRun {
    /// The run's session state; call it while no worker merges or fires (at a barrier).
    func snapshot() -> SessionRunSnapshot {
        monitor.locked { SessionRunSnapshot(store: store, detached: detached, firedThrough: firedThrough, emitSeq: emitSeq) }
    }

    /// Puts a snapshot's state into this run (before any worker starts). With another
    /// number of workers than the snapshot's, every worker starts from the least
    /// watermark any had detached at: sessions up to there have fired (`firedThrough`
    /// keeps them from firing twice), and none later can fire before every new worker
    /// has passed it.
    func restore(_ s: SessionRunSnapshot, workers: Int) {
        monitor.locked {
            store = s.store
            detached = s.detached.count == workers || s.detached.isEmpty
                ? s.detached : Array(repeating: s.detached.min()!, count: workers)
            firedThrough = s.firedThrough
            emitSeq = s.emitSeq
        }
    }
}

// MARK: - Top-N

extension StateWriter {
    mutating func topNPlan(_ p: TopNPlan) {
        u8(p.function.stateCode)
        count(p.limit)
        count(p.partition.count)
        for c in p.partition { count(c) }
        count(p.order.count)
        for o in p.order {
            count(o.column)
            bool(o.descending)
            bool(o.nullsFirst)
        }
        count(p.rowFields.count)
        for f in p.rowFields { type(f.type) }
    }
}

extension StateReader {
    mutating func expectTopNPlan(_ p: TopNPlan) throws {
        let code = try u8("the ranking function")
        let limit = try count("the Top-N limit", limit: Int.max)
        let partitions = try count("the number of PARTITION BY columns", bytesEach: 1, limit: 4096)
        var partition: [Int] = []
        for _ in 0..<partitions { partition.append(try count("a PARTITION BY column")) }
        let orders = try count("the number of ORDER BY terms", bytesEach: 3, limit: 4096)
        var order: [(Int, Bool, Bool)] = []
        for _ in 0..<orders {
            let column = try count("an ORDER BY column")
            let descending = try bool("an ORDER BY direction")
            let nullsFirst = try bool("an ORDER BY NULLS placement")
            order.append((column, descending, nullsFirst))
        }
        let fields = try count("the number of ranked columns", bytesEach: 1, limit: 65536)
        var types: [DataType] = []
        for i in 0..<fields { types.append(try type("the type of ranked column \(i + 1)")) }
        let same = code == p.function.stateCode && limit == p.limit && partition == p.partition
            && order.count == p.order.count
            && zip(order, p.order).allSatisfy { $0.0 == $1.column && $0.1 == $1.descending && $0.2 == $1.nullsFirst }
            && types == p.rowFields.map(\.type)
        guard same else {
            let saved = RankFunction(stateCode: code)?.rawValue ?? "an unknown ranking"
            throw mismatch("it ranks with \(saved) up to \(limit) over \(fields) columns (\(types.map(\.description).joined(separator: ", "))), "
                           + "this query with \(p.function.rawValue) up to \(p.limit) over \(p.rowFields.count) columns "
                           + "(\(p.rowFields.map(\.type.description).joined(separator: ", ")))")
        }
    }
}

extension RankFunction {
    var stateCode: UInt8 {
        switch self {
        case .rowNumber: return 1
        case .rank: return 2
        case .denseRank: return 3
        }
    }

    init?(stateCode: UInt8) {
        switch stateCode {
        case 1: self = .rowNumber
        case 2: self = .rank
        case 3: self = .denseRank
        default: return nil
        }
    }
}

extension TopNState {
    /// The partition keys, the candidate rows with their partitions and input positions,
    /// per partition the best first ORDER BY keys seen (what the candidate test compares
    /// with), and the size at the last prune (it decides when the next prune comes, so it
    /// is part of the behaviour to restore).
    func serialize(into w: inout StateWriter) {
        w.tag(.topN)
        w.topNPlan(plan)
        keys.serialize(into: &w)
        w.count(count)
        for c in columns { w.column(c) }
        w.words(groups, count)
        w.words(positions, count)
        w.count(best.count)
        for b in best {
            w.count(b.count)
            w.words(b)
        }
        w.count(prunedCount)
    }

    convenience init(restoring r: inout StateReader, plan: TopNPlan, layout: KeyLayout) throws {
        self.init(plan: plan, layout: layout)
        try restore(from: &r)
    }

    /// Fills this empty state from `r`.
    func restore(from r: inout StateReader) throws {
        precondition(count == 0 && keys.groupCount == 0, "restore into an empty Top-N state")
        try r.tag(.topN, "a Top-N state")
        try r.expectTopNPlan(plan)
        try keys.restore(from: &r)
        let n = try r.count("the Top-N candidate count", bytesEach: 12)
        var restored: [Column] = []
        for (i, f) in plan.rowFields.enumerated() {
            let at = r.offset
            let c = try r.column("ranked column \(i + 1) ('\(f.name)')", expected: f.type)
            guard c.count == n else {
                throw StateReader.corrupt("ranked column \(i + 1) has \(c.count) rows, expected \(n)", at: at, source: r.source)
            }
            restored.append(c)
        }
        let ids = try r.words(UInt32.self, n, "the partitions of the Top-N candidates")
        let keyed = keys.layout.width > 0
        let partitions = keyed ? keys.groupCount : 1
        for (row, g) in ids.enumerated() where Int(g) >= partitions {
            throw r.corrupt("Top-N candidate \(row) is in partition \(g), but there are \(partitions)")
        }
        let rowPositions = try r.words(Int64.self, n, "the input positions of the Top-N candidates")
        // `add` extends the per-partition lists to every partition seen (to the one
        // global partition once any row came), and indexes them by partition.
        let at = r.offset
        let t = try r.count("the number of Top-N partitions with best keys", limit: partitions)
        guard keyed ? t == partitions : (t == 1 || (t == 0 && n == 0)) else {
            throw StateReader.corrupt("the Top-N state has best keys for \(t) partitions, but there are \(partitions)",
                                      at: at, source: r.source)
        }
        var lists: [[Int64]] = []
        lists.reserveCapacity(t)
        for p in 0..<t {
            let k = try r.count("the number of best keys of Top-N partition \(p)", bytesEach: 8, limit: plan.limit)
            let list = try r.words(Int64.self, k, "the best keys of Top-N partition \(p)")
            for i in list.indices.dropFirst() where list[i] < list[i - 1] {
                throw r.corrupt("the best keys of Top-N partition \(p) are out of order")
            }
            lists.append(list)
        }
        let pruned = try r.count("the Top-N size at the last prune", limit: n)
        columns = restored
        count = n
        groups = ids
        positions = rowPositions
        best = lists
        prunedCount = pruned
    }
}
