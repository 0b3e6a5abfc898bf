import Columnar
import Engine
import Foundation
import Testing

@Suite struct TableWriterTests {
    func render(_ batches: [[(Int64?, Double?, String?)]], width: Int, sample: Int = 200) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-table-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.txt").path
        let schema = Schema([Field("id", .int64), Field("price", .float64), Field("name", .string)])
        let w = try TableResultWriter(path: path, width: width, sampleRows: sample)
        try w.begin(schema)
        for rows in batches {
            let cols = schema.fields.map { Column($0.type, capacity: rows.count) }
            for (a, b, c) in rows {
                a.map { cols[0].append($0) } ?? cols[0].appendNull()
                b.map { cols[1].append($0) } ?? cols[1].appendNull()
                c.map { cols[2].append($0) } ?? cols[2].appendNull()
            }
            try w.write(Batch(schema: schema, columns: cols, count: rows.count))
        }
        try w.finish()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func alignsNumbersRightAndTextLeft() throws {
        let out = try render([[(1, 10.5, "Google"), (12345, nil, nil), (nil, -3.0, "a\tb\nc")]], width: 120)
        #expect(out == """
               id  price  name
            ─────  ─────  ───────
                1   10.5  Google
            12345   NULL  NULL
             NULL   -3.0  a\\tb\\nc
            (3 rows)

            """)
    }

    @Test func truncatesTextToTheWidth() throws {
        let long = String(repeating: "x", count: 50) + "€"
        let out = try render([[(1, 1.0, long), (2, 2.0, "short")]], width: 30)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines[0] == "id  price  name")
        // 2 + 2 + 5 + 2 = 11 columns before the name: it gets 30 - 11 = 19.
        #expect(lines[2] == " 1    1.0  " + String(repeating: "x", count: 18) + "…")
        #expect(lines[3] == " 2    2.0  short")
        #expect(lines.allSatisfy { $0.count <= 30 })
    }

    @Test func laterRowsReuseTheSampledWidths() throws {
        // Widths come from the first two rows; a later longer name is cut, a later
        // wider number is printed whole.
        let out = try render([[(1, 1.0, "ab"), (2, 2.0, "abcd")], [(3, 3.0, "abcdefgh"), (1_000_000, 4.5, "x")]], width: 120, sample: 2)
        #expect(out == """
            id  price  name
            ──  ─────  ────
             1    1.0  ab
             2    2.0  abcd
             3    3.0  abc…
            1000000    4.5  x
            (4 rows)

            """)
    }

    @Test func emptyResultAndWideCharacters() throws {
        #expect(try render([], width: 80) == "id  price  name\n──  ─────  ────\n(0 rows)\n")
        let out = try render([[(1, 1.0, "日本語"), (2, 2.0, "ab")]], width: 80)
        #expect(out.contains("\n 1    1.0  日本語\n"))
        #expect(out.contains("──  ─────  ──────\n"))
        #expect(TableResultWriter.terminalWidth(nil) > 0)
    }
}
