import Columnar
import Engine
import Foundation
import Testing

/// `spate convert`, `spate inspect` and `spate sql` over capture files, run as a user
/// runs them.
@Suite struct CaptureCLITests {
    let cli = CLITests()
    static let schema = "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)"

    func temp(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-capcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func csvToCaptureToCSVRoundTrips() throws {
        let cap = try temp("bids.spate"), back = try temp("back.csv")
        let a = try cli.spate(["convert", "data/bids.csv", cap, "--schema", Self.schema, "--block-rows", "300"])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stderr.contains("converted 3000 rows") && a.stderr.contains("10 blocks"), "\(a.stderr)")
        let b = try cli.spate(["convert", cap, back])
        #expect(b.status == 0, "\(b.stderr)")
        let original = try lines(CLITests.repoRoot.appendingPathComponent("data/bids.csv").path)
        let copy = try lines(back)
        #expect(copy.count == original.count)
        #expect(copy.first == original.first)
        // Every field equal; the event time comes back as text for the same instant.
        for (o, c) in zip(original.dropFirst(), copy.dropFirst()) where !o.isEmpty {
            var of = o.split(separator: ",", omittingEmptySubsequences: false)
            let cf = c.split(separator: ",", omittingEmptySubsequences: false)
            let ms = Timestamp.parseMillis(cf.last!).map(String.init)
            of.removeLast()
            #expect(Array(cf.dropLast()) == of && ms == String(o.split(separator: ",").last!), "\(o) vs \(c)")
        }
        // And once the text form is the original, the round trip is byte for byte.
        let cap2 = try temp("again.spate"), back2 = try temp("again.csv")
        #expect(try cli.spate(["convert", back, cap2, "--schema", Self.schema, "--workers", "1"]).status == 0)
        #expect(try cli.spate(["convert", cap2, back2, "--workers", "2"]).status == 0)
        #expect(try String(contentsOfFile: back2, encoding: .utf8) == String(contentsOfFile: back, encoding: .utf8))
    }

    @Test func inspectDescribesACaptureFile() throws {
        let r = try cli.spate(["inspect", "data/bids.spate"])
        #expect(r.status == 0, "\(r.stderr)")
        for fragment in ["Spate capture file, format version 1", "  ts       TIMESTAMP(3)  (event time)",
                         "rows: 3,000 in 12 blocks (up to 256 rows each)",
                         "event time (ts): 2015-07-14 23:59:58.188 .. 2015-07-15 00:00:59.662", "footer: ok"] {
            #expect(r.stdout.contains(fragment), "missing '\(fragment)' in:\n\(r.stdout)")
        }
        // One line per column with stored and decoded sizes and the ratio.
        let price = r.stdout.split(separator: "\n").last { $0.hasPrefix("  price ") }
        #expect(price?.contains("24,000") == true && price?.contains("x") == true, "\(r.stdout)")
        let v = try cli.spate(["inspect", "--verify", "data/bids.spate"])
        #expect(v.status == 0 && v.stdout.contains("verify: 12 of 12 blocks good (3,000 rows readable)"), "\(v.stdout)")
        // Other files go to the CSV reader's inspection.
        let csv = try cli.spate(["inspect", "data/bids.csv"])
        #expect(csv.status == 0 && csv.stdout.contains("format: csv"), "\(csv.stdout)\(csv.stderr)")
    }

    /// A copy of data/bids.spate with `edit` applied to its bytes.
    func damaged(_ edit: (inout [UInt8], CaptureReader) -> Void) throws -> String {
        let path = CLITests.repoRoot.appendingPathComponent("data/bids.spate").path
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        edit(&bytes, try CaptureReader.open(path: path))
        let out = try temp("damaged.spate")
        try Data(bytes).write(to: URL(fileURLWithPath: out))
        return out
    }

