import CKernels
import Columnar

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Running a join of two inputs

extension Session {
    /// Runs a query over a join of two inputs (see `JoinPlan` for the semantics) into
    /// `writer` (which this calls `begin` on, not `finish`).
    func executeJoin(_ plan: QueryPlan, _ join: JoinPlan, writer: ResultWriter) throws -> RunStatistics {
        let start = monotonicSeconds()
        guard case .project = plan.shape else {
            throw SpateError(.usage, "ranking or aggregating the rows of a join of two inputs is not supported yet",
                             hint: "write the joined rows out and rank or aggregate them in a second query")
        }
        var sources: [BatchSource] = []
        for input in join.inputs {
            sources.append(try input.plan.scan.provider.open(projection: input.plan.scan.projection, options: options))
        }
        try writer.begin(plan.outputSchema)
        let run = JoinRun(plan: plan, join: join, sources: sources, options: options, writer: writer)
        var stats = try run.run()
        stats.bytesRead = sources.reduce(0) { $0 + ($1.byteCount ?? 0) }
        stats.badRows = sources.reduce(0) { $0 + $1.badRowCount }
        stats.badRowNote = sources.lazy.compactMap(\.badRowNote).first
        stats.seconds = monotonicSeconds() - start
        return stats
    }
}

/// Runs a join of two inputs with N workers.
///
/// Workers claim morsels of either input (the one with fewer morsels waiting to be
/// applied) and prepare them in parallel: scan, window columns, the input's filters, keys,
/// join time, and per row the running maximum of the input's event time before it within
/// its morsel (`JoinChunk`). Prepared morsels are applied to the join state by whichever
/// worker completes one, one applier at a time: each input's morsels in input order, in
/// slices taken from the input that lags in event time. Applying in order per input is
/// what makes each row's watermark, and so whether it is late, that of one reader reading
/// the input row by row; how the two inputs interleave does not change the result (a pair
/// is found by whichever of its rows comes second, rows leave the state only once no
/// on-time row can still meet them, and results wait until both watermarks pass their
/// time, then go out in order of time), only how much state is held.
final class JoinRun: @unchecked Sendable {
    let plan: QueryPlan
    let join: JoinPlan
    let sources: [BatchSource]
    let options: ExecutionOptions
    let sink: OrderedSink
    let monitor = Monitor()
    let exprs: [BoundExpr]

    /// Per input, under `monitor`.
    private struct Progress {
        var claimed = 0
        /// Claims under way (a claim that returns nil may race with one that returns the
        /// last morsel).
        var claiming = 0
        var exhausted = false
        var ready: [Int: JoinChunk] = [:]
        var nextApply = 0
        /// The morsel being applied (number `nextApply`), how far, and the largest event
        /// time before it.
        var current: JoinChunk?
        var cursor = 0
        var prefix = Int64.min
        /// The largest event time of the rows applied so far.
        var maxTime = Int64.min
    }

    private var progress = [Progress(), Progress()]
    /// When each input last had rows applied (monotonic seconds), for idle inputs.
    private var lastActive = [monotonicSeconds(), monotonicSeconds()]
    /// Workers that have stopped (the idleness ticker stops with the last).
    private var workersDone = 0
    private let states: [JoinSideState]
    private let pending: JoinPending
    private var seq = 0
    private var failure: (key: Int, error: Error)?
    private var stats = RunStatistics()

    init(plan: QueryPlan, join: JoinPlan, sources: [BatchSource], options: ExecutionOptions, writer: ResultWriter) {
        self.plan = plan
        self.join = join
        self.sources = sources
        self.options = options
        sink = OrderedSink(writer)
        sink.streaming = sources.contains { $0.isStreaming }
        if case .project(let e) = plan.shape { exprs = e } else { exprs = [] }
        states = join.inputs.map { JoinSideState(fields: $0.plan.outputSchema.fields, keyTypes: $0.keys.map(\.type)) }
        let fields = join.columns.map { c in
            let f = join.inputs[c.input].plan.outputSchema[c.column]
            return Field(f.name, f.type, nullable: true)
        }
        pending = JoinPending(schema: Schema(fields), columns: join.columns, capacity: options.batchCapacity)
    }

