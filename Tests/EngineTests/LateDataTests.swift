import Columnar
@testable import Engine
import Foundation
import SpateTestSupport
import Testing

/// Late-data policies (drop, a late-data output file, update with an allowed lateness)
/// checked against a row-by-row model of the semantics, under several worker counts,
/// batch capacities and morsel sizes.
struct LateDataTests {
    static let size: Int64 = 5_000
    static let delay: Int64 = 2_000
    static let lateness: Int64 = 3_000

    struct Row { var key: Int64; var ts: Int64 }

    /// Rows in time order with heavy disorder, so many are late.
    static let rows: [Row] = {
        var rng = SplitMix64(seed: 42)
        var t: Int64 = 0
        return (0..<400).map { _ in
            t += Int64(rng.next() % 400)
            return Row(key: Int64(rng.next() % 3), ts: max(0, t - Int64(rng.next() % 9_000)))
        }
    }()

    enum Verdict { case onTime, lateAccepted, lateRejected }

    /// The model: the watermark before each row is the largest earlier time minus the
    /// delay; a row is on time while its window's last instant is after it, accepted
    /// within the allowed lateness after that, rejected beyond.
    static func verdicts(lateness: Int64) -> [(Verdict, Int64)] {
        var running = Int64.min
        return rows.map { r in
            let wm = running == Int64.min ? Int64.min : running - delay
            running = max(running, r.ts)
            let last = r.ts / size * size + size - 1
            if last > wm { return (.onTime, wm) }
            if last + lateness > wm { return (.lateAccepted, wm) }
            return (.lateRejected, wm)
        }
    }

    static var settings: [ExecutionOptions] {
        [(1, 4096, 8 << 20), (1, 4096, 64), (3, 3, 64), (2, 1, 200), (3, 4096, 7)].map {
            ExecutionOptions(workers: $0.0, batchCapacity: $0.1, morselSize: $0.2, pinWorkers: false)
        }
    }

    func withData(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-late-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = "k,ts\n" + Self.rows.map { "\($0.key),\($0.ts)" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: dir.appendingPathComponent("rows.csv"))
        try body(dir)
    }

    func sql(_ dir: URL, allowed: String? = nil) -> String {
        """
        CREATE TABLE r (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '\(dir.path)/rows.csv', 'format' = 'csv'\(allowed.map { ", 'allowed-lateness' = '\($0)'" } ?? ""));
        SELECT window_start, k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE r, DESCRIPTOR(ts), INTERVAL '5' SECOND))
        GROUP BY window_start, window_end, k
        """
    }

    /// Window start and key -> count over the rows `keep` accepts.
    static func counts(_ keep: (Verdict) -> Bool) -> [String: Int] {
        var out: [String: Int] = [:]
        for (r, v) in zip(rows, verdicts(lateness: lateness)) where keep(v.0) {
            out["\(r.ts / size * size)|\(r.key)", default: 0] += 1
        }
        return out
    }

    static func text(_ ms: Int64) -> String {
        let c = Column(.timestamp(.millisecond), capacity: 1)
        c.append(ms)
        return ValueFormat.text(c, 0)
    }

