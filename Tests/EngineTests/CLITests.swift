import Foundation
import Testing

/// Runs the `spate` executable the way a user does (exit codes, stdout/stderr, files).
@Suite struct CLITests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `spate` binary next to the test bundle (swift build --build-tests builds it).
    static var binary: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("spate")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func spate(_ args: [String], shell: String? = nil) throws -> Output {
        guard let bin = Self.binary else {
            Issue.record("the spate executable was not found next to the tests; build with `swift build --build-tests`")
            return Output(status: -1, stdout: "", stderr: "")
        }
        let p = Process()
        if let shell {
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", shell.replacingOccurrences(of: "SPATE", with: bin.path)]
        } else {
            p.executableURL = bin
            p.arguments = args
        }
        p.currentDirectoryURL = Self.repoRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func sampleQueryRuns() throws {
        let r = try spate(["sql", "-f", "data/q_tumble.sql", "--workers", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "window_start,window_end,auction,bids,total,max_price")
        #expect(lines.count > 10)
        // Same result with one worker and tiny batches.
        let one = try spate(["sql", "-f", "data/q_tumble.sql", "--workers", "1", "--batch-capacity", "3"])
        #expect(one.stdout == r.stdout)
    }

    @Test func sqlErrorIsUsageWithCaret() throws {
        let r = try spate(["sql", "SELECT FROM"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("<query>:1:"))
        #expect(r.stderr.contains("^"))
    }

    @Test func dataErrorNamesFileLineColumn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("t.csv")
        try "a,b\n1,2\n3,abc\n".write(to: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.csv")
        try "previous result\n".write(to: out, atomically: true, encoding: .utf8)
        let r = try spate(["sql", "CREATE TABLE t (a BIGINT, b BIGINT) WITH ('path' = '\(csv.path)'); SELECT a + b AS s FROM t",
                           "-o", out.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("t.csv:3:3: error:"), "\(r.stderr)")
        #expect(r.stderr.contains("hint:"))
        // The failed run left the previous output alone and no temporary file behind.
        #expect(try String(contentsOf: out, encoding: .utf8) == "previous result\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(Set(leftovers) == ["t.csv", "out.csv"])
    }

    @Test func outputFileIsWrittenWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("google.csv")
        let r = try spate(["sql", "-f", "data/q_filter.sql", "-o", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.hasPrefix("auction,bidder,dollars,ts\n"))
        #expect(r.stdout.isEmpty)
        // A device is written in place, never replaced by a renamed temporary file.
        for format in ["csv", "jsonl", "table", "spate"] {
            let null = try spate(["sql", "-f", "data/q_filter.sql", "-o", "/dev/null", "--format", format])
            #expect(null.status == 0, "\(format): \(null.stderr)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: "/dev/null")
        #expect(attributes[.type] as? FileAttributeType == .typeCharacterSpecial)
    }

    @Test func closedPipeIsNotAnError() throws {
        // Far more output than a pipe buffers, so spate really meets the closed pipe.
        let sql = "CREATE TABLE b (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts BIGINT) "
            + "WITH ('path' = 'data/bids.csv'); SELECT url, url AS u2, auction FROM b"
        let r = try spate([], shell: "SPATE sql \"\(sql)\" | head -1; exit ${PIPESTATUS[0]}")
        #expect(r.status == 0)
        #expect(r.stdout == "url,u2,auction\n")
        #expect(!r.stderr.contains("error"))
    }

    @Test func explainShowsPlanAndWorkers() throws {
        let r = try spate(["sql", "--explain", "-f", "data/q_tumble.sql", "--workers", "2"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("WindowAggregate: TUMBLE 10000 ms"))
        #expect(r.stdout.contains("w1 -> cpu"))
    }

    @Test func benchReportsRates() throws {
        let r = try spate(["bench", "-f", "data/q_tumble.sql", "--repeat", "2", "--warmup", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"events\":3000"))
        #expect(r.stdout.contains("\"events_per_second\":{\"median\":"))
        #expect(r.stdout.contains("\"runs\":2"))
        let text = try spate(["bench", "-f", "data/q_tumble.sql", "--repeat", "1"])
        #expect(text.stdout.contains("events/s/core"))
    }

    @Test func recordAndReplayKeepThePace() throws {
        let schema = "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-rec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let recorded = dir.appendingPathComponent("rec.csv").path
        let rec = try spate(["record", "data/bids.csv", "-o", recorded, "--schema", schema])
        #expect(rec.status == 0, "\(rec.stderr)")
        #expect(rec.stderr.contains("recorded 3000 rows"))
        // data/bids.csv spans about 60 s of event time: at 120x the replay takes about 0.5 s.
        let start = Date()
        let r = try spate(["replay", recorded, "--schema", schema, "--speed", "120x"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 3001)
        #expect(r.stderr.contains("replayed 3000 events"))
        #expect(elapsed > 0.45 && elapsed < 5)
        let fast = try spate(["replay", recorded, "--schema", schema, "--speed", "max", "-q"])
        #expect(fast.stdout == r.stdout)
        #expect(fast.stderr.isEmpty)
    }

    @Test func replayConnectorGivesTheSameResultsAsTheFile() throws {
        let paced = try String(contentsOfFile: Self.repoRoot.appendingPathComponent("data/q_tumble.sql").path, encoding: .utf8)
            .replacingOccurrences(of: "'connector' = 'filesystem'", with: "'connector' = 'replay', 'replay.speed' = 'max'")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-rep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("replay.sql").path
        try paced.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try spate(["sql", "-f", file])
        let f = try spate(["sql", "-f", "data/q_tumble.sql"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == f.stdout)
    }

    @Test func benchReportsLatencyOverAPacedInput() throws {
        let paced = try String(contentsOfFile: Self.repoRoot.appendingPathComponent("data/q_tumble.sql").path, encoding: .utf8)
            .replacingOccurrences(of: "'connector' = 'filesystem'", with: "'connector' = 'replay', 'replay.speed' = '200x'")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-lat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("paced.sql").path
        try paced.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try spate(["bench", "-f", file, "--repeat", "1", "--warmup", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"latency_us\":{\"p50\":"))
        #expect(r.stdout.contains("\"output_rows\":552"))
    }

    @Test func benchRunsNamedNexmarkQueries() throws {
        let r = try spate(["bench", "--nexmark", "q2", "--events", "50000", "--repeat", "1", "--warmup", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"events\":46000"))  // 46 of every 50 events are bids
        let paced = try spate(["bench", "--nexmark", "q0", "--events", "2000", "--rate", "20000", "--repeat", "1",
                               "--warmup", "0", "--json"])
        #expect(paced.status == 0, "\(paced.stderr)")
        #expect(paced.stdout.contains("\"latency_us\""))
        let bad = try spate(["bench", "--nexmark", "q99"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("unknown Nexmark query 'q99'"))
    }

    @Test func convertTakesCSVFlags() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-conv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.csv").path
        try "a;b\n1;NA\n3;4\n".write(toFile: input, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("out.jsonl").path
        let r = try spate(["convert", input, output, "-d", ";", "--null", "NA", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "{\"a\":1,\"b\":null}\n{\"a\":3,\"b\":4}\n")
    }

    @Test func usageErrorsExit64() throws {
        let r = try spate(["sql"])
        #expect(r.status == 64)
        let h = try spate(["--help"])
        #expect(h.status == 0 && h.stdout.contains("spate sql -f"))
    }
}
