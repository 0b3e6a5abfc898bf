import Columnar
import Foundation
import SpateTestSupport
import Testing

@testable import Engine

/// The aggregate functions beyond COUNT/SUM/MIN/MAX/AVG, driven through AggState directly:
/// update, combine (as workers, panes and sessions use it) and finalize.
@Suite struct AggregateFunctionTests {
    // MARK: - Helpers

    static func ints(_ values: [Int64?], _ type: DataType = .int64) -> Column {
        let c = Column(type, capacity: max(values.count, 1))
        for v in values { if let v { c.append(v) } else { c.appendNull() } }
        return c
    }

    static func doubles(_ values: [Double?]) -> Column {
        let c = Column(.float64, capacity: max(values.count, 1))
        for v in values { if let v { c.append(v) } else { c.appendNull() } }
        return c
    }

    static func strings(_ values: [String?]) -> Column {
        let c = Column(.string, capacity: max(values.count, 1))
        for v in values { if let v { c.append(v) } else { c.appendNull() } }
        return c
    }

    static func bools(_ values: [Bool?]) -> Column {
        let c = Column(.bool, capacity: max(values.count, 1))
        for v in values { if let v { c.append(v) } else { c.appendNull() } }
        return c
    }

    static func spec(_ kind: AggregateKind, _ input: Int?, _ type: DataType?, distinct: Bool = false,
                     filter: Int? = nil) -> AggregateSpec {
        var s = AggregateSpec(kind: kind, input: input, inputType: type, outputType: AggregateSpec.outputType(kind, type))
        s.distinct = distinct
        s.filter = filter
        return s
    }

    /// A state grouped by one BIGINT key (or global with `keyed: false`).
    static func state(_ specs: [AggregateSpec], keyed: Bool = true) -> AggState {
        AggState(layout: KeyLayout(types: keyed ? [.int64] : [], hasNullWord: false), specs: specs)
    }

    /// Adds all rows (or the rows `sel`) of `keys`/`inputs` to `state`.
    static func add(_ state: AggState, keys: [Int64], _ inputs: [Column], sel: [UInt32]? = nil, rowBase: Int64 = 0) {
        let keyColumns = state.layout.width == 0 ? [] : [ints(keys.map { Optional($0) })]
        let n = sel?.count ?? max(keys.count, inputs.first?.count ?? 0)
        let scratch = KeyScratch(width: state.layout.width, capacity: max(keys.count, inputs.first?.count ?? 0, 1))
        if let sel {
            sel.withUnsafeBufferPointer { state.add(keys: keyColumns, inputs: inputs, scratch: scratch, $0.baseAddress, n, rowBase: rowBase) }
        } else {
            state.add(keys: keyColumns, inputs: inputs, scratch: scratch, nil, n, rowBase: rowBase)
        }
    }

    /// The finalized rows, sorted by key, each as its fields' text (NULL as "NULL").
    static func rows(_ state: AggState) -> [[String]] {
        let cols = state.finalize()
        let n = cols.first?.count ?? 0
        var out: [[String]] = []
        for r in 0..<n {
            out.append(cols.map { c in
                guard c.isValid(r) else { return "NULL" }
                switch c.type {
                case .int64, .timestamp: return String(c.int64s[r])
                case .float64: return String(c.float64s[r])
                case .bool: return c.bools[r] != 0 ? "true" : "false"
                case .string: return c.string(at: r)
                }
            })
        }
        return out.sorted { $0[0].count != $1[0].count ? $0[0].count < $1[0].count : $0[0] < $1[0] }
    }

    // MARK: - COUNT/SUM/AVG(DISTINCT)

    @Test func countDistinctPerGroupSkipsNulls() {
        let specs = [Self.spec(.count, 0, .int64, distinct: true), Self.spec(.count, 0, .int64)]
        let s = Self.state(specs)
        Self.add(s, keys: [1, 1, 1, 2, 2, 1, 3], [Self.ints([5, 5, 6, nil, 7, 6, nil])])
        #expect(Self.rows(s) == [["1", "2", "4"], ["2", "1", "1"], ["3", "0", "0"]])
    }

