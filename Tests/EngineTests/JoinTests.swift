import Columnar
@testable import Engine
import Foundation
import SpateTestSupport
import Testing

/// Joins of two inputs on random, out-of-order data, checked against a naive model of
/// their semantics (nested loops over the rows, each input's watermark replayed row by
/// row) under several worker counts, batch capacities and morsel sizes; and what joins
/// report (late rows per input, `--explain`).
struct JoinTests {
    struct Row {
        var key: Int64?
        var ts: Int64
        var value: Int
    }

    static let delay: Int64 = 2_000

    /// Rows roughly in time order with disorder (some far behind), a few NULL keys.
    static func rows(seed: UInt64, count: Int, keys: UInt64, spread: Int64 = 400) -> [Row] {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 0
        return (0..<count).map { i in
            t += Int64(rng.next() % UInt64(spread))
            let ts = max(0, t - Int64(rng.next() % 5_000))
            let key: Int64? = rng.next() % 23 == 0 ? nil : Int64(rng.next() % keys)
            return Row(key: key, ts: ts, value: i)
        }
    }

    static func csv(_ rows: [Row]) -> String {
        "k,v,ts\n" + rows.map { "\($0.key.map(String.init) ?? ""),\($0.value),\($0.ts)" }.joined(separator: "\n") + "\n"
    }

    /// Whether each row is late: its time (`time(row)`) at or behind the watermark before it.
    static func late(_ rows: [Row], time: (Row) -> Int64) -> [Bool] {
        var running = Int64.min
        return rows.map { r in
            let wm = running == Int64.min ? Int64.min : running - delay
            running = max(running, r.ts)
            return time(r) <= wm
        }
    }

    struct Out: Comparable {
        var due: Int64
        var left: Int
        var right: Int
        var text: String
        static func < (a: Out, b: Out) -> Bool { (a.due, a.left, a.right) < (b.due, b.left, b.right) }
    }

    /// The interval join of `left` and `right` (right.ts - left.ts in [lower, upper]) as
    /// `lv,rv` lines, NULL for a missing side; and the number of late rows.
    static func intervalModel(_ left: [Row], _ right: [Row], lower: Int64, upper: Int64,
                              type: JoinType) -> (lines: [String], late: Int) {
        let lateL = late(left) { $0.ts }, lateR = late(right) { $0.ts }
        var out: [Out] = []
        var matchedR = Set<Int>()
        for (i, l) in left.enumerated() where !lateL[i] {
            var found = false
            for (j, r) in right.enumerated() where !lateR[j] {
                guard let a = l.key, let b = r.key, a == b else { continue }
                let d = r.ts - l.ts
                guard d >= lower && d <= upper else { continue }
                out.append(Out(due: max(l.ts, r.ts), left: i, right: j, text: "\(l.value),\(r.value)"))
                found = true
                matchedR.insert(j)
            }
            if !found && type.preserves(0) {
                out.append(Out(due: max(l.ts, l.ts + upper), left: i, right: Int.max, text: "\(l.value),NULL"))
            }
        }
        if type.preserves(1) {
            for (j, r) in right.enumerated() where !lateR[j] && !matchedR.contains(j) {
                out.append(Out(due: max(r.ts, r.ts - lower), left: Int.max, right: j, text: "NULL,\(r.value)"))
            }
        }
        return (out.sorted().map(\.text), lateL.filter { $0 }.count + lateR.filter { $0 }.count)
    }

    /// The TUMBLE window join (equal keys, same window) as `lws,rws,lv,rv` lines (window
    /// starts in epoch milliseconds).
    static func windowModel(_ left: [Row], _ right: [Row], size: Int64, type: JoinType) -> (lines: [String], late: Int) {
        func last(_ r: Row) -> Int64 { r.ts / size * size + size - 1 }
        let lateL = late(left, time: last), lateR = late(right, time: last)
        var out: [Out] = []
        var matchedR = Set<Int>()
        for (i, l) in left.enumerated() where !lateL[i] {
            var found = false
            for (j, r) in right.enumerated() where !lateR[j] && last(r) == last(l) {
                guard let a = l.key, let b = r.key, a == b else { continue }
                let start = last(l) + 1 - size
                out.append(Out(due: last(l), left: i, right: j, text: "\(start),\(start),\(l.value),\(r.value)"))
                found = true
                matchedR.insert(j)
            }
            if !found && type.preserves(0) {
                out.append(Out(due: last(l), left: i, right: Int.max, text: "\(last(l) + 1 - size),NULL,\(l.value),NULL"))
            }
        }
        if type.preserves(1) {
            for (j, r) in right.enumerated() where !lateR[j] && !matchedR.contains(j) {
                out.append(Out(due: last(r), left: Int.max, right: j, text: "NULL,\(last(r) + 1 - size),NULL,\(r.value)"))
            }
        }
        return (out.sorted().map(\.text), lateL.filter { $0 }.count + lateR.filter { $0 }.count)
    }

