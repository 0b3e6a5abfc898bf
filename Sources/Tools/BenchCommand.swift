import ArgumentParser
import Columnar
import Engine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a query: events/s (total and per core), MB/s, CPU time, peak RSS.",
        discussion: """
            Runs the last SELECT of a SQL script with its results discarded, after warm-up
            runs, and reports the median, min and max of the timed runs.

            Over a paced input (a table with 'connector' = 'replay', or a generator with
            a rate) it also reports event-to-output latency percentiles (HdrHistogram,
            corrected for coordinated omission).

            Examples:
              spate bench -f data/q_tumble.sql --repeat 5
              spate bench -f query.sql --workers 2 --json
              spate bench --nexmark q1 --events 50000000
              spate bench --nexmark q2 --events 200000 --rate 100000 --repeat 1
            """
    )

    @Option(name: [.short, .customLong("file")], help: "The SQL script (CREATE TABLE ...; SELECT ...).")
    var file: String?

    @Option(help: "A named Nexmark query over the built-in generator (q0, q1, q2, q5, q7, q11) instead of -f.")
    var nexmark: String?

    @Option(help: "Print the SELECT of a named Nexmark query (to run it over other tables) and exit.")
    var printNexmark: String?

    @Option(help: "Events the generator makes for --nexmark.")
    var events: Int64 = 10_000_000

    @Option(help: "Pace the generator at this many events per second (reports latency).")
    var rate: Int64?

    @Option(help: "Timed runs.")
    var `repeat` = 3

    @Option(help: "Untimed warm-up runs before them.")
    var warmup = 1

    @Option(help: "Worker threads (default: one per CPU).")
    var workers: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        if printNexmark != nil { return }
        if (file == nil) == (nexmark == nil) { throw ValidationError("give either -f FILE or --nexmark QUERY") }
        if events < 1 { throw ValidationError("--events must be positive") }
        if let rate, rate < 1 { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        do {
            if let q = printNexmark {
                guard let text = Bench.nexmarkQueries[q.lowercased()] else {
                    throw SpateError(.usage, "unknown Nexmark query '\(q)'",
                                     hint: "this version runs " + Bench.nexmarkQueries.keys.sorted().joined(separator: ", "))
                }
                print(text)
                return
            }
            let name = file ?? "nexmark \(nexmark!)"
            let sql = try file.map(readText) ?? Bench.nexmarkScript(nexmark!, events: events, rate: rate)
            let options = ExecutionOptions(workers: workers)
            let runs = try Bench.run(sql: sql, sourceName: name, options: options, repeat: `repeat`, warmup: warmup)
            print(json ? BenchReport.json(runs, workers: options.workers, query: name)
                       : BenchReport.text(runs, workers: options.workers))
        } catch {
            exitWithError(error)
        }
    }
}

/// Formats benchmark runs.
enum BenchReport {
    static func text(_ runs: [BenchRun], workers: Int) -> String {
        let t = Bench.summary(runs.map(\.seconds))
        let eps = Bench.summary(runs.map(\.eventsPerSecond))
        let mbs = Bench.summary(runs.map(\.megabytesPerSecond))
        let cpu = Bench.summary(runs.map(\.cpuSeconds))
        let rss = runs.map(\.peakRSSBytes).max() ?? 0
        let r = runs[0]
        return """
            runs            \(runs.count) (median, min-max)
            time            \(fixedDecimal(t.median, 3)) s  (\(fixedDecimal(t.min, 3))-\(fixedDecimal(t.max, 3)))
            events          \(r.events)  -> \(r.outputRows) result rows\(r.lateRows > 0 ? ", \(r.lateRows) late" : "")
            events/s        \(rate(eps.median))  (\(rate(eps.min))-\(rate(eps.max)))
            events/s/core   \(rate(eps.median / Double(workers)))  (\(workers) worker\(workers == 1 ? "" : "s"))
            input           \(fixedDecimal(mbs.median, 0)) MB/s
            CPU time        \(fixedDecimal(cpu.median, 3)) s
            peak RSS        \(fixedDecimal(Double(rss) / 1e6, 0)) MB
            """ + latencyText(runs)
    }

    /// 1.85 M, 312 k or 950.
    static func rate(_ x: Double) -> String {
        if x >= 1e6 { return fixedDecimal(x / 1e6, 2) + " M" }
        if x >= 1e3 { return fixedDecimal(x / 1e3, 1) + " k" }
        return fixedDecimal(x, 0)
    }

    static func latencyText(_ runs: [BenchRun]) -> String {
        let l = runs.compactMap(\.latency)
        guard !l.isEmpty else { return "" }
        let p50 = Bench.summary(l.map(\.p50)).median, p99 = Bench.summary(l.map(\.p99)).median
        let p999 = Bench.summary(l.map(\.p999)).median
        return "\nlatency         p50 \(fixedDecimal(p50 / 1000, 2)) ms  p99 \(fixedDecimal(p99 / 1000, 2)) ms  p99.9 \(fixedDecimal(p999 / 1000, 2)) ms"
    }

    static func latencyJSON(_ runs: [BenchRun]) -> String {
        let l = runs.compactMap(\.latency)
        guard !l.isEmpty else { return "" }
        let p50 = Bench.summary(l.map(\.p50)).median, p99 = Bench.summary(l.map(\.p99)).median
        let p999 = Bench.summary(l.map(\.p999)).median
        return ",\"latency_us\":{\"p50\":\(fixedDecimal(p50, 0)),\"p99\":\(fixedDecimal(p99, 0)),\"p999\":\(fixedDecimal(p999, 0))}"
    }

    static func json(_ runs: [BenchRun], workers: Int, query: String) -> String {
        let t = Bench.summary(runs.map(\.seconds))
        let eps = Bench.summary(runs.map(\.eventsPerSecond))
        let mbs = Bench.summary(runs.map(\.megabytesPerSecond))
        let cpu = Bench.summary(runs.map(\.cpuSeconds))
        let rss = runs.map(\.peakRSSBytes).max() ?? 0
        let quoted = "\"" + query.flatMap { $0 == "\"" || $0 == "\\" ? ["\\", $0] : [$0] } + "\""
        let runList = runs.map { fixedDecimal($0.seconds, 6) }.joined(separator: ",")
        return "{\"query\":\(quoted),\"workers\":\(workers),\"runs\":\(runs.count),"
            + "\"seconds\":{\"median\":\(fixedDecimal(t.median, 6)),\"min\":\(fixedDecimal(t.min, 6)),\"max\":\(fixedDecimal(t.max, 6)),\"all\":[\(runList)]},"
            + "\"events\":\(runs[0].events),\"output_rows\":\(runs[0].outputRows),\"late_rows\":\(runs[0].lateRows),"
            + "\"events_per_second\":{\"median\":\(fixedDecimal(eps.median, 0)),\"min\":\(fixedDecimal(eps.min, 0)),\"max\":\(fixedDecimal(eps.max, 0))},"
            + "\"events_per_second_per_core\":\(fixedDecimal(eps.median / Double(workers), 0)),"
            + "\"input_mb_per_second\":\(fixedDecimal(mbs.median, 1)),\"cpu_seconds\":\(fixedDecimal(cpu.median, 6)),"
            + "\"peak_rss_bytes\":\(rss)" + latencyJSON(runs) + "}"
    }
}
