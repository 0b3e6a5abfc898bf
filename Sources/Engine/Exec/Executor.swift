import CKernels
import CPlatform
import Columnar
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// How a query runs.
public struct ExecutionOptions: Sendable {
    /// Worker threads (default: one per available CPU).
    public var workers: Int
    /// Rows per batch (default 4096; `SPATE_BATCH_CAPACITY` overrides it, the tests also
    /// run with 1, 2 and 3).
    public var batchCapacity: Int
    /// Bytes of input per morsel, the unit of work a worker claims (default 8 MiB).
    public var morselSize: Int
    /// Pin worker i to CPU i (mod the CPUs available).
    public var pinWorkers: Bool

    public init(workers: Int? = nil, batchCapacity: Int? = nil, morselSize: Int? = nil, pinWorkers: Bool = true) {
        self.workers = max(1, workers ?? Int(spate_available_cpus()))
        self.batchCapacity = max(1, batchCapacity ?? ExecutionOptions.environmentInt("SPATE_BATCH_CAPACITY") ?? 4096)
        self.morselSize = max(1, morselSize ?? ExecutionOptions.environmentInt("SPATE_MORSEL_SIZE") ?? (8 << 20))
        self.pinWorkers = pinWorkers
    }

    static func environmentInt(_ name: String) -> Int? {
        guard let raw = getenv(name) else { return nil }
        return Int(String(cString: raw))
    }
}

/// What a finished query reports.
public struct RunStatistics: Sendable {
    public var rowsRead = 0
    /// Rows that arrived after the watermark had passed their window's end (dropped).
    public var rowsLate = 0
    /// Rows whose event-time column was NULL (they belong to no window; dropped).
    public var rowsNullTime = 0
    public var rowsOut = 0
    public var bytesRead = 0
    /// Input records left out by the source's bad-row policy, and what to say about them.
    public var badRows = 0
    public var badRowNote: String?
    public var seconds = 0.0
    /// Event-to-output latency over a paced input (nil otherwise).
    public var latency: LatencySummary?
}

/// Percentiles of event-to-output latency, in microseconds: from the time an input
/// morsel's last event was due to the time the results it completed were written,
/// corrected for coordinated omission (HdrHistogram) with the pace's expected interval.
public struct LatencySummary: Sendable {
    public var count: UInt64
    public var p50: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
}

/// A snapshot of a running query, for progress displays.
public struct Progress: Sendable {
    public var rows: Int
    public var bytes: Int
    /// Input size when known.
    public var totalBytes: Int?
    /// The watermark up to which windows have been emitted (nil before the first).
    public var watermark: Int64?
    public var seconds: Double
}

/// An internal signal that another worker failed; never shown to users.
struct Aborted: Error {}

/// An error raised while working on a morsel (so the earliest one can be reported).
struct MorselError: Error {
    let morsel: Int
    let error: Error
}

/// Runs one QueryPlan over its CSV input with N workers.
///
/// Workers claim morsels of the file in order (`CSVScan`). Event-time semantics are
/// those of a single reader going through the file row by row, whatever the number of
/// workers: morsel k learns the largest event time of morsels 0..<k (each publishes its
/// own maximum after parsing), so every row sees exactly the watermark it would see in
/// a sequential run. Windowed aggregates are pre-aggregated per worker; once all morsels
/// up to some point are aggregated, the watermark of that prefix closes windows, each
/// worker hands its partial state of those windows over at its next morsel boundary,
/// and the last one to hand over combines the partials and emits the window.
final class QueryRun: @unchecked Sendable {
    let plan: QueryPlan
    let source: BatchSource
    let options: ExecutionOptions
    let sink: OrderedSink
    let monitor = Monitor()

