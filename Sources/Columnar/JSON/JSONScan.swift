import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of the JSON lines reader (Flink's json format options where they apply).
public struct JSONOptions: Sendable, Hashable {
    /// Which timestamp text is accepted (`'json.timestamp-format.standard'`).
    public enum TimestampStandard: String, Sendable, Hashable {
        /// Both `2024-01-02 03:04:05.678` and `2024-01-02T03:04:05.678` (the default:
        /// neither standard is named).
        case any
        /// Flink's 'SQL': a space between date and time.
        case sql
        /// Flink's 'ISO-8601': a `T` between date and time.
        case iso8601
    }

    /// `'json.ignore-parse-errors'`: skip bad lines (counted) instead of failing.
    public var ignoreParseErrors = false
    public var timestampStandard: TimestampStandard = .any

    public init(ignoreParseErrors: Bool = false, timestampStandard: TimestampStandard = .any) {
        self.ignoreParseErrors = ignoreParseErrors
        self.timestampStandard = timestampStandard
    }
}

/// A column the JSON reader fills: the value of key `name` (exact, else ignoring
/// ASCII case), converted to `type`.
public struct JSONColumn: Sendable, Hashable {
    public var name: String
    public var type: DataType

    public init(name: String, type: DataType) {
        self.name = name
        self.type = type
    }
}

/// One parallel scan of a JSON lines file: one flat object per line, typed by the
/// declared columns.
///
/// The file is cut into byte-range morsels; a morsel's rows are the lines that start
/// in it. JSON strings cannot hold a raw line feed, so the first line of a morsel
/// starts right after the first LF at or after its start: morsels are parsed
/// independently, exactly, in any order.
///
/// Rules: keys in any order; a missing key or `null` is NULL; keys no column takes
/// are checked (full JSON grammar, nested values included) and ignored; a key given
/// twice keeps its last value (as Jackson, hence Flink, does); blank lines (spaces,
/// tabs, a CR) are skipped; CRLF line ends and a leading UTF-8 BOM are fine. Numbers go into BIGINT only when
/// they are integers in range, into DOUBLE correctly rounded; a string holding a
/// number, boolean or timestamp is converted too (as Flink's json format does);
/// numbers and booleans in a VARCHAR column keep their JSON text. TIMESTAMP columns
/// take a timestamp string or integer epoch milliseconds. An object or array in a
/// column is an error. Strings stored in columns are checked to be UTF-8.
///
/// Errors: the first bad line stops the scan with `path:line:column: error: ...`
/// and a hint, unless `ignoreParseErrors` skips it (see `skippedLines`). With several
/// workers the error reported is always the first in the file.
public final class JSONScan: @unchecked Sendable {
    public let file: MappedInput
    public let columns: [JSONColumn]
    public let options: JSONOptions
    public let batchCapacity: Int
    public let morselSize: Int
    public let morselCount: Int
    /// The columns, in order.
    public let outputSchema: Schema

    private let lock = Monitor()
    private let ranges: MorselRanges
    private var succeeded: [Bool]
    private var skipped = 0
    private var pool: [JSONParseContext] = []
    /// Column names, NUL-free UTF-8, concatenated (the parser keeps pointers into it).
    private let names: UnsafeMutablePointer<UInt8>
    private let nameRanges: [(Int, Int)]

    /// Initial index entries: a 64 KiB window (at most one structural per byte).
    static let initialIndexCapacity = (64 << 10) + 128

    public init(file: MappedInput, columns: [JSONColumn], options: JSONOptions, batchCapacity: Int, morselSize: Int = 8 << 20) {
        precondition(batchCapacity >= 1 && morselSize >= 1, "batch capacity and morsel size must be positive")
        self.file = file
        self.columns = columns
        self.options = options
        self.batchCapacity = batchCapacity
        self.morselSize = morselSize
        ranges = MorselRanges(total: file.size, perMorsel: morselSize)
        morselCount = ranges.count
        outputSchema = Schema(columns.map { Field($0.name, $0.type) })
        succeeded = [Bool](repeating: false, count: morselCount)
        let utf8 = columns.map { Array($0.name.utf8) }
        let total = utf8.reduce(0) { $0 + $1.count }
        names = .allocate(capacity: max(total, 1))
        var ranges: [(Int, Int)] = []
        var at = 0
        for n in utf8 {
            (names + at).initialize(from: n, count: n.count)
            ranges.append((at, n.count))
            at += n.count
        }
        nameRanges = ranges
    }

    deinit { names.deallocate() }

    /// Lines skipped so far because of `ignoreParseErrors`.
    public var skippedLines: Int { lock.locked { skipped } }

    /// Thread-safe: the next morsel in file order, nil when none are left.
    public func claimMorsel() -> Morsel? { ranges.claim() }

    /// Parses a claimed morsel, calling `emit` with its batches in order. Several
    /// threads call this concurrently on different morsels.
    public func parse(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let k = morsel.index
        let r0 = firstLineStart(morsel)
        do {
            if r0 < morsel.end {
                let n = try parseLines(from: r0, limit: morsel.end, emit: emit)
                if n > 0 { lock.locked { skipped += n } }
            }
            lock.locked { succeeded[k] = true }
        } catch let error as SpateError where error.kind == .data && k > 0 {
            // Report the first bad line of the file, whichever worker gets there first.
            let clean = lock.locked { succeeded[0..<k].allSatisfy { $0 } }
            if !clean { _ = try parseLines(from: 0, limit: r0, emit: { _ in }) }
            throw error
        }
    }

    /// The first line starting at or after the morsel's start.
    private func firstLineStart(_ m: Morsel) -> Int {
        guard let bytes = file.bytes else { return 0 }
        // A UTF-8 byte order mark is not part of the first line, which starts after it.
        let bom = file.size >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        if m.start <= bom { return bom }
        if bytes[m.start - 1] == UInt8(ascii: "\n") { return m.start }
        guard let nl = memchr(bytes + m.start, 10, file.size - m.start) else { return file.size }
        return UnsafeRawPointer(nl) - UnsafeRawPointer(bytes) + 1
    }

    // MARK: - Parsing

    private func takeContext() -> JSONParseContext {
        if let ctx = lock.locked({ pool.popLast() }) { return ctx }
        return JSONParseContext(batchCapacity: batchCapacity, columnCount: columns.count)
    }

    private func returnContext(_ ctx: JSONParseContext) { lock.locked { pool.append(ctx) } }

    /// Parses the lines starting in [from, limit); returns the lines skipped.
    private func parseLines(from: Int, limit: Int, emit: (Batch) throws -> Void) throws -> Int {
        guard let bytes = file.bytes else { return 0 }
        let ctx = takeContext()
        defer { returnContext(ctx) }
        var p = ck_json_parser()
        p.buf = bytes
        p.size = file.size
        p.limit = limit
        p.pos = from
        p.cols = ctx.cols
        p.ncols = columns.count
        p.idx = ctx.idx
        p.idx_cap = ctx.idxCapacity
        p.ignore_errors = options.ignoreParseErrors ? 1 : 0
        p.win_last_lf = -1
        let standard: Int32
        switch options.timestampStandard {
        case .any: standard = Int32(CK_JSON_TS_ANY.rawValue)
        case .sql: standard = Int32(CK_JSON_TS_SQL.rawValue)
        case .iso8601: standard = Int32(CK_JSON_TS_ISO.rawValue)
        }
        var built: [Column] = []
        var rows = 0

        func startBatch() {
            built = columns.map { Column($0.type, capacity: batchCapacity) }
            for (i, column) in built.enumerated() {
                let c = ctx.cols + i
                let (at, len) = nameRanges[i]
                c.pointee = ck_json_column()
                c.pointee.name = UnsafePointer(names + at)
                c.pointee.name_len = len
                c.pointee.type = JSONScan.kernelType(column.type)
                c.pointee.ts_format = standard
                c.pointee.values = column.values.pointer
                if column.type == .string {
                    c.pointee.offsets = column.offsets
                    c.pointee.arena = column.bytes
                    c.pointee.arena_cap = column.arena!.capacity
                }
                ctx.validity[i].update(repeating: ~0, count: ctx.validityWords)
                c.pointee.validity = ctx.validity[i]
            }
        }

        func finish() -> Batch {
            for (i, column) in built.enumerated() {
                let c = ctx.cols[i]
                column.setCount(rows, nullCount: c.nulls)
                if column.type == .string { column.setArenaCount(c.arena_used) }
                if c.nulls > 0 { column.ensureValidity().update(from: ctx.validity[i], count: (rows + 63) / 64) }
                if case .timestamp(let unit) = column.type, unit != .millisecond {
                    JSONScan.rescale(column.int64s, rows, to: unit)
                }
            }
            let batch = Batch(schema: outputSchema, columns: built, count: rows)
            built = []
            rows = 0
            return batch
        }

        while true {
            if built.isEmpty { startBatch() }
            var n = 0
            let status = ck_json_parse(&p, rows, batchCapacity - rows, &n)
            rows += n
            switch UInt32(status) {
            case CK_JSON_FULL.rawValue:
                try emit(finish())
            case CK_JSON_DONE.rawValue:
                if rows > 0 { try emit(finish()) }
                return p.skipped
            case CK_JSON_GROW_ARENA.rawValue:
                let i = Int(p.err_col)
                let column = built[i]
                column.setArenaCount(ctx.cols[i].arena_used)
                column.reserveArena(p.need + 64)
                ctx.cols[i].arena = column.bytes
                ctx.cols[i].arena_cap = column.arena!.capacity
            case CK_JSON_GROW_INDEX.rawValue:
                ctx.growIndex(to: p.need)
                p.idx = ctx.idx
                p.idx_cap = ctx.idxCapacity
            default:
                throw error(p)
            }
        }
    }

    static func kernelType(_ t: DataType) -> Int32 {
        switch t {
        case .int64: return Int32(CK_JSON_I64.rawValue)
        case .float64: return Int32(CK_JSON_F64.rawValue)
        case .bool: return Int32(CK_JSON_BOOL.rawValue)
        case .timestamp: return Int32(CK_JSON_TS_MS.rawValue)
        case .string: return Int32(CK_JSON_STRING.rawValue)
        }
    }

    /// Epoch milliseconds to another unit (sub-millisecond digits are not kept).
    static func rescale(_ v: UnsafeMutablePointer<Int64>, _ n: Int, to unit: TimeUnit) {
        switch unit {
        case .second:
            for i in 0..<n { let x = v[i]; v[i] = x >= 0 ? x / 1000 : -((-x + 999) / 1000) }
        case .microsecond: for i in 0..<n { v[i] = v[i] &* 1000 }
        case .nanosecond: for i in 0..<n { v[i] = v[i] &* 1_000_000 }
        case .millisecond: break
        }
    }

    // MARK: - Errors

    private func error(_ p: ck_json_parser) -> SpateError {
        let pos = Int(p.err_pos), end = Int(p.err_end)
        let column = p.err_col >= 0 ? columns[Int(p.err_col)] : nil
        let key = p.key_len > 0 ? file.text(from: Int(p.key_pos), to: Int(p.key_pos) + Int(p.key_len), limit: 40) : nil
        let field = column.map { "column '\($0.name)'" } ?? key.map { "field '\($0)'" }
        let inField = field.map { " in \($0)" } ?? ""
        let value = file.text(from: pos, to: end)
        let byte: UInt8? = pos < file.size ? file.bytes![pos] : nil
        let found = byte.map { $0 == 10 || $0 == 13 ? "the end of the line" : "'\(file.text(from: pos, to: pos + 1))'" } ?? "the end of the file"
        func fail(_ message: String, _ hint: String) -> SpateError { file.dataError(at: pos, message, hint: hint) }
        switch UInt32(p.err_code) {
        case CK_JSON_EXPECTED_OBJECT.rawValue:
            let loc = file.location(of: pos)
            if byte == UInt8(ascii: "[") && loc.line == 1 {
                return fail("expected a JSON object ('{') at the start of the line, found '['",
                            "Spate reads JSON lines (one object per line); a file holding one JSON array can be converted with: jq -c '.[]' file.json")
            }
            return fail("expected a JSON object ('{') at the start of the line, found \(found)",
                        "each line must hold one JSON object, like {\"a\": 1, \"b\": \"x\"}")
        case CK_JSON_EXPECTED_KEY.rawValue:
            return fail("expected a field name in double quotes, found \(found)",
                        "JSON needs double-quoted keys and no trailing comma: {\"a\": 1, \"b\": 2}")
        case CK_JSON_EXPECTED_COLON.rawValue:
            return fail("expected ':' after the field name\(key.map { " '\($0)'" } ?? ""), found \(found)",
                        "write each field as \"name\": value")
        case CK_JSON_EXPECTED_VALUE.rawValue:
            return fail("expected a value\(inField), found \(found)",
                        "write a string, number, true, false or null after the ':'")
        case CK_JSON_EXPECTED_COMMA_OR_END.rawValue:
            return fail("expected ',' or '}' after the value\(inField), found \(found)",
                        "separate fields with commas, and quote strings with double quotes")
        case CK_JSON_TRAILING.rawValue:
            return fail("unexpected text after the end of the object, found \(found)",
                        "put exactly one JSON object on each line")
        case CK_JSON_UNTERMINATED_STRING.rawValue:
            return fail("unterminated string\(inField): the line ends before the closing quote",
                        "a string cannot span lines: write line breaks inside strings as \\n")
        case CK_JSON_CONTROL_CHAR.rawValue:
            let code = byte.map { String($0, radix: 16, uppercase: true) } ?? "?"
            return fail("control character U+\(String(repeating: "0", count: 4 - code.count) + code) inside a string\(inField)",
                        "escape control characters in JSON strings (\\t, \\n, \\u0001, ...)")
        case CK_JSON_BAD_ESCAPE.rawValue:
            return fail("invalid escape sequence '\(file.text(from: pos, to: min(end + 4, pos + 6)))'\(inField)",
                        "JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX")
        case CK_JSON_LONE_SURROGATE.rawValue:
            return fail("'\(file.text(from: pos, to: pos + 6))'\(inField) is half of a UTF-16 surrogate pair without its other half",
                        "characters above U+FFFF are written as a pair: \\uD83D\\uDE00 for U+1F600")
        case CK_JSON_BAD_LITERAL.rawValue:
            return fail("'\(value)' is not a JSON value\(inField)",
                        "values are \"strings\" in double quotes, numbers like -12.5e3, true, false or null")
        case CK_JSON_MISMATCHED.rawValue:
            return fail("'\(value)' does not close the bracket opened before it\(inField)",
                        "check the brackets of the nested value")
        case CK_JSON_TOO_DEEP.rawValue:
            return fail("a value nested more than 255 levels deep\(inField)", "flatten the data")
        case CK_JSON_NESTED.rawValue:
            let kind = byte == UInt8(ascii: "[") ? "an array" : "an object"
            return fail("\(field ?? "a column") holds \(kind), but columns of JSON lines must be scalars (\(column?.type.description ?? "")) ",
                        "nested values are not supported; leave the column out of the table to ignore the field")
        case CK_JSON_TYPE.rawValue:
            let type = column?.type.description ?? "the column's type"
            return fail("\(value) is not a valid \(type) for \(field ?? "the column")", typeHint(column?.type))
        case CK_JSON_NOT_INTEGER.rawValue:
            if case .timestamp = column?.type {
                return fail("\(value) is not a valid \(column!.type) for \(field!): epoch milliseconds must be an integer",
                            "write an integer number of milliseconds, or a string like \"2024-01-02 03:04:05.678\"")
            }
            return fail("\(value) is not a valid BIGINT for \(field ?? "the column"): it has a fraction or an exponent",
                        "declare the column as DOUBLE, or write integers")
        case CK_JSON_RANGE.rawValue:
            let type = column?.type.description ?? "the column's type"
            return fail("\(value) is out of range for \(type) for \(field ?? "the column")",
                        column?.type == .int64 ? "BIGINT holds -9223372036854775808...9223372036854775807; declare the column as DOUBLE" : "fix the value")
        case CK_JSON_TS_STANDARD.rawValue:
            let sql = options.timestampStandard == .sql
            return fail("\(value) is not a valid \(column?.type.description ?? "TIMESTAMP(3)") for \(field ?? "the column"): 'json.timestamp-format.standard' is '\(sql ? "SQL" : "ISO-8601")'",
                        sql ? "write a space between date and time, or set 'json.timestamp-format.standard' = 'ISO-8601'"
                            : "write a 'T' between date and time, or set 'json.timestamp-format.standard' = 'SQL'")
        case CK_JSON_TS_DATE.rawValue:
            return fail("\(value) is not a valid date for \(field ?? "the column"): that day does not exist",
                        "fix the date (months 01-12, days up to the month's length)")
        case CK_JSON_BAD_UTF8.rawValue:
            return fail("invalid UTF-8 in a string for \(field ?? "a column")",
                        "JSON lines files must be UTF-8; convert the file (iconv -f LATIN1 -t UTF-8)")
        case CK_JSON_ARENA_LIMIT.rawValue:
            return fail("the strings of a batch of \(field ?? "a column") pass 2 GiB", "use a smaller batch capacity")
        case CK_JSON_LINE_TOO_LONG.rawValue:
            return fail("a line longer than 1 GiB starts here", "check that the file is JSON lines (one object per line)")
        default:
            return fail("malformed JSON (code \(p.err_code))", "check the line")
        }
    }

    private func typeHint(_ t: DataType?) -> String {
        switch t {
        case .int64?: return "write an integer (quotes optional), or declare the column as VARCHAR"
        case .float64?: return "write a number (quotes optional), or declare the column as VARCHAR"
        case .bool?: return "write true or false, or declare the column as VARCHAR"
        case .timestamp?:
            return "write a string like \"2024-01-02 03:04:05.678\" (or with a T), or integer epoch milliseconds"
        default: return "declare the column as VARCHAR"
        }
    }
}

// MARK: - Per-thread buffers

/// A parse's scratch memory (index, column descriptors, validity), pooled by the scan.
final class JSONParseContext {
    private(set) var idx: UnsafeMutablePointer<UInt32>
    private(set) var idxCapacity: Int
    let cols: UnsafeMutablePointer<ck_json_column>
    let validity: [UnsafeMutablePointer<UInt64>]
    let validityWords: Int

    init(batchCapacity: Int, columnCount: Int) {
        idxCapacity = JSONScan.initialIndexCapacity
        idx = .allocate(capacity: idxCapacity)
        cols = .allocate(capacity: max(columnCount, 1))
        cols.initialize(repeating: ck_json_column(), count: max(columnCount, 1))
        validityWords = (batchCapacity + 63) / 64
        validity = (0..<columnCount).map { _ in
            let v = UnsafeMutablePointer<UInt64>.allocate(capacity: (batchCapacity + 63) / 64)
            v.initialize(repeating: ~0, count: (batchCapacity + 63) / 64)
            return v
        }
    }

    deinit {
        idx.deallocate()
        cols.deallocate()
        for v in validity { v.deallocate() }
    }

    func growIndex(to n: Int) {
        guard n > idxCapacity else { return }
        idx.deallocate()
        idx = .allocate(capacity: n)
        idxCapacity = n
    }
}

