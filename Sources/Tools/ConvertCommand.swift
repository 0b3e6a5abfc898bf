import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a file between formats (CSV, capture files, ...), in parallel.",
        discussion: """
            Reads IN with any input format Spate knows (from --input-format, else from the
            extension) and writes OUT in any output format (from --format, else from the
            extension). Capture files (.spate) are compressed block by block on all
            cores; the output appears only once it is complete.

            Examples:
              spate convert bids.csv bids.spate --schema "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)"
              spate convert bids.spate bids.csv
              spate convert bids.spate - --format csv | head
              spate convert data.csv data.spate --schema "id BIGINT, t TIMESTAMP(3)" --time-column t
            """
    )

    @Argument(help: "The input file.")
    var input: String

    @Argument(help: "The output file, or - for standard output.")
    var output: String

    @Option(help: "Output format (default: from OUT's extension, else csv).")
    var format: String?

    @Option(name: .customLong("input-format"), help: "Input format (default: from IN's extension, else csv).")
    var inputFormat: String?

    @Option(help: "The input's columns, as in CREATE TABLE (needed for CSV unless the reader infers them).")
    var schema: String?

    @OptionGroup(title: "CSV input")
    var csv: CSVInputOptions

    @Option(name: .customLong("option"), help: ArgumentHelp("An input table option, as in WITH (...): key=value (repeatable).", valueName: "key=value"))
    var tableOptions: [String] = []

    @Option(name: .customLong("time-column"), help: "The event-time column of a capture output (default: the first TIMESTAMP column; '' for none).")
    var timeColumn: String?

    @Option(name: .customLong("block-rows"), help: ArgumentHelp("Rows per block of a capture output (default 131072).", visibility: .hidden))
    var blockRows: Int?

    @Option(help: "Worker threads (default: one per CPU).")
    var workers: Int?

    @Flag(name: .shortAndLong, help: "Print nothing on stderr but errors.")
    var quiet = false

    func validate() throws {
        if let w = workers, w < 1 || w > 1024 { throw ValidationError("--workers must be between 1 and 1024") }
        if let b = blockRows, b < 1 || b > 1 << 30 { throw ValidationError("--block-rows must be between 1 and 2^30") }
        for o in tableOptions where !o.contains("=") {
            throw ValidationError("--option takes key=value, not '\(o)'")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            try execute()
        } catch {
            exitWithError(error)
        }
    }

    private func execute() throws {
        var options: [String: String] = ["connector": "filesystem", "path": input]
        if let inputFormat { options["format"] = inputFormat }
        options.merge(try csv.tableOptions()) { _, flag in flag }
        for o in tableOptions {
            let parts = o.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options[String(parts[0])] = String(parts[1])
        }
        let declared = try schema.map(Record.schema) ?? Schema([])
        let provider: TableProvider
        do {
            provider = try Connectors.make(ConnectorContext(tableName: "input", declared: declared, options: options))
        } catch let e as ConnectorError {
            var err = e.spateError
            if e.message.contains("declares no columns") {
                err.hint = "give the columns with --schema \"a BIGINT, b VARCHAR, ts TIMESTAMP(3)\""
            }
            throw err
        }
        let writer = try OutputFormats.writer(format: format, path: output)
        if let blockRows {
            guard let capture = writer as? CaptureResultWriter else {
                throw SpateError(.usage, "--block-rows applies to capture output (--format spate)")
            }
            capture.options.blockRows = blockRows
        }
        if let timeColumn {
            guard let capture = writer as? CaptureResultWriter else {
                throw SpateError(.usage, "--time-column applies to capture output (--format spate)")
            }
            capture.timeColumn = timeColumn
        }
        let stats = try Convert.run(provider: provider, writer: writer,
                                    options: ExecutionOptions(workers: workers))
        if !quiet && output != "-" {
            let mb = Double(stats.bytesRead) / 1e6
            var line = "spate: converted \(stats.rowsOut) rows (\(fixedDecimal(mb, 1)) MB in) to \(output) in \(fixedDecimal(stats.seconds, 3)) s"
            if let capture = writer as? CaptureResultWriter, let s = capture.summary {
                line += ", \(fixedDecimal(Double(s.bytes) / 1e6, 1)) MB in \(s.blocks) block\(s.blocks == 1 ? "" : "s")"
            }
            writeStderr(line + "\n")
        }
    }
}
