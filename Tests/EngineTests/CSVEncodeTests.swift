@testable import Engine
import Columnar
import Foundation
import SpateTestSupport
import Testing

/// The CSV and JSON lines writers' two paths give the same bytes: batches formatted in turn, and
/// batches formatted ahead by `encode` (on a worker) then written, small ones copied
/// into the buffer and large ones written through.
struct CSVEncodeTests {
    func batch(rows: Int, seed: UInt64) -> Batch {
        var rng = SplitMix64(seed: seed)
        let schema = Schema([Field("k", .int64), Field("ts", .timestamp(.millisecond)), Field("x", .float64),
                             Field("s", .string), Field("b", .bool)])
        let cols = schema.fields.map { Column($0.type, capacity: rows) }
        for i in 0..<rows {
            cols[0].append(Int64(bitPattern: rng.next()) >> 20)
            cols[1].append(Int64(i / 100) * 1000)
            cols[2].append(Double(Int64(rng.next() % 1_000_000)) / Double(rng.next() % 7 + 1))
            if rng.next() % 10 == 0 { cols[3].appendNull() } else { cols[3].append(["a", "b,c", "say \"hi\"", " pad "][Int(rng.next() % 4)]) }
            cols[4].append(rng.next() % 2 == 0)
        }
        return Batch(schema: schema, columns: cols, count: rows)
    }

    @Test func encodedAndInTurnWritesAgree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-csvenc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let batches = [batch(rows: 10, seed: 1), batch(rows: 5_000, seed: 2), batch(rows: 3, seed: 3), batch(rows: 20_000, seed: 4)]
        let a = dir.appendingPathComponent("a.csv").path, b = dir.appendingPathComponent("b.csv").path
        let inTurn = try CSVResultWriter(path: a)
        try inTurn.begin(batches[0].schema)
        for x in batches { try inTurn.write(x) }
        try inTurn.finish()
        let ahead = try CSVResultWriter(path: b)
        try ahead.begin(batches[0].schema)
        for x in batches { try ahead.write(encoded: try #require(ahead.encode(x))) }
        try ahead.finish()
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: a)), bytesB = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(bytesA.count > 1 << 16, "a large batch must take the write-through path")
        #expect(bytesA == bytesB)
    }

    @Test func jsonEncodedAndInTurnWritesAgree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-jsonenc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let batches = [batch(rows: 7, seed: 5), batch(rows: 8_000, seed: 6)]
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        let inTurn = try JSONLinesResultWriter(path: a)
        try inTurn.begin(batches[0].schema)
        for x in batches { try inTurn.write(x) }
        try inTurn.finish()
        let ahead = try JSONLinesResultWriter(path: b)
        try ahead.begin(batches[0].schema)
        for x in batches { try ahead.write(encoded: try #require(ahead.encode(x))) }
        try ahead.finish()
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: a)), bytesB = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(bytesA.count > 1 << 16)
        #expect(bytesA == bytesB)
    }
}