    @Test func distinctCombineCountsSharedValuesOnce() {
        // Two workers see overlapping values of the same groups; a third state is
        // merged in for only some of its groups (the partitioned combine passes sel).
        let specs = [Self.spec(.count, 0, .int64, distinct: true), Self.spec(.sum, 0, .int64, distinct: true),
                     Self.spec(.avg, 0, .int64, distinct: true)]
        let a = Self.state(specs), b = Self.state(specs), c = Self.state(specs)
        Self.add(a, keys: [1, 1, 2], [Self.ints([10, 20, 1])])
        Self.add(b, keys: [2, 1, 1, 1], [Self.ints([1, 20, 30, nil])])
        Self.add(c, keys: [1, 2, 3], [Self.ints([40, 2, 5])])
        a.combine(b)
        // c's groups are 0 (key 1), 1 (key 2), 2 (key 3): merge keys 1 and 3 only.
        [UInt32(0), 2].withUnsafeBufferPointer { a.combine(c, $0.baseAddress, 2) }
        #expect(Self.rows(a) == [["1", "4", "100", "25.0"], ["2", "1", "1", "1.0"], ["3", "1", "5", "5.0"]])
        // The sources are unchanged (combine only reads them).
        #expect(Self.rows(b) == [["1", "2", "50", "25.0"], ["2", "1", "1", "1.0"]])
    }

    @Test func distinctOverStringsDoublesAndBooleans() {
        let specs = [Self.spec(.count, 0, .string, distinct: true), Self.spec(.count, 1, .float64, distinct: true),
                     Self.spec(.count, 2, .bool, distinct: true), Self.spec(.sum, 1, .float64, distinct: true)]
        let a = Self.state(specs), b = Self.state(specs)
        Self.add(a, keys: [1, 1, 2, 2],
                 [Self.strings(["x", "", nil, "yy"]), Self.doubles([0.0, -0.0, .nan, 1.5]),
                  Self.bools([true, nil, false, false])])
        Self.add(b, keys: [1, 2, 2, 1],
                 [Self.strings(["x", "yy", "z", "y"]), Self.doubles([2.5, -.nan, nil, 0.0]),
                  Self.bools([false, false, nil, true])])
        a.combine(b)
        // Strings: {x, "", y} and {yy, z}; doubles: 0 and -0 are one value, NaNs one value.
        let r = Self.rows(a)
        #expect(r.map { Array($0.prefix(4)) } == [["1", "3", "2", "2"], ["2", "2", "2", "1"]])
        #expect(r[0][4] == "2.5")
        #expect(r[1][4] == "nan")
    }

    @Test func distinctSumOverflowIsReported() {
        let s = Self.state([Self.spec(.sum, 0, .int64, distinct: true)], keyed: false)
        Self.add(s, keys: [], [Self.ints([Int64.max, Int64.max, 1])])
        #expect(s.accs.overflowed == 0)
        let t = Self.state([Self.spec(.sum, 0, .int64, distinct: true)], keyed: false)
        Self.add(t, keys: [], [Self.ints([Int64.max, Int64.max, -1])])
        #expect(t.accs.overflowed == nil)
        #expect(Self.rows(t) == [[String(Int64.max - 1)]])
    }

    // MARK: - FIRST_VALUE / LAST_VALUE

    @Test func firstAndLastFollowInputPositions() {
        let specs = [Self.spec(.firstValue, 0, .int64), Self.spec(.lastValue, 0, .int64),
                     Self.spec(.firstValue, 1, .string), Self.spec(.lastValue, 1, .string)]
        // Worker 1 holds the later morsel (positions 1000...), worker 2 the earlier one.
        let late = Self.state(specs), early = Self.state(specs)
        Self.add(late, keys: [1, 2, 1, 2], [Self.ints([7, 8, nil, 9]), Self.strings(["late-a", nil, "late-b", "late-c"])],
                 rowBase: 1000)
        Self.add(early, keys: [1, 1, 2, 3], [Self.ints([1, 2, nil, nil]), Self.strings([nil, "early-a", "early-b", nil])],
                 rowBase: 0)
        let want = [["1", "1", "7", "early-a", "late-b"], ["2", "8", "9", "early-b", "late-c"], ["3", "NULL", "NULL", "NULL", "NULL"]]
        // Either merge order gives the same answer.
        let x = Self.state(specs), y = Self.state(specs)
        x.combine(late); x.combine(early)
        y.combine(early); y.combine(late)
        #expect(Self.rows(x) == want)
        #expect(Self.rows(y) == want)
    }