    /// Errors are ordered by where they come from, the left input before the right, then
    /// by morsel, so the one reported does not depend on timing: after an error on the
    /// right input the left is still read to the end.
    private static func key(_ side: Int, _ morsel: Int) -> Int { side << 40 | morsel }

    private var failed: Bool { monitor.locked { failure != nil } }

    private func fail(_ error: Error, key: Int) {
        monitor.locked {
            if failure == nil || key < failure!.key { failure = (key, error) }
        }
    }

    func run() throws -> RunStatistics {
        let ticker = idleTicks
        runThreads(options.workers + (ticker == nil ? 0 : 1)) { [self] index in
            if index == options.workers, let ticker {
                tickWhileRunning(ticker)
                return
            }
            defer { monitor.locked { workersDone += 1 } }
            options.placement.enter(worker: index)
            sink.limit(options.backlog)
            defer { if failed { sink.cancel() } }
            loop()
        }
        if let f = monitor.locked({ failure }) { throw f.error }
        var s = monitor.locked { stats }
        s.rowsOut = sink.rowsWritten
        return s
    }

    private func loop() {
        while let side = claimTurn() {
            let morsel: Morsel?
            do {
                morsel = try sources[side].claimMorsel()
            } catch {
                let k = JoinRun.key(side, monitor.locked { progress[side].claimed })
                fail(error, key: k)
                monitor.locked { progress[side].claiming -= 1 }
                continue
            }
            let released: [(Int, [Batch])] = monitor.locked {
                progress[side].claiming -= 1
                guard morsel != nil else {
                    progress[side].exhausted = true
                    guard failure == nil else { return [] }
                    // The other input may have been waiting for this one to end.
                    applyReady()
                    return advance()
                }
                progress[side].claimed += 1
                return []
            }
            submit(released)
            guard let m = morsel else { continue }
            let chunk: JoinChunk
            do {
                chunk = try prepare(side, m)
            } catch is Aborted {
                return
            } catch {
                fail(error, key: JoinRun.key(side, m.index))
                continue
            }
            let ready: [(Int, [Batch])] = monitor.locked {
                guard failure == nil else { return [] }
                progress[side].ready[m.index] = chunk
                applyReady()
                return advance()
            }
            submit(ready)
        }
    }

    /// The input to read a morsel of next (nil: nothing left to claim): the one with fewer
    /// morsels waiting to be applied (the applier takes from both in turn), then the one
    /// whose event time lags, so both watermarks, and the state, stay close.
    private func claimTurn() -> Int? {
        if sink.stopped { return nil }
        return monitor.locked {
            var candidates = [0, 1].filter { !progress[$0].exhausted }
            // After an error, only the inputs before its input are still read (to find an
            // earlier error, if any).
            if let f = failure { candidates = candidates.filter { f.key >= 0 && $0 < f.key >> 40 } }
            guard var side = candidates.first else { return nil }
            if candidates.count == 2 {
                // The input with fewer morsels claimed but not yet applied (the applier
                // waits for it), then the one whose event time lags.
                let a = progress[0], b = progress[1]
                let oa = a.claimed + a.claiming - a.nextApply, ob = b.claimed + b.claiming - b.nextApply
                if oa != ob {
                    side = oa < ob ? 0 : 1
                } else if join.timed && a.maxTime != b.maxTime {
                    side = a.maxTime < b.maxTime ? 0 : 1
                } else {
                    side = a.claimed <= b.claimed ? 0 : 1
                }
            }
            progress[side].claiming += 1
            return side
        }
    }

    private func complete(_ side: Int) -> Bool {
        let p = progress[side]
        return p.exhausted && p.claiming == 0 && p.nextApply == p.claimed
    }

    // MARK: Preparing a morsel (in parallel)

