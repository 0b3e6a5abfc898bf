import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a data file: a capture file's schema, rows, time range, blocks and sizes; a CSV file's dialect and inferred schema.",
        discussion: """
            For a capture file (.spate): the schema and its event-time column, rows and
            blocks, the event-time range, each column's stored and decoded size with the
            compression ratio and encodings. With --verify every block is checked
            (checksums, decompression, decoding) and the good and bad blocks are listed;
            the exit code is 1 when any block is damaged. Any other file is read as CSV:
            its dialect, inferred schema, record count and a few rows.

            Examples:
              spate inspect bids.spate
              spate inspect --verify bids.spate
              spate inspect data/bids.csv
            """
    )

    @Argument(help: "The file to describe.")
    var file: String

    @Flag(help: "Check every block of a capture file and list the good and damaged ones.")
    var verify = false

    @Option(name: [.short, .customLong("delimiter")], help: "CSV field delimiter (default ',', tab for .tsv).")
    var delimiter: String?

    @Flag(help: "The CSV file has no header line.")
    var noHeader = false

    func run() throws {
        do {
            guard CaptureFormat.isCaptureFile(path: file) else {
                try inspectOther()
                return
            }
            let (text, ok) = try CaptureInspect.report(path: file, verify: verify)
            print(text)
            if !ok { Glibc.exit(1) }
        } catch {
            exitWithError(error)
        }
    }

    /// Files that are not capture files: CSV (the CSV reader's own inspection).
    private func inspectOther() throws {
        var st = stat()
        guard stat(file, &st) == 0 else {
            throw SpateError(.usage, "cannot open '\(file)': \(String(cString: strerror(errno)))")
        }
        var options = CSVOptions()
        if file.lowercased().hasSuffix(".tsv") { options.delimiter = 9 }
        if let d = delimiter {
            let text = d == "\\t" ? "\t" : d
            guard text.utf8.count == 1, let b = text.utf8.first else {
                throw SpateError(.usage, "--delimiter must be a single character, not '\(d)'")
            }
            options.delimiter = b
        }
        if noHeader { options.header = false }
        print(try Inspect.csv(path: file, options: options), terminator: "")
    }
}
