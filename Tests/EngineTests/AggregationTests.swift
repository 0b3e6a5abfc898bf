import Columnar
import Engine
import Foundation
import Testing

/// Aggregations big enough to take the parallel paths (hash-partitioned combine of the
/// workers' partial states), checked against a direct computation.
@Suite struct AggregationTests {
    func withCSV(_ text: String, _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-agg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try body(path)
    }

    func run(_ sql: String, workers: Int, morsel: Int = 1 << 16) throws -> [[String]] {
        let session = Session(options: ExecutionOptions(workers: workers, batchCapacity: 1000, morselSize: morsel, pinWorkers: false))
        let writer = CollectingWriter()
        try session.run(sql) { _, _ in writer }
        return writer.rows
    }

    @Test func manyGroupsCombineInParallel() throws {
        // 150k distinct keys, each seen twice (in different morsels), plus NULL keys.
        var text = "k,v\n"
        var expected: [Int: (Int, Int)] = [:]
        var rng = SystemRandomNumberGenerator()
        for round in 0..<2 {
            for k in 0..<150_000 {
                let v = Int.random(in: 0..<1000, using: &rng)
                text += "\(k * 7 + round * 0),\(v)\n"
                let e = expected[k * 7] ?? (0, 0)
                expected[k * 7] = (e.0 + 1, e.1 + v)
            }
        }
        text += ",5\n,6\n"
        try withCSV(text) { path in
            let sql = "CREATE TABLE t (k BIGINT, v BIGINT) WITH ('path' = '\(path)'); SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k"
            let one = try run(sql, workers: 1)
            let three = try run(sql, workers: 3)
            #expect(one == three)
            #expect(one.count == 150_001)
            #expect(one.first == ["NULL", "2", "11"])
            for row in one.dropFirst().prefix(2000) {
                let k = Int(row[0])!
                #expect(row[1] == String(expected[k]!.0) && row[2] == String(expected[k]!.1))
            }
            // Keys come out in order.
            let keys = one.dropFirst().map { Int($0[0])! }
            #expect(keys == keys.sorted())
        }
    }

    @Test func stringKeysMergeAcrossWorkers() throws {
        var text = "name,v\n"
        for i in 0..<30_000 { text += "user-\(i % 5000),\(i)\n" }
        try withCSV(text) { path in
            let sql = "CREATE TABLE t (name VARCHAR, v BIGINT) WITH ('path' = '\(path)'); SELECT name, COUNT(*) AS n, MIN(v) AS lo FROM t GROUP BY name"
            let one = try run(sql, workers: 1, morsel: 4096)
            let four = try run(sql, workers: 4, morsel: 4096)
            #expect(one == four)
            #expect(one.count == 5000)
            #expect(one.allSatisfy { $0[1] == "6" })
            #expect(one.first == ["user-0", "6", "0"])
        }
    }
}

/// With several workers the error reported is the first one in the input, whatever
/// the timing (a worker on an earlier morsel keeps going after a later one failed).
@Suite struct ErrorOrderTests {
    @Test func earliestErrorWins() throws {
        // A conversion error on line 3, then errors right behind it in the next
        // morsels (a wrong field count, more bad values): they race.
        var text = "a,b\n1,2\n3,x\n4,4\n7,8,9\n"
        for i in 0..<200 { text += "\(i),y\(i)\n" }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-err-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for sql in ["SELECT a + b AS s FROM t", "SELECT a, SUM(b) AS s FROM t GROUP BY a"] {
            for round in 0..<100 {
                let session = Session(options: ExecutionOptions(workers: 3, batchCapacity: 2 + round % 3,
                                                                morselSize: 5 + round % 13, pinWorkers: false))
                do {
                    try session.run("CREATE TABLE t (a BIGINT, b BIGINT) WITH ('path' = '\(path)'); \(sql)") { _, _ in
                        CollectingWriter()
                    }
                    Issue.record("expected an error")
                } catch {
                    #expect("\(error)".contains("t.csv:3:3: error:"), "round \(round): \(error)")
                }
            }
        }
    }
}
