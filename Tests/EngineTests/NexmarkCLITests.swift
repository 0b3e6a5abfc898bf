import Foundation
import Testing

/// `spate gen nexmark`, run as a user runs it.
@Suite struct NexmarkCLITests {
    let cli = CLITests()

    func spate(_ args: [String]) throws -> CLITests.Output { try cli.spate(args) }

    @Test func genWritesTheSameFileForAnyWorkers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one.csv").path, two = dir.appendingPathComponent("two.csv").path
        let a = try spate(["gen", "nexmark", "--events", "5000", "--table", "bid", "-o", one, "--workers", "1"])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try spate(["gen", "nexmark", "--events", "5000", "--table", "bid", "-o", two, "--workers", "2"])
        #expect(b.status == 0, "\(b.stderr)")
        let textA = try String(contentsOfFile: one, encoding: .utf8), textB = try String(contentsOfFile: two, encoding: .utf8)
        #expect(textA == textB)
        let lines = textA.split(separator: "\n")
        #expect(lines.first == "auction,bidder,price,channel,url,dateTime,extra")
        // Events 2..5001: 100 blocks of 46 bids.
        #expect(lines.count == 1 + 4600)
        // Standard output and a seed.
        let c = try spate(["gen", "nexmark", "--events", "100", "--seed", "9", "--rate", "1000", "--table", "person"])
        #expect(c.status == 0)
        #expect(c.stdout.split(separator: "\n").count == 1 + 2)
        #expect(c.stdout.hasPrefix("id,name,emailAddress,creditCard,city,state,dateTime,extra\n1001,"))
    }

    @Test func benchRunsTheWindowedNexmarkQueries() throws {
        // q5 (HOP + RANK), q7 (Top-N over TUMBLE rows), q11 (legacy SESSION): they run and
        // produce rows; their SELECTs can be printed to run over other tables.
        for q in ["q5", "q7", "q11"] {
            let r = try spate(["bench", "--nexmark", q, "--events", "60000", "--repeat", "1", "--warmup", "0", "--json"])
            #expect(r.status == 0, "\(q): \(r.stderr)")
            #expect(r.stdout.contains("\"output_rows\":") && !r.stdout.contains("\"output_rows\":0,"), "\(q): \(r.stdout)")
        }
        let printed = try spate(["bench", "--print-nexmark", "q11"])
        #expect(printed.status == 0)
        #expect(printed.stdout.contains("SESSION(B.dateTime, INTERVAL '10' SECOND)"))
        let bad = try spate(["bench", "--print-nexmark", "q99"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("unknown Nexmark query 'q99'"))
    }

    @Test func genReportsBadOptions() throws {
        let r = try spate(["gen", "nexmark", "--events", "10", "--option", "bid.proportion=-3"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("'bid.proportion' must be zero or more, not -3"), "\(r.stderr)")
        let t = try spate(["gen", "nexmark", "--events", "10", "--table", "bids"])
        #expect(t.status == 64)
        #expect(t.stderr.contains("'nexmark.table' must be one of"), "\(t.stderr)")
        let f = try spate(["gen", "nexmark", "--events", "10", "--format", "xml"])
        #expect(f.status == 64)
        #expect(f.stderr.contains("unknown output format 'xml'"), "\(f.stderr)")
        let g = try spate(["gen", "tpch", "--events", "10"])
        #expect(g.status == 64)
    }
}