    // Coordinator state, under `monitor`.
    private var morselMax: [Int: Int64] = [:]
    private var prefixMax: [Int64] = []           // prefixMax[k]: max event time in morsels 0...k
    private var morselDone: Set<Int> = []
    private var donePrefix = 0                     // morsels 0..<donePrefix are aggregated
    private var fireWatermark = Int64.min
    private var detached: [Int64]
    private var partials: [Int64: [AggState]] = [:]
    private var emitSeq = 0
    /// The error to report, and the morsel it came from (Int.min when it is not tied to
    /// a morsel). With several workers, the error of the earliest morsel wins: a worker
    /// on an earlier morsel keeps going after a later one failed, so the error reported
    /// is the first one in the input, whatever the timing.
    private var failure: (morsel: Int, error: Error)?
    private(set) var stats = RunStatistics()
    private var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    private var progressRows = 0
    private var progressBytes = 0
    private var workersDone = 0
    /// Called about every 250 ms while the query runs (from a thread of its own).
    var onProgress: (@Sendable (Progress) -> Void)?

    init(plan: QueryPlan, source: BatchSource, options: ExecutionOptions, writer: ResultWriter) {
        self.plan = plan
        self.source = source
        self.options = options
        self.sink = OrderedSink(writer)
        sink.streaming = source.isStreaming
        detached = Array(repeating: Int64.min, count: options.workers)
    }

    /// Whether work on `morsel` is moot: an error has been seen at or before it.
    func aborted(at morsel: Int) -> Bool { monitor.locked { failure.map { $0.morsel <= morsel } ?? false } }

    /// Whether any error has been seen (no new morsels are claimed).
    var failed: Bool { monitor.locked { failure != nil } }

    func fail(_ error: Error, morsel: Int) {
        monitor.locked {
            if failure == nil || morsel < failure!.morsel { failure = (morsel, error) }
            monitor.broadcast()
        }
    }

    func run() throws -> RunStatistics {
        let workers = options.workers
        let cpus = Int(spate_available_cpus())
        let started = monotonicSeconds()
        let reporter = onProgress
        runThreads(workers + (reporter == nil ? 0 : 1)) { [self] index in
            if index == workers, let reporter {
                reportProgress(reporter, started)
                return
            }
            defer { monitor.locked { workersDone += 1; monitor.broadcast() } }
            if options.pinWorkers && workers > 1 { _ = spate_pin_current_thread(Int32(index % cpus)) }
            do {
                let worker = Worker(run: self, index: index)
                try worker.loop()
                let local = worker.stats
                monitor.locked {
                    stats.rowsRead += local.rowsRead
                    stats.rowsLate += local.rowsLate
                    stats.rowsNullTime += local.rowsNullTime
                }
            } catch let e as MorselError {
                fail(e.error, morsel: e.morsel)
            } catch {
                if !(error is Aborted) { fail(error, morsel: Int.min) }
            }
        }
        if let failure = monitor.locked({ failure }) { throw failure.error }
        stats.rowsOut = sink.rowsWritten
        stats.latency = latencySummary
        return stats
    }

    /// Records the latency of results just written that morsel `m` completed.
    func recordLatency(_ m: Morsel) {
        guard let due = source.due(m) else { return }
        let now = monotonicNanos()
        let micros = now > due.nanos ? (now - due.nanos) / 1000 : 0
        monitor.locked {
            if due.interval > 0 {
                _ = latency.recordCorrectedValue(micros, expectedInterval: Swift.max(1, due.interval / 1000))
            } else {
                _ = latency.record(micros)
            }
        }
    }

    var latencySummary: LatencySummary? {
        monitor.locked {
            guard latency.totalCount > 0 else { return nil }
            return LatencySummary(count: latency.totalCount, p50: Double(latency.valueAtPercentile(50)),
                                  p99: Double(latency.valueAtPercentile(99)), p999: Double(latency.valueAtPercentile(99.9)),
                                  max: Double(latency.max))
        }
    }

    /// Records a finished morsel for the progress display.
    func noteProgress(_ m: Morsel, rows: Int) {
        monitor.locked {
            progressRows += rows
            progressBytes += m.end - m.start
        }
    }

