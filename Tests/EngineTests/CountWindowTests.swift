@testable import Engine
import Columnar
import Foundation
import SpateTestSupport
import Testing

/// Count windows in the Swift API (`keyBy(...).window(.count(n))`): per key, every n
/// rows in input order are one window, emitted when its n-th row arrives; checked
/// against a direct model under several worker counts, batch and morsel sizes.
struct CountWindowTests {
    struct Row { var key: Int64; var value: Int64 }

    static let rows: [Row] = {
        var rng = SplitMix64(seed: 5)
        return (0..<5_000).map { _ in Row(key: Int64(rng.next() % 7), value: Int64(rng.next() % 1000)) }
    }()

    /// Windows in the order their last row arrives: key, count, sum, first value.
    static func model(_ n: Int) -> [[String]] {
        var open: [Int64: [Int64]] = [:]
        var out: [[String]] = []
        for r in rows {
            open[r.key, default: []].append(r.value)
            if open[r.key]!.count == n {
                let v = open[r.key]!
                out.append(["\(r.key)", "\(n)", "\(v.reduce(0, +))", "\(v[0])"])
                open[r.key] = []
            }
        }
        return out
    }

    @Test func countWindowsMatchTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-count-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rows.csv").path
        let csv = "k,v\n" + Self.rows.map { "\($0.key),\($0.value)" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
        for n in [1, 3, 50] {
            let want = Self.model(n)
            for (workers, capacity, morsel) in [(1, 4096, 8 << 20), (3, 7, 300), (2, 1, 1000)] {
                let env = StreamEnvironment(options: ExecutionOptions(workers: workers, batchCapacity: capacity,
                                                                      morselSize: morsel, pinWorkers: false))
                let t = try env.fromTable("t", schema: [Field("k", .int64), Field("v", .int64)],
                                          options: ["connector": "filesystem", "path": path, "format": "csv"])
                let stream = try t.keyBy("k").window(.count(n))
                    .aggregate(.count(as: "n"), .sum("v", as: "total"), .firstValue("v", as: "first"))
                let writer = CollectingWriter()
                let stats = try stream.sink(writer).execute()
                #expect(writer.rows == want, "n \(n), \(workers) workers, capacity \(capacity), morsel \(morsel)")
                #expect(stats.rowsOut == want.count)
                #expect(try stream.explain().contains("every \(n) rows per key"))
            }
        }
    }

    @Test func countWindowErrors() throws {
        let env = StreamEnvironment(options: ExecutionOptions(workers: 1))
        try env.sql("CREATE TABLE t (k BIGINT, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv')")
        let t = try env.table("t")
        #expect(throws: SpateError.self) { try t.keyBy("k").window(.count(0)) }
        #expect(throws: SpateError.self) { try t.keyBy("k").window(.count(5)).window(.count(5)) }
        #expect(throws: SpateError.self) { try t.keyBy("k").window(.count(5)).sink { _ in } }
    }
}
