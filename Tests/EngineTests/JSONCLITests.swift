import Foundation
import Testing

/// `spate sql` over JSON lines and binary tables, and the jsonl / table output formats,
/// the way a user runs them.
@Suite struct JSONCLITests {
    let cli = CLITests()

    func withDir(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-jcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir)
    }

    @Test func jsonInJsonlAndTableOut() throws {
        try withDir { dir in
            let input = dir.appendingPathComponent("in.ndjson")
            try """
                {"id": 1, "name": "a\\"b", "v": 1.5, "ts": "2024-01-01 00:00:00.250"}
                {"id": 2, "name": null, "v": 2, "ts": 1704067200500}
                """.write(to: input, atomically: true, encoding: .utf8)
            let create = "CREATE TABLE t (id BIGINT, name VARCHAR, v DOUBLE, ts TIMESTAMP(3)) WITH ('path' = '\(input.path)'); "
            let jsonl = try cli.spate(["sql", create + "SELECT id, name, v, ts FROM t", "--format", "jsonl"])
            #expect(jsonl.status == 0, "\(jsonl.stderr)")
            #expect(jsonl.stdout == """
                {"id":1,"name":"a\\"b","v":1.5,"ts":"2024-01-01 00:00:00.250"}
                {"id":2,"name":null,"v":2.0,"ts":"2024-01-01 00:00:00.500"}

                """)
            // -o with a .jsonl extension picks the format; the file round-trips.
            let out = dir.appendingPathComponent("out.jsonl")
            let w = try cli.spate(["sql", create + "SELECT id, name, v, ts FROM t", "-o", out.path])
            #expect(w.status == 0, "\(w.stderr)")
            #expect(try String(contentsOf: out, encoding: .utf8) == jsonl.stdout)
            let back = try cli.spate(["sql", "CREATE TABLE b (id BIGINT, name VARCHAR, v DOUBLE, ts TIMESTAMP(3)) WITH ('path' = '\(out.path)'); SELECT id, name, v, ts FROM b"])
            #expect(back.stdout == "id,name,v,ts\n1,\"a\"\"b\",1.5,2024-01-01 00:00:00.250\n2,,2.0,2024-01-01 00:00:00.500\n")
            // Not a terminal: CSV by default; --format table on request.
            let table = try cli.spate(["sql", create + "SELECT id, name, v FROM t", "--format", "table"])
            #expect(table.stdout == "id  name    v\n──  ────  ───\n 1  a\"b   1.5\n 2  NULL  2.0\n(2 rows)\n", "\(table.stdout)")
        }
    }

    @Test func badJSONLineIsADataError() throws {
        try withDir { dir in
            let input = dir.appendingPathComponent("bad.jsonl")
            try "{\"id\": 1}\n{\"id\": 2,}\n".write(to: input, atomically: true, encoding: .utf8)
            let r = try cli.spate(["sql", "CREATE TABLE t (id BIGINT) WITH ('path' = '\(input.path)'); SELECT id FROM t"])
            #expect(r.status == 1)
            #expect(r.stderr.contains("bad.jsonl:2:10: error: expected a field name in double quotes, found '}'"), "\(r.stderr)")
            #expect(r.stderr.contains("hint:"))
        }
    }

    @Test func binaryRecordsFromTheCommandLine() throws {
        try withDir { dir in
            let input = dir.appendingPathComponent("r.bin")
            var bytes: [UInt8] = []
            for i: Int32 in [5, -7, 1 << 30] { withUnsafeBytes(of: i.littleEndian) { bytes += $0 }; bytes += Array("ab\0\0".utf8) }
            try Data(bytes).write(to: input)
            let r = try cli.spate(["sql", "CREATE TABLE r (n BIGINT, s VARCHAR) WITH ('path' = '\(input.path)', 'format' = 'binary', 'binary.layout' = 'n:int32, s:char[4]'); SELECT n, s FROM r"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "n,s\n5,ab\n-7,ab\n1073741824,ab\n")
            try Data(bytes.dropLast()).write(to: input)
            let bad = try cli.spate(["sql", "CREATE TABLE r (n BIGINT) WITH ('path' = '\(input.path)', 'format' = 'binary', 'binary.layout' = 'n:int32, _:pad[4]'); SELECT n FROM r"])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("7 bytes trail the last whole record"), "\(bad.stderr)")
        }
    }
}
