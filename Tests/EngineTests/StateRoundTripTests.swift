import Columnar
import Foundation
import SpateTestSupport
import Testing

@testable import Engine

/// Operator state written to bytes and read back must behave exactly like the original:
/// the same results, the same results after more rows, the same results when combined;
/// and damaged bytes must give a SpateError, never a crash.
@Suite struct StateRoundTripTests {
    // MARK: - Random input

    /// Aggregate inputs, by position: BIGINT, DOUBLE, BOOLEAN, VARCHAR, TIMESTAMP, a
    /// BOOLEAN filter condition, and BIGINTs near the top of the range (SUM overflows).
    static let inputTypes: [DataType] = [.int64, .float64, .bool, .string, .timestamp(.millisecond), .bool, .int64]
    static let filter = 5
    static let huge = 6

    static let stringPool = ["", "a", "b", "héllo", "a longer string past sixteen bytes", "x\u{0}y", "zz", "ünïcødé ✓"]
    static let doublePool: [Double] = [0.0, -0.0, 1.5, -2.25, .nan, -.nan, .infinity, 1e300, 3.0]

    /// A column of `n` random values of `type` from a small domain (so DISTINCT sets and
    /// groups see repeats), NULL with probability `nulls`.
    static func column(_ type: DataType, _ n: Int, nulls: Double, huge: Bool = false, _ rng: inout SplitMix64) -> Column {
        let c = Column(type, capacity: max(n, 1))
        for _ in 0..<n {
            if Double.random(in: 0..<1, using: &rng) < nulls {
                c.appendNull()
                continue
            }
            switch type {
            case .int64:
                c.append(huge ? Int64.max - Int64.random(in: 0..<1000, using: &rng) : Int64.random(in: -40...40, using: &rng))
            case .timestamp: c.append(Int64.random(in: 1_700_000_000_000...1_700_000_000_050, using: &rng))
            case .float64: c.append(doublePool.randomElement(using: &rng)!)
            case .bool: c.append(Bool.random(using: &rng))
            case .string: c.append(stringPool.randomElement(using: &rng)!)
            }
        }
        return c
    }

    /// One batch: key columns of `layout` and every aggregate input.
    static func batch(_ layout: KeyLayout, _ n: Int, _ rng: inout SplitMix64) -> (keys: [Column], inputs: [Column]) {
        let keys = layout.types.map { column($0, n, nulls: 0.1, &rng) }
        let inputs = inputTypes.enumerated().map { i, t in column(t, n, nulls: i == huge ? 0 : 0.2, huge: i == huge, &rng) }
        return (keys, inputs)
    }

    /// Adds a batch to a state, through a random selection vector half of the time.
    static func feed(_ state: AggState, _ b: (keys: [Column], inputs: [Column]), rowBase: Int64, _ rng: inout SplitMix64) {
        let n = b.inputs[0].count
        let scratch = KeyScratch(width: state.layout.width, capacity: n)
        if Bool.random(using: &rng) {
            let sel = (0..<n).filter { _ in Int.random(in: 0..<4, using: &rng) != 0 }.map(UInt32.init)
            sel.withUnsafeBufferPointer {
                state.add(keys: b.keys, inputs: b.inputs, scratch: scratch, $0.baseAddress, $0.count, rowBase: rowBase)
            }
        } else {
            state.add(keys: b.keys, inputs: b.inputs, scratch: scratch, nil, n, rowBase: rowBase)
        }
    }

    static func spec(_ kind: AggregateKind, _ input: Int?, distinct: Bool = false, filter: Int? = nil) -> AggregateSpec {
        let type = input.map { inputTypes[$0] }
        var s = AggregateSpec(kind: kind, input: input, inputType: type, outputType: AggregateSpec.outputType(kind, type))
        s.distinct = distinct
        s.filter = filter
        return s
    }

    /// Every aggregate the binder accepts, over every input type it accepts, plus
    /// FILTER'd variants of each family.
    static let allSpecs: [AggregateSpec] = {
        var s = [spec(.countStar, nil), spec(.countStar, nil, filter: filter)]
        for i in 0...4 {
            s += [spec(.count, i), spec(.count, i, distinct: true), spec(.approxCountDistinct, i),
                  spec(.firstValue, i), spec(.lastValue, i)]
        }
        for i in 0...1 {
            s += [spec(.sum, i), spec(.avg, i), spec(.min, i), spec(.max, i),
                  spec(.sum, i, distinct: true), spec(.avg, i, distinct: true)]
        }
        s += [spec(.min, 4), spec(.max, 4)]
        s += [spec(.sum, 0, filter: filter), spec(.max, 1, filter: filter), spec(.avg, 0, filter: filter),
              spec(.count, 3, distinct: true, filter: filter), spec(.sum, 1, distinct: true, filter: filter),
              spec(.firstValue, 3, filter: filter), spec(.lastValue, 2, filter: filter),
              spec(.approxCountDistinct, 0, filter: filter), spec(.count, 4, filter: filter)]
        return s
    }()

