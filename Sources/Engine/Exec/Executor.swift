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
    /// Pin each worker to the CPU `placement` gives it.
    public var pinWorkers: Bool
    /// The NUMA nodes and CPUs workers are placed on (default: `CPUTopology.current`,
    /// the machine's, or `SPATE_TOPOLOGY`'s).
    public var topology: CPUTopology
    /// Where each worker runs (see `WorkerPlacement`).
    public var placement: WorkerPlacement { WorkerPlacement(workers: workers, topology: topology, pinned: pinWorkers) }
    /// How many results may wait for their turn to be written before workers wait for
    /// the writer (backpressure from a slow destination; see `BacklogLimit`).
    public var backlog: BacklogLimit

    public init(workers: Int? = nil, batchCapacity: Int? = nil, morselSize: Int? = nil, pinWorkers: Bool = true,
                topology: CPUTopology? = nil, backlog: BacklogLimit = .standard) {
        self.workers = max(1, workers ?? Int(spate_available_cpus()))
        self.batchCapacity = max(1, batchCapacity ?? ExecutionOptions.environmentInt("SPATE_BATCH_CAPACITY") ?? 4096)
        self.morselSize = max(1, morselSize ?? ExecutionOptions.environmentInt("SPATE_MORSEL_SIZE") ?? (8 << 20))
        self.pinWorkers = pinWorkers
        self.topology = topology ?? CPUTopology.current
        self.backlog = backlog
    }

    static func environmentInt(_ name: String) -> Int? {
        guard let raw = getenv(name) else { return nil }
        return Int(String(cString: raw))
    }
}

/// What a finished query reports.
public struct RunStatistics: Sendable {
    public var rowsRead = 0
    /// Rows that arrived after the watermark had passed their window's end and were not
    /// taken (dropped, or written to the late-data output): late-rejected.
    public var rowsLate = 0
    /// Windowed queries: rows that arrived before their window closed.
    public var rowsOnTime = 0
    /// Rows that arrived after their window closed but within the allowed lateness, and
    /// updated it (the update policy).
    public var rowsLateAccepted = 0
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
    /// Handed-over pane states not yet needed by no window, and the watermark up to which
    /// windows have fired.
    private var partials: [PaneKey: [PaneState]] = [:]
    fileprivate func partialStates(_ key: PaneKey) -> [PaneState] { partials[key] ?? [] }
    private var firedThrough = Int64.min
    /// Pane arithmetic of a TUMBLE/HOP/CUMULATE aggregation (nil: a whole-stream GROUP BY,
    /// or SESSION windows, which have their own store).
    let geometry: PaneGeometry?
    let sessions: SessionRun?
    let countWindows: CountWindowRun?
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

    /// Where late rows go under the output policy: in input order (one submission per morsel).
    let lateSink: OrderedSink?
    /// How long after its end a window takes late rows (update policy; else 0).
    let allowedLateness: Int64
    var updates: Bool { allowedLateness > 0 }

    init(plan: QueryPlan, source: BatchSource, options: ExecutionOptions, writer: ResultWriter,
         lateWriter: ResultWriter? = nil) {
        self.plan = plan
        self.source = source
        self.options = options
        self.sink = OrderedSink(writer)
        lateSink = lateWriter.map(OrderedSink.init)
        allowedLateness = plan.late.policy == .update ? plan.late.allowedLatenessMillis : 0
        sink.streaming = source.isStreaming
        detached = Array(repeating: Int64.min, count: options.workers)
        var windowed = false
        if case .aggregate(let a) = plan.shape { windowed = a.windowed }
        geometry = windowed ? plan.window.flatMap(PaneGeometry.init) : nil
        if windowed, let w = plan.window, case .session(let gap) = w.kind {
            sessions = SessionRun(gap: gap)
        } else {
            sessions = nil
        }
        if case .aggregate(let a) = plan.shape, let n = a.countWindow {
            let types = a.keys.map(\.type)
            countWindows = CountWindowRun(size: n, layout: KeyLayout(types: types, hasNullWord: !types.isEmpty),
                                          specs: a.aggregates, batchCapacity: options.batchCapacity)
        } else {
            countWindows = nil
        }
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
        countWindows?.cancel()
    }

