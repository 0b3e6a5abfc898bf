import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Result formats of `spate sql -o`, `spate gen`, `spate convert` and `spate replay`.
public enum OutputFormats {
    public typealias Factory = @Sendable (_ path: String?) throws -> ResultWriter

    /// Writers by format name.
    static let writers: [String: Factory] = [
        "csv": { try CSVResultWriter(path: $0) },
        "tsv": { try CSVResultWriter(path: $0, delimiter: 9) },
        "blackhole": { _ in BlackholeWriter() },
        "spate": { try CaptureResultWriter(path: $0) },
        "jsonl": { try JSONLinesResultWriter(path: $0) },
        "json": { try JSONLinesResultWriter(path: $0) },
        "table": { try TableResultWriter(path: $0) },
    ]

    /// Extensions that imply a format when none is named.
    static let extensions: [String: String] = [
        "csv": "csv", "tsv": "tsv",
        "spate": "spate",
        "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl",
    ]

    public static var names: [String] { writers.keys.sorted() }

    /// The format for `path` (nil or "-": standard output) when the user named none: by
    /// extension, else CSV; an aligned table when standard output is a terminal.
    public static func defaultFormat(for path: String?, stdoutIsTerminal: Bool = isatty(1) != 0) -> String {
        guard let path, path != "-" else { return stdoutIsTerminal ? "table" : "csv" }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return "csv" }
        return extensions[name[name.index(after: dot)...].lowercased()] ?? "csv"
    }

    /// A writer of `format` to `path` (nil or "-": standard output).
    public static func writer(format: String?, path: String?) throws -> ResultWriter {
        let name = (format ?? defaultFormat(for: path)).lowercased()
        guard let make = writers[name] else {
            throw SpateError(.usage, "unknown output format '\(name)'", hint: "use one of: " + names.joined(separator: ", "))
        }
        return try make(path)
    }
}