    @Test func firstAndLastWithinOneBatchAndSelection() {
        let specs = [Self.spec(.firstValue, 0, .float64), Self.spec(.lastValue, 1, .bool),
                     Self.spec(.lastValue, 2, .timestamp(.millisecond))]
        let s = Self.state(specs, keyed: false)
        let input = [Self.doubles([nil, 2.5, 3.5, 4.5]), Self.bools([true, false, nil, true]),
                     Self.ints([10, 20, 30, nil], .timestamp(.millisecond))]
        // Rows 1 and 2 only: the first double is 2.5, the last boolean (row 2 is NULL) false.
        Self.add(s, keys: [], input, sel: [1, 2], rowBase: 50)
        #expect(Self.rows(s) == [["2.5", "false", "30"]])
        // An earlier batch of the same group replaces FIRST, not LAST.
        Self.add(s, keys: [], [Self.doubles([9.0]), Self.bools([true]),
                               Self.ints([5], .timestamp(.millisecond))], rowBase: 10)
        #expect(Self.rows(s) == [["9.0", "false", "30"]])
    }

    @Test func sessionStyleMergeWithinOneSet() {
        // SessionStore merges slot s into slot t of the same AccumulatorSet.
        let specs = [Self.spec(.count, 0, .string, distinct: true), Self.spec(.firstValue, 0, .string),
                     Self.spec(.approxCountDistinct, 0, .string)]
        let set = AccumulatorSet(specs)
        set.grow(to: 2)
        let input = Self.strings(["a", "b", "b", "c"])
        let groups: [UInt32] = [0, 0, 1, 1]
        groups.withUnsafeBufferPointer { set.update([input], groups: $0.baseAddress, nil, 4, rowBase: 100) }
        var mapping: [UInt32] = [0, 0]
        var one: UInt32 = 1
        mapping.withUnsafeMutableBufferPointer { set.combine(set, mapping: $0.baseAddress!, &one, 1) }
        #expect(set.finalize(0).int64(at: 0) == 3)
        #expect(set.finalize(1).string(at: 0) == "a")
        #expect(set.finalize(2).int64(at: 0) == 3)
    }

    // MARK: - FILTER