    private func reportProgress(_ reporter: @Sendable (Progress) -> Void, _ started: Double) {
        while true {
            var ts = timespec(tv_sec: 0, tv_nsec: 250_000_000)
            nanosleep(&ts, nil)
            let snapshot: Progress? = monitor.locked {
                guard workersDone < options.workers, failure == nil else { return nil }
                return Progress(rows: progressRows, bytes: progressBytes, totalBytes: source.byteCount,
                                watermark: fireWatermark == Int64.min ? nil : fireWatermark,
                                seconds: monotonicSeconds() - started)
            }
            guard let snapshot else { return }
            reporter(snapshot)
        }
    }

    // MARK: - Event time across morsels

    /// The largest event time before morsel k, or nil while some earlier morsel has not
    /// published its own.
    func maxBefore(_ k: Int) -> Int64? {
        monitor.locked { k == 0 ? Int64.min : (k - 1 < prefixMax.count ? prefixMax[k - 1] : nil) }
    }

    /// Blocks until the largest event time before morsel k is known.
    func waitMaxBefore(_ k: Int) throws -> Int64 {
        try monitor.locked {
            while true {
                if let f = failure, f.morsel < k { throw Aborted() }
                if k == 0 { return Int64.min }
                if k - 1 < prefixMax.count { return prefixMax[k - 1] }
                monitor.wait()
            }
        }
    }

    func publishMax(_ k: Int, _ value: Int64) {
        monitor.locked {
            morselMax[k] = value
            var advanced = false
            while let v = morselMax.removeValue(forKey: prefixMax.count) {
                prefixMax.append(max(prefixMax.last ?? Int64.min, v))
                advanced = true
            }
            if advanced { monitor.broadcast() }
        }
    }

    /// Marks morsel k aggregated; returns the watermark up to which windows may close.
    func finishMorsel(_ k: Int) -> Int64 {
        monitor.locked {
            morselDone.insert(k)
            while morselDone.remove(donePrefix) != nil { donePrefix += 1 }
            if let wm = plan.watermark, donePrefix > 0, donePrefix - 1 < prefixMax.count {
                let m = prefixMax[donePrefix - 1]
                let w = m == Int64.min ? Int64.min : m &- wm.delayMillis
                if w > fireWatermark { fireWatermark = w }
            }
            return fireWatermark
        }
    }

    /// Hands over a worker's states of the windows that are closed up to `upTo` and
    /// returns the windows that every worker has now handed over, in order, each with a
    /// sequence number for the sink.
    func handOver(worker: Int, states: [(Int64, AggState)], upTo: Int64) -> [(seq: Int, start: Int64, states: [AggState])] {
        monitor.locked {
            for (start, state) in states { partials[start, default: []].append(state) }
            detached[worker] = max(detached[worker], upTo)
            let closedUpTo = detached.min()!
            var ready: [(Int, Int64, [AggState])] = []
            for start in partials.keys.sorted() where lastInstant(start) <= closedUpTo {
                ready.append((emitSeq, start, partials.removeValue(forKey: start)!))
                emitSeq += 1
            }
            return ready
        }
    }

    /// The last instant of the window starting at `start` (windowless: never closes
    /// before the end of input).
    func lastInstant(_ start: Int64) -> Int64 {
        guard let t = plan.tumble, case .aggregate(let a) = plan.shape, a.windowed else { return Int64.max - 1 }
        return start &+ t.sizeMillis &- 1
    }
}

/// One worker thread's state and loop.
final class Worker {
    let run: QueryRun
    let index: Int
    let plan: QueryPlan
    var stats = RunStatistics()
    /// Open windows (start -> partial state); one entry keyed 0 for a windowless GROUP BY.
    var windows: [Int64: AggState] = [:]
    let scratch: KeyScratch?
    let layout: KeyLayout?
    /// The morsel this worker is on.
    var current = 0
    var lateCount: UInt64 = 0
    var nullTimeCount: UInt64 = 0
    let windowLast: AlignedBuffer
    let bucketSel: SelectionVector
    let bucketCounts: AlignedBuffer

