import Columnar
import Engine
import Foundation
import Testing

/// Runs the SQL behaviour files in Tests/EngineTests/sql/*.test (sqllogictest style).
///
/// Format, blocks separated by blank lines; lines starting with `#` are comments:
///
///     file bids.csv            -- writes the following lines to $DIR/bids.csv
///     auction,price,ts
///     1,10,1000
///
///     statement ok             -- runs; must succeed
///     CREATE TABLE ... 'path' = '$DIR/bids.csv' ...
///
///     statement error unknown column 'prcie'   -- must fail with this fragment
///     SELECT prcie FROM bids
///
///     query                    -- runs; the output (header, then rows; fields joined by
///     SELECT ...                  ',', NULL as NULL) must be exactly:
///     ----
///     auction,n
///     1,3
///
/// Every file runs under several execution settings (batch capacity 1, 2, 3 and the
/// default; 1 and 3 workers; whole-file and tiny morsels): results must not change.
struct SQLLogicTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sql")

    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".test") }.sorted()
    }

    static let settings: [ExecutionOptions] = {
        var out: [ExecutionOptions] = []
        for capacity in [4096, 1, 2, 3] {
            for (workers, morsel) in [(1, 8 << 20), (3, 7), (2, 64)] {
                out.append(ExecutionOptions(workers: workers, batchCapacity: capacity, morselSize: morsel, pinWorkers: false))
            }
        }
        return out
    }()

    @Test(arguments: files)
    func sqlFile(_ name: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        let blocks = SQLTestBlock.parse(text)
        #expect(!blocks.isEmpty, "\(name) has no blocks")
        for options in Self.settings {
            try run(name, blocks, options)
        }
    }

    func run(_ name: String, _ blocks: [SQLTestBlock], _ options: ExecutionOptions) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-slt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = Session(options: options)
        let where_ = "\(name) [capacity \(options.batchCapacity), workers \(options.workers), morsel \(options.morselSize)]"
        for block in blocks {
            let sql = block.sql.replacingOccurrences(of: "$DIR", with: dir.path)
            switch block.kind {
            case .file(let fileName):
                try Data(block.body.utf8).write(to: dir.appendingPathComponent(fileName))
            case .statementOK:
                do {
                    try session.run(sql) { _, _ in CollectingWriter() }
                } catch {
                    Issue.record("\(where_) line \(block.line): unexpected error: \(error)")
                }
            case .statementError(let fragment):
                do {
                    try session.run(sql) { _, _ in CollectingWriter() }
                    Issue.record("\(where_) line \(block.line): expected an error containing '\(fragment)'")
                } catch {
                    let message = "\(error)".replacingOccurrences(of: dir.path, with: "$DIR")
                    #expect(message.contains(fragment), "\(where_) line \(block.line): error was:\n\(message)")
                }
            case .query(let expected):
                let writer = CollectingWriter()
                do {
                    try session.run(sql) { _, _ in writer }
                } catch {
                    Issue.record("\(where_) line \(block.line): query failed: \(error)")
                    continue
                }
                var lines = [writer.schema?.fields.map(\.name).joined(separator: ",") ?? ""]
                lines += writer.rows.map { $0.joined(separator: ",") }
                let got = lines.joined(separator: "\n")
                #expect(got == expected, "\(where_) line \(block.line):\nexpected:\n\(expected)\ngot:\n\(got)")
            }
        }
    }
}

struct SQLTestBlock {
    enum Kind {
        case file(String)
        case statementOK
        case statementError(String)
        case query(expected: String)
    }

    var kind: Kind
    var sql: String
    var body: String
    var line: Int

    static func parse(_ text: String) -> [SQLTestBlock] {
        var blocks: [SQLTestBlock] = []
        let lines = text.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let header = lines[i].trimmingCharacters(in: .whitespaces)
            if header.isEmpty || header.hasPrefix("#") { i += 1; continue }
            let start = i + 1
            i += 1
            var body: [String] = []
            while i < lines.count && !lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
                body.append(lines[i])
                i += 1
            }
            if header.hasPrefix("file ") {
                blocks.append(SQLTestBlock(kind: .file(String(header.dropFirst(5))), sql: "",
                                           body: body.joined(separator: "\n") + "\n", line: start))
            } else if header == "statement ok" {
                blocks.append(SQLTestBlock(kind: .statementOK, sql: body.joined(separator: "\n"), body: "", line: start))
            } else if header.hasPrefix("statement error") {
                let fragment = String(header.dropFirst("statement error".count)).trimmingCharacters(in: .whitespaces)
                blocks.append(SQLTestBlock(kind: .statementError(fragment), sql: body.joined(separator: "\n"), body: "", line: start))
            } else if header == "query" {
                let sep = body.firstIndex(of: "----") ?? body.count
                let expected = body[min(sep + 1, body.count)...].joined(separator: "\n")
                blocks.append(SQLTestBlock(kind: .query(expected: expected), sql: body[..<sep].joined(separator: "\n"),
                                           body: "", line: start))
            } else {
                Issue.record("line \(start - 1): unknown block '\(header)'")
            }
        }
        return blocks
    }
}