    private func prepare(_ side: Int, _ m: Morsel) throws -> JoinChunk {
        let input = join.inputs[side]
        guard case .project(let outputs) = input.plan.shape else { preconditionFailure("a join input is a projection") }
        let chunk = JoinChunk(morsel: m.index, fields: input.plan.outputSchema.fields, keyTypes: input.keys.map(\.type))
        let source = sources[side]
        var running = Int64.min
        var rowBase = Int64(m.index) << 32
        let window = input.plan.window
        let replicated = window.flatMap(PaneGeometry.init)?.sharesPanes ?? false
        try source.read(m) { raw0 in
            if monitor.locked({ failure.map { $0.key < JoinRun.key(side, m.index) } ?? false }) { throw Aborted() }
            var raw = raw0.compacted()
            let n = raw.count
            if let at = input.plan.procTimeColumn {
                // PROCTIME(): the clock when the row is read, as the executor stamps it.
                var columns = raw.columns
                columns.insert(Evaluator.constantColumn(.int(wallClockMillis()), .timestamp(.millisecond), n), at: at)
                var schema = raw.schema
                schema.fields.insert(Field("proctime", .timestamp(.millisecond), nullable: false), at: at)
                raw = Batch(schema: schema, columns: columns, count: n)
            }
            chunk.rowsRead += n
            defer { rowBase += Int64(n) }
            // The running maximum of the event time before each row (of every row read:
            // watermarks come from the source, before any filter).
            var before: [Int64] = []
            if let wm = input.plan.watermark {
                let ts = raw.columns[wm.column]
                before = [Int64](repeating: 0, count: n)
                for r in 0..<n {
                    before[r] = running
                    if ts.isValid(r) && ts.int64s[r] > running { running = ts.int64s[r] }
                }
            }
            let (batch, origin) = JoinWindows.apply(raw, window)
            if replicated, let w = window {
                let ts = raw.columns[w.timeColumn]
                chunk.nullTime += ts.nullCount
            }
            var sel: SelectionVector?
            if let f = input.plan.filter { sel = try Evaluator.select(f, batch, nil) }
            if let f = input.filter { sel = try Evaluator.select(f, batch, sel) }
            let k = sel?.count ?? batch.count
            guard k > 0 else { return }
            let time = try input.time.map { try Evaluator.evaluate($0, batch) }
            var allowed: [Bool]?
            if let c = input.condition {
                let ok = try Evaluator.select(c, batch, sel)
                var a = [Bool](repeating: false, count: batch.count)
                for i in 0..<ok.count { a[ok[i]] = true }
                allowed = a
            }
            var ids: [UInt32] = []
            ids.reserveCapacity(k)
            for i in 0..<k {
                let r = sel.map { Int($0.ids[i]) } ?? i
                if let time, !time.isValid(r) {
                    if !replicated { chunk.nullTime += 1 }
                    continue
                }
                ids.append(UInt32(r))
            }
            guard !ids.isEmpty else { return }
            let keys = try input.keys.map { try Evaluator.evaluate($0, batch) }
            let values = try outputs.map { try Evaluator.evaluate($0, batch) }
            ids.withUnsafeBufferPointer { p in
                for (dst, src) in zip(chunk.columns, values) { dst.appendGathered(from: src, p.baseAddress, p.count) }
                for (dst, src) in zip(chunk.keys, keys) { dst.appendGathered(from: src, p.baseAddress, p.count) }
            }
            for r32 in ids {
                let r = Int(r32)
                let o = origin.map { Int($0[r]) } ?? r
                chunk.time.append(time?.int64s[r] ?? 0)
                chunk.before.append(before.isEmpty ? Int64.min : before[o])
                chunk.position.append(rowBase + Int64(o))
                // A row repeated once per window (HOP, CUMULATE) is late when its last
                // window is: count it once, at its last copy.
                chunk.countsLate.append(origin.map { r + 1 >= batch.count || Int($0[r + 1]) != o } ?? true)
                chunk.allowed.append(allowed?[r] ?? true)
            }
            chunk.count += ids.count
        }
        source.finished(m)
        chunk.morselMax = running
        chunk.finishKeys()
        return chunk
    }

