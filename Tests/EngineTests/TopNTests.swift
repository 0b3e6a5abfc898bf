import Columnar
@testable import Engine
import Foundation
import SpateTestSupport
import Testing

/// Window Top-N over many rows per window (so candidate buffers are pruned and the
/// per-partition thresholds skip rows) against a direct ranking of all rows.
struct TopNTests {
    struct Row { var key: Int64; var price: Int64; var ts: Int64 }

    static let rows: [Row] = {
        var rng = SplitMix64(seed: 7)
        return (0..<30_000).map { i in
            // Few distinct prices, so RANK has ties at the boundary.
            Row(key: Int64(rng.next() % 4), price: Int64(rng.next() % 200), ts: Int64(i) * 2 + Int64(rng.next() % 50))
        }
    }()

    /// The expected rows: per 10 s window and key, ranks 1...3 by price (descending).
    static func expected(rank: Bool) -> [String] {
        var groups: [String: [Row]] = [:]
        for r in rows { groups["\(r.ts / 10_000 * 10_000)|\(r.key)", default: []].append(r) }
        var out: [String] = []
        for (g, members) in groups {
            let sorted = members.sorted { ($0.price, -$0.ts) > ($1.price, -$1.ts) }
            for (i, r) in sorted.enumerated() {
                let better = sorted.prefix(i).filter { $0.price > r.price }.count
                let n = rank ? better + 1 : i + 1
                if n > 3 { break }
                out.append("\(g)|\(r.price)|\(n)")
            }
        }
        return out.sorted()
    }

    @Test(arguments: [false, true])
    func rankingMatchesDirectRanking(rank: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-topn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = "k,price,ts\n" + Self.rows.map { "\($0.key),\($0.price),\($0.ts)" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: dir.appendingPathComponent("rows.csv"))
        let fn = rank ? "RANK" : "ROW_NUMBER"
        let sql = """
            CREATE TABLE r (k BIGINT, price BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
            WITH ('connector' = 'filesystem', 'path' = '\(dir.path)/rows.csv', 'format' = 'csv');
            SELECT window_start, k, price, n FROM (
              SELECT window_start, window_end, k, price, ts,
                     \(fn)() OVER (PARTITION BY window_start, window_end, k ORDER BY price DESC\(rank ? "" : ", ts ASC")) AS n
              FROM TABLE(TUMBLE(TABLE r, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            ) WHERE n <= 3
            """
        let explained = try Session(options: ExecutionOptions(workers: 1)).explain(sql)
        #expect(explained.contains("TopN: \(fn)() OVER (PARTITION BY window_start, window_end, k ORDER BY price DESC"))
        #expect(explained.contains("the best 3 per partition kept as they arrive, per TUMBLE 10000 ms window"))
        let want = Self.expected(rank: rank)
        for (workers, capacity, morsel) in [(1, 4096, 8 << 20), (2, 1000, 20_000), (3, 4096, 3_000)] {
            let session = Session(options: ExecutionOptions(workers: workers, batchCapacity: capacity, morselSize: morsel, pinWorkers: false))
            let writer = CollectingWriter()
            try session.run(sql) { _, _ in writer }
            var got: [String] = []
            for row in writer.rows {
                let start = try #require(Self.rows.first { Self.window($0.ts) == row[0] })
                got.append("\(start.ts / 10_000 * 10_000)|\(row[1])|\(row[2])|\(row[3])")
            }
            #expect(got.sorted() == want, "\(fn), \(workers) workers, capacity \(capacity)")
        }
    }

    static func window(_ ts: Int64) -> String {
        let c = Column(.timestamp(.millisecond), capacity: 1)
        c.append(ts / 10_000 * 10_000)
        return ValueFormat.text(c, 0)
    }
}
