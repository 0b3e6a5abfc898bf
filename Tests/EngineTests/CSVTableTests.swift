import Columnar
import Foundation
import Testing

@testable import Engine

/// CSV tables end to end: inference, comment lines, dead-letter files, globs and
/// directories, standard input (with a pipe that stays open), and `Inspect.csv`.
@Suite struct CSVTableTests {
    /// A fresh directory under /tmp, removed by the caller.
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "spate-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Runs a script and returns each SELECT's rows as text (NULL for nulls).
    func rows(_ sql: String, workers: Int = 2, morsel: Int? = nil) throws -> [[String]] {
        let session = Session(options: ExecutionOptions(workers: workers, batchCapacity: 3, morselSize: morsel, pinWorkers: false))
        let writer = CollectingWriter()
        try session.run(sql) { _, _ in writer }
        var out: [[String]] = []
        for b in writer.batches {
            for r in 0..<b.count {
                out.append(b.columns.map { c in
                    guard c.isValid(r) else { return "NULL" }
                    switch c.type {
                    case .string: return c.string(at: r)
                    case .int64, .timestamp: return String(c.int64(at: r))
                    case .float64: return String(c.float64(at: r))
                    case .bool: return c.bool(at: r) ? "true" : "false"
                    }
                })
            }
        }
        return out
    }

    // MARK: - Inference