    @Test func lateRowsGoToTheOutputFileInInputOrder() throws {
        try withData { dir in
            let verdicts = Self.verdicts(lateness: 0)
            let expectedLate = zip(Self.rows, verdicts).filter { $0.1.0 != .onTime }.map { r, v in
                "\(r.key),\(Self.text(r.ts)),\(Self.text(v.1)),\(v.1 - r.ts)"
            }
            #expect(expectedLate.count > 20, "the data must have late rows")
            let expectedCounts = Self.counts { $0 == .onTime }
            for options in Self.settings {
                let session = Session(options: options)
                let latePath = dir.appendingPathComponent("late-\(options.workers)-\(options.morselSize).csv").path
                session.lateData = .output(path: latePath)
                let writer = CollectingWriter()
                let results = try session.run(sql(dir)) { _, _ in writer }
                var got: [String: Int] = [:]
                for row in writer.rows {
                    let start = try #require(Self.rows.first { Self.text($0.ts / Self.size * Self.size) == row[0] })
                    got["\(start.ts / Self.size * Self.size)|\(row[1])"] = Int(row[2])
                }
                #expect(got == expectedCounts, "\(options.workers) workers, morsel \(options.morselSize)")
                let late = try String(contentsOfFile: latePath, encoding: .utf8).split(separator: "\n").map(String.init)
                #expect(late.first == "k,ts,watermark,late_by_ms")
                #expect(Array(late.dropFirst()) == expectedLate, "\(options.workers) workers, morsel \(options.morselSize)")
                let s = try #require(results.first).statistics
                #expect(s.rowsLate == expectedLate.count)
                #expect(s.rowsOnTime == Self.rows.count - expectedLate.count)
                #expect(s.rowsLateAccepted == 0)
            }
        }
    }

    @Test func updatePolicyReemitsWindowsWithAcceptedLateRows() throws {
        try withData { dir in
            let verdicts = Self.verdicts(lateness: Self.lateness).map(\.0)
            let expected = Self.counts { $0 != .lateRejected }
            var sawUpdate = false
            for options in Self.settings {
                let session = Session(options: options)
                session.lateData = .update
                let writer = CollectingWriter()
                let results = try session.run(sql(dir, allowed: "3 s")) { _, _ in writer }
                #expect(writer.schema?.fields.map(\.name) == ["window_start", "k", "n", "op"])
                // The last emission of each window and key is its final value; the first is +I.
                var final: [String: Int] = [:]
                var seen: Set<String> = []
                for row in writer.rows {
                    let start = try #require(Self.rows.first { Self.text($0.ts / Self.size * Self.size) == row[0] })
                    let key = "\(start.ts / Self.size * Self.size)|\(row[1])"
                    #expect(row[3] == (seen.contains(key) ? "+U" : "+I"), "\(key): \(row)")
                    if row[3] == "+U" { sawUpdate = true }
                    seen.insert(key)
                    final[key] = Int(row[2])
                }
                #expect(final == expected, "\(options.workers) workers, morsel \(options.morselSize)")
                let s = try #require(results.first).statistics
                #expect(s.rowsLate == verdicts.filter { $0 == .lateRejected }.count)
                #expect(s.rowsLateAccepted == verdicts.filter { $0 == .lateAccepted }.count)
                #expect(s.rowsOnTime == verdicts.filter { $0 == .onTime }.count)
            }
            // One worker over small morsels emits windows between morsels, so late rows
            // that follow must come as updates.
            #expect(sawUpdate, "some window must have been emitted again")
        }
    }

    @Test func policyErrors() throws {
        try withData { dir in
            let session = Session(options: ExecutionOptions(workers: 1))
            session.lateData = .update
            do {
                try session.run(sql(dir)) { _, _ in CollectingWriter() }
                Issue.record("the update policy without an allowed lateness must fail")
            } catch {
                #expect("\(error)".contains("the update policy needs an allowed lateness on table 'r'"))
            }
            do {
                try Session().run(sql(dir, allowed: "soon")) { _, _ in CollectingWriter() }
                Issue.record("a bad duration must fail")
            } catch {
                #expect("\(error)".contains("'allowed-lateness' must be a duration, not 'soon'"))
            }
        }
    }

    @Test func durations() {
        #expect(Binder.durationMillis("10 s") == 10_000)
        #expect(Binder.durationMillis("500ms") == 500)
        #expect(Binder.durationMillis("2 min") == 120_000)
        #expect(Binder.durationMillis("7") == 7_000)
        #expect(Binder.durationMillis("1 h") == 3_600_000)
        #expect(Binder.durationMillis("x") == nil)
        #expect(Binder.durationMillis("5 fortnights") == nil)
    }
}