    func run() throws -> RunStatistics {
        let workers = options.workers
        let started = monotonicSeconds()
        let reporter = onProgress
        runThreads(workers + (reporter == nil ? 0 : 1)) { [self] index in
            if index == workers, let reporter {
                reportProgress(reporter, started)
                return
            }
            defer { monitor.locked { workersDone += 1; monitor.broadcast() } }
            options.placement.enter(worker: index)
            // Bound the results waiting in the sink (each worker sets it before it first
            // submits); a worker leaving after a failure frees those waiting there for a
            // turn that the failed work will never take.
            sink.limit(options.backlog)
            defer { if failed { sink.cancel() } }
            do {
                let worker = Worker(run: self, index: index)
                try worker.loop()
                let local = worker.stats
                monitor.locked {
                    stats.rowsRead += local.rowsRead
                    stats.rowsLate += local.rowsLate
                    stats.rowsNullTime += local.rowsNullTime
                    stats.rowsOnTime += local.rowsOnTime
                    stats.rowsLateAccepted += local.rowsLateAccepted
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

    /// Windows ready to be emitted, in sequence order: whichever worker is free takes
    /// the next (combining, ranking and formatting run on all workers; the sink puts
    /// the results back in order).
    private var emissions: [ReadyWindow] = []
    private var emissionHead = 0
    /// Workers that have handed over their last states (input done).
    private var finalHandovers = 0

    func enqueue(_ ready: [ReadyWindow]) {
        guard !ready.isEmpty else { return }
        monitor.locked {
            emissions += ready
            monitor.broadcast()
        }
    }

    /// The next window to emit, if any is waiting.
    func nextEmission() -> ReadyWindow? {
        monitor.locked {
            guard emissionHead < emissions.count else { return nil }
            let w = emissions[emissionHead]
            emissionHead += 1
            if emissionHead == emissions.count {
                emissions.removeAll(keepingCapacity: true)
                emissionHead = 0
            }
            return w
        }
    }

    /// Called by each worker after its last hand-over; returns once every worker's
    /// states are in (all windows are then queued), so all can help emit them.
    func waitForFinalHandovers() throws {
        try monitor.locked {
            finalHandovers += 1
            monitor.broadcast()
            while finalHandovers < options.workers {
                if failure != nil { throw Aborted() }
                monitor.wait()
            }
        }
    }

    /// A window ready to be emitted: its bounds, the partial states to combine, and
    /// whether those states are shared with other windows (then they must not be
    /// combined into in place).
    struct ReadyWindow {
        var seq: Int
        var start: Int64
        var end: Int64
        var states: [PaneState]
        var shared: Bool
        /// A window emitted before, emitted again with late rows (update policy).
        var update = false
    }

    /// Hands over a worker's pane states that are complete up to `upTo` (their pane has
    /// ended) and returns the windows that every worker's states are now in, in order of
    /// end (then start), each with a sequence number for the sink.
    func handOver(worker: Int, states: [(PaneKey, PaneState)], upTo: Int64) -> [ReadyWindow] {
        monitor.locked {
            for (key, state) in states { partials[key, default: []].append(state) }
            detached[worker] = max(detached[worker], upTo)
            let closedUpTo = detached.min()!
            var ready: [ReadyWindow] = []
            if updates, let g = geometry {
                // Late rows for windows already emitted (but within the allowed lateness):
                // emit those windows again with everything they now hold.
                var again: Set<WindowBounds> = []
                for (key, _) in states {
                    for w in g.windows(containingPane: key.start)
                    where w.end &- 1 <= firedThrough && w.end &- 1 &+ allowedLateness > firedThrough {
                        again.insert(WindowBounds(start: w.start, end: w.end))
                    }
                }
                for w in again.sorted(by: { ($0.end, $0.start) < ($1.end, $1.start) }) {
                    ready.append(ReadyWindow(seq: emitSeq, start: w.start, end: w.end, states: paneStates(w, g),
                                             shared: true, update: true))
                    emitSeq += 1
                }
            }
            guard closedUpTo > firedThrough else { return ready }
            guard let g = geometry else {
                // A whole-stream GROUP BY: one result at the end of input.
                if closedUpTo == Int64.max, let all = partials.removeValue(forKey: PaneKey(start: 0, tier: 0)) {
                    ready.append(ReadyWindow(seq: emitSeq, start: 0, end: 0, states: all, shared: false))
                    emitSeq += 1
                }
                firedThrough = closedUpTo
                return ready
            }
            // Windows whose last instant is in (firedThrough, closedUpTo] and that some
            // pane state counts in (a state of tier t counts in its pane's windows from
            // the t-th on).
            var due: Set<WindowBounds> = []
            for key in partials.keys {
                for (k, w) in g.windows(containingPane: key.start).enumerated()
                where k >= key.tier && w.end &- 1 <= closedUpTo && w.end &- 1 > firedThrough {
                    due.insert(WindowBounds(start: w.start, end: w.end))
                }
            }
            for w in due.sorted(by: { ($0.end, $0.start) < ($1.end, $1.start) }) {
                ready.append(ReadyWindow(seq: emitSeq, start: w.start, end: w.end, states: paneStates(w, g),
                                         shared: g.sharesPanes || updates))
                emitSeq += 1
            }
            // A pane is kept until its last window can take no more rows.
            for key in partials.keys where g.lastInstant(ofPane: key.start) &+ allowedLateness <= closedUpTo {
                partials.removeValue(forKey: key)
            }
            firedThrough = closedUpTo
            return ready
        }
    }
}

extension QueryRun {
    /// The pane states window `w` combines (a state of tier t counts in its pane's
    /// windows from the t-th on). Called under `monitor`.
    fileprivate func paneStates(_ w: WindowBounds, _ g: PaneGeometry) -> [PaneState] {
        var states: [PaneState] = []
        var p = w.start
        while p < w.end {
            let index = g.windows(containingPane: p).firstIndex { $0.start == w.start && $0.end == w.end } ?? 0
            for tier in 0...index { states += partialStates(PaneKey(start: p, tier: tier)) }
            p &+= g.pane
        }
        return states
    }
}

struct WindowBounds: Hashable {
    var start: Int64
    var end: Int64
}

/// One worker thread's state and loop.
final class Worker {
    let run: QueryRun
    let index: Int
    let plan: QueryPlan
    var stats = RunStatistics()
    /// Open panes (see PaneGeometry) and their partial states; one entry keyed 0 for a
    /// windowless GROUP BY.
    var windows: [PaneKey: PaneState] = [:]
    /// The rows of the current morsel in SESSION windows, merged into the run's session
    /// store at the end of each morsel.
    var sessionPart: SessionStore?
    let scratch: KeyScratch?
    let layout: KeyLayout?
    /// The morsel this worker is on.
    var current = 0
    var lateCount: UInt64 = 0
    var nullTimeCount: UInt64 = 0
    var onTimeCount = 0
    var lateAcceptedCount = 0
    /// This morsel's late rows, for the late-data output.
    var lateBatches: [Batch] = []
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
            let batch = try withWindowColumns(stamped(raw))
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

    /// Count windows: morsels are read and evaluated in parallel and applied in input
    /// order (see CountWindowRun); each morsel's completed windows go to the sink under
    /// its own sequence number.
    private func countWindowLoop(_ agg: AggregatePlan, _ windows: CountWindowRun) throws {
        while !run.sink.stopped, !run.failed, let m = try run.source.claimMorsel() {
            current = m.index
            try onMorsel(m) {
                var parts: [CountWindowRun.Part] = []
                var position = Int64(m.index) << 32
                let rowsBefore = stats.rowsRead
                try run.source.read(m) { raw in
                    stats.rowsRead += raw.count
                    let rowBase = position
                    position += Int64(raw.count)
                    let batch = stamped(raw)
                    var sel: SelectionVector?
                    if let f = plan.filter { sel = try Evaluator.select(f, batch, nil) }
                    let count = sel?.count ?? batch.count
                    guard count > 0 else { return }
                    parts.append(CountWindowRun.Part(
                        keys: try agg.keys.map { try Evaluator.evaluate($0, batch) },
                        inputs: try agg.inputs.map { try Evaluator.evaluate($0, batch) },
                        sel: sel, count: count, rows: batch.count, rowBase: rowBase))
                }
                run.source.finished(m)
                run.noteProgress(m, rows: stats.rowsRead - rowsBefore)
                let done = try windows.apply(m.index, parts)
                try run.sink.submit(m.index, try done.map { [try finishOutput($0, agg)] } ?? [])
                run.recordLatency(m)
            }
        }
    }

    private func aggregateLoop(_ agg: AggregatePlan) throws {
        if let windows = run.countWindows {
            try countWindowLoop(agg, windows)
            return
        }
        let ordered = plan.watermark != nil && agg.windowed
        while !run.sink.stopped, !run.failed, let m = try run.source.claimMorsel() {
            current = m.index
            try onMorsel(m) { try aggregateMorsel(m, agg, ordered) }
        }
        stats.rowsLate = Int(lateCount)
        stats.rowsNullTime = Int(nullTimeCount)
        stats.rowsOnTime = onTimeCount - lateAcceptedCount
        stats.rowsLateAccepted = lateAcceptedCount
        if run.failed { return }
        // A global aggregate (no GROUP BY) has one result row even over no input.
        if !agg.windowed && agg.keys.isEmpty && index == 0 { _ = state(0, agg) }
        try handOver(upTo: Int64.max, agg)
        if run.sessions == nil {
            // The last hand-over queues every remaining window: help emit them.
            try run.waitForFinalHandovers()
            _ = try emitQueued(agg)
        }
    }

    private func aggregateMorsel(_ m: Morsel, _ agg: AggregatePlan, _ ordered: Bool) throws {
        // Batches are aggregated as they are read once the event time before this
        // morsel is known (always, with one worker); until then they wait here. The
        // on-time filter keeps `running` as the largest event time so far, so only
        // batches that wait need their own maximum taken.
        var running: Int64? = ordered ? run.maxBefore(m.index) : Int64.min
        var pending: [(Batch, Int64)] = []
        var pendingMax = Int64.min
        let rowsBefore = stats.rowsRead
        // Input positions (FIRST_VALUE/LAST_VALUE, ties): the morsel, then the row in it.
        var position = Int64(m.index) << 32
        try run.source.read(m) { raw in
            stats.rowsRead += raw.count
            let rowBase = position
            position += Int64(raw.count)
            let batch = try withWindowColumns(stamped(raw))
            if running == nil, let known = run.maxBefore(m.index) {
                running = known
                for (b, base) in pending { try aggregate(b, agg, &running!, rowBase: base) }
                pending.removeAll()
            }
            if running != nil {
                try aggregate(batch, agg, &running!, rowBase: rowBase)
            } else {
                let ts = batch.columns[plan.watermark!.column]
                pendingMax = max(pendingMax, ck_max_valid_i64(ts.int64s, ts.validityWords, batch.count))
                pending.append((batch, rowBase))
            }
        }
        run.source.finished(m)
        run.noteProgress(m, rows: stats.rowsRead - rowsBefore)
        if ordered, let w = plan.window, w.timeColumn == plan.procTimeColumn {
            // Processing time passes even when no rows come: windows close on the clock.
            let now = wallClockMillis()
            if running != nil { running = max(running!, now) } else { pendingMax = max(pendingMax, now) }
        }
        if ordered {
            // Either the largest event time up to the end of this morsel, or (nothing
            // aggregated yet) this morsel's own: both give the same prefix maximum.
            run.publishMax(m.index, running ?? pendingMax)
            if running == nil {
                running = try run.waitMaxBefore(m.index)
                for (b, base) in pending { try aggregate(b, agg, &running!, rowBase: base) }
            }
        }
        if let part = sessionPart {
            run.sessions!.merge(part)
            sessionPart = nil
        }
        if let late = run.lateSink {
            try late.submit(m.index, lateBatches)
            lateBatches = []
        }
        let watermark = run.finishMorsel(m.index)
        if agg.windowed {
            if try handOver(upTo: watermark, agg) { run.recordLatency(m) }
        }
    }

    /// Gives the run every local pane state whose pane ended by `upTo`, then emits
    /// whichever windows are now complete.
    /// Returns whether any window was emitted.
    @discardableResult
    private func handOver(upTo: Int64, _ agg: AggregatePlan) throws -> Bool {
        if let sessions = run.sessions {
            let ready = sessions.fire(worker: index, workers: run.options.workers, upTo: upTo, schema: resultSchema(agg))
            for (seq, batch) in ready { try run.sink.submit(seq, [try finishOutput(batch, agg)]) }
            return !ready.isEmpty
        }
        var closing: [(PaneKey, PaneState)] = []
        for (key, state) in windows where paneEnded(key.start, upTo) {
            closing.append((key, state))
        }
        for (key, _) in closing { windows.removeValue(forKey: key) }
        run.enqueue(run.handOver(worker: index, states: closing, upTo: upTo))
        return try emitQueued(agg)
    }

    /// Emits queued windows until none is waiting; returns whether it emitted any.
    private func emitQueued(_ agg: AggregatePlan) throws -> Bool {
        var any = false
        while let w = run.nextEmission() {
            try run.sink.submit(w.seq, [try emitWindow(w, agg)])
            any = true
        }
        return any
    }

    /// Whether the pane starting at `start` has ended by `upTo` (a whole-stream GROUP BY
    /// ends with the input).
    private func paneEnded(_ start: Int64, _ upTo: Int64) -> Bool {
        guard let g = run.geometry else { return upTo == Int64.max }
        return start &+ g.pane &- 1 <= upTo
    }

    /// Groups at which combining the workers' partial states is split by key hash over
    /// the workers (below it one thread is faster than starting the others).
    static let parallelCombineGroups = 1 << 16

    /// Combines the workers' partial states of one window into its final groups.
    ///
    /// The exchange: each partial group goes to the partition of its key hash, and each
    /// partition is combined by its own thread, so a window (or a whole-stream GROUP BY)
    /// with millions of groups is merged by all workers rather than one.
    private func combine(_ states: [AggState], shared: Bool, _ agg: AggregatePlan) throws -> [Column] {
        if let i = states.lazy.compactMap({ $0.accs.overflowed }).first { throw overflow(agg, i) }
        let total = states.reduce(0) { $0 + $1.groupCount }
        let parts = run.options.workers
        guard parts > 1, states.count > 1, total >= Worker.parallelCombineGroups, layout!.width > 0,
              states.allSatisfy(\.hashesAreGlobal)
        else {
            // Pane states shared with other windows are read, never combined into.
            // Sized for the largest input state, so combining does not rehash as it grows.
            let expected = states.reduce(256) { max($0, $1.groupCount + $1.groupCount / 2) }
            let merged = shared || states.isEmpty
                ? AggState(layout: layout!, specs: agg.aggregates, expectedGroups: expected) : states[0]
            for s in states.dropFirst(shared ? 0 : 1) { merged.combine(s) }
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

    private func emitWindow(_ w: QueryRun.ReadyWindow, _ agg: AggregatePlan) throws -> Batch {
        if agg.rowsTopN, let plan = agg.topN {
            let ranked = TopNState.merged(w.states.map { $0 as! TopNState }, plan)
            let out = try plan.output.map { try Evaluator.evaluate($0, ranked) }
            return Batch(schema: self.plan.outputSchema, columns: out, count: ranked.count)
        }
        var cols = try combine(w.states.map { $0 as! AggState }, shared: w.shared, agg)
        let n = cols.last?.count ?? 0
        if agg.windowed {
            let ws = Evaluator.constantColumn(.int(w.start), .timestamp(.millisecond), n)
            let we = Evaluator.constantColumn(.int(w.end), .timestamp(.millisecond), n)
            cols.insert(contentsOf: [ws, we], at: 0)
        }
        // Rows in the order of their group keys: deterministic whatever the workers did.
        let keyBase = agg.windowed ? 2 : 0
        let result = BatchSorter.sorted(Batch(schema: resultSchema(agg), columns: cols, count: n),
                                        by: Array(keyBase..<keyBase + agg.keys.count))
        return try finishOutput(result, agg, op: run.updates ? (w.update ? "+U" : "+I") : nil)
    }

    /// The schema of an aggregation's result row: [window_start, window_end] + keys + aggregates.
    func resultSchema(_ agg: AggregatePlan) -> Schema {
        var fields: [Field] = []
        if agg.windowed {
            fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        }
        for (i, k) in agg.keys.enumerated() { fields.append(Field("k\(i)", k.type)) }
        for (i, a) in agg.aggregates.enumerated() { fields.append(Field("a\(i)", a.outputType)) }
        return Schema(fields)
    }

    /// HAVING and the SELECT list over an aggregation's result rows.
    /// `op`: the change kind column of the update policy (+I, +U).
    private func finishOutput(_ result: Batch, _ agg: AggregatePlan, op: String? = nil) throws -> Batch {
        var sel: SelectionVector?
        if let having = agg.having { sel = try Evaluator.select(having, result, nil) }
        var out = try agg.output.map { try Evaluator.evaluate($0, result) }
        if let topN = agg.topN {
            // Rank the window's rows (after HAVING), then the outer SELECT.
            let rows = Batch(schema: Schema(topN.rowFields), columns: out, count: result.count, selection: sel).compacted()
            let ranked = Ranking.topN(rows, topN)
            out = try topN.output.map { try Evaluator.evaluate($0, ranked) }
            if let op { out.append(Evaluator.constantColumn(.string(op), .string, ranked.count)) }
            return Batch(schema: plan.outputSchema, columns: out, count: ranked.count)
        }
        if let op { out.append(Evaluator.constantColumn(.string(op), .string, result.count)) }
        return Batch(schema: plan.outputSchema, columns: out, count: result.count, selection: sel)
    }

    private func state(_ start: Int64, tier: Int = 0, _ agg: AggregatePlan) -> PaneState {
        let key = PaneKey(start: start, tier: tier)
        if let s = windows[key] { return s }
        let s: PaneState = agg.rowsTopN ? TopNState(plan: agg.topN!, layout: layout!)
            : AggState(layout: layout!, specs: agg.aggregates)
        windows[key] = s
        return s
    }

    private func aggregate(_ batch: Batch, _ agg: AggregatePlan, _ running: inout Int64, rowBase: Int64) throws {
        if run.aborted(at: current) { throw Aborted() }
        var sel: SelectionVector? = nil
        if let f = plan.filter { sel = try Evaluator.select(f, batch, nil) }
        if let sessions = run.sessions, let w = plan.window {
            try aggregateSessions(batch, sel, w, sessions, agg, &running, rowBase: rowBase)
            return
        }
        guard agg.windowed, let w = plan.window, let g = run.geometry else {
            let count = sel?.count ?? batch.count
            guard count > 0 else { return }
            let keys = try agg.keys.map { try Evaluator.evaluate($0, batch) }
            let inputs = try agg.inputs.map { try Evaluator.evaluate($0, batch) }
            state(0, agg).add(keys: keys, inputs: inputs, scratch: scratch!, sel.map { UnsafePointer($0.ids) }, count,
                              rowBase: rowBase)
            return
        }
        let ts = batch.columns[w.timeColumn]
        let starts = batch.columns[w.startColumn].int64s
        let out = SelectionVector(capacity: batch.count)
        let inSel: UnsafePointer<UInt32>? = sel.map { UnsafePointer($0.ids) }
        let n = sel?.count ?? batch.count
        var later: [(row: UInt32, key: PaneKey)] = []
        if let wm = plan.watermark {
            let last = windowLast.typed(Int64.self)
            g.lastInstants(paneStarts: starts, batch.count, into: last)
            let before = running
            let lateBefore = lateCount
            if run.updates { _ = ck_add_i64_const(last, run.allowedLateness, batch.count, last) }
            out.count = ck_ontime_filter(ts.int64s, ts.validityWords, batch.count, inSel, n, last,
                                         wm.delayMillis, &running, &lateCount, &nullTimeCount, out.ids)
            if run.updates {
                lateAcceptedCount += countLateAccepted(out, ts, last, wm.delayMillis, before, running)
            } else if g.sharesPanes {
                later = assignTiers(out, ts, starts, g, wm.delayMillis, before, running)
            }
            if lateCount > lateBefore { collectLate(batch, ts, inSel, n, out, later.map { Int($0.row) }, before, wm.delayMillis) }
            onTimeCount += out.count + later.count
        } else {
            // No watermark: windows close at the end of input, rows are never late.
            out.count = ck_filter_i64_const(CK_CMP_GE, ts.int64s, ts.validityWords, inSel, n, Int64.min, out.ids)
            nullTimeCount += UInt64(n - out.count)
        }
        let count = out.count
        guard count > 0 || !later.isEmpty else { return }
        let keys = try agg.keys.map { try Evaluator.evaluate($0, batch) }
        let inputs = try agg.inputs.map { try Evaluator.evaluate($0, batch) }
        let scratch = scratch!
        for (row, key) in later {
            var r = row
            state(key.start, tier: key.tier, agg).add(keys: keys, inputs: inputs, scratch: scratch, &r, 1, rowBase: rowBase)
        }
        guard count > 0 else { return }
        let selPtr = UnsafePointer(out.ids)
        var lo: Int64 = 0, hi: Int64 = 0
        ck_minmax_i64(starts, selPtr, count, &lo, &hi)
        if lo == hi {
            state(lo, agg).add(keys: keys, inputs: inputs, scratch: scratch, selPtr, count, rowBase: rowBase)
            return
        }
        let buckets = (hi - lo) / g.pane + 1
        if buckets <= Int64(CK_MAX_WINDOW_BUCKETS) {
            let counts = bucketCounts.typed(UInt32.self)
            ck_bucket_by_window(starts, selPtr, count, lo, g.pane, UInt32(buckets), counts, bucketSel.ids)
            var offset = 0
            for b in 0..<Int(buckets) {
                let c = Int(counts[b])
                if c > 0 {
                    state(lo + Int64(b) * g.pane, agg)
                        .add(keys: keys, inputs: inputs, scratch: scratch, UnsafePointer(bucketSel.ids + offset), c,
                             rowBase: rowBase)
                }
                offset += c
            }
            return
        }
        // Rows spread over very many panes (tiny windows or wild disorder).
        var byPane: [Int64: [UInt32]] = [:]
        for i in 0..<count {
            let r = selPtr[i]
            byPane[starts[Int(r)], default: []].append(r)
        }
        for start in byPane.keys.sorted() {
            byPane[start]!.withUnsafeBufferPointer { rows in
                state(start, agg).add(keys: keys, inputs: inputs, scratch: scratch, rows.baseAddress, rows.count,
                                      rowBase: rowBase)
            }
        }
    }

    /// SESSION windows: a row is late once the watermark has reached its time (it could
    /// otherwise join a session that has already been emitted); on-time rows go to this
    /// morsel's session store.
    private func aggregateSessions(_ batch: Batch, _ sel: SelectionVector?, _ w: WindowSpec, _ sessions: SessionRun,
                                   _ agg: AggregatePlan, _ running: inout Int64, rowBase: Int64) throws {
        let ts = batch.columns[w.timeColumn]
        let out = SelectionVector(capacity: batch.count)
        let inSel: UnsafePointer<UInt32>? = sel.map { UnsafePointer($0.ids) }
        let n = sel?.count ?? batch.count
        if let wm = plan.watermark {
            let before = running
            let lateBefore = lateCount
            out.count = ck_ontime_filter(ts.int64s, ts.validityWords, batch.count, inSel, n, ts.int64s,
                                         wm.delayMillis, &running, &lateCount, &nullTimeCount, out.ids)
            if lateCount > lateBefore { collectLate(batch, ts, inSel, n, out, [], before, wm.delayMillis) }
            onTimeCount += out.count
        } else {
            out.count = ck_filter_i64_const(CK_CMP_GE, ts.int64s, ts.validityWords, inSel, n, Int64.min, out.ids)
            nullTimeCount += UInt64(n - out.count)
        }
        guard out.count > 0 else { return }
        let keys = try agg.keys.map { try Evaluator.evaluate($0, batch) }
        let inputs = try agg.inputs.map { try Evaluator.evaluate($0, batch) }
        let part = sessionPart ?? SessionStore(gap: sessions.gap, layout: layout!, specs: agg.aggregates)
        sessionPart = part
        part.add(keys: keys, inputs: inputs, time: ts.int64s, scratch: scratch!, out.ids, out.count, rowBase: rowBase)
    }

    /// Keeps the rows the on-time filter rejected (those considered, with a time, and
    /// neither kept nor re-tiered) for the late-data output.
    private func collectLate(_ batch: Batch, _ ts: Column, _ sel: UnsafePointer<UInt32>?, _ n: Int, _ kept: SelectionVector,
                             _ retiered: [Int], _ runningBefore: Int64, _ delay: Int64) {
        guard run.lateSink != nil else { return }
        var rows = LateRows.find(ts, sel, n, kept: kept, runningBefore: runningBefore, delay: delay)
        if !retiered.isEmpty {
            let moved = Set(retiered)
            rows.removeAll { moved.contains($0.row) }
        }
        guard !rows.isEmpty else { return }
        let fields = plan.late.rowFields
        lateBatches.append(LateRows.batch(batch, columns: fields.count, fields: fields, rows: rows, time: ts))
    }

    /// Under the update policy: how many of the kept rows came after their window had
    /// closed (`last` holds each row's last window instant plus the allowed lateness).
    private func countLateAccepted(_ kept: SelectionVector, _ ts: Column, _ last: UnsafePointer<Int64>, _ delay: Int64,
                                   _ runningBefore: Int64, _ runningAfter: Int64) -> Int {
        guard kept.count > 0, runningAfter != Int64.min else { return 0 }
        let lateness = run.allowedLateness
        let wmAfter = runningAfter &- delay
        var suspect = false
        for i in 0..<kept.count where last[Int(kept.ids[i])] &- lateness <= wmAfter {
            suspect = true
            break
        }
        guard suspect else { return 0 }
        let marks = LateRows.watermarks(ts, through: Int(kept.ids[kept.count - 1]), runningBefore: runningBefore, delay: delay)
        var n = 0
        for i in 0..<kept.count {
            let r = Int(kept.ids[i])
            if last[r] &- lateness <= marks[r] { n += 1 }
        }
        return n
    }

    /// Under HOP and CUMULATE a pane is in several windows, which fire one after the
    /// other. A row that arrives once the first windows of its pane have fired (the
    /// watermark before it has passed their end) counts only in the later ones: it is
    /// taken out of `onTime` and returned with its pane and tier, the index of the first
    /// of its pane's windows still open. Rows are checked exactly only when the batch's
    /// final watermark says some row may be such a row (rare: it takes disorder beyond
    /// the rest of a pane plus the watermark delay).
    private func assignTiers(_ onTime: SelectionVector, _ ts: Column, _ starts: UnsafePointer<Int64>, _ g: PaneGeometry,
                             _ delay: Int64, _ runningBefore: Int64, _ runningAfter: Int64) -> [(row: UInt32, key: PaneKey)] {
        guard onTime.count > 0, runningAfter != Int64.min else { return [] }
        let wmAfter = runningAfter &- delay
        var suspect = false
        for i in 0..<onTime.count where starts[Int(onTime.ids[i])] &+ g.pane &- 1 <= wmAfter {
            suspect = true
            break
        }
        guard suspect else { return [] }
        // Replay the running maximum row by row to know each row's watermark.
        var later: [(row: UInt32, key: PaneKey)] = []
        var kept = 0
        var running = runningBefore
        var next = 0
        let times = ts.int64s
        for r in 0...Int(onTime.ids[onTime.count - 1]) {
            let valid = ts.isValid(r)
            let wm = running == Int64.min ? Int64.min : running &- delay
            if next < onTime.count && Int(onTime.ids[next]) == r {
                next += 1
                let p = starts[r]
                if p &+ g.pane &- 1 <= wm {
                    let tier = g.windows(containingPane: p).firstIndex { $0.end &- 1 > wm } ?? 0
                    later.append((UInt32(r), PaneKey(start: p, tier: tier)))
                } else {
                    onTime.ids[kept] = UInt32(r)
                    kept += 1
                }
            }
            if valid && times[r] > running { running = times[r] }
        }
        onTime.count = kept
        return later
    }

    // MARK: - Window columns

    /// Appends the processing time (`PROCTIME()`) to a scan batch when the query reads it.
    private func stamped(_ batch: Batch) -> Batch {
        guard let at = plan.procTimeColumn else { return batch }
        let now = Evaluator.constantColumn(.int(wallClockMillis()), .timestamp(.millisecond), batch.count)
        var schema = batch.schema
        schema.fields.insert(Field("proctime", .timestamp(.millisecond), nullable: false), at: at)
        var columns = batch.columns
        columns.insert(now, at: at)
        return Batch(schema: schema, columns: columns, count: batch.count, selection: batch.selection)
    }

    /// Appends window_start and window_end (of the row's pane, which is its window under
    /// TUMBLE) to a scan batch of a windowed query. A projection over HOP or CUMULATE
    /// instead repeats each row once per window it is in.
    private func withWindowColumns(_ batch: Batch) throws -> Batch {
        guard let w = plan.window else { return batch }
        if case .session = w.kind { return batch }
        let g = PaneGeometry(w)!
        if g.sharesPanes, case .project = plan.shape { return repeatedPerWindow(batch, w, g) }
        let n = batch.count
        let (start, end) = g.paneColumns(batch.columns[w.timeColumn], n)
        var schema = batch.schema
        schema.fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        return Batch(schema: schema, columns: batch.columns + [start, end], count: n, selection: batch.selection)
    }

    /// The rows of a HOP or CUMULATE TVF: each input row once per window containing it
    /// (in input order, a row's windows by ascending end), with that window's bounds.
    /// Rows with a NULL time are in no window.
    private func repeatedPerWindow(_ raw: Batch, _ w: WindowSpec, _ g: PaneGeometry) -> Batch {
        let batch = raw.selection == nil ? raw : raw.compacted()
        let ts = batch.columns[w.timeColumn]
        var rows: [UInt32] = []
        var starts: [Int64] = []
        var ends: [Int64] = []
        for r in 0..<batch.count where ts.isValid(r) {
            let t = ts.int64s[r]
            for win in g.windows(containingPane: g.floor(t, g.pane)) {
                rows.append(UInt32(r))
                starts.append(win.start)
                ends.append(win.end)
            }
        }
        let m = rows.count
        var columns: [Column] = rows.withUnsafeBufferPointer { ids in
            batch.columns.map { c in
                let out = Column(c.type, capacity: max(m, 1))
                out.appendGathered(from: c, ids.baseAddress, m)
                return out
            }
        }
        let start = Column(.timestamp(.millisecond), capacity: max(m, 1))
        let end = Column(.timestamp(.millisecond), capacity: max(m, 1))
        for i in 0..<m {
            start.append(starts[i])
            end.append(ends[i])
        }
        columns += [start, end]
        var schema = batch.schema
        schema.fields += [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond))]
        return Batch(schema: schema, columns: columns, count: m)
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
