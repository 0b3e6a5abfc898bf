import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file's bytes: memory-mapped when it is a regular file (read sequentially,
/// so the kernel reads ahead), otherwise read into memory (pipes, devices).
///
/// The bytes never move or change while the object lives, so scans keep raw pointers
/// into them; nothing is copied into Swift arrays.
public final class CSVFile: @unchecked Sendable {
    /// The bytes (mapped, or read in for pipes and devices).
    public let input: MappedInput
    public var path: String { input.path }
    public var size: Int { input.size }
    /// The first byte; nil when the file is empty.
    var bytes: UnsafePointer<UInt8>? { input.bytes }
    /// Where the text starts: 3 after a UTF-8 byte order mark, else 0.
    public var dataStart: Int {
        guard let bytes, size >= 3 else { return 0 }
        return bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }
    /// Lines before this file's first byte (a chunk of standard input), added to the
    /// line numbers of errors.
    public var lineOffset = 0

    /// Opens and maps `path`. Throws `SpateError(.io)` naming the path and the reason.
    public init(path: String) throws {
        input = try MappedInput(path: path, what: "a CSV file")
    }

    /// A file held in memory (tests, data that arrived some other way). `path` is
    /// only used to name it in errors.
    public convenience init(contents: some Sequence<UInt8>, path: String) {
        self.init(copying: Array(contents), path: path)
    }

    /// A file held in memory, copied from `array`.
    public init(copying array: [UInt8], path: String) {
        input = MappedInput(contents: array, path: path)
    }

    /// Tells the kernel this process is done with bytes [start, end) for now: the
    /// pages leave the process's resident set (they stay in the page cache, and a
    /// later read maps them again). Keeps the RSS of a scan over a big mapped file at
    /// a few morsels instead of the whole file.
    public func release(from start: Int, to end: Int) { input.release(from: start, to: end) }

    /// Header fields (parsed properly, quotes honoured, after a BOM and comment
    /// lines), nil when the file has no record. Used to check/infer the schema.
    public func readHeader(options: CSVOptions) throws -> [String]? {
        try options.validate()
        guard let bytes, size > dataStart else { return nil }
        let splitter = CSVRecordSplitter(bytes: bytes, size: size, options: options)
        var pos = dataStart
        while pos < size {
            let record = splitter.split(at: pos)
            if let error = record.error {
                throw structuralError(error, recordStart: pos, options: options, columnNames: [:])
            }
            if !record.isComment { return record.fields.map { splitter.value(of: $0) } }
            pos = record.next
        }
        return nil
    }

    /// Up to `limit` records from the start (header included, comments and blank lines
    /// of multi-field files left out), each as its field values (nil: NULL). Stops
    /// quietly at the first malformed record. For inference and previews.
    public func sampleRecords(options: CSVOptions, limit: Int) -> [[String?]] {
        guard let bytes, size > dataStart, (try? options.validate()) != nil else { return [] }
        let splitter = CSVRecordSplitter(bytes: bytes, size: size, options: options)
        var out: [[String?]] = []
        var pos = dataStart
        while pos < size && out.count < limit {
            let record = splitter.split(at: pos)
            if record.error != nil { break }
            pos = record.next
            if record.isComment { continue }
            if record.fields.count == 1 && record.fields[0].end == record.fields[0].start && !record.fields[0].quoted {
                continue  // a blank line
            }
            out.append(record.fields.map { splitter.nullableValue(of: $0) })
        }
        return out
    }

    // MARK: - Error locations

    /// Byte at `i` (the caller keeps `i` in bounds).
    @inline(__always) func byte(_ i: Int) -> UInt8 { bytes![i] }