    static var settings: [ExecutionOptions] {
        [(1, 4096, 8 << 20), (3, 1, 97), (2, 7, 211), (3, 4096, 1_000)].map {
            ExecutionOptions(workers: $0.0, batchCapacity: $0.1, morselSize: $0.2, pinWorkers: false)
        }
    }

    func withData(_ left: [Row], _ right: [Row], ttl: (String?, String?) = (nil, nil),
                  _ body: (URL, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-join-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.csv(left).utf8).write(to: dir.appendingPathComponent("l.csv"))
        try Data(Self.csv(right).utf8).write(to: dir.appendingPathComponent("r.csv"))
        func table(_ name: String, _ file: String, _ ttl: String?) -> String {
            """
            CREATE TABLE \(name) (k BIGINT, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
            WITH ('connector' = 'filesystem', 'path' = '\(dir.path)/\(file)', 'format' = 'csv'\(ttl.map { ", 'state.ttl' = '\($0)'" } ?? ""));
            """
        }
        try body(dir, table("l", "l.csv", ttl.0) + "\n" + table("r", "r.csv", ttl.1) + "\n")
    }

    func run(_ sql: String, _ options: ExecutionOptions) throws -> (lines: [String], stats: RunStatistics) {
        let writer = CollectingWriter()
        let results = try Session(options: options).run(sql) { _, _ in writer }
        return (writer.rows.map { $0.joined(separator: ",") }, try #require(results.last).statistics)
    }

    @Test(arguments: [JoinType.inner, .left, .right, .full])
    func intervalJoinMatchesTheModel(_ type: JoinType) throws {
        let left = Self.rows(seed: 7, count: 700, keys: 6), right = Self.rows(seed: 8, count: 600, keys: 6)
        let (expected, late) = Self.intervalModel(left, right, lower: -3_000, upper: 1_000, type: type)
        #expect(late > 50, "the data must have late rows")
        #expect(expected.count > 200)
        try withData(left, right) { _, tables in
            let sql = tables + """
                SELECT l.v AS lv, r.v AS rv FROM l \(type.rawValue) JOIN r
                ON l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL '3' SECOND AND l.ts + INTERVAL '1' SECOND
                """
            for options in Self.settings {
                let (got, stats) = try run(sql, options)
                #expect(got == expected, "\(type) with \(options.workers) workers, capacity \(options.batchCapacity), morsel \(options.morselSize)")
                #expect(stats.rowsLate == late)
                #expect(stats.rowsRead == left.count + right.count)
            }
        }
    }

    @Test(arguments: [JoinType.inner, .left, .full])
    func windowJoinMatchesTheModel(_ type: JoinType) throws {
        let left = Self.rows(seed: 11, count: 500, keys: 5), right = Self.rows(seed: 12, count: 450, keys: 5)
        let (expected, late) = Self.windowModel(left, right, size: 5_000, type: type)
        #expect(late > 10, "the data must have late rows")
        try withData(left, right) { _, tables in
            let sql = tables + """
                SELECT L.window_start AS lws, R.window_start AS rws, L.v AS lv, R.v AS rv
                FROM (SELECT * FROM TABLE(TUMBLE(TABLE l, DESCRIPTOR(ts), INTERVAL '5' SECOND))) L
                \(type.rawValue) JOIN (SELECT * FROM TABLE(TUMBLE(TABLE r, DESCRIPTOR(ts), INTERVAL '5' SECOND))) R
                ON L.k = R.k AND L.window_start = R.window_start AND L.window_end = R.window_end
                """
            for options in Self.settings {
                let (got, stats) = try run(sql, options)
                // Window starts as epoch milliseconds, as the model writes them.
                let normalized = got.map { line in
                    line.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { i, f in
                        i < 2 && f != "NULL" ? String(Timestamp.parseMillis(f)!) : String(f)
                    }.joined(separator: ",")
                }
                #expect(normalized == expected, "\(type) with \(options.workers) workers, capacity \(options.batchCapacity), morsel \(options.morselSize)")
                #expect(stats.rowsLate == late)
            }
        }
    }

    /// Enough rows that state is evicted and compacted many times over.
    @Test func stateTTLJoinOnALongInput() throws {
        let left = Self.rows(seed: 21, count: 12_000, keys: 40, spread: 60)
        let right = Self.rows(seed: 22, count: 12_000, keys: 40, spread: 60)
        // 'state.ttl' = '2 s' on l, '1 s' on r: right.ts - left.ts in [-1000, 2000].
        let (expected, late) = Self.intervalModel(left, right, lower: -1_000, upper: 2_000, type: .left)
        try withData(left, right, ttl: ("2 s", "1 s")) { _, tables in
            let sql = tables + "SELECT l.v AS lv, r.v AS rv FROM l LEFT JOIN r ON l.k = r.k"
            for options in [Self.settings[0], Self.settings[3]] {
                let (got, stats) = try run(sql, options)
                #expect(got.count == expected.count)
                #expect(got == expected, "\(options.workers) workers, morsel \(options.morselSize)")
                #expect(stats.rowsLate == late)
            }
        }
    }

    @Test func regularJoinWithoutTTLKeepsEveryRowAndIsNeverLate() throws {
        let left = Self.rows(seed: 31, count: 150, keys: 4), right = Self.rows(seed: 32, count: 120, keys: 4)
        var expected: [String] = []
        for l in left {
            var found = false
            for r in right where l.key != nil && l.key == r.key {
                expected.append("\(l.value),\(r.value)")
                found = true
            }
            if !found { expected.append("\(l.value),NULL") }
        }
        try withData(left, right) { _, tables in
            for options in Self.settings {
                let (got, stats) = try run(tables + "SELECT l.v, r.v FROM l LEFT JOIN r ON l.k = r.k", options)
                #expect(got == expected)
                #expect(stats.rowsLate == 0)
            }
        }
    }

    @Test func lookupJoinEnrichesTheStreamInOrder() throws {
        let stream = Self.rows(seed: 41, count: 900, keys: 30)
        var dim: [Row] = (0..<20).map { Row(key: Int64($0), ts: 0, value: 1_000 + $0) }
        dim.append(Row(key: 3, ts: 0, value: 2_003))
        dim.append(Row(key: nil, ts: 0, value: 9_999))
        var expected: [String] = []
        for s in stream {
            let matches = dim.filter { s.key != nil && $0.key == s.key }
            if matches.isEmpty { expected.append("\(s.value),NULL") }
            for m in matches { expected.append("\(s.value),\(m.value)") }
        }
        try withData(stream, dim) { _, tables in
            let sql = tables + "SELECT l.v, d.v FROM l LEFT JOIN r FOR SYSTEM_TIME AS OF l.ts AS d ON l.k = d.k"
            for options in Self.settings {
                let (got, _) = try run(sql, options)
                #expect(got == expected, "\(options.workers) workers, capacity \(options.batchCapacity)")
            }
        }
    }

    @Test func explainShowsBothInputs() throws {
        try withData(Self.rows(seed: 1, count: 5, keys: 2), Self.rows(seed: 2, count: 5, keys: 2)) { _, tables in
            let text = try Session(options: ExecutionOptions(workers: 2, pinWorkers: false)).explain(tables + """
                SELECT l.v, r.v FROM l JOIN r ON l.k = r.k AND l.ts BETWEEN r.ts - INTERVAL '1' SECOND AND r.ts
                """)
            #expect(text.contains("INNER IntervalJoin: r.time - l.time in [0, 1000] ms"))
            #expect(text.contains("Left input 'l': keys [k#0], time ts#"))
            #expect(text.contains("Right input 'r'"))
            #expect(text.contains("Scan: CSV"))
            let lookup = try Session(options: ExecutionOptions(workers: 1, pinWorkers: false)).explain(tables + """
                SELECT l.v, d.v FROM l JOIN r FOR SYSTEM_TIME AS OF l.ts AS d ON l.k = d.k
                """)
            #expect(lookup.contains("INNER lookup join of CSV"))
        }
    }
}
