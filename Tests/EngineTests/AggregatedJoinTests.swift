@testable import Engine
import Columnar
import Foundation
import Testing

/// Two window aggregations as join inputs (Nexmark q8's shape): joined on their windows'
/// ends they are planned as an interval join of width 0 on the windows' last instants,
/// so no aggregated row is late and each window is released as it closes.
struct AggregatedJoinTests {
    @Test func windowEndsMakeAnIntervalJoin() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-aggjoin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Many rows per window and key, so a window's rows share one time.
        var left = "k,ts\n", right = "k,ts\n"
        for i in 0..<3000 {
            left += "\(i % 5),\(i * 7)\n"
            right += "\(i % 3),\(i * 7 + 3)\n"
        }
        try Data(left.utf8).write(to: dir.appendingPathComponent("l.csv"))
        try Data(right.utf8).write(to: dir.appendingPathComponent("r.csv"))
        let sql = """
            CREATE TABLE l (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '\(dir.path)/l.csv', 'format' = 'csv');
            CREATE TABLE r (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '\(dir.path)/r.csv', 'format' = 'csv');
            SELECT L.k, L.we, L.n, R.n
            FROM (SELECT k, window_end AS we, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE l, DESCRIPTOR(ts), INTERVAL '2' SECOND))
                  GROUP BY k, window_start, window_end) L
            JOIN (SELECT k, window_end AS we, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE r, DESCRIPTOR(ts), INTERVAL '2' SECOND))
                  GROUP BY k, window_start, window_end) R
            ON L.k = R.k AND L.we = R.we
            """
        #expect(try Session(options: ExecutionOptions(workers: 1)).explain(sql).contains("IntervalJoin: R.time - L.time in [0, 0] ms"))
        // The expected rows, counted directly: keys 0-2 meet in every 2 s window.
        var want: [[String]] = []
        for w in stride(from: 0, to: 21_000, by: 2000) {
            for k in 0..<3 {
                let ln = (0..<3000).filter { $0 % 5 == k && ($0 * 7) / 2000 * 2000 == w }.count
                let rn = (0..<3000).filter { $0 % 3 == k && ($0 * 7 + 3) / 2000 * 2000 == w }.count
                if ln > 0 && rn > 0 { want.append(["\(k)", "\(w + 2000)", "\(ln)", "\(rn)"]) }
            }
        }
        for (workers, capacity, morsel) in [(1, 4096, 8 << 20), (3, 5, 200), (2, 64, 1000)] {
            let writer = CollectingWriter()
            let results = try Session(options: ExecutionOptions(workers: workers, batchCapacity: capacity, morselSize: morsel,
                                                                 pinWorkers: false)).run(sql) { _, _ in writer }
            let got = writer.rows.map { r in [r[0], String(Timestamp.parseMillis(Substring(r[1])) ?? -1), r[2], r[3]] }
            #expect(got.sorted { $0.lexicographicallyPrecedes($1) } == want.sorted { $0.lexicographicallyPrecedes($1) },
                    "\(workers) workers")
            #expect(results.first?.statistics.rowsLate == 0)
        }
    }
}