    init(run: QueryRun, index: Int) {
        self.run = run
        self.index = index
        plan = run.plan
        let cap = run.options.batchCapacity
        if case .aggregate(let a) = plan.shape {
            let types = a.keys.map(\.type)
            let l = KeyLayout(types: types, hasNullWord: !types.isEmpty)
            layout = l
            scratch = KeyScratch(width: l.width, capacity: cap)
        } else {
            layout = nil
            scratch = nil
        }
        windowLast = AlignedBuffer(capacity: cap * 8)
        bucketSel = SelectionVector(capacity: cap)
        bucketCounts = AlignedBuffer(capacity: Int(CK_MAX_WINDOW_BUCKETS) * 4)
    }

    func loop() throws {
        switch plan.shape {
        case .project(let exprs): try projectLoop(exprs)
        case .aggregate(let a): try aggregateLoop(a)
        }
    }

    // MARK: - Projection

    /// Runs `body` for morsel `m`, tagging its errors with the morsel.
    private func onMorsel(_ m: Morsel, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as Aborted {
            throw e
        } catch let e as MorselError {
            throw e
        } catch {
            throw MorselError(morsel: m.index, error: error)
        }
    }

    private func projectLoop(_ exprs: [BoundExpr]) throws {
        while !run.sink.stopped, !run.failed, let m = try run.source.claimMorsel() {
            current = m.index
            try onMorsel(m) { try projectMorsel(m, exprs) }
        }
    }

    private func projectMorsel(_ m: Morsel, _ exprs: [BoundExpr]) throws {
        var out: [Batch] = []
        let rowsBefore = stats.rowsRead
        try run.source.read(m) { raw in
            stats.rowsRead += raw.count
            let batch = try withWindowColumns(raw)
            var sel: SelectionVector?
            if let f = plan.filter {
                sel = try Evaluator.select(f, batch, nil)
                if sel!.count == 0 { return }
            }
            let cols = try exprs.map { try Evaluator.evaluate($0, batch) }
            out.append(Batch(schema: plan.outputSchema, columns: cols, count: batch.count, selection: sel).compacted())
        }
        run.source.finished(m)
        run.noteProgress(m, rows: stats.rowsRead - rowsBefore)
        try run.sink.submit(m.index, out)
        run.recordLatency(m)
    }

    // MARK: - Aggregation

    private func aggregateLoop(_ agg: AggregatePlan) throws {
        let ordered = plan.watermark != nil && agg.windowed
        while !run.sink.stopped, !run.failed, let m = try run.source.claimMorsel() {
            current = m.index
            try onMorsel(m) { try aggregateMorsel(m, agg, ordered) }
        }
        stats.rowsLate = Int(lateCount)
        stats.rowsNullTime = Int(nullTimeCount)
        if run.failed { return }
        // A global aggregate (no GROUP BY) has one result row even over no input.
        if !agg.windowed && agg.keys.isEmpty && index == 0 { _ = state(0, agg) }
        try handOver(upTo: Int64.max, agg)
    }