    // MARK: Applying morsels (under the monitor)

    /// `a + b` clamped to the Int64 range (bounds may be infinite).
    @inline(__always)
    private static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (v, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? Int64.max : Int64.min) : v
    }

    /// When a row of input `side` with time `t` can meet no further on-time row of the
    /// other input: once the other's watermark reaches it.
    private func expiry(_ side: Int, _ t: Int64) -> Int64 {
        guard join.timed else { return Int64.max }
        if side == 0 { return JoinRun.add(t, join.upper) }
        return join.lower == Int64.min ? Int64.max : JoinRun.add(t, -join.lower)
    }

    /// Applies the prepared morsels, each input's in order, in slices taken from the
    /// input that lags in event time, so both inputs advance together and the state
    /// holds only rows that can still meet (a morsel may hold a large share of an input:
    /// applied whole, every row of the other input would stay until it is done). Stops
    /// when the input to take from has no prepared morsel yet.
    private func applyReady() {
        while true {
            for side in 0..<2 where progress[side].current == nil {
                guard let c = progress[side].ready.removeValue(forKey: progress[side].nextApply) else { continue }
                progress[side].current = c
                progress[side].cursor = 0
                progress[side].prefix = progress[side].maxTime
            }
            let has = [progress[0].current != nil, progress[1].current != nil]
            let side: Int
            if has[0] && has[1] {
                side = progress[0].maxTime <= progress[1].maxTime ? 0 : 1
            } else if has[0] && (complete(1) || !join.timed || idle(1)) {
                side = 0
            } else if has[1] && (complete(0) || !join.timed || idle(0)) {
                side = 1
            } else {
                return
            }
            let chunk = progress[side].current!
            let from = progress[side].cursor, to = min(chunk.count, from + JoinRun.slice)
            apply(chunk, side, from..<to)
            if to > from { lastActive[side] = monotonicSeconds() }
            progress[side].cursor = to
            let prefix = progress[side].prefix
            if to < chunk.count {
                progress[side].maxTime = max(prefix, chunk.before[to])
            } else {
                progress[side].maxTime = max(prefix, chunk.morselMax)
                progress[side].current = nil
                progress[side].nextApply += 1
                stats.rowsRead += chunk.rowsRead
                stats.rowsNullTime += chunk.nullTime
            }
            // This input's watermark moved: the other input's rows it has passed go.
            if join.timed { evict(1 - side) }
        }
    }

    /// Rows of a morsel applied at a time before the inputs are compared again.
    static let slice = 256

    private func apply(_ chunk: JoinChunk, _ side: Int, _ rows: Range<Int>) {
        let input = join.inputs[side]
        let other = states[1 - side], mine = states[side]
        let delay = join.timed ? input.plan.watermark?.delayMillis : nil
        let prefix = progress[side].prefix
        let preserved = join.type.preserves(side)
        var late = 0, onTime = 0
        var pairs = JoinPending.Rows()
        var kept = JoinSideState.Rows()
        for i in rows {
            let t = chunk.time[i]
            if let delay {
                let m = max(prefix, chunk.before[i])
                let wm = m < Int64.min + delay ? Int64.min : m - delay
                if t <= wm {
                    if chunk.countsLate[i] { late += 1 }
                    continue
                }
            }
            onTime += 1
            let matchable = chunk.allowed[i] && chunk.keyValid(i)
            if !matchable && !preserved { continue }
            var found = false
            if matchable {
                other.table.forEach(hash: chunk.hashes[i]) { r in
                    guard other.alive[r], JoinKeys.equal(chunk.keys, i, other.keys, r) else { return }
                    let (tl, tr) = side == 0 ? (t, other.time[r]) : (other.time[r], t)
                    if join.timed {
                        let d = tr &- tl
                        guard d >= join.lower && d <= join.upper else { return }
                    }
                    other.matched[r] = true
                    found = true
                    let due = join.timed ? max(tl, tr) : 0
                    if side == 0 {
                        pairs.add(left: i, right: r, due: due, leftPosition: chunk.position[i], rightPosition: other.position[r])
                    } else {
                        pairs.add(left: r, right: i, due: due, leftPosition: other.position[r], rightPosition: chunk.position[i])
                    }
                }
            }
            kept.add(row: i, indexed: matchable, matched: found, expiry: expiry(side, t))
        }
        if !pairs.isEmpty {
            if side == 0 { pending.append(pairs, left: chunk.columns, right: other.columns) } else {
                pending.append(pairs, left: other.columns, right: chunk.columns)
            }
        }
        mine.add(chunk, kept)
        stats.rowsLate += late
        stats.rowsOnTime += onTime
    }

    /// Drops the rows of input `side` that can meet nothing more of the other input
    /// (emitting them if unmatched and the join preserves them).
    private func evict(_ side: Int) {
        let s = states[side]
        let preserved = join.type.preserves(side)
        var unmatched = JoinPending.Rows()
        s.evict(upTo: watermark(1 - side)) { r in
            guard preserved, !s.matched[r] else { return }
            let due = join.timed ? max(s.time[r], s.expiryOf[r]) : 0
            if side == 0 {
                unmatched.add(left: r, right: -1, due: due, leftPosition: s.position[r], rightPosition: Int64.max)
            } else {
                unmatched.add(left: -1, right: r, due: due, leftPosition: Int64.max, rightPosition: s.position[r])
            }
        }
        if !unmatched.isEmpty {
            pending.append(unmatched, left: side == 0 ? s.columns : nil, right: side == 1 ? s.columns : nil)
        }
        s.compactIfSparse()
    }

    // MARK: Idle inputs

    /// How often to look for inputs gone idle (a quarter of the shortest idle timeout),
    /// or nil when no input declares one.
    private var idleTicks: Double? {
        let timeouts = join.inputs.compactMap { $0.plan.watermark?.idleTimeoutMillis }
        guard join.timed, let shortest = timeouts.min() else { return nil }
        return max(0.005, Double(shortest) / 4000)
    }

    /// An input that declares `'scan.watermark.idle-timeout'`, has not ended, has nothing
    /// waiting to be applied and has had no rows applied for that long (while the other
    /// input has): it no longer holds the other input back. Its rows are still joined
    /// when they come (the state it could meet is kept as long as its own watermark
    /// requires), but results may then come out of time order. Whether an input counts
    /// as idle depends on the clock, as in Flink.
    private func idle(_ side: Int) -> Bool {
        guard let timeout = join.inputs[side].plan.watermark?.idleTimeoutMillis, !complete(side),
              progress[side].current == nil, progress[side].ready.isEmpty else { return false }
        return (monotonicSeconds() - lastActive[side]) * 1000 >= Double(timeout)
    }

    /// Until the run ends: applies what an idle input was holding back and releases the
    /// results it held (no morsel arrives to do it while an input is idle).
    private func tickWhileRunning(_ every: Double) {
        while true {
            var ts = timespec(tv_sec: Int(every), tv_nsec: Int((every - Double(Int(every))) * 1e9))
            nanosleep(&ts, nil)
            let released: [(Int, [Batch])]? = monitor.locked {
                guard workersDone < options.workers, failure == nil else { return nil }
                guard idle(0) || idle(1) else { return [] }
                applyReady()
                return advance()
            }
            guard let released else { return }
            submit(released)
        }
    }

    /// An input's watermark as the join sees it: +inf once it is all applied, -inf while
    /// it has no event time.
    private func watermark(_ side: Int) -> Int64 {
        if complete(side) { return Int64.max }
        guard join.timed, let delay = join.inputs[side].plan.watermark?.delayMillis else { return Int64.min }
        let m = progress[side].maxTime
        return m < Int64.min + delay ? Int64.min : m - delay
    }

    /// Drops the rows that can meet nothing more (emitting a preserved input's unmatched
    /// ones) and takes the results both watermarks have passed, each with its sequence
    /// number for the sink.
    private func advance() -> [(Int, [Batch])] {
        for side in 0..<2 { evict(side) }
        // An idle input does not hold the other's results back (unless both are idle).
        let idleness = [idle(0), idle(1)]
        let release = idleness[0] != idleness[1] ? watermark(idleness[0] ? 1 : 0) : min(watermark(0), watermark(1))
        let batches = pending.release(upTo: release)
        guard !batches.isEmpty else { return [] }
        seq += 1
        return [(seq - 1, batches)]
    }

    // MARK: Output

    /// The query's WHERE and SELECT over released joined rows, handed to the sink (outside
    /// the monitor: the sink may make the caller wait for the writer).
    private func submit(_ released: [(Int, [Batch])]) {
        for (s, rows) in released {
            do {
                var out: [Batch] = []
                for b in rows {
                    var sel: SelectionVector?
                    if let f = plan.filter {
                        sel = try Evaluator.select(f, b, nil)
                        if sel!.count == 0 { continue }
                    }
                    let cols = try exprs.map { try Evaluator.evaluate($0, b) }
                    out.append(Batch(schema: plan.outputSchema, columns: cols, count: b.count, selection: sel).compacted())
                }
                try sink.submit(s, out)
            } catch is Aborted {
                return
            } catch {
                fail(error, key: Int.min)
                return
            }
        }
    }
}

