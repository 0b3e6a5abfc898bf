/// How a CSV file is laid out.
public struct CSVOptions: Sendable, Hashable {
    /// The field separator; any byte but the quote, CR, LF and NUL.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// The quote byte (RFC 4180 `"`), doubled inside a quoted field.
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// Whether the first record names the fields (it is then not data).
    public var header: Bool = true

    public init(
        delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), header: Bool = true
    ) {
        self.delimiter = delimiter
        self.quote = quote
        self.header = header
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

/// A byte range of the file; its records are those that start in it.
public struct CSVMorsel: Sendable, Hashable {
    public let index: Int
    public let start: Int
    public let end: Int

    public init(index: Int, start: Int, end: Int) {
        self.index = index
        self.start = start
        self.end = end
    }
}
