import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a data file: a capture file's schema, rows, time range, blocks and sizes.",
        discussion: """
            For a capture file (.spate): the schema and its event-time column, rows and
            blocks, the event-time range, each column's stored and decoded size with the
            compression ratio and encodings. With --verify every block is checked
            (checksums, decompression, decoding) and the good and bad blocks are listed;
            the exit code is 1 when any block is damaged.

            Examples:
              spate inspect bids.spate
              spate inspect --verify bids.spate
            """
    )

    @Argument(help: "The file to describe.")
    var file: String

    @Flag(help: "Check every block of a capture file and list the good and damaged ones.")
    var verify = false

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

    /// Files that are not capture files.
    private func inspectOther() throws {
        var st = stat()
        guard stat(file, &st) == 0 else {
            throw SpateError(.usage, "cannot open '\(file)': \(String(cString: strerror(errno)))")
        }
        throw SpateError(.data, "not a capture file (it does not start with SPATECAP)", path: file,
                         hint: "spate inspect describes capture files; write one with `spate convert \(file) OUT.spate --schema ...`")
    }
}