    private func aggregateMorsel(_ m: Morsel, _ agg: AggregatePlan, _ ordered: Bool) throws {
        // Batches are aggregated as they are read once the event time before this
        // morsel is known (always, with one worker); until then they wait here. The
        // on-time filter keeps `running` as the largest event time so far, so only
        // batches that wait need their own maximum taken.
        var running: Int64? = ordered ? run.maxBefore(m.index) : Int64.min
        var pending: [Batch] = []
        var pendingMax = Int64.min
        let rowsBefore = stats.rowsRead
        try run.source.read(m) { raw in
            stats.rowsRead += raw.count
            let batch = try withWindowColumns(raw)
            if running == nil, let known = run.maxBefore(m.index) {
                running = known
                for b in pending { try aggregate(b, agg, &running!) }
                pending.removeAll()
            }
            if running != nil {
                try aggregate(batch, agg, &running!)
            } else {
                let ts = batch.columns[plan.watermark!.column]
                pendingMax = max(pendingMax, ck_max_valid_i64(ts.int64s, ts.validityWords, batch.count))
                pending.append(batch)
            }
        }
        run.source.finished(m)
        run.noteProgress(m, rows: stats.rowsRead - rowsBefore)
        if ordered {
            // Either the largest event time up to the end of this morsel, or (nothing
            // aggregated yet) this morsel's own: both give the same prefix maximum.
            run.publishMax(m.index, running ?? pendingMax)
            if running == nil {
                running = try run.waitMaxBefore(m.index)
                for b in pending { try aggregate(b, agg, &running!) }
            }
        }
        let watermark = run.finishMorsel(m.index)
        if agg.windowed {
            if try handOver(upTo: watermark, agg) { run.recordLatency(m) }
        }
    }

    /// Gives the run every local window that closed by `upTo`, then emits whichever
    /// windows are now complete.
    /// Returns whether any window was emitted.
    @discardableResult
    private func handOver(upTo: Int64, _ agg: AggregatePlan) throws -> Bool {
        var closing: [(Int64, AggState)] = []
        for (start, state) in windows where run.lastInstant(start) <= upTo {
            closing.append((start, state))
        }
        for (start, _) in closing { windows.removeValue(forKey: start) }
        let ready = run.handOver(worker: index, states: closing, upTo: upTo)
        for (seq, start, states) in ready {
            try run.sink.submit(seq, [try emitWindow(start, states, agg)])
        }
        return !ready.isEmpty
    }

    /// Groups at which combining the workers' partial states is split by key hash over
    /// the workers (below it one thread is faster than starting the others).
    static let parallelCombineGroups = 1 << 16

    /// Combines the workers' partial states of one window into its final groups.
    ///
    /// The exchange: each partial group goes to the partition of its key hash, and each
    /// partition is combined by its own thread, so a window (or a whole-stream GROUP BY)
    /// with millions of groups is merged by all workers rather than one.
    private func combine(_ states: [AggState], _ agg: AggregatePlan) throws -> [Column] {
        if let i = states.lazy.compactMap({ $0.accs.overflowed }).first { throw overflow(agg, i) }
        let total = states.reduce(0) { $0 + $1.groupCount }
        let parts = run.options.workers
        guard parts > 1, states.count > 1, total >= Worker.parallelCombineGroups, layout!.width > 0,
              states.allSatisfy(\.hashesAreGlobal)
        else {
            let merged = states[0]
            for s in states.dropFirst() { merged.combine(s) }
            if let i = merged.accs.overflowed { throw overflow(agg, i) }
            return merged.finalize()
        }
        // Partition every state's groups by hash: sel[s] lists state s's groups partition
        // by partition, offsets[s][p] where partition p starts.
        var sels: [[UInt32]] = []
        var offsets: [[Int]] = []
        for st in states {
            let n = st.groupCount
            var sel = [UInt32](repeating: 0, count: max(n, 1))
            var counts = [UInt32](repeating: 0, count: parts)
            ck_partition_hash(st.table.groupHashes, nil, n, UInt32(parts), &counts, &sel)
            var o = [0]
            for c in counts { o.append(o.last! + Int(c)) }
            sels.append(sel)
            offsets.append(o)
        }
        let results = PartitionResults(parts)
        let layout = self.layout!
        let partSels = sels, partOffsets = offsets
        runThreads(parts) { p in
            let merged = AggState(layout: layout, specs: agg.aggregates, expectedGroups: total / parts + 16)
            for (i, st) in states.enumerated() {
                let from = partOffsets[i][p], to = partOffsets[i][p + 1]
                guard to > from else { continue }
                partSels[i].withUnsafeBufferPointer { merged.combine(st, $0.baseAddress! + from, to - from) }
            }
            results.set(p, merged.finalize(), overflow: merged.accs.overflowed)
        }
        if let i = results.overflow { throw overflow(agg, i) }
        let out = results.get(0)
        for p in 1..<parts {
            for (c, m) in zip(out, results.get(p)) { c.appendGathered(from: m, nil, m.count) }
        }
        return out
    }

