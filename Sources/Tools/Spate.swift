import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

@main
struct Spate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spate",
        abstract: "Streaming SQL over CSV files, on one machine.",
        discussion: """
            Spate runs Flink-style SQL (tables with watermarks, event-time windows) over
            columnar micro-batches with vectorised kernels and one worker per core.

            Examples:
              spate sql -f data/q_tumble.sql
              spate sql "CREATE TABLE bids (auction BIGINT, price BIGINT, ts TIMESTAMP(3),
                           WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
                         WITH ('connector'='filesystem', 'path'='data/bids.csv', 'format'='csv');
                         SELECT window_start, auction, COUNT(*) AS n, MAX(price) AS top
                         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
                         GROUP BY window_start, window_end, auction"
            """,
        version: SpateVersion.string,
        subcommands: [SQLCommand.self, BenchCommand.self, ReplayCommand.self, RecordCommand.self, GenCommand.self, InspectCommand.self, ConvertCommand.self]
    )
}

/// Prints an error the way the whole tool does and exits with its code
/// (1: data or runtime error, 64: usage or SQL error).
func exitWithError(_ error: Error) -> Never {
    let text: String
    let code: Int32
    if let e = (error as? SpateError) ?? (error as? ConnectorError)?.spateError {
        text = e.description
        code = e.exitCode
    } else {
        text = "error: \(error)"
        code = 1
    }
    let colored = isatty(2) != 0 ? colorize(text) : text
    writeStderr(colored + "\n")
    exit(code)
}

/// Bold red "error:" on a terminal.
func colorize(_ text: String) -> String {
    guard let r = text.firstRange(of: "error:") else { return text }
    var out = text
    out.replaceSubrange(r, with: "\u{1B}[1;31merror:\u{1B}[0m")
    return out
}

/// Writes text to standard error (unbuffered, so it interleaves sanely with stdout).
func writeStderr(_ text: String) {
    var copy = text
    copy.withUTF8 { buf in
        var offset = 0
        while offset < buf.count {
            let n = write(2, buf.baseAddress! + offset, buf.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}
