/// The error every layer of Spate reports to the user: what went wrong, where (a file
/// with line and column, or a position in the SQL text), and what would fix it.
///
/// `description` renders it the way compilers do:
/// ```
/// bids.csv:1042:17: error: 'abc' is not a valid BIGINT (column 'price')
///   1042 | 17,4,abc,Google
///        |      ^
/// hint: declare the column as VARCHAR, or fix the value
/// ```
public struct SpateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Wrong command-line use or a query that cannot run (exit code 64 for the CLI).
        case usage
        /// The SQL text is wrong.
        case sql
        /// The input data is malformed.
        case data
        /// A file could not be opened, read or written.
        case io
        /// Anything else that stopped a running query.
        case runtime
    }

    public var kind: Kind
    public var message: String
    /// File name or "<query>" for SQL text.
    public var path: String?
    /// 1-based.
    public var line: Int?
    /// 1-based, in characters.
    public var column: Int?
    /// The text of the offending line, for the caret display.
    public var sourceLine: String?
    public var hint: String?
    /// A complete rendering made by the layer that raised the error (the SQL front end
    /// renders its own caret display); when set, `description` returns it as is.
    public var rendered: String?

    public init(
        _ kind: Kind, _ message: String, path: String? = nil, line: Int? = nil,
        column: Int? = nil, sourceLine: String? = nil, hint: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.sourceLine = sourceLine
        self.hint = hint
    }

    /// 64 for usage and SQL errors (the caller must change the command), 1 otherwise.
    public var exitCode: Int32 {
        switch kind {
        case .usage, .sql: return 64
        default: return 1
        }
    }

    public var description: String {
        if let rendered { return rendered }
        var out = ""
        if let path { out += path + ":" }
        if let line {
            out += "\(line):"
            if let column { out += "\(column):" }
        }
        if !out.isEmpty { out += " " }
        out += "error: " + message
        if let sourceLine, let line {
            let shown = sourceLine.count > 200 ? String(sourceLine.prefix(200)) + "…" : sourceLine
            let gutter = String(line)
            out += "\n  \(gutter) | " + String(shown.map { $0 == "\t" ? " " : $0 })
            if let column, column >= 1, column <= shown.count + 1 {
                out += "\n  " + String(repeating: " ", count: gutter.count) + " | "
                    + String(repeating: " ", count: column - 1) + "^"
            }
        }
        if let hint { out += "\nhint: " + hint }
        return out
    }
}
