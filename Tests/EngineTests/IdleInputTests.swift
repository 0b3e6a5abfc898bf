@testable import Engine
import Columnar
import Foundation
import Testing

/// An idle input of a join stops holding back the other's results once it has sent no
/// rows for its `'scan.watermark.idle-timeout'`. The right input here is replayed at its
/// pace: one row, then nothing for three seconds.
struct IdleInputTests {
    /// Records when each row was written.
    final class TimedWriter: ResultWriter {
        var times: [Double] = []
        let start = monotonicSeconds()
        func begin(_ schema: Schema) throws {}
        func write(_ batch: Batch) throws {
            for _ in 0..<batch.activeCount { times.append(monotonicSeconds() - start) }
        }
        func finish() throws {}
        func abandon() {}
    }

    func run(idleTimeout: String?) throws -> TimedWriter {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-idle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let left = "k,ts\n" + (0..<10).map { "1,\($0 * 100)" }.joined(separator: "\n") + "\n"
        try Data(left.utf8).write(to: dir.appendingPathComponent("left.csv"))
        try Data("k,ts\n1,50\n1,3050\n".utf8).write(to: dir.appendingPathComponent("right.csv"))
        let idle = idleTimeout.map { ", 'scan.watermark.idle-timeout' = '\($0)'" } ?? ""
        let sql = """
            CREATE TABLE l (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '0' SECOND)
              WITH ('connector' = 'replay', 'path' = '\(dir.path)/left.csv', 'replay.speed' = 'max');
            CREATE TABLE r (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '0' SECOND)
              WITH ('connector' = 'replay', 'path' = '\(dir.path)/right.csv', 'replay.speed' = '1x'\(idle));
            SELECT l.ts, r.ts FROM l JOIN r ON l.k = r.k AND r.ts BETWEEN l.ts - INTERVAL '1' SECOND AND l.ts + INTERVAL '1' SECOND
            """
        let writer = TimedWriter()
        try Session(options: ExecutionOptions(workers: 2, pinWorkers: false)).run(sql) { _, _ in writer }
        return writer
    }

    @Test func idleInputReleasesTheOthersResults() throws {
        let idle = try run(idleTimeout: "200 ms")
        #expect(idle.times.count == 10)
        #expect((idle.times.max() ?? 99) < 2.0, "results waited for the idle input: \(idle.times)")
        // Without the timeout the results wait for the right input's next row (3 s on).
        let waiting = try run(idleTimeout: nil)
        #expect(waiting.times.count == 10)
        #expect((waiting.times.max() ?? 0) >= 2.5, "\(waiting.times)")
    }

    @Test func idleTimeoutOptionErrors() throws {
        for (options, message) in [
            ("'scan.watermark.idle-timeout' = 'soon'", "'scan.watermark.idle-timeout' must be a positive duration, not 'soon'"),
            ("'scan.watermark.idle-timeout' = '0 s'", "must be a positive duration"),
        ] {
            do {
                try Session().run("CREATE TABLE t (ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv', \(options))") { _, _ in CollectingWriter() }
                Issue.record("\(options) must fail")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        do {
            try Session().run("CREATE TABLE t (ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv', 'scan.watermark.idle-timeout' = '1 s')") { _, _ in CollectingWriter() }
            Issue.record("an idle timeout without a watermark must fail")
        } catch {
            #expect("\(error)".contains("'scan.watermark.idle-timeout' needs a WATERMARK"))
        }
    }
}
