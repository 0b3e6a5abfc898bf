import ArgumentParser
import Columnar
import Engine

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a stream (stdin or a file) into a compressed capture file.",
        discussion: """
            Reads standard input (or a file) as it arrives and writes a capture file,
            complete once the input ends (written under a temporary name, then renamed).
            With --stamp-arrival every row gets an arrival_time column, so that
            `spate replay --by arrival` can reproduce the original timing.

            Examples:
              producer | spate record -o events.spate --schema "id BIGINT, ts TIMESTAMP(3)" --stamp-arrival
              spate record data/bids.csv -o bids.spate --schema "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)"
            """
    )

    @Argument(help: "The input file, or - for standard input.")
    var input = "-"

    @Option(name: [.short, .customLong("output")], help: "The capture file to write.")
    var output: String

    @Option(help: "Output format (default: from the extension; spate for .spate).")
    var format: String?

    @Option(name: .customLong("input-format"), help: "Input format: csv, json, ... (default: from the extension, else csv).")
    var inputFormat: String?

    @Option(help: "The input's columns, as in CREATE TABLE (default: inferred where the format can).")
    var schema: String?

    @OptionGroup(title: "CSV input")
    var csv: CSVInputOptions

    @Flag(help: "Add an arrival_time column with the wall-clock time each row was read.")
    var stampArrival = false

    @Flag(name: .shortAndLong, help: "Do not print the summary.")
    var quiet = false

    func run() throws {
        do {
            let declared = try schema.map(Record.schema) ?? Schema([])
            var options = try csv.tableOptions()
            if let inputFormat { options["format"] = inputFormat }
            let writer = try OutputFormats.writer(format: format, path: output)
            let summary = try Record.run(input: input, declared: declared, options: options, stampArrival: stampArrival,
                                         writer: writer, batchCapacity: ExecutionOptions().batchCapacity)
            if !quiet {
                writeStderr("spate: recorded \(summary.rows) rows into \(output) in \(fixedDecimal(summary.seconds, 3)) s\n")
            }
        } catch {
            exitWithError(error)
        }
    }
}