    @Test func inferredSchemaFromHeaderAndFirstRows() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(
            "id,price,ok,ts,name,mixed,empty\n1,2.5,true,2024-05-01T10:00:00Z,a,1,\n2,3,false,2024-05-02,b,x,\n,NA,,,,2,\n",
            to: dir + "/t.csv")
        let provider = try Connectors.make(ConnectorContext(
            tableName: "t", declared: Schema([]), options: ["path": dir + "/t.csv", "csv.null-literal": "NA"]))
        #expect(provider.schema == Schema([
            Field("id", .int64), Field("price", .float64), Field("ok", .bool), Field("ts", .timestamp(.millisecond)),
            Field("name", .string), Field("mixed", .string), Field("empty", .string),
        ]))
        // Without a header: column1, column2, ... and the first line is data.
        try write("5,x\n6,y\n", to: dir + "/h.csv")
        let noHeader = try Connectors.make(ConnectorContext(
            tableName: "h", declared: Schema([]), options: ["path": dir + "/h.csv", "csv.header": "false"]))
        #expect(noHeader.schema == Schema([Field("column1", .int64), Field("column2", .string)]))
        let source = try noHeader.open(projection: [0], options: ExecutionOptions(workers: 1))
        var ids: [Int64] = []
        while let m = try source.claimMorsel() {
            try source.read(m) { b in for r in 0..<b.count { ids.append(b.columns[0].int64(at: r)) } }
        }
        #expect(ids == [5, 6])
        // An empty file has nothing to infer from.
        try write("", to: dir + "/e.csv")
        #expect(throws: ConnectorError.self) {
            try Connectors.make(ConnectorContext(tableName: "e", declared: Schema([]), options: ["path": dir + "/e.csv"]))
        }
    }

    // MARK: - Comments, dead letters

    @Test func commentLinesAndDeadLetterFile() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("""
            # exported by a sensor; "quotes" and, commas in comments mean nothing
            id,v
            1,10
            # a comment between records
            2,x
            3,30,31
            4,"40
            """, to: dir + "/c.csv")
        let dl = dir + "/bad.csv"
        for morsel in [5, 1 << 20] {
            try? FileManager.default.removeItem(atPath: dl)
            let got = try rows("""
                CREATE TABLE c (id BIGINT, v BIGINT) WITH ('path' = '\(dir)/c.csv', 'csv.allow-comments' = 'true',
                  'csv.bad-rows' = 'dead-letter', 'csv.dead-letter-path' = '\(dl)');
                SELECT id, v FROM c
                """, morsel: morsel)
            #expect(got == [["1", "10"]], "morsel \(morsel)")
            let text = try String(contentsOfFile: dl, encoding: .utf8)
            #expect(text == """
                file,line,error,row
                \(dir)/c.csv,5,\(dir)/c.csv:5:3: 'x' is not a valid BIGINT for column 'v',"2,x"
                \(dir)/c.csv,6,"\(dir)/c.csv:6:6: expected 2 fields, found 3","3,30,31"
                \(dir)/c.csv,7,\(dir)/c.csv:7:3: unterminated quoted field: the quote that opens field 2 ('v') is never closed,"4,""40"

                """, "morsel \(morsel)")
            #expect(!FileManager.default.fileExists(atPath: dl + ".tmp-\(getpid())"))
        }
    }

    @Test func skipPolicyCountsWhatItLeavesOut() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("a,b\n1,2\nx,3\n4,5\n6\n", to: dir + "/s.csv")
        let session = Session(options: ExecutionOptions(workers: 2, pinWorkers: false))
        let results = try session.run("""
            CREATE TABLE s (a BIGINT, b BIGINT) WITH ('path' = '\(dir)/s.csv', 'csv.bad-rows' = 'skip');
            SELECT SUM(a) FROM s
            """) { _, _ in CollectingWriter() }
        #expect(results[0].statistics.badRows == 2)
        #expect(results[0].statistics.badRowNote == "the first: \(dir)/s.csv:3:1: 'x' is not a valid BIGINT for column 'a'")
    }

    // MARK: - Several files

    @Test func globsAndDirectoriesReadEveryFileInOrder() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try write("k,n\na,1\nb,2\n", to: dir + "/in/2024-01.csv")
        try write("k,n\nc,3\n", to: dir + "/in/2024-02.csv")
        try write("k,n\nd,4\n\"e\nf\",5\n", to: dir + "/in/2024-03.csv")
        try write("not csv", to: dir + "/in/.hidden")
        let want = [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e\nf", "5"]]
        for path in ["\(dir)/in/*.csv", "\(dir)/in", "\(dir)/in/"] {
            for morsel in [3, 1 << 20] {
                let got = try rows(
                    "CREATE TABLE t (k VARCHAR, n BIGINT) WITH ('path' = '\(path)'); SELECT k, n FROM t", morsel: morsel)
                #expect(got == want, "\(path) morsel \(morsel)")
            }
        }
        // Inference reads the first file; a file with another header is named.
        try write("k,m\nz,9\n", to: dir + "/in/2024-04.csv")
        let error = #expect(throws: SpateError.self) {
            try rows("CREATE TABLE t WITH ('path' = '\(dir)/in/*.csv'); SELECT * FROM t")
        }
        _ = error
        do {
            _ = try rows("CREATE TABLE t (k VARCHAR, n BIGINT) WITH ('path' = '\(dir)/in'); SELECT k FROM t")
            Issue.record("expected a header error")
        } catch let e as SpateError {
            #expect(e.path == "\(dir)/in/2024-04.csv")
            #expect(e.message == "the header differs from that of '\(dir)/in/2024-01.csv' (k, n)")
        }
        #expect(throws: SpateError.self) {
            try rows("CREATE TABLE t (k VARCHAR) WITH ('path' = '\(dir)/nothing-*.csv'); SELECT k FROM t")
        }
    }

    // MARK: - Inspect

    @Test func inspectShowsSchemaRowsAndSample() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = "\u{FEFF}id\tcity\ttemp\n"
        for i in 0..<1000 { text += "\(i)\t\(i % 2 == 0 ? "Oslo" : "\"New\nYork\"")\t\(Double(i) / 4)\n" }
        try write(text, to: dir + "/w.tsv")
        var options = CSVOptions()
        options.delimiter = 9
        let report = try Inspect.csv(path: dir + "/w.tsv", options: options, sampleRows: 2)
        #expect(report == """
            file: \(dir)/w.tsv
            size: \(Inspect.humanBytes(text.utf8.count)) (\(text.utf8.count) bytes)
            format: csv (delimiter '\\t', header, UTF-8 BOM)
            rows: 1000
            schema (inferred from the first 1000 rows):
              id    BIGINT
              city  VARCHAR
              temp  DOUBLE
            sample:
              id  city      temp
              0   Oslo      0.0
              1   New⏎York  0.25

            """)
    }
}

/// Standard input through the `spate` binary: read as it arrives.
@Suite struct CSVStdinTests {
    @Test func queryOverAnOpenPipeEmitsWindowsAsTheWatermarkAdvances() throws {
        guard let bin = CLITests.binary else {
            Issue.record("the spate executable was not found next to the tests")
            return
        }
        let p = Process()
        p.executableURL = bin
        p.arguments = ["sql", "--workers", "2", """
            CREATE TABLE t (k VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('path' = '-');
            SELECT window_start, k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end, k
            """]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("k,ts\na,1000\nb,2000\na,5000\na,15000\n".utf8))
        // The first window closes at watermark 14000: its rows come while the pipe is open.
        var got = ""
        let reader = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(20)
        while got.split(separator: "\n").count < 3 && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            got += String(decoding: chunk, as: UTF8.self)
        }
        #expect(p.isRunning, "the query must still be reading the open pipe")
        #expect(got == "window_start,k,n\n1970-01-01 00:00:00.000,a,2\n1970-01-01 00:00:00.000,b,1\n")
        input.fileHandleForWriting.write(Data("b,16000\n".utf8))
        try input.fileHandleForWriting.close()
        let rest = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(rest == "1970-01-01 00:00:10.000,a,1\n1970-01-01 00:00:10.000,b,1\n")
    }

    @Test func stdinErrorsKeepTheInputsLineNumbers() throws {
        guard let bin = CLITests.binary else { return }
        let p = Process()
        p.executableURL = bin
        p.arguments = ["sql", "CREATE TABLE t (a BIGINT) WITH ('path' = '-'); SELECT a FROM t"]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data("a\n1\n2\n".utf8))
        Thread.sleep(forTimeInterval: 0.2)
        input.fileHandleForWriting.write(Data("3\nfour\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(text.hasPrefix("<stdin>:5:1: error: 'four' is not a valid BIGINT for column 'a'"), "\(text)")
    }
}