// MARK: - Pieces

/// One morsel of one join input, prepared for the join (see `JoinRun`).
final class JoinChunk: @unchecked Sendable {
    let morsel: Int
    /// The input's columns of the joined row.
    let columns: [Column]
    let keys: [Column]
    private(set) var hashes: [UInt64] = []
    private var keyNull: [Bool]?
    var time: [Int64] = []
    /// The largest event time before the row within its morsel.
    var before: [Int64] = []
    var position: [Int64] = []
    var countsLate: [Bool] = []
    /// The row passes the outer join's ON conditions on its own input.
    var allowed: [Bool] = []
    var count = 0
    var morselMax = Int64.min
    var rowsRead = 0
    var nullTime = 0

    init(morsel: Int, fields: [Field], keyTypes: [DataType]) {
        self.morsel = morsel
        columns = fields.map { Column($0.type, capacity: 256) }
        keys = keyTypes.map { Column($0, capacity: 256) }
    }

    func finishKeys() {
        let k = JoinKeys(keys, count: count)
        hashes = k.hashes
        keyNull = k.hasNull
    }

    @inline(__always)
    func keyValid(_ i: Int) -> Bool { keyNull.map { !$0[i] } ?? true }
}

/// One input's rows kept by a join, indexed by key, each until the other input's
/// watermark passes its expiry.
final class JoinSideState {
    private(set) var columns: [Column]
    private(set) var keys: [Column]
    private var hashes: [UInt64] = []
    private(set) var time: [Int64] = []
    private(set) var position: [Int64] = []
    private(set) var expiryOf: [Int64] = []
    var matched: [Bool] = []
    private(set) var alive: [Bool] = []
    private var indexed: [Bool] = []
    private var live = 0
    private(set) var table = JoinHashTable()
    private var heap = ExpiryHeap()

