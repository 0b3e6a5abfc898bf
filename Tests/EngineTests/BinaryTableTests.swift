import Columnar
import Engine
import Foundation
import SpateTestSupport
import Testing

/// Binary records through SQL: a windowed query over a file written like a C program
/// would, checked against the same query over the equivalent CSV.
@Suite struct BinaryTableTests {
    @Test func windowedQueryMatchesCSV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 99)
        var bin: [UInt8] = Array("BIDS v1\0".utf8)
        var csv = "auction,price,channel,ts\n"
        let channels = ["Google", "Apple", "Baidu", "Facebook"]
        var ts: Int64 = 1_700_000_000_000_000
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bin += $0 } }
        for _ in 0..<5000 {
            let auction = Int64(rng.next() % 50)
            let price = UInt32(rng.next() % 100_000)
            let channel = channels[Int(rng.next() % 4)]
            ts += Int64(rng.next() % 3_000_000) - 500_000  // microseconds, slightly out of order
            put(auction)
            put(price)
            bin += Array(channel.utf8) + [UInt8](repeating: 0, count: 8 - channel.utf8.count)
            put(ts)
            put(UInt32(0xDEADBEEF))
            let ms = ts >= 0 ? ts / 1000 : (ts - 999) / 1000
            csv += "\(auction),\(price),\(channel),\(ms)\n"
        }
        try Data(bin).write(to: dir.appendingPathComponent("bids.bin"))
        try Data(csv.utf8).write(to: dir.appendingPathComponent("bids.csv"))
        let query = """
            SELECT window_start, channel, COUNT(*) AS n, SUM(price) AS total, MAX(auction) AS top
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end, channel
            """
        func run(_ with: String, _ options: ExecutionOptions) throws -> [[String]] {
            let session = Session(options: options)
            let out = CollectingWriter()
            try session.run("""
                CREATE TABLE bids (auction BIGINT, price BIGINT, channel VARCHAR, ts TIMESTAMP(3),
                                   WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (\(with));
                \(query)
                """) { _, _ in out }
            return out.rows
        }
        let reference = try run("'path' = '\(dir.path)/bids.csv'", ExecutionOptions(workers: 1, pinWorkers: false))
        #expect(reference.count > 20)
        let binary = """
            'path' = '\(dir.path)/bids.bin', 'format' = 'binary', 'binary.header-bytes' = '8',
            'binary.layout' = 'auction:int64, price:uint32, channel:char[8], ts:timestamp_us, _:pad[4]'
            """
        for options in [ExecutionOptions(workers: 1, pinWorkers: false),
                        ExecutionOptions(workers: 3, batchCapacity: 7, morselSize: 1000, pinWorkers: false),
                        ExecutionOptions(workers: 2, batchCapacity: 1, morselSize: 1, pinWorkers: false)] {
            #expect(try run(binary, options) == reference)
        }
    }
}