    @Test func filterFeedsOnlyMatchingRows() {
        // inputs: 0 = price, 1 = price > 100
        let specs = [Self.spec(.countStar, nil, nil, filter: 1), Self.spec(.sum, 0, .int64, filter: 1),
                     Self.spec(.sum, 0, .int64), Self.spec(.count, 0, .int64, distinct: true, filter: 1),
                     Self.spec(.max, 0, .int64, filter: 1)]
        let s = Self.state(specs)
        let price: [Int64?] = [50, 150, 150, nil, 300, 20]
        let cond = Self.bools(price.map { $0.map { $0 > 100 } })
        Self.add(s, keys: [1, 1, 1, 1, 2, 3], [Self.ints(price), cond])
        #expect(Self.rows(s) == [["1", "2", "300", "350", "1", "150"], ["2", "1", "300", "300", "1", "300"],
                                 ["3", "0", "NULL", "20", "0", "NULL"]])
    }

    // MARK: - APPROX_COUNT_DISTINCT

    static func approx(_ values: Range<Int64>, batch: Int = 4096) -> AggState {
        let s = state([spec(.approxCountDistinct, 0, .int64)], keyed: false)
        var lo = values.lowerBound
        while lo < values.upperBound {
            let hi = min(lo + Int64(batch), values.upperBound)
            add(s, keys: [], [ints((lo..<hi).map { Optional($0) })])
            lo = hi
        }
        return s
    }

    static func estimate(_ s: AggState) -> Int64 { s.finalize()[0].int64(at: 0) }

    @Test func approxCountDistinctWithin3Percent() {
        for n: Int64 in [100_000, 1_000_000] {
            // Every value twice: duplicates do not count.
            let s = Self.approx(0..<n)
            Self.add(s, keys: [], [Self.ints((0..<Int64(5000)).map { Optional($0 * 7) })])
            let e = Self.estimate(s)
            #expect(abs(Double(e) / Double(n) - 1) < 0.03, "n=\(n) estimate=\(e)")
        }
    }

    @Test func approxCountDistinctSmallCardinalities() {
        for n: Int64 in [0, 1, 2, 10, 100, 1000, 5000, 10_000, 20_000] {
            let e = Self.estimate(Self.approx(1_000_000..<1_000_000 + n))
            #expect(abs(Double(e - n)) <= max(1, 0.03 * Double(n)), "n=\(n) estimate=\(e)")
        }
    }

    @Test func approxMergeEqualsSketchOfUnion() {
        let a = Self.approx(0..<60_000), b = Self.approx(40_000..<130_000)
        let union = Self.approx(0..<130_000)
        a.combine(b)
        #expect(Self.estimate(a) == Self.estimate(union))
        // Merging is idempotent: the same partial again changes nothing.
        a.combine(b)
        #expect(Self.estimate(a) == Self.estimate(union))
    }

    @Test func approxOverStringsAndGroups() {
        let s = Self.state([Self.spec(.approxCountDistinct, 0, .string)])
        var keys: [Int64] = [], names: [String?] = []
        for i in 0..<3000 {
            keys.append(Int64(i % 3))
            names.append(i % 10 == 9 ? nil : "user-\(i % (3 * (i % 3 + 1) * 50))")
        }
        Self.add(s, keys: keys, [Self.strings(names)])
        // Exact distinct counts per key, for comparison.
        var exact: [Int64: Set<String>] = [:]
        for (k, n) in zip(keys, names) { if let n { exact[k, default: []].insert(n) } }
        for row in Self.rows(s) {
            let want = exact[Int64(row[0])!]!.count
            #expect(abs(Int(row[1])! - want) <= max(1, want / 50), "key \(row[0]): \(row[1]) vs \(want)")
        }
    }

    // MARK: - Through the engine

    func run(_ sql: String, workers: Int, morsel: Int) throws -> [[String]] {
        let session = Session(options: ExecutionOptions(workers: workers, batchCapacity: 1000, morselSize: morsel, pinWorkers: false))
        let writer = CollectingWriter()
        try session.run(sql) { _, _ in writer }
        return writer.rows
    }

    @Test func manyGroupsCombineInParallel() throws {
        // 70k keys (past the parallel combine threshold), each with values spread over
        // morsels; the exact and approximate distinct counts must not depend on workers.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-aggfn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        var text = "k,v,s\n"
        let keys = 70_000
        for round in 0..<3 {
            for k in 0..<keys {
                // Key k has k % 3 + 1 distinct values; round 2 repeats round 0's.
                let v = (round == 2 ? 0 : round) % (k % 3 + 1)
                text += "\(k),\(v),s\(v * 7)\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let sql = """
            CREATE TABLE t (k BIGINT, v BIGINT, s VARCHAR) WITH ('path' = '\(path)');
            SELECT k, COUNT(DISTINCT v) AS d, COUNT(DISTINCT s) AS ds, APPROX_COUNT_DISTINCT(s) AS a, SUM(DISTINCT v) AS sv
            FROM t GROUP BY k
            """
        let one = try run(sql, workers: 1, morsel: 1 << 20)
        let three = try run(sql, workers: 3, morsel: 1 << 16)
        #expect(one.count == keys)
        #expect(one == three)
        for row in one.prefix(3000) {
            let k = Int(row[0])!
            let want = min(k % 3 + 1, 2)
            #expect(row[1] == String(want) && row[2] == String(want) && row[3] == String(want), "\(row)")
            #expect(row[4] == String(want == 2 ? 1 : 0), "\(row)")
        }
    }
}