    init(fields: [Field], keyTypes: [DataType]) {
        columns = fields.map { Column($0.type, capacity: 256) }
        keys = keyTypes.map { Column($0, capacity: 256) }
    }

    /// Rows of a morsel to keep, gathered per column in one go.
    struct Rows {
        var rows: [UInt32] = []
        var indexed: [Bool] = []
        var matched: [Bool] = []
        var expiry: [Int64] = []

        mutating func add(row: Int, indexed i: Bool, matched m: Bool, expiry e: Int64) {
            rows.append(UInt32(row))
            indexed.append(i)
            matched.append(m)
            expiry.append(e)
        }
    }

    func add(_ chunk: JoinChunk, _ new: Rows) {
        guard !new.rows.isEmpty else { return }
        let base = time.count
        new.rows.withUnsafeBufferPointer { p in
            for (dst, src) in zip(columns, chunk.columns) { dst.appendGathered(from: src, p.baseAddress, p.count) }
            for (dst, src) in zip(keys, chunk.keys) { dst.appendGathered(from: src, p.baseAddress, p.count) }
        }
        for (k, row) in new.rows.enumerated() {
            let i = Int(row), r = base + k
            hashes.append(chunk.hashes[i])
            time.append(chunk.time[i])
            position.append(chunk.position[i])
            if new.indexed[k] { table.insert(row: r, hash: chunk.hashes[i]) }
            heap.push(new.expiry[k], Int32(r))
        }
        expiryOf += new.expiry
        matched += new.matched
        indexed += new.indexed
        alive += [Bool](repeating: true, count: new.rows.count)
        live += new.rows.count
    }

