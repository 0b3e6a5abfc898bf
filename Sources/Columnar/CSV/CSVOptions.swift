import CKernels

/// What the reader does with a record it cannot read (wrong number of fields, bad
/// quoting, a value that is not of its column's type).
public enum CSVBadRowPolicy: Sendable, Hashable {
    /// Stop with an error naming `path:line:column` (the default).
    case fail
    /// Leave the record out; the rows left out are counted and reported.
    case skip
    /// Leave it out and write it, with its line number and the error, to a file.
    case deadLetter(path: String)
}

/// How a CSV file is laid out.
public struct CSVOptions: Sendable, Hashable {
    /// The field separator; any byte but the quote, CR, LF and NUL.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// The quote byte (RFC 4180 `"`), doubled inside a quoted field.
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// Whether the first record names the fields (it is then not data).
    public var header: Bool = true
    /// Inside a quoted field, this byte makes the next one literal (`\"` for a
    /// quote); nil (the default): only `""` escapes a quote.
    public var escape: UInt8? = nil
    /// An unquoted field equal to this text is NULL (e.g. `NA`, `\N`); an empty
    /// unquoted field always is.
    public var nullLiteral: String? = nil
    /// Lines whose first byte is this (`#`) are comments, not records.
    public var comment: UInt8? = nil
    /// A quote inside an unquoted field (`5" disk`): data when false (the default,
    /// like Python's csv module and xsv), an error when true (strict RFC 4180).
    public var strictQuotes: Bool = false
    public var badRows: CSVBadRowPolicy = .fail

    public init(
        delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), header: Bool = true,
        escape: UInt8? = nil, nullLiteral: String? = nil, comment: UInt8? = nil, strictQuotes: Bool = false,
        badRows: CSVBadRowPolicy = .fail
    ) {
        self.delimiter = delimiter
        self.quote = quote
        self.header = header
        self.escape = escape
        self.nullLiteral = nullLiteral
        self.comment = comment
        self.strictQuotes = strictQuotes
        self.badRows = badRows
    }

    /// Throws a usage error for a delimiter or quote the reader cannot work with.
    public func validate() throws {
        let reserved: [UInt8] = [0, UInt8(ascii: "\n"), UInt8(ascii: "\r")]
        if reserved.contains(delimiter) || reserved.contains(quote) {
            throw SpateError(
                .usage, "the CSV delimiter and quote cannot be NUL, CR or LF",
                hint: "use a printable delimiter such as ',' ';' '|' or a tab")
        }
        if delimiter == quote {
            throw SpateError(
                .usage, "the CSV delimiter and quote must differ",
                hint: "the quote is '\"' by default; pick another delimiter")
        }
        if let e = escape, reserved.contains(e) || e == quote || e == delimiter {
            throw SpateError(
                .usage, "the CSV escape character must differ from the quote and the delimiter and cannot be NUL, CR or LF",
                hint: "the usual escape character is a backslash: '\\'")
        }
        if let c = comment, reserved.contains(c) || c == quote || c == delimiter {
            throw SpateError(
                .usage, "the CSV comment character must differ from the quote and the delimiter",
                hint: "comments are lines that start with '#'")
        }
        if let n = nullLiteral {
            let bytes = Array(n.utf8)
            if bytes.isEmpty || bytes.contains(where: { reserved.contains($0) || $0 == delimiter }) {
                throw SpateError(
                    .usage, "the CSV null literal '\(n)' can never match a field",
                    hint: "use text without the delimiter or line breaks, such as 'NA' or '\\N' (an empty field is NULL anyway)")
            }
        }
        if case .deadLetter(let path) = badRows, path.isEmpty {
            throw SpateError(.usage, "the dead-letter file needs a path", hint: "set 'csv.dead-letter-path'")
        }
    }

    /// Escapes or comment lines need the byte-at-a-time scanner.
    var needsGeneralScanner: Bool { escape != nil || comment != nil }

    var dialect: ck_csv_dialect {
        ck_csv_dialect(
            delim: delimiter, quote: quote, escape: escape ?? 0, comment: comment ?? 0,
            has_escape: escape == nil ? 0 : 1, has_comment: comment == nil ? 0 : 1,
            strict_quotes: strictQuotes ? 1 : 0, tolerant: 0)
    }

    /// The delimiter as users write it (a tab as `\t`).
    var delimiterName: String {
        delimiter == 9 ? "\\t" : String(decoding: [delimiter], as: UTF8.self)
    }
}

/// A field of the file to materialise: its 0-based position in each record, its name
/// (for errors) and type.
public struct CSVColumn: Sendable, Hashable {
    public var fieldIndex: Int
    public var name: String
    public var type: DataType

    public init(fieldIndex: Int, name: String, type: DataType) {
        self.fieldIndex = fieldIndex
        self.name = name
        self.type = type
    }
}