    /// The key layouts the tests run under: several key types with NULLs, and none.
    static let layouts: [String: KeyLayout] = [
        "int+string": KeyLayout(types: [.int64, .string], hasNullWord: true),
        "string": KeyLayout(types: [.string], hasNullWord: true),
        "double+bool": KeyLayout(types: [.float64, .bool], hasNullWord: true),
        "timestamp": KeyLayout(types: [.timestamp(.millisecond)], hasNullWord: true),
        "int, no null word": KeyLayout(types: [.int64], hasNullWord: false),
        "global": KeyLayout(types: [], hasNullWord: false),
    ]

    // MARK: - Comparing

    /// Whether two columns hold the same rows, value for value (doubles bit for bit, any
    /// NaN equal to any NaN).
    static func same(_ a: Column, _ b: Column) -> Bool {
        guard a.type == b.type, a.count == b.count else { return false }
        for r in 0..<a.count {
            guard a.isValid(r) == b.isValid(r) else { return false }
            guard a.isValid(r) else { continue }
            switch a.type {
            case .int64, .timestamp: if a.int64s[r] != b.int64s[r] { return false }
            case .float64:
                let x = a.float64s[r], y = b.float64s[r]
                if !(x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)) { return false }
            case .bool: if a.bools[r] != b.bools[r] { return false }
            case .string: if !Array(a.stringBytes(at: r)).elementsEqual(Array(b.stringBytes(at: r))) { return false }
            }
        }
        return true
    }

    static func same(_ a: [Column], _ b: [Column]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
    }

    /// Byte-for-byte equality, reported as where the bytes first differ (not as two
    /// arrays of many thousand bytes).
    static func expectSameBytes(_ a: [UInt8], _ b: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        guard a != b else { return }
        let at = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        Issue.record("encodings differ at byte \(at) (sizes \(a.count) and \(b.count))", sourceLocation: sourceLocation)
    }

    static func roundTrip(_ s: AggState) throws -> AggState {
        let bytes = s.encoded()
        let restored = try AggState.decode(bytes, layout: s.layout, specs: s.accs.specs)
        // What was restored encodes to the very same bytes: nothing was lost or reordered.
        Self.expectSameBytes(restored.encoded(), bytes)
        return restored
    }

    // MARK: - Aggregation states

    @Test(arguments: ["int+string", "string", "double+bool", "timestamp", "int, no null word", "global"])
    func everyAggregateSurvivesARoundTrip(_ layoutName: String) throws {
        let layout = Self.layouts[layoutName]!
        var rng = SplitMix64(seed: layoutName.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
        let specs = Self.allSpecs
        let a = AggState(layout: layout, specs: specs), b = AggState(layout: layout, specs: specs)
        var base: Int64 = 0
        for _ in 0..<4 {
            Self.feed(a, Self.batch(layout, 300, &rng), rowBase: base, &rng)
            base += 1 << 32
            Self.feed(b, Self.batch(layout, 200, &rng), rowBase: base, &rng)
            base += 1 << 32
        }
        if layout.width > 0 { #expect(a.groupCount > 5) }
        let a2 = try Self.roundTrip(a), b2 = try Self.roundTrip(b)
        #expect(a2.groupCount == a.groupCount)

        // (c) Combining restored states gives what combining the originals gives, into
        // a fresh state and into a restored one (the first state is the usual target).
        let c1 = AggState(layout: layout, specs: specs), c2 = AggState(layout: layout, specs: specs)
        c1.combine(a)
        c1.combine(b)
        c2.combine(a2)
        c2.combine(b2)
        #expect(Self.same(c1.finalize(), c2.finalize()))
        let target = try Self.roundTrip(a)
        target.combine(b2)
        #expect(Self.same(c1.finalize(), target.finalize()))

        // (a) Finalized, both give the same rows in the same group order.
        #expect(Self.same(a.finalize(), a2.finalize()))
        #expect(Self.same(b.finalize(), b2.finalize()))

        // (b) The same further rows (new groups and old ones) keep them equal.
        for _ in 0..<3 {
            let more = Self.batch(layout, 250, &rng)
            var r1 = SplitMix64(seed: UInt64(base)), r2 = r1
            Self.feed(a, more, rowBase: base, &r1)
            Self.feed(a2, more, rowBase: base, &r2)
            base += 1 << 32
        }
        #expect(a.groupCount == a2.groupCount)
        #expect(Self.same(a.finalize(), a2.finalize()))
        Self.expectSameBytes(a.encoded(), a2.encoded())
    }

    @Test func sumOverflowFlagSurvives() throws {
        let layout = KeyLayout(types: [.int64], hasNullWord: true)
        let specs = [Self.spec(.countStar, nil), Self.spec(.sum, Self.huge), Self.spec(.sum, Self.huge, distinct: true),
                     Self.spec(.sum, 1)]
        var rng = SplitMix64(seed: 41)
        let s = AggState(layout: layout, specs: specs)
        Self.feed(s, Self.batch(layout, 400, &rng), rowBase: 0, &rng)
        #expect(s.accs.overflowed == 1)
        let r = try Self.roundTrip(s)
        #expect(r.accs.overflowed == 1)
        // DISTINCT sums are recomputed on restore, overflow included.
        let distinct = r.accs.extras[2] as! DistinctAccumulator
        #expect(distinct.overflowed == (s.accs.extras[2] as! DistinctAccumulator).overflowed)
        #expect(Self.same(s.finalize(), r.finalize()))
        // A state that has not overflowed keeps no flag, and one restored combines its
        // flag into the target.
        let clean = AggState(layout: layout, specs: specs)
        Self.feed(clean, (keys: [Self.column(.int64, 10, nulls: 0, &rng)],
                          inputs: Self.inputTypes.map { Self.column($0, 10, nulls: 0, &rng) }), rowBase: 0, &rng)
        #expect(clean.accs.overflowed == nil)
        let clean2 = try Self.roundTrip(clean)
        #expect(clean2.accs.overflowed == nil)
        clean2.combine(r)
        #expect(clean2.accs.overflowed == 1)
    }

    @Test func emptyStatesRoundTrip() throws {
        for (_, layout) in Self.layouts {
            let s = AggState(layout: layout, specs: Self.allSpecs)
            let r = try Self.roundTrip(s)
            #expect(r.groupCount == 0)
            #expect(Self.same(s.finalize(), r.finalize()))
        }
        // A key table with no aggregates (what sessions and Top-N use).
        let keysOnly = AggState(layout: KeyLayout(types: [.string], hasNullWord: true), specs: [])
        var rng = SplitMix64(seed: 5)
        let keyColumn = Self.column(.string, 50, nulls: 0.3, &rng)
        keysOnly.add(keys: [keyColumn], inputs: [], scratch: KeyScratch(width: 2, capacity: 50), nil, 50)
        let r = try Self.roundTrip(keysOnly)
        #expect(Self.same(keysOnly.keyColumns((0..<UInt32(keysOnly.groupCount)).map { $0 }),
                          r.keyColumns((0..<UInt32(r.groupCount)).map { $0 })))
    }

    @Test func columnsOfEverySizeAndTypeRoundTrip() throws {
        var rng = SplitMix64(seed: 99)
        for type in Self.inputTypes {
            for n in [0, 1, 3, 63, 64, 65, 130] {
                for nulls in [0.0, 0.3, 1.0] {
                    let c = Self.column(type, n, nulls: nulls, &rng)
                    var w = StateWriter()
                    w.column(c)
                    var r = try StateReader(w.sealed())
                    let back = try r.column("a test column", expected: type)
                    try r.finish()
                    #expect(Self.same(c, back), "\(type) \(n) rows, nulls \(nulls)")
                    #expect(back.nullCount == c.nullCount)
                }
            }
        }
        // Varints and zig-zag values at their edges.
        var w = StateWriter()
        let edges: [Int64] = [0, 1, -1, 63, -64, 64, 127, 128, Int64.max, Int64.min, 1 << 35]
        for e in edges {
            w.zigzag(e)
            w.varint(UInt64(bitPattern: e))
        }
        var r = try StateReader(w.sealed())
        for e in edges {
            #expect(try r.zigzag("zigzag") == e)
            #expect(try r.varint("varint") == UInt64(bitPattern: e))
        }
        try r.finish()
    }

    // MARK: - Sessions

    static let sessionLayout = KeyLayout(types: [.string], hasNullWord: true)
    static let sessionSpecs = [spec(.countStar, nil), spec(.sum, 0), spec(.max, 1), spec(.count, 3, distinct: true),
                               spec(.firstValue, 3), spec(.lastValue, 0), spec(.approxCountDistinct, 0)]
    static let sessionSchema = Schema(
        [Field("window_start", .timestamp(.millisecond)), Field("window_end", .timestamp(.millisecond)),
         Field("k", .string)] + sessionSpecs.enumerated().map { Field("a\($0.offset)", $0.element.outputType) })

    /// Rows of many keys at roughly increasing times with some out of order, so sessions
    /// open, grow, and get bridged (merged) by late-ish rows.
    static func sessionRows(_ n: Int, from t0: Int64, _ rng: inout SplitMix64)
        -> (keys: [Column], inputs: [Column], times: [Int64])
    {
        let keys = Column(.string, capacity: n)
        for _ in 0..<n {
            if Int.random(in: 0..<20, using: &rng) == 0 { keys.appendNull() } else { keys.append("k\(Int.random(in: 0..<60, using: &rng))") }
        }
        let inputs = inputTypes.enumerated().map { i, t in column(t, n, nulls: i == huge ? 0 : 0.2, &rng) }
        var times: [Int64] = []
        var t = t0
        for _ in 0..<n {
            t += Int64.random(in: 0...3, using: &rng)
            times.append(t - Int64.random(in: 0...40, using: &rng))
        }
        return ([keys], inputs, times)
    }

    static func addSessions(_ s: SessionStore, _ rows: (keys: [Column], inputs: [Column], times: [Int64]), rowBase: Int64) {
        let n = rows.times.count
        let sel = (0..<UInt32(n)).map { $0 }
        let scratch = KeyScratch(width: s.keys.layout.width, capacity: n)
        rows.times.withUnsafeBufferPointer { t in
            sel.withUnsafeBufferPointer {
                s.add(keys: rows.keys, inputs: rows.inputs, time: t.baseAddress!, scratch: scratch, $0.baseAddress!, n, rowBase: rowBase)
            }
        }
    }

    static func sameBatches(_ a: Batch?, _ b: Batch?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.count == b.count && same(a.columns, b.columns)
    }

    @Test func sessionsMidStreamSurviveARoundTrip() throws {
        var rng = SplitMix64(seed: 17)
        let gap: Int64 = 10
        let s = SessionStore(gap: gap, layout: Self.sessionLayout, specs: Self.sessionSpecs)
        var t: Int64 = 0
        var base: Int64 = 0
        // Enough sessions that firing later leaves more than 1024 slots, half dead, so
        // the restored store compacts as the original does.
        for _ in 0..<6 {
            Self.addSessions(s, Self.sessionRows(500, from: t, &rng), rowBase: base)
            t += 500
            base += 1 << 32
        }
        #expect(s.fire(upTo: 300, schema: Self.sessionSchema) != nil)
        Self.addSessions(s, Self.sessionRows(300, from: t, &rng), rowBase: base)
        t += 300
        base += 1 << 32
        #expect(s.slotCount > 1024)
        #expect(s.liveSlots < s.slotCount)  // some fired, some merged away

        var w = StateWriter()
        s.serialize(into: &w)
        var r = try StateReader(w.sealed())
        let s2 = try SessionStore(restoring: &r, gap: gap, layout: Self.sessionLayout, specs: Self.sessionSpecs)
        try r.finish()
        #expect(s2.slotCount == s.slotCount && s2.liveSlots == s.liveSlots)
        #expect(s2.open == s.open)
        var again = StateWriter()
        s2.serialize(into: &again)
        Self.expectSameBytes(again.payload, w.payload)

        // Continue both: more rows (bridging open sessions), a merged-in part from
        // another worker, and firing at rising watermarks (compaction included).
        for step in 0..<4 {
            let rows = Self.sessionRows(400, from: t - 60, &rng)
            Self.addSessions(s, rows, rowBase: base)
            Self.addSessions(s2, rows, rowBase: base)
            let part = SessionStore(gap: gap, layout: Self.sessionLayout, specs: Self.sessionSpecs)
            Self.addSessions(part, Self.sessionRows(200, from: t - 30, &rng), rowBase: base + 1 << 31)
            s.merge(part)
            s2.merge(part)
            t += 400
            base += 1 << 32
            let upTo = t - Int64(200 - 50 * step)
            #expect(Self.sameBatches(s.fire(upTo: upTo, schema: Self.sessionSchema), s2.fire(upTo: upTo, schema: Self.sessionSchema)))
            #expect(s.slotCount == s2.slotCount)
        }
        #expect(Self.sameBatches(s.fire(upTo: .max, schema: Self.sessionSchema), s2.fire(upTo: .max, schema: Self.sessionSchema)))
    }

    static let sessionPlan = AggregatePlan(
        windowed: true, keys: [.column(index: 3, type: .string, name: "k")], aggregates: sessionSpecs, inputs: [],
        having: nil, output: [])

    @Test func sessionRunSnapshotRestoresCounters() throws {
        var rng = SplitMix64(seed: 23)
        let run = SessionRun(gap: 10)
        let part = SessionStore(gap: 10, layout: Self.sessionLayout, specs: Self.sessionSpecs)
        Self.addSessions(part, Self.sessionRows(300, from: 0, &rng), rowBase: 0)
        run.merge(part)
        let fired = run.fire(worker: 0, workers: 2, upTo: 100, schema: Self.sessionSchema)
        #expect(fired.isEmpty)  // worker 1 has not detached yet
        let emitted = run.fire(worker: 1, workers: 2, upTo: 120, schema: Self.sessionSchema)
        #expect(emitted.count == 1)

        let schema = StateSchema(layout: Self.sessionLayout, specs: Self.sessionSpecs, sessionGap: 10)
        var snap = RunSnapshot()
        snap.sessions = run.snapshot()
        let bytes = snap.encoded()
        let back = try RunSnapshot.decode(bytes, schema: schema)
        Self.expectSameBytes(back.encoded(), bytes)
        let restored = SessionRun(gap: 10)
        restored.restore(back.sessions!, workers: 2)
        #expect(restored.detached == [100, 120] && restored.firedThrough == 100 && restored.emitSeq == 1)

        // Both go on alike: more rows, then both workers pass the end.
        let more = SessionStore(gap: 10, layout: Self.sessionLayout, specs: Self.sessionSpecs)
        Self.addSessions(more, Self.sessionRows(300, from: 250, &rng), rowBase: 1 << 32)
        for r in [run, restored] { r.merge(more) }
        var outputs: [[(Int, Batch)]] = []
        for r in [run, restored] {
            _ = r.fire(worker: 0, workers: 2, upTo: .max, schema: Self.sessionSchema)
            outputs.append(r.fire(worker: 1, workers: 2, upTo: .max, schema: Self.sessionSchema))
        }
        #expect(outputs[0].count == 1 && outputs[1].count == 1)
        #expect(outputs[0][0].0 == outputs[1][0].0)
        #expect(Self.sameBatches(outputs[0][0].1, outputs[1][0].1))

        // Three workers instead of two: each starts at the least detached watermark.
        let wider = SessionRun(gap: 10)
        wider.restore(back.sessions!, workers: 3)
        #expect(wider.detached == [100, 100, 100])
    }

    // MARK: - Top-N

    static let topNFields = [Field("k", .int64), Field("v", .float64), Field("s", .string), Field("t", .int64)]

    static func topNPlan(_ f: RankFunction, descending: Bool) -> TopNPlan {
        TopNPlan(function: f, partition: [0], order: [RankOrder(column: 1, descending: descending, nullsFirst: false),
                                                      RankOrder(column: 3, descending: false, nullsFirst: true)],
                 limit: 3, rowFields: topNFields, output: [])
    }

    static func topNRows(_ n: Int, _ rng: inout SplitMix64) -> [Column] {
        let k = Column(.int64, capacity: n), v = Column(.float64, capacity: n)
        for _ in 0..<n {
            if Int.random(in: 0..<25, using: &rng) == 0 { k.appendNull() } else { k.append(Int64.random(in: 0..<40, using: &rng)) }
            if Int.random(in: 0..<15, using: &rng) == 0 { v.appendNull() } else { v.append(Double(Int.random(in: -500...500, using: &rng)) / 4) }
        }
        return [k, v, column(.string, n, nulls: 0.1, &rng), column(.int64, n, nulls: 0.1, &rng)]
    }

    static func addTopN(_ s: TopNState, _ rows: [Column], rowBase: Int64) {
        let n = rows[0].count
        s.add(keys: [rows[0]], inputs: rows, scratch: KeyScratch(width: 2, capacity: n), nil, n, rowBase: rowBase)
    }

    @Test(arguments: [RankFunction.rowNumber, .rank, .denseRank])
    func topNCandidatesSurviveARoundTrip(_ function: RankFunction) throws {
        var rng = SplitMix64(seed: 77)
        let plan = Self.topNPlan(function, descending: function != .rank)
        let layout = KeyLayout(types: [.int64], hasNullWord: true)
        let s = TopNState(plan: plan, layout: layout)
        var base: Int64 = 0
        // Past 4096 rows: the partitions' best-key lists are full (ROW_NUMBER, RANK) or
        // the buffer has been pruned (DENSE_RANK keeps every row until a prune).
        for _ in 0..<6 {
            Self.addTopN(s, Self.topNRows(1000, &rng), rowBase: base)
            base += 1 << 32
        }
        if function == .denseRank {
            #expect(s.prunedCount > 0)
        } else {
            #expect(s.best.filter { $0.count == plan.limit }.count > 30)
        }
        var w = StateWriter()
        s.serialize(into: &w)
        var r = try StateReader(w.sealed())
        let s2 = try TopNState(restoring: &r, plan: plan, layout: layout)
        try r.finish()
        #expect(s2.count == s.count && s2.prunedCount == s.prunedCount)
        #expect(s2.best == s.best && s2.groups == s.groups && s2.positions == s.positions)
        #expect(Self.sameBatches(TopNState.merged([s], plan), TopNState.merged([s2], plan)))

        for _ in 0..<4 {
            let rows = Self.topNRows(1500, &rng)
            Self.addTopN(s, rows, rowBase: base)
            Self.addTopN(s2, rows, rowBase: base)
            base += 1 << 32
        }
        #expect(s2.count == s.count && s2.best == s.best)
        let other = TopNState(plan: plan, layout: layout)
        Self.addTopN(other, Self.topNRows(800, &rng), rowBase: base)
        #expect(Self.sameBatches(TopNState.merged([s, other], plan), TopNState.merged([s2, other], plan)))
    }

    @Test func topNWithoutPartitionsRoundTrips() throws {
        var rng = SplitMix64(seed: 78)
        var plan = Self.topNPlan(.rowNumber, descending: false)
        plan.partition = []
        let layout = KeyLayout(types: [], hasNullWord: false)
        let empty = TopNState(plan: plan, layout: layout)
        var w0 = StateWriter()
        empty.serialize(into: &w0)
        var r0 = try StateReader(w0.sealed())
        #expect(try TopNState(restoring: &r0, plan: plan, layout: layout).count == 0)
        let s = TopNState(plan: plan, layout: layout)
        s.add(keys: [], inputs: Self.topNRows(5000, &rng), scratch: KeyScratch(width: 0, capacity: 5000), nil, 5000, rowBase: 0)
        var w = StateWriter()
        s.serialize(into: &w)
        var r = try StateReader(w.sealed())
        let s2 = try TopNState(restoring: &r, plan: plan, layout: layout)
        #expect(Self.sameBatches(TopNState.merged([s], plan), TopNState.merged([s2], plan)))
    }

    // MARK: - Run snapshots

    @Test func runSnapshotKeepsPanesAndBookkeeping() throws {
        var rng = SplitMix64(seed: 31)
        let layout = KeyLayout(types: [.int64, .string], hasNullWord: true)
        let specs = [Self.spec(.countStar, nil), Self.spec(.sum, 0), Self.spec(.count, 3, distinct: true),
                     Self.spec(.lastValue, 1)]
        func pane(_ rows: Int) -> AggState {
            let s = AggState(layout: layout, specs: specs)
            Self.feed(s, Self.batch(layout, rows, &rng), rowBase: 0, &rng)
            return s
        }
        var snap = RunSnapshot()
        snap.eventTime = .init(morselsDone: 12, maxEventTime: 1_700_000_000_123, fireWatermark: 1_700_000_000_000,
                               detached: [1_699_999_999_000, 1_700_000_000_000])
        snap.firedThrough = 1_699_999_999_000
        snap.emitSeq = 9
        snap.counters = .init(rowsRead: 1000, rowsLate: 3, rowsOnTime: 990, rowsLateAccepted: 2, rowsNullTime: 7)
        snap.partials = [PaneKey(start: 1000, tier: 0): [pane(100), pane(50)], PaneKey(start: 1000, tier: 1): [pane(5)],
                         PaneKey(start: -2000, tier: 0): [pane(0)]]
        snap.open = [[PaneKey(start: 3000, tier: 0): pane(80)], [:], [PaneKey(start: 3000, tier: 0): pane(20)]]
        let schema = StateSchema(layout: layout, specs: specs)
        let bytes = snap.encoded()
        let back = try RunSnapshot.decode(bytes, schema: schema, source: "checkpoint")
        Self.expectSameBytes(back.encoded(), bytes)
        #expect(back.eventTime == snap.eventTime && back.counters == snap.counters)
        #expect(back.firedThrough == snap.firedThrough && back.emitSeq == 9 && back.sessions == nil)
        #expect(Set(back.partials.keys) == Set(snap.partials.keys))
        for (key, states) in snap.partials {
            let restored = back.partials[key]!
            #expect(restored.count == states.count)
            for (x, y) in zip(states, restored) {
                #expect(Self.same((x as! AggState).finalize(), (y as! AggState).finalize()))
            }
        }
        #expect(back.open.count == 3 && back.open[1].isEmpty)
        #expect(Self.same((snap.open[2][PaneKey(start: 3000, tier: 0)] as! AggState).finalize(),
                          (back.open[2][PaneKey(start: 3000, tier: 0)] as! AggState).finalize()))
        #expect(back.eventTime.detached(forWorkers: 2) == snap.eventTime.detached)
        #expect(back.eventTime.detached(forWorkers: 4) == Array(repeating: 1_699_999_999_000, count: 4))

        // The same bytes for a query with other aggregates, or with Top-N panes, or with
        // sessions, are refused as another query's state.
        let others = [StateSchema(layout: layout, specs: Array(specs.dropLast())),
                      StateSchema(layout: KeyLayout(types: [.int64], hasNullWord: true), specs: specs),
                      StateSchema(layout: layout, specs: specs, topN: Self.topNPlan(.rank, descending: true)),
                      StateSchema(layout: layout, specs: specs, sessionGap: 5)]
        for other in others {
            do {
                _ = try RunSnapshot.decode(bytes, schema: other)
                Issue.record("a state of another query was accepted")
            } catch let e as SpateError {
                #expect(e.kind == .usage && e.message.contains("does not belong to this query"), "\(e)")
                #expect(e.path == nil)
            }
        }
    }

    @Test func runSnapshotOfTopNPanes() throws {
        var rng = SplitMix64(seed: 32)
        let plan = Self.topNPlan(.rowNumber, descending: true)
        let layout = KeyLayout(types: [.int64], hasNullWord: true)
        let s = TopNState(plan: plan, layout: layout)
        Self.addTopN(s, Self.topNRows(5000, &rng), rowBase: 0)
        var snap = RunSnapshot()
        snap.partials = [PaneKey(start: 0, tier: 0): [s]]
        let schema = StateSchema(layout: layout, specs: [], topN: plan)
        let back = try RunSnapshot.decode(snap.encoded(), schema: schema)
        let t = back.partials[PaneKey(start: 0, tier: 0)]![0] as! TopNState
        #expect(Self.sameBatches(TopNState.merged([s], plan), TopNState.merged([t], plan)))
    }

    @Test func stateSchemaFollowsThePlan() {
        let schema = StateSchema(Self.sessionPlan, window: WindowSpec(kind: .session(gap: 42), timeColumn: 0, offsetMillis: 0, startColumn: 0))
        #expect(schema.sessionGap == 42 && schema.layout.types == [.string] && schema.layout.hasNullWord)
        #expect(schema.emptyPane() is AggState)
        let tumble = StateSchema(Self.sessionPlan, window: WindowSpec(kind: .tumble(size: 10), timeColumn: 0, offsetMillis: 0, startColumn: 0))
        #expect(tumble.sessionGap == nil)
    }

    // MARK: - Damaged bytes

    /// A state with a bit of everything (strings, NULL keys, DISTINCT sets, sketches,
    /// FIRST/LAST strings), kept small so that decoding it many times stays quick.
    static func sampleState() -> AggState {
        var rng = SplitMix64(seed: 3)
        let layout = KeyLayout(types: [.int64, .string], hasNullWord: true)
        let specs = [spec(.countStar, nil), spec(.sum, 0), spec(.max, 1), spec(.count, 3, distinct: true),
                     spec(.avg, 1, distinct: true), spec(.approxCountDistinct, 2), spec(.firstValue, 3),
                     spec(.lastValue, 4, filter: filter)]
        let s = AggState(layout: layout, specs: specs)
        let keys = [column(.int64, 120, nulls: 0.1, &rng), column(.string, 120, nulls: 0.1, &rng)]
        for k in 0..<120 where keys[0].isValid(k) { keys[0].int64s[k] %= 4 }
        feed(s, (keys, inputTypes.map { column($0, 120, nulls: 0.2, &rng) }), rowBase: 0, &rng)
        return s
    }

    static func expectDataError(_ bytes: [UInt8], _ note: String, _ sample: AggState) {
        do {
            _ = try AggState.decode(bytes, layout: sample.layout, specs: sample.accs.specs, source: "state.bin")
            Issue.record("damaged state accepted (\(note))")
        } catch let e as SpateError {
            #expect(e.kind == .data, "\(note): \(e)")
            #expect(e.path == "state.bin" && e.hint != nil)
            #expect(e.message.contains("operator state"), "\(note): \(e)")
        } catch {
            Issue.record("not a SpateError (\(note)): \(error)")
        }
    }

    @Test func truncatedStatesAreRejected() {
        let s = Self.sampleState()
        let bytes = s.encoded()
        var cuts = [0, 1, 3, 4, 15, 16, 17, 24, bytes.count / 3, bytes.count / 2, bytes.count - 9, bytes.count - 8, bytes.count - 1]
        cuts += stride(from: 0, to: bytes.count, by: max(bytes.count / 40, 1))
        for cut in cuts { Self.expectDataError(Array(bytes.prefix(cut)), "cut at \(cut)", s) }
        // Cut inside the payload, then sealed again so the envelope is right: the
        // decoders themselves must notice.
        let payload = Array(bytes[StateFormat.headerBytes..<(bytes.count - StateFormat.trailerBytes)])
        for cut in stride(from: 0, to: payload.count, by: max(payload.count / 60, 1)) {
            Self.expectDataError(StateWriter.seal(Array(payload.prefix(cut))), "payload cut at \(cut)", s)
        }
        // Bytes past the end.
        Self.expectDataError(StateWriter.seal(payload + [0]), "a trailing byte", s)
        var longer = bytes
        longer.append(0)
        Self.expectDataError(longer, "a byte after the checksum", s)
    }

    @Test func flippedBitsAreRejected() {
        let s = Self.sampleState()
        let bytes = s.encoded()
        var rng = SplitMix64(seed: 11)
        var positions = Array(0..<24) + Array((bytes.count - 8)..<bytes.count)
        for _ in 0..<60 { positions.append(Int.random(in: 0..<bytes.count, using: &rng)) }
        for p in positions {
            var damaged = bytes
            damaged[p] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            Self.expectDataError(damaged, "bit flipped at byte \(p)", s)
        }
    }

    @Test func newerFormatVersionIsRejected() {
        let s = Self.sampleState()
        let bytes = s.encoded()
        let payload = Array(bytes[StateFormat.headerBytes..<(bytes.count - StateFormat.trailerBytes)])
        do {
            _ = try AggState.decode(StateWriter.seal(payload, version: StateFormat.version + 1), layout: s.layout,
                                    specs: s.accs.specs)
            Issue.record("a state of a newer format was accepted")
        } catch let e as SpateError {
            #expect(e.message.contains("format version \(StateFormat.version + 1)"))
        } catch {
            Issue.record("not a SpateError: \(error)")
        }
    }

    /// Damage behind a valid checksum (bytes changed before sealing): every decode ends
    /// in a SpateError or in a state that works (finalize, combine, encode); none crashes.
    @Test func damagedPayloadsNeverCrash() {
        let s = Self.sampleState()
        let bytes = s.encoded()
        let payload = Array(bytes[StateFormat.headerBytes..<(bytes.count - StateFormat.trailerBytes)])
        var rng = SplitMix64(seed: 2024)
        var rejected = 0
        let trials = 400
        for trial in 0..<trials {
            var p = payload
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<p.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: p[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 1: p[i] = UInt8.random(in: 0...255, using: &rng)
                default: p[i] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
                }
            }
            do {
                let d = try AggState.decode(StateWriter.seal(p), layout: s.layout, specs: s.accs.specs)
                // Accepted (a value changed, say): it must still be usable.
                let target = AggState(layout: s.layout, specs: s.accs.specs)
                target.combine(d)
                target.combine(s)
                _ = target.finalize()
                _ = d.finalize()
                _ = d.encoded()
            } catch let e as SpateError {
                #expect(e.kind == .data || e.kind == .usage, "trial \(trial): \(e)")
                rejected += 1
            } catch {
                Issue.record("trial \(trial): not a SpateError: \(error)")
            }
        }
        // Most damage is structural (tags, counts, ids, offsets) and caught.
        #expect(rejected > trials / 2)
    }

    @Test func errorsNameWhatIsWrong() throws {
        let s = Self.sampleState()
        let bytes = s.encoded()
        var damaged = bytes
        damaged[bytes.count - 20] ^= 0x10
        do {
            _ = try AggState.decode(damaged, layout: s.layout, specs: s.accs.specs)
        } catch let e as SpateError {
            #expect(e.message.contains("checksum"))
            #expect(e.description.contains("hint: the state was truncated or damaged"))
        }
        // A payload that starts with the wrong object.
        var w = StateWriter()
        w.tag(.topN)
        do {
            _ = try AggState.decode(w.sealed(), layout: s.layout, specs: s.accs.specs)
            Issue.record("a Top-N tag was read as an aggregation state")
        } catch let e as SpateError {
            #expect(e.message.contains("expected an aggregation state (tag 'AGGS'), found tag 'TOPN'"), "\(e)")
            #expect(e.message.contains("at byte 16"), "\(e)")
        }
        // A group count larger than the bytes that follow could hold.
        var big = StateWriter()
        big.tag(.aggState)
        big.layout(s.layout)
        big.count(1 << 30)
        do {
            _ = try AggState.decode(big.sealed(), layout: s.layout, specs: s.accs.specs)
            Issue.record("an impossible group count was accepted")
        } catch let e as SpateError {
            #expect(e.message.contains("the group count is 1073741824, but only 0 bytes are left"), "\(e)")
        }
    }
}