    private func overflow(_ agg: AggregatePlan, _ i: Int) -> SpateError {
        let label = agg.aggregates[i].label
        return SpateError(.runtime, "\(label) overflowed BIGINT",
                          hint: "aggregate a DOUBLE instead, e.g. \(agg.aggregates[i].kind.rawValue)(CAST(x AS DOUBLE))")
    }

    private func emitWindow(_ start: Int64, _ states: [AggState], _ agg: AggregatePlan) throws -> Batch {
        var cols = try combine(states, agg)
        let n = cols.last?.count ?? 0
        var fields: [Field] = []
        if agg.windowed, let t = plan.tumble {
            let ws = Evaluator.constantColumn(.int(start), .timestamp(.millisecond), n)
            let we = Evaluator.constantColumn(.int(start + t.sizeMillis), .timestamp(.millisecond), n)
            cols.insert(contentsOf: [ws, we], at: 0)
            fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        }
        for (i, k) in agg.keys.enumerated() { fields.append(Field("k\(i)", k.type)) }
        for (i, a) in agg.aggregates.enumerated() { fields.append(Field("a\(i)", a.outputType)) }
        // Rows in the order of their group keys: deterministic whatever the workers did.
        let keyBase = agg.windowed ? 2 : 0
        let result = BatchSorter.sorted(Batch(schema: Schema(fields), columns: cols, count: n),
                                        by: Array(keyBase..<keyBase + agg.keys.count))
        var sel: SelectionVector?
        if let having = agg.having { sel = try Evaluator.select(having, result, nil) }
        let out = try agg.output.map { try Evaluator.evaluate($0, result) }
        return Batch(schema: plan.outputSchema, columns: out, count: n, selection: sel)
    }

    private func state(_ start: Int64, _ agg: AggregatePlan) -> AggState {
        if let s = windows[start] { return s }
        let s = AggState(layout: layout!, specs: agg.aggregates)
        windows[start] = s
        return s
    }