    /// 1-based line (every LF before `pos` counts, quoted or not), 1-based character
    /// column of `pos`, and the text of that line without its line break.
    /// `known`: a position at or before `pos` whose line is known (saves counting the
    /// line feeds from the start of a big file).
    func location(of pos: Int, known: (pos: Int, line: Int)? = nil) -> (line: Int, column: Int, text: String) {
        guard let bytes, size > 0 else { return (1 + lineOffset, 1, "") }
        let p = min(max(pos, 0), size)
        let line: Int
        if let known, known.pos <= p {
            line = known.line + ck_csv_count_byte(bytes + known.pos, p - known.pos, UInt8(ascii: "\n"))
        } else {
            line = 1 + lineOffset + ck_csv_count_byte(bytes, p, UInt8(ascii: "\n"))
        }
        var start = p
        while start > 0 && bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        var end = p
        while end < size && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        var textEnd = end
        if textEnd > start && bytes[textEnd - 1] == UInt8(ascii: "\r") { textEnd -= 1 }
        var column = 1
        let from = start == 0 ? min(dataStart, p) : start
        for i in from..<p where bytes[i] & 0xC0 != 0x80 { column += 1 }
        if start == 0 && dataStart > 0 { start = min(dataStart, textEnd) }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: textEnd - start), as: UTF8.self)
        return (line, column, text)
    }

    /// A data error at byte `pos`, rendered `path:line:column`.
    func dataError(at pos: Int, _ message: String, hint: String?, known: (pos: Int, line: Int)? = nil) -> SpateError {
        let loc = location(of: pos, known: known)
        return SpateError(.data, message, path: path, line: loc.line, column: loc.column,
                          sourceLine: loc.text, hint: hint)
    }

    /// The message for a quoting error found in the record starting at `recordStart`.
    func structuralError(
        _ e: CSVRecordSplitter.Failure, recordStart: Int, options: CSVOptions, columnNames: [Int: String],
        known: (pos: Int, line: Int)? = nil
    ) -> SpateError {
        func dataError(at pos: Int, _ message: String, hint: String?) -> SpateError {
            self.dataError(at: pos, message, hint: hint, known: known)
        }
        let field = "field \(e.fieldIndex + 1)" + (columnNames[e.fieldIndex].map { " ('\($0)')" } ?? "")
        switch e.kind {
        case .strayQuote:
            return dataError(
                at: e.fieldStart, "quote character inside unquoted \(field)",
                hint: "enclose the whole field in quotes and double each quote inside it "
                    + "(\"5\"\" disk\" for 5\" disk), or remove the quote (or read quotes inside "
                    + "fields as data: turn strict quotes off)")
        case .textAfterQuote:
            return dataError(
                at: e.fieldStart, "unexpected text after the closing quote of \(field)",
                hint: "a quoted field must end at its closing quote; double each quote that "
                    + "is part of the value (\"\")")
        case .unterminated:
            return dataError(
                at: e.fieldStart, "unterminated quoted field: the quote that opens \(field) is never closed",
                hint: "close the quote, or double each quote that is part of the value (\"\")")
        }
    }
}

// MARK: - Scalar record splitter

/// A byte-at-a-time record parser with the same rules as the kernels (the dialect's
/// escapes, comment lines and stray quotes included). Used where speed does not
/// matter: the header, samples, and describing an error precisely.
struct CSVRecordSplitter {
    let bytes: UnsafePointer<UInt8>
    let size: Int
    let delimiter: UInt8
    let quote: UInt8
    let escape: UInt8?
    let comment: UInt8?
    let strictQuotes: Bool
    let nullLiteral: [UInt8]?

    init(bytes: UnsafePointer<UInt8>, size: Int, options: CSVOptions) {
        self.bytes = bytes
        self.size = size
        delimiter = options.delimiter
        quote = options.quote
        escape = options.escape
        comment = options.comment
        strictQuotes = options.strictQuotes
        nullLiteral = options.nullLiteral.map { Array($0.utf8) }
    }

    struct Failure {
        enum Kind { case strayQuote, textAfterQuote, unterminated }
        var kind: Kind
        /// Where the bad field starts (its opening quote for quoted fields).
        var fieldStart: Int
        var fieldIndex: Int
    }

    /// A field's raw span (quotes included, the CR before a LF excluded).
    struct Span {
        var start: Int
        var end: Int
        var quoted: Bool
    }

