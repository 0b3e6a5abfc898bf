import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate Nexmark events (bids, auctions, persons) in any output format.",
        discussion: """
            Each event is a pure function of the configuration, the seed and its number,
            so the output is the same for any number of workers. The options are those of
            the 'nexmark' connector (Flink's names); --option passes any of them.

            Tables: events (the unified stream: event_type, person_*, auction_*, bid_*,
            dateTime), bid, auction, person.

            Examples:
              spate gen nexmark --events 1000000 --table bid -o /tmp/bids.csv
              spate gen nexmark --events 100 --rate 1000 --seed 7
              spate gen nexmark --events 0 --table bid --pace | head     (unbounded, paced)
              spate gen nexmark --events 1000 --option bid.proportion=92 --option auction.proportion=6
            """
    )

    @Argument(help: "What to generate: nexmark.")
    var generator: String

    @Option(help: "Events to generate (all kinds; 0: unbounded).")
    var events: Int64

    @Option(help: "Which table: events, bid, auction, person.")
    var table: String = "events"

    @Option(name: [.short, .customLong("output")], help: "Write to this file (default: standard output).")
    var output: String?

    @Option(help: "Output format (default: from the -o file's extension, else csv).")
    var format: String?

    @Option(help: "Events per second of event time (first-event.rate; default 10000).")
    var rate: Int64?

    @Option(help: "Seed of the random values (default 0).")
    var seed: Int64?

    @Option(help: "Event time of the first event: epoch ms or 'YYYY-MM-DD HH:MM:SS' (default 2015-07-15 00:00:00).")
    var baseTime: String?

    @Flag(help: "Emit at the event-time rate (max-emit-speed=false) instead of as fast as possible.")
    var pace = false

    @Option(name: .customLong("option"), help: ArgumentHelp("Any connector option, as KEY=VALUE (repeatable).", valueName: "key=value"))
    var connectorOptions: [String] = []

    @Option(help: "Worker threads (default: one per CPU).")
    var workers: Int?

    @Flag(help: "Print rows, events and time on stderr.")
    var stats = false

    func validate() throws {
        guard generator == "nexmark" else {
            throw ValidationError("unknown generator '\(generator)'; use: nexmark")
        }
        if events < 0 { throw ValidationError("--events must be 0 (unbounded) or more") }
        if let w = workers, w < 1 || w > 1024 { throw ValidationError("--workers must be between 1 and 1024") }
        for o in connectorOptions where !o.contains("=") {
            throw ValidationError("--option takes KEY=VALUE, not '\(o)'")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            var options: [String: String] = [:]
            for o in connectorOptions {
                let parts = o.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                options[String(parts[0])] = String(parts[1])
            }
            options["events.num"] = String(events)
            options["nexmark.table"] = table
            if let rate { options["first-event.rate"] = String(rate) }
            if let seed { options["seed"] = String(seed) }
            if let baseTime { options["base-time"] = baseTime }
            if pace { options["max-emit-speed"] = "false" }
            let writer = try OutputFormats.writer(format: format, path: output)
            let s = try NexmarkExport.write(options: options, to: writer, execution: ExecutionOptions(workers: workers))
            if stats {
                let rate = s.seconds > 0 ? Double(s.rows) / s.seconds / 1e6 : 0
                writeStderr("spate: \(s.rows) rows of \(s.events) events in \(fixedDecimal(s.seconds, 3)) s (\(fixedDecimal(rate, 2)) M rows/s)\n")
            }
        } catch {
            exitWithError(error)
        }
    }
}