    /// Drops the rows whose expiry is at or before `watermark`, calling `dropped` with
    /// each (before it goes).
    func evict(upTo watermark: Int64, _ dropped: (Int) -> Void) {
        while let (e, r) = heap.top, e <= watermark {
            heap.pop()
            let row = Int(r)
            guard alive[row] else { continue }
            dropped(row)
            alive[row] = false
            live -= 1
        }
    }

    /// Rebuilds the rows, the index and the heap without the dropped rows once they are
    /// most of the store (so memory follows what is alive, at amortized O(1) per row).
    func compactIfSparse() {
        let dead = time.count - live
        guard dead > 4096, dead > live else { return }
        let keep = (0..<time.count).filter { alive[$0] }.map { UInt32($0) }
        keep.withUnsafeBufferPointer { p in
            columns = columns.map { $0.gather(p.baseAddress, p.count) }
            keys = keys.map { $0.gather(p.baseAddress, p.count) }
        }
        func pick<T>(_ a: [T]) -> [T] { keep.map { a[Int($0)] } }
        hashes = pick(hashes)
        time = pick(time)
        position = pick(position)
        expiryOf = pick(expiryOf)
        matched = pick(matched)
        indexed = pick(indexed)
        alive = [Bool](repeating: true, count: keep.count)
        live = keep.count
        table = JoinHashTable(expected: keep.count)
        heap = ExpiryHeap()
        for r in 0..<keep.count {
            if indexed[r] { table.insert(row: r, hash: hashes[r]) }
            heap.push(expiryOf[r], Int32(r))
        }
    }
}

/// A binary min-heap of (expiry, row).
struct ExpiryHeap {
    private var items: [(Int64, Int32)] = []

    var top: (Int64, Int32)? { items.first }

    mutating func push(_ key: Int64, _ row: Int32) {
        items.append((key, row))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].0 <= items[i].0 { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() {
        let last = items.removeLast()
        guard !items.isEmpty else { return }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].0 < items[m].0 { m = l }
            if r < items.count && items[r].0 < items[m].0 { m = r }
            if m == i { break }
            items.swapAt(m, i)
            i = m
        }
    }
}

/// Joined rows waiting for both watermarks to pass their time.
final class JoinPending {
    let schema: Schema
    let sources: [JoinColumn]
    let capacity: Int
    private var columns: [Column]
    private var due: [Int64] = []
    /// The earliest due time waiting (Int64.max: none), so a release that frees nothing
    /// does not look at every waiting row.
    private var earliest = Int64.max
    private var leftPosition: [Int64] = []
    private var rightPosition: [Int64] = []

    init(schema: Schema, columns sources: [JoinColumn], capacity: Int) {
        self.schema = schema
        self.sources = sources
        self.capacity = max(1, capacity)
        columns = schema.fields.map { Column($0.type, capacity: 256) }
    }

    /// Joined rows to add: per row, the left input's row (-1: NULLs) and the right's, with
    /// the time it is due and both rows' input positions.
    struct Rows {
        var left: [Int32] = []
        var right: [Int32] = []
        var due: [Int64] = []
        var leftPosition: [Int64] = []
        var rightPosition: [Int64] = []

        var isEmpty: Bool { due.isEmpty }