    struct Record {
        var fields: [Span] = []
        /// Position just after the record's line break (or `size`).
        var next: Int = 0
        /// Position of the record's line break (`size` when it has none).
        var lineEnd: Int = 0
        var error: Failure?
        /// A comment line (no fields).
        var isComment = false
    }

    /// Splits the record starting at `start`.
    func split(at start: Int) -> Record {
        var rec = Record()
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        if let comment, start < size, bytes[start] == comment {
            var i = start
            while i < size && bytes[i] != lf { i += 1 }
            rec.isComment = true
            rec.lineEnd = i
            rec.next = i < size ? i + 1 : size
            return rec
        }
        var i = start
        func fail(_ kind: Failure.Kind, _ fs: Int, _ rec: inout Record) {
            rec.error = Failure(kind: kind, fieldStart: fs, fieldIndex: rec.fields.count)
            rec.next = size
            rec.lineEnd = size
        }
        while true {
            let fs = i
            if i < size && bytes[i] == quote {
                i += 1
                while true {
                    guard i < size else {
                        fail(.unterminated, fs, &rec)
                        return rec
                    }
                    let c = bytes[i]
                    if let escape, c == escape {
                        i += 2
                        continue
                    }
                    if c == quote {
                        if i + 1 < size && bytes[i + 1] == quote { i += 2; continue }
                        i += 1
                        break
                    }
                    i += 1
                }
                let span = Span(start: fs, end: i, quoted: true)
                if i == size || (bytes[i] == cr && i + 1 == size) {
                    rec.fields.append(span)
                    rec.lineEnd = i
                    rec.next = size
                    return rec
                }
                let c = bytes[i]
                if c == delimiter {
                    rec.fields.append(span)
                    i += 1
                    continue
                }
                if c == lf || (c == cr && bytes[i + 1] == lf) {
                    rec.fields.append(span)
                    rec.lineEnd = c == lf ? i : i + 1
                    rec.next = rec.lineEnd + 1
                    return rec
                }
                fail(.textAfterQuote, fs, &rec)
                return rec
            }
            while i < size {
                let c = bytes[i]
                if c == delimiter || c == lf { break }
                if c == quote && strictQuotes {
                    fail(.strayQuote, fs, &rec)
                    return rec
                }
                i += 1
            }
            if i < size && bytes[i] == delimiter {
                rec.fields.append(Span(start: fs, end: i, quoted: false))
                i += 1
                continue
            }
            // A LF or the end of the file ends the record; a CR just before either is
            // part of the line break.
            var end = i
            if end > fs && bytes[end - 1] == cr { end -= 1 }
            rec.fields.append(Span(start: fs, end: end, quoted: false))
            rec.lineEnd = i
            rec.next = i < size ? i + 1 : size
            return rec
        }
    }

    /// The field's text: unquoted, `""` made one quote, escapes resolved.
    func value(of span: Span) -> String {
        String(decoding: valueBytes(of: span), as: UTF8.self)
    }

    func valueBytes(of span: Span) -> [UInt8] {
        var out = [UInt8]()
        if span.quoted {
            var i = span.start + 1
            let end = span.end - 1
            while i < end {
                if let escape, bytes[i] == escape, i + 1 < end {
                    out.append(bytes[i + 1])
                    i += 2
                    continue
                }
                out.append(bytes[i])
                i += bytes[i] == quote ? 2 : 1
            }
        } else {
            out.append(contentsOf: UnsafeBufferPointer(start: bytes + span.start, count: span.end - span.start))
        }
        return out
    }

    /// The value, or nil for NULL (an empty unquoted field or the null literal).
    func nullableValue(of span: Span) -> String? {
        if !span.quoted {
            if span.end == span.start { return nil }
            if let nullLiteral, span.end - span.start == nullLiteral.count,
               nullLiteral.elementsEqual(UnsafeBufferPointer(start: bytes + span.start, count: nullLiteral.count))
            {
                return nil
            }
        }
        return value(of: span)
    }
}
