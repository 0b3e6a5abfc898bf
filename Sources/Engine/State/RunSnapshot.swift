import Columnar

extension StateTag {
    static let runSnapshot = StateTag("RUNS")
}

/// What the state of an aggregation query is made of, taken from its plan: restoring
/// builds operators from this and checks the bytes against it.
struct StateSchema {
    /// The group keys' word layout (as Worker builds it: a null word whenever there are keys).
    var layout: KeyLayout
    var specs: [AggregateSpec]
    /// Set when panes hold the candidate rows of a Top-N (`AggregatePlan.rowsTopN`).
    var topN: TopNPlan?
    /// Set for SESSION windows, which live in the run's SessionRun instead of panes.
    var sessionGap: Int64?

    init(layout: KeyLayout, specs: [AggregateSpec], topN: TopNPlan? = nil, sessionGap: Int64? = nil) {
        self.layout = layout
        self.specs = specs
        self.topN = topN
        self.sessionGap = sessionGap
    }

    /// The schema of an aggregation plan's state, laid out as the executor lays it out.
    init(_ a: AggregatePlan, window: WindowSpec?) {
        let types = a.keys.map(\.type)
        var gap: Int64?
        if a.windowed, let window, case .session(let g) = window.kind { gap = g }
        self.init(layout: KeyLayout(types: types, hasNullWord: !types.isEmpty), specs: a.aggregates,
                  topN: a.rowsTopN ? a.topN : nil, sessionGap: gap)
    }

    /// The state schema of a query, or nil when it keeps no operator state (a projection).
    init?(plan: QueryPlan) {
        guard case .aggregate(let a) = plan.shape else { return nil }
        self.init(a, window: plan.window)
    }

    /// A pane state with no rows, of the kind this query's panes hold.
    func emptyPane() -> PaneState {
        if let topN { return TopNState(plan: topN, layout: layout) }
        return AggState(layout: layout, specs: specs)
    }
}

/// The state of a QueryRun at a barrier: everything its remaining output depends on
/// except where the sources stand, which issue #5's checkpoint stores beside it (it
/// writes the source positions, then `serialize(into:)` into the same StateWriter, and
/// seals the lot).
///
/// Taken at a cut where morsels `0..<eventTime.morselsDone` are aggregated and every
/// worker is between morsels: the handed-over pane states waiting for their windows
/// (`partials`), each worker's open panes (`open`), the session store, how far windows
/// have fired, the sink sequence counters, and the event-time bookkeeping.
///
/// States are held by reference and encoded by `serialize`, so nothing may change them
/// between the capture and the encode (both happen at the barrier). A pane state in
/// `partials` is never modified while it is there (windows combine it into a fresh
/// state or after removing it), so those could be encoded off the barrier later.
struct RunSnapshot {
    /// QueryRun's event-time bookkeeping at the cut. The per-morsel maxima beyond the cut
    /// (`prefixMax` past `morselsDone`) are not part of it: those morsels are read again.
    struct EventTime: Equatable, Sendable {
        /// Morsels aggregated (QueryRun.donePrefix).
        var morselsDone: Int
        /// The largest event time in those morsels (prefixMax[morselsDone - 1]; Int64.min
        /// for none): the event time before the first morsel read after a restore.
        var maxEventTime: Int64
        /// The watermark windows may close up to (QueryRun.fireWatermark).
        var fireWatermark: Int64
        /// Per worker, the watermark up to which it has handed over its panes
        /// (QueryRun.detached).
        var detached: [Int64]

        init(morselsDone: Int = 0, maxEventTime: Int64 = .min, fireWatermark: Int64 = .min, detached: [Int64] = []) {
            self.morselsDone = morselsDone
            self.maxEventTime = maxEventTime
            self.fireWatermark = fireWatermark
            self.detached = detached
        }

        /// `detached` for a run with `workers` workers: as saved when the count is the
        /// same, else every worker at the least saved value (windows up to it have fired;
        /// `firedThrough` keeps them from firing again, and no later window can fire
        /// before every new worker has passed it).
        func detached(forWorkers workers: Int) -> [Int64] {
            if detached.count == workers || detached.isEmpty {
                return detached.isEmpty ? Array(repeating: .min, count: workers) : detached
            }
            return Array(repeating: detached.min()!, count: workers)
        }
    }

    /// Statistics so far (RunStatistics' row counts), so a resumed run reports totals.
    struct RowCounters: Equatable, Sendable {
        var rowsRead = 0
        var rowsLate = 0
        var rowsOnTime = 0
        var rowsLateAccepted = 0
        var rowsNullTime = 0
    }

    var eventTime = EventTime()
    /// The watermark up to which windows have fired (QueryRun.firedThrough).
    var firedThrough = Int64.min
    /// The next sink sequence number for window results (QueryRun.emitSeq); the session
    /// windows keep their own in `sessions`.
    var emitSeq = 0
    var counters = RowCounters()
    /// Handed-over pane states per pane (QueryRun.partials).
    var partials: [PaneKey: [PaneState]] = [:]
    /// Each worker's open panes (Worker.windows), by worker index.
    var open: [[PaneKey: PaneState]] = []
    /// The session windows' state (SessionRun), for SESSION queries.
    var sessions: SessionRunSnapshot?

    init() {}

    // MARK: Encoding

