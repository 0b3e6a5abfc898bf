import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Write a recorded file's events at their original pace, or faster.",
        discussion: """
            Events are written when they are due: the gaps between them (by event time,
            or by arrival time for files recorded with --stamp-arrival) divided by
            --speed. At the end the replay reports its own pacing error on stderr.
            To feed a recording into a query instead, declare a table with
            'connector' = 'replay' (see `spate sql --help`).

            Examples:
              spate replay bids.spate --speed 10x
              spate replay bids.spate --speed max --format jsonl -o bids.jsonl
              spate replay data/bids.csv --speed 1x --time-column ts | head
            """
    )

    @Argument(help: "The recorded file (a capture file, or any format spate reads).")
    var file: String

    @Option(help: "1x (original pace), 10x, 0.5x, ... or max.")
    var speed = "1x"

    @Option(help: "Pace by 'event-time' or 'arrival'.")
    var by = "event-time"

    @Option(help: "The TIMESTAMP column to pace by (default: arrival_time, or the first TIMESTAMP column).")
    var timeColumn: String?

    @OptionGroup(title: "CSV input")
    var csv: CSVInputOptions

    @Option(help: "The file's columns, as in CREATE TABLE, for formats that do not carry a schema.")
    var schema: String?

    @Option(help: "Output format (default: from -o's extension, else csv).")
    var format: String?

    @Option(name: [.short, .customLong("output")], help: "Write here instead of standard output.")
    var output: String?

    @Flag(name: .shortAndLong, help: "Do not print the pacing report.")
    var quiet = false

    func validate() throws {
        if ReplaySpeed(speed) == nil { throw ValidationError("--speed must be like 1x, 10x, 0.5x or max") }
        if by != "event-time" && by != "arrival" { throw ValidationError("--by must be event-time or arrival") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            let writer = try OutputFormats.writer(format: format, path: output)
            let declared = try schema.map(Record.schema) ?? Schema([])
            let report = try Replay.run(path: file, declared: declared, options: try csv.tableOptions(), speed: ReplaySpeed(speed)!, by: by,
                                        timeColumn: timeColumn, writer: writer,
                                        batchCapacity: ExecutionOptions().batchCapacity)
            if !quiet && !writer.isClosed { writeStderr("spate: " + report.summary + "\n") }
        } catch {
            exitWithError(error)
        }
    }
}
