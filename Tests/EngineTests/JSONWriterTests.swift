import Columnar
import Engine
import Foundation
import Testing

@Suite struct JSONWriterTests {
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func batch() -> Batch {
        let schema = Schema([
            Field("i", .int64), Field("d", .float64), Field("b", .bool), Field("t", .timestamp(.millisecond)), Field("s", .string),
            Field("we\"ird key", .string),
        ])
        let cols = schema.fields.map { Column($0.type, capacity: 8) }
        let ints: [Int64?] = [0, -9_223_372_036_854_775_808, 9_223_372_036_854_775_807, nil, 42, 7]
        let doubles: [Double?] = [0.1, -0.0, 1e300, 5e-324, .nan, nil]
        let infs: [Double] = [.infinity, -.infinity]
        let strings: [String?] = ["plain", "quote \" back \\ nl \n tab \t ctl \u{1} del \u{7f}", "é€😀", "", nil, "/"]
        for r in 0..<6 {
            ints[r].map { cols[0].append($0) } ?? cols[0].appendNull()
            doubles[r].map { cols[1].append($0) } ?? cols[1].appendNull()
            r == 3 ? cols[2].appendNull() : cols[2].append(r % 2 == 0)
            r == 4 ? cols[3].appendNull() : cols[3].append(Int64(r) * 86_400_123 - 1)
            strings[r].map { cols[4].append($0) } ?? cols[4].appendNull()
            cols[5].append(r < 2 ? "\(infs[r])" : "k\(r)")
        }
        return Batch(schema: schema, columns: cols, count: 6)
    }

    @Test func writesOneObjectPerRowWithEscapes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.jsonl").path
        let w = try JSONLinesResultWriter(path: path)
        let b = batch()
        try w.begin(b.schema)
        try w.write(b)
        #expect(!FileManager.default.fileExists(atPath: path), "the result appears only when finished")
        try w.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7 && lines.last == "")
        #expect(lines[0] == #"{"i":0,"d":0.1,"b":true,"t":"1969-12-31 23:59:59.999","s":"plain","we\"ird key":"inf"}"#)
        #expect(lines[1] == #"{"i":-9223372036854775808,"d":-0.0,"b":false,"t":"1970-01-02 00:00:00.122","s":"quote \" back \\ nl \n tab \t ctl \u0001 del \#u{7f}","we\"ird key":"-inf"}"#)
        #expect(lines[4] == #"{"i":42,"d":"NaN","b":true,"t":null,"s":null,"we\"ird key":"k4"}"#)
        // Every line is valid JSON with the values back.
        for (r, line) in lines.dropLast().enumerated() {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(obj.count == 6)
            if r == 2 { #expect(obj["s"] as? String == "é€😀" && (obj["d"] as? NSNumber)?.doubleValue == 1e300) }
        }
    }

    /// Rows written as JSON lines and read back through a `'format' = 'json'` table are
    /// the same rows (timestamps, NaN, escapes, NULLs), at any batch capacity.
    @Test func roundTripThroughTheReader() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rt.jsonl").path
        let w = try JSONLinesResultWriter(path: path)
        let b = batch()
        try w.begin(b.schema)
        try w.write(b)
        try w.finish()
        for capacity in [1, 4096] {
            let session = Session(options: ExecutionOptions(workers: 2, batchCapacity: capacity, morselSize: 50, pinWorkers: false))
            let out = CollectingWriter()
            try session.run("""
                CREATE TABLE rt (i BIGINT, d DOUBLE, b BOOLEAN, t TIMESTAMP(3), s VARCHAR)
                WITH ('path' = '\(path)');
                SELECT i, d, b, t, s FROM rt
                """) { _, _ in out }
            let want = CollectingWriter()
            try want.begin(Schema(Array(b.schema.fields.prefix(5))))
            try want.write(Batch(schema: Schema(Array(b.schema.fields.prefix(5))), columns: Array(b.columns.prefix(5)), count: 6))
            #expect(out.rows == want.rows)
        }
    }

    @Test func invalidUTF8IsRepairedNotCopied() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("u.jsonl").path
        let c = Column(.string, capacity: 1)
        [UInt8]([0x61, 0xFF, 0x62]).withUnsafeBytes { c.append(bytes: $0) }
        let w = try JSONLinesResultWriter(path: path)
        try w.begin(Schema([Field("s", .string)]))
        try w.write(Batch(schema: Schema([Field("s", .string)]), columns: [c], count: 1))
        try w.finish()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"s\":\"a\u{FFFD}b\"}\n")
    }

    @Test func abandonLeavesNoFile() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.jsonl").path
        let w = try JSONLinesResultWriter(path: path)
        try w.begin(Schema([Field("a", .int64)]))
        w.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(OutputFormats.defaultFormat(for: "a/b.ndjson") == "jsonl")
        #expect(OutputFormats.defaultFormat(for: nil, stdoutIsTerminal: true) == "table")
        #expect(OutputFormats.defaultFormat(for: nil, stdoutIsTerminal: false) == "csv")
        #expect(OutputFormats.defaultFormat(for: "out.jsonl", stdoutIsTerminal: true) == "jsonl")
    }
}