    /// Appends the snapshot to `w` (pane keys in order, so equal snapshots encode alike).
    func serialize(into w: inout StateWriter) {
        w.tag(.runSnapshot)
        w.count(eventTime.morselsDone)
        w.i64(eventTime.maxEventTime)
        w.i64(eventTime.fireWatermark)
        w.count(eventTime.detached.count)
        w.words(eventTime.detached)
        w.i64(firedThrough)
        w.count(emitSeq)
        for c in [counters.rowsRead, counters.rowsLate, counters.rowsOnTime, counters.rowsLateAccepted,
                  counters.rowsNullTime] { w.count(c) }
        let keys = partials.keys.sorted { ($0.start, $0.tier) < ($1.start, $1.tier) }
        w.count(keys.count)
        for key in keys {
            let states = partials[key]!
            w.i64(key.start)
            w.count(key.tier)
            w.count(states.count)
            for s in states { RunSnapshot.serialize(pane: s, into: &w) }
        }
        w.count(open.count)
        for panes in open {
            let keys = panes.keys.sorted { ($0.start, $0.tier) < ($1.start, $1.tier) }
            w.count(keys.count)
            for key in keys {
                w.i64(key.start)
                w.count(key.tier)
                RunSnapshot.serialize(pane: panes[key]!, into: &w)
            }
        }
        w.bool(sessions != nil)
        sessions?.serialize(into: &w)
    }

    /// Pane states are aggregation states or Top-N candidates; a kind byte says which.
    static func serialize(pane: PaneState, into w: inout StateWriter) {
        switch pane {
        case let s as AggState:
            w.u8(1)
            s.serialize(into: &w)
        case let s as TopNState:
            w.u8(2)
            s.serialize(into: &w)
        default:
            preconditionFailure("\(type(of: pane)) has no state encoding")
        }
    }

    static func restorePane(from r: inout StateReader, _ schema: StateSchema) throws -> PaneState {
        let at = r.offset
        let kind = try r.u8("the kind of a pane state")
        switch (kind, schema.topN) {
        case (1, nil):
            return try AggState(restoring: &r, layout: schema.layout, specs: schema.specs)
        case (2, let plan?):
            return try TopNState(restoring: &r, plan: plan, layout: schema.layout)
        case (1, _?):
            throw r.mismatch("its panes hold aggregates, this query's hold Top-N candidate rows")
        case (2, nil):
            throw r.mismatch("its panes hold Top-N candidate rows, this query's hold aggregates")
        default:
            throw StateReader.corrupt("unknown pane state kind \(kind)", at: at, source: r.source)
        }
    }

    /// Reads a snapshot for the query whose state `schema` describes.
    init(restoring r: inout StateReader, schema: StateSchema) throws {
        try r.tag(.runSnapshot, "a run snapshot")
        eventTime.morselsDone = try r.count("the number of morsels done", limit: Int.max)
        eventTime.maxEventTime = try r.i64("the largest event time so far")
        eventTime.fireWatermark = try r.i64("the firing watermark")
        let workers = try r.count("the worker count", bytesEach: 8, limit: 1 << 16)
        eventTime.detached = try r.words(Int64.self, workers, "how far each worker has handed over")
        firedThrough = try r.i64("how far windows have fired")
        emitSeq = try r.count("the next result sequence number", limit: Int.max)
        counters.rowsRead = try r.count("the rows read", limit: Int.max)
        counters.rowsLate = try r.count("the late rows", limit: Int.max)
        counters.rowsOnTime = try r.count("the on-time rows", limit: Int.max)
        counters.rowsLateAccepted = try r.count("the late rows accepted", limit: Int.max)
        counters.rowsNullTime = try r.count("the rows without event time", limit: Int.max)
        // A pane takes at least its key (9 bytes), a state count and a state (kind and tag).
        let paneCount = try r.count("the number of handed-over panes", bytesEach: 15)
        for _ in 0..<paneCount {
            let at = r.offset
            let key = PaneKey(start: try r.i64("a pane start"), tier: try r.count("a pane tier", limit: 1 << 20))
            guard partials[key] == nil else {
                throw StateReader.corrupt("pane (\(key.start), tier \(key.tier)) appears twice", at: at, source: r.source)
            }
            let n = try r.count("the number of states of a pane", bytesEach: 5)
            var states: [PaneState] = []
            for _ in 0..<n { states.append(try RunSnapshot.restorePane(from: &r, schema)) }
            partials[key] = states
        }
        let openWorkers = try r.count("the number of workers with open panes", bytesEach: 1, limit: 1 << 16)
        for _ in 0..<openWorkers {
            let m = try r.count("the number of a worker's open panes", bytesEach: 14)
            var panes: [PaneKey: PaneState] = [:]
            for _ in 0..<m {
                let at = r.offset
                let key = PaneKey(start: try r.i64("a pane start"), tier: try r.count("a pane tier", limit: 1 << 20))
                guard panes[key] == nil else {
                    throw StateReader.corrupt("open pane (\(key.start), tier \(key.tier)) appears twice", at: at, source: r.source)
                }
                panes[key] = try RunSnapshot.restorePane(from: &r, schema)
            }
            open.append(panes)
        }
        let hasSessions = try r.bool("the session windows flag")
        switch (hasSessions, schema.sessionGap) {
        case (true, let gap?):
            sessions = try SessionRunSnapshot(restoring: &r, gap: gap, layout: schema.layout, specs: schema.specs)
        case (true, nil):
            throw r.mismatch("it holds SESSION windows, this query has none")
        case (false, _?):
            throw r.mismatch("this query has SESSION windows, the state has none")
        case (false, nil):
            break
        }
    }

    /// The snapshot alone as sealed bytes.
    func encoded() -> [UInt8] {
        var w = StateWriter()
        serialize(into: &w)
        return w.sealed()
    }

    /// A snapshot from sealed bytes that hold exactly one.
    static func decode(_ bytes: [UInt8], schema: StateSchema, source: String? = nil) throws -> RunSnapshot {
        var r = try StateReader(bytes, source: source)
        let s = try RunSnapshot(restoring: &r, schema: schema)
        try r.finish()
        return s
    }
}