    private func aggregate(_ batch: Batch, _ agg: AggregatePlan, _ running: inout Int64) throws {
        if run.aborted(at: current) { throw Aborted() }
        var sel: SelectionVector? = nil
        if let f = plan.filter { sel = try Evaluator.select(f, batch, nil) }
        if agg.windowed, let t = plan.tumble {
            let ts = batch.columns[t.timeColumn]
            let starts = batch.columns[t.startColumn]
            let out = SelectionVector(capacity: batch.count)
            let inSel: UnsafePointer<UInt32>? = sel.map { UnsafePointer($0.ids) }
            let n = sel?.count ?? batch.count
            if let wm = plan.watermark {
                let last = windowLast.typed(Int64.self)
                _ = ck_add_i64_const(starts.int64s, t.sizeMillis - 1, batch.count, last)
                out.count = ck_ontime_filter(ts.int64s, ts.validityWords, batch.count, inSel, n, last,
                                             wm.delayMillis, &running, &lateCount, &nullTimeCount, out.ids)
            } else {
                // No watermark: windows close at the end of input, rows are never late.
                out.count = ck_filter_i64_const(CK_CMP_GE, ts.int64s, ts.validityWords, inSel, n, Int64.min, out.ids)
                nullTimeCount += UInt64(n - out.count)
            }
            sel = out
        }
        let count = sel?.count ?? batch.count
        guard count > 0 else { return }
        let keys = try agg.keys.map { try Evaluator.evaluate($0, batch) }
        let inputs = try agg.inputs.map { try Evaluator.evaluate($0, batch) }
        let scratch = scratch!
        guard agg.windowed, let t = plan.tumble else {
            state(0, agg).add(keys: keys, inputs: inputs, scratch: scratch, sel.map { UnsafePointer($0.ids) }, count)
            return
        }
        let starts = batch.columns[t.startColumn].int64s
        let selPtr: UnsafePointer<UInt32>? = sel.map { UnsafePointer($0.ids) }
        var lo: Int64 = 0, hi: Int64 = 0
        ck_minmax_i64(starts, selPtr, count, &lo, &hi)
        if lo == hi {
            state(lo, agg).add(keys: keys, inputs: inputs, scratch: scratch, selPtr, count)
            return
        }
        let buckets = (hi - lo) / t.sizeMillis + 1
        if buckets <= Int64(CK_MAX_WINDOW_BUCKETS) {
            let counts = bucketCounts.typed(UInt32.self)
            ck_bucket_by_window(starts, selPtr, count, lo, t.sizeMillis, UInt32(buckets), counts, bucketSel.ids)
            var offset = 0
            for b in 0..<Int(buckets) {
                let c = Int(counts[b])
                if c > 0 {
                    state(lo + Int64(b) * t.sizeMillis, agg)
                        .add(keys: keys, inputs: inputs, scratch: scratch, UnsafePointer(bucketSel.ids + offset), c)
                }
                offset += c
            }
            return
        }
        // Rows spread over very many windows (tiny windows or wild disorder).
        var byWindow: [Int64: [UInt32]] = [:]
        for i in 0..<count {
            let r = selPtr.map { $0[i] } ?? UInt32(i)
            byWindow[starts[Int(r)], default: []].append(r)
        }
        for start in byWindow.keys.sorted() {
            byWindow[start]!.withUnsafeBufferPointer { rows in
                state(start, agg).add(keys: keys, inputs: inputs, scratch: scratch, rows.baseAddress, rows.count)
            }
        }
    }

    // MARK: - Window columns

    /// Appends window_start and window_end to a scan batch when the query reads a window TVF.
    private func withWindowColumns(_ batch: Batch) throws -> Batch {
        guard let t = plan.tumble else { return batch }
        let ts = batch.columns[t.timeColumn]
        let n = batch.count
        let start = Column(.timestamp(.millisecond), capacity: n)
        let end = Column(.timestamp(.millisecond), capacity: n)
        ck_tumble_start(ts.int64s, ts.validityWords, nil, n, t.sizeMillis, t.offsetMillis, start.int64s)
        _ = ck_add_i64_const(start.int64s, t.sizeMillis, n, end.int64s)
        start.setCount(n, nullCount: 0)
        end.setCount(n, nullCount: 0)
        if ts.validityWords != nil {
            Evaluator.copyValidity(from: [ts], to: start, n)
            Evaluator.copyValidity(from: [ts], to: end, n)
        }
        var schema = batch.schema
        schema.fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        return Batch(schema: schema, columns: batch.columns + [start, end], count: n, selection: batch.selection)
    }
}

/// Per-partition results of a parallel combine, written by the partition's thread.
final class PartitionResults: @unchecked Sendable {
    private var columns: [[Column]]
    private var overflows: [Int] = []
    private let monitor = Monitor()

    init(_ parts: Int) { columns = Array(repeating: [], count: parts) }

    func set(_ p: Int, _ c: [Column], overflow: Int?) {
        monitor.locked {
            columns[p] = c
            if let overflow { overflows.append(overflow) }
        }
    }

    func get(_ p: Int) -> [Column] { monitor.locked { columns[p] } }
    /// An aggregate that overflowed in some partition.
    var overflow: Int? { monitor.locked { overflows.min() } }
}