    @Test func corruptBlockIsNamedAndTheOthersStayReadable() throws {
        var offset = 0
        let path = try damaged { bytes, r in
            offset = r.blocks[3].offset
            bytes[r.blocks[3].bodyOffset + 100] ^= 0xFF
        }
        let v = try cli.spate(["inspect", "--verify", path])
        #expect(v.status == 1)
        #expect(v.stdout.contains("verify: 11 of 12 blocks good (2,744 rows readable)"), "\(v.stdout)")
        #expect(v.stdout.contains("good blocks: 0-2, 4-11"), "\(v.stdout)")
        #expect(v.stdout.contains("bad: block 3 at offset \(offset): checksum mismatch in chunk"), "\(v.stdout)")
        let q = try cli.spate(["sql", "CREATE TABLE t (auction BIGINT, price BIGINT) WITH ('path' = '\(path)'); SELECT COUNT(*) AS n, SUM(auction) AS a FROM t"])
        #expect(q.status == 1)
        #expect(q.stderr.contains("damaged.spate: error: block 3 at offset \(offset): checksum mismatch"), "\(q.stderr)")
        #expect(q.stderr.contains("hint: the file is damaged; `spate inspect --verify"), "\(q.stderr)")
    }

    @Test func truncatedFileKeepsTheBlocksBeforeTheCut() throws {
        var cut = 0
        let path = try damaged { bytes, r in
            cut = r.blocks[7].bodyOffset + 10
            bytes = Array(bytes.prefix(cut))
        }
        let v = try cli.spate(["inspect", "--verify", path])
        #expect(v.status == 1)
        #expect(v.stdout.contains("footer: the footer is missing"), "\(v.stdout)")
        #expect(v.stdout.contains("recovered 7 blocks by scanning from the header"), "\(v.stdout)")
        #expect(v.stdout.contains("verify: 7 of 7 blocks good (1,792 rows readable)"), "\(v.stdout)")
        #expect(v.stdout.contains("bad: block 7 at offset"), "\(v.stdout)")
        // A query reads the intact blocks, then reports the damage.
        let q = try cli.spate(["sql", "CREATE TABLE t (price BIGINT) WITH ('path' = '\(path)'); SELECT COUNT(*) AS n FROM t"])
        #expect(q.status == 1 && q.stderr.contains("error: block 7 at offset"), "\(q.stderr)")
        #expect(q.stderr.contains("truncated"), "\(q.stderr)")
        // Converting what is left recovers the first 7 blocks' rows... only by choice:
        // the damaged file is refused, never silently shortened.
        let out = try temp("rescued.csv")
        let c = try cli.spate(["convert", path, out])
        #expect(c.status == 1 && !FileManager.default.fileExists(atPath: out))
    }

    @Test func sqlWritesCaptureOutput() throws {
        let out = try temp("windows.spate")
        let r = try cli.spate(["sql", "-f", "data/q_tumble.sql", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let reader = try CaptureReader.open(path: out)
        #expect(reader.hasFooter && reader.schema.fields.first?.name == "window_start")
        #expect(reader.eventTimeColumn == 0)
        let viaCSV = try cli.spate(["sql", "-f", "data/q_tumble.sql"])
        let viaCapture = try cli.spate(["convert", out, "-", "--format", "csv"])
        #expect(viaCapture.status == 0 && viaCapture.stdout == viaCSV.stdout)
        let bad = try cli.spate(["convert", "data/bids.spate", try temp("x.csv"), "--time-column", "ts"])
        #expect(bad.status == 64 && bad.stderr.contains("--time-column applies to capture output"))
        // Only the chunks a query needs are read: the damaged auction chunk of block 3
        // does not stop a query over other columns.
        let path = try damaged { bytes, r in bytes[r.blocks[3].bodyOffset + 2] ^= 0xFF }
        let other = try cli.spate(["sql", "CREATE TABLE t (price BIGINT) WITH ('path' = '\(path)'); SELECT SUM(price) AS p FROM t"])
        #expect(other.status == 0 && other.stdout == "p\n22753949810\n", "\(other.stderr)")
    }
}
