import CPlatform
import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Discards results, counting rows (benchmarks measure the engine, not the output).
public final class BlackholeWriter: ResultWriter {
    public private(set) var rows = 0
    public init() {}
    public func begin(_ schema: Schema) throws {}
    public func write(_ batch: Batch) throws { rows += batch.activeCount }
    public func finish() throws {}
    public func abandon() {}
}

/// One timed run of a benchmark.
public struct BenchRun: Sendable {
    public var seconds: Double
    public var cpuSeconds: Double
    public var events: Int
    public var bytes: Int
    public var outputRows: Int
    public var lateRows: Int
    public var peakRSSBytes: UInt64
    /// Event-to-output latency, when the input is paced.
    public var latency: LatencySummary?

    public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1e6 / seconds : 0 }
}

/// `spate bench`: runs a script's last SELECT `repeat` times (after `warmup` untimed
/// runs) with its results discarded, and summarises the runs.
public enum Bench {
    public static func run(sql: String, sourceName: String, options: ExecutionOptions, repeat count: Int,
                           warmup: Int) throws -> [BenchRun] {
        var runs: [BenchRun] = []
        for i in 0..<(warmup + count) {
            let session = Session(options: options)
            let cpu0 = cpuSeconds()
            let t0 = monotonicSeconds()
            let sink = BlackholeWriter()
            let results = try session.run(sql, sourceName: sourceName) { _, _ in sink }
            let t1 = monotonicSeconds()
            guard let last = results.last else {
                throw SpateError(.usage, "the benchmark script has no SELECT", hint: "end it with the query to measure")
            }
            var current: UInt64 = 0, peak: UInt64 = 0
            spate_rss(&current, &peak)
            if i >= warmup {
                let s = last.statistics
                runs.append(BenchRun(seconds: t1 - t0, cpuSeconds: cpuSeconds() - cpu0, events: s.rowsRead,
                                     bytes: s.bytesRead, outputRows: sink.rows, lateRows: s.rowsLate,
                                     peakRSSBytes: peak, latency: s.latency))
            }
        }
        return runs
    }

    /// The Nexmark queries that run on this version (Flink's SQL over the flattened
    /// `bid` table; NEXMARK.md section 3), by name. q5 and q7 are written in their
    /// engine-native form (NEXMARK.md: "window max, then semi-join back"): a RANK() = 1
    /// Top-N over the window, which keeps ties as the originals' joins do; q7's original
    /// also matches a bid stamped exactly at a window's end against that window.
    public static let nexmarkQueries: [String: String] = [
        "q0": "SELECT auction, bidder, price, dateTime, extra FROM bid",
        "q1": "SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid",
        "q2": "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
        "q5": """
            SELECT auction, num FROM (
              SELECT auction, COUNT(*) AS num, window_start, window_end,
                     RANK() OVER (PARTITION BY window_start, window_end ORDER BY COUNT(*) DESC) AS r
              FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
              GROUP BY auction, window_start, window_end
            ) WHERE r = 1
            """,
        "q7": """
            SELECT auction, price, bidder, dateTime, extra FROM (
              SELECT auction, price, bidder, dateTime, extra, window_start, window_end,
                     RANK() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS r
              FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
            ) WHERE r = 1
            """,
        "q11": """
            SELECT B.bidder, COUNT(*) AS bid_count, SESSION_START(B.dateTime, INTERVAL '10' SECOND) AS starttime,
                   SESSION_END(B.dateTime, INTERVAL '10' SECOND) AS endtime
            FROM bid B
            GROUP BY B.bidder, SESSION(B.dateTime, INTERVAL '10' SECOND)
            """,
    ]

    /// A script running Nexmark query `name` over the generator: `events` events, as
    /// fast as possible, or paced at `rate` events per second.
    public static func nexmarkScript(_ name: String, events: Int64, rate: Int64?) throws -> String {
        guard let query = nexmarkQueries[name.lowercased()] else {
            throw SpateError(.usage, "unknown Nexmark query '\(name)'",
                             hint: "this version runs " + nexmarkQueries.keys.sorted().joined(separator: ", "))
        }
        var options = "'connector' = 'nexmark', 'nexmark.table' = 'bid', 'events.num' = '\(events)'"
        if let rate {
            options += ", 'first-event.rate' = '\(rate)', 'next-event.rate' = '\(rate)', 'max-emit-speed' = 'false'"
        }
        return "CREATE TABLE bid (WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND) WITH (\(options));\n"
            + query + ";\n"
    }

    /// User + system CPU time of this process so far.
    public static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// Median, min and max of some values.
    public static func summary(_ values: [Double]) -> (median: Double, min: Double, max: Double) {
        let s = values.sorted()
        guard !s.isEmpty else { return (0, 0, 0) }
        let mid = s.count / 2
        let median = s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
        return (median, s.first!, s.last!)
    }
}