        mutating func add(left l: Int, right r: Int, due d: Int64, leftPosition lp: Int64, rightPosition rp: Int64) {
            left.append(Int32(l))
            right.append(Int32(r))
            due.append(d)
            leftPosition.append(lp)
            rightPosition.append(rp)
        }
    }

    /// Adds joined rows made of rows of `left`'s and `right`'s columns (nil: all NULL).
    func append(_ rows: Rows, left: [Column]?, right: [Column]?) {
        for (dst, s) in zip(columns, sources) {
            let ids = s.input == 0 ? rows.left : rows.right
            if let cols = s.input == 0 ? left : right {
                dst.appendOptional(from: cols[s.column], ids)
            } else {
                for _ in ids { dst.appendNull() }
            }
        }
        due += rows.due
        for d in rows.due where d < earliest { earliest = d }
        leftPosition += rows.leftPosition
        rightPosition += rows.rightPosition
    }

    /// The rows due at or before `watermark`, in order of (due, left position, right
    /// position), in batches of at most the batch capacity; the others stay.
    func release(upTo watermark: Int64) -> [Batch] {
        guard earliest <= watermark else { return [] }
        var out: [UInt32] = [], stay: [UInt32] = []
        earliest = Int64.max
        for i in 0..<due.count {
            if due[i] <= watermark {
                out.append(UInt32(i))
            } else {
                stay.append(UInt32(i))
                if due[i] < earliest { earliest = due[i] }
            }
        }
        guard !out.isEmpty else { return [] }
        out.sort { a, b in
            let x = Int(a), y = Int(b)
            if due[x] != due[y] { return due[x] < due[y] }
            if leftPosition[x] != leftPosition[y] { return leftPosition[x] < leftPosition[y] }
            if rightPosition[x] != rightPosition[y] { return rightPosition[x] < rightPosition[y] }
            return x < y
        }
        var batches: [Batch] = []
        var start = 0
        while start < out.count {
            let end = min(start + capacity, out.count)
            let piece = out[start..<end]
            let cols = piece.withUnsafeBufferPointer { p in columns.map { $0.gather(p.baseAddress, p.count) } }
            batches.append(Batch(schema: schema, columns: cols, count: end - start))
            start = end
        }
        stay.withUnsafeBufferPointer { p in columns = columns.map { $0.gather(p.baseAddress, p.count) } }
        due = stay.map { due[Int($0)] }
        leftPosition = stay.map { leftPosition[Int($0)] }
        rightPosition = stay.map { rightPosition[Int($0)] }
        return batches
    }
}

/// The window columns of a window TVF join input, as the executor adds them for a
/// projection: window_start and window_end after the scan columns; under HOP and CUMULATE
/// each row once per window containing it (then `origin` maps each row back to its scan
/// row).
enum JoinWindows {
    static func apply(_ batch: Batch, _ w: WindowSpec?) -> (Batch, [Int32]?) {
        guard let w, let g = PaneGeometry(w) else { return (batch, nil) }
        let ts = batch.columns[w.timeColumn]
        let n = batch.count
        var schema = batch.schema
        schema.fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        if !g.sharesPanes {
            let (start, end) = g.paneColumns(ts, n)
            return (Batch(schema: schema, columns: batch.columns + [start, end], count: n), nil)
        }
        var rows: [UInt32] = [], origin: [Int32] = []
        let start = Column(.timestamp(.millisecond), capacity: max(n, 1))
        let end = Column(.timestamp(.millisecond), capacity: max(n, 1))
        for r in 0..<n where ts.isValid(r) {
            for win in g.windows(containingPane: g.floor(ts.int64s[r], g.pane)) {
                rows.append(UInt32(r))
                origin.append(Int32(r))
                start.append(win.start)
                end.append(win.end)
            }
        }
        let columns = rows.withUnsafeBufferPointer { p in batch.columns.map { $0.gather(p.baseAddress, p.count) } }
        return (Batch(schema: schema, columns: columns + [start, end], count: rows.count), origin)
    }
}
