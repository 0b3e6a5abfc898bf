import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One parallel scan of a CSV file: the file is cut into morsels, threads claim them
/// in order and parse them concurrently, each emitting batches of the projected
/// columns for the records that start in its morsel.
///
/// Exactness: a morsel's records start at the first record start at or after its
/// first byte. It takes that position from its predecessor when the predecessor has
/// finished; otherwise it walks from the nearest known record start: over a stretch
/// with no quote at all, the first line feed is the answer (a popcount and a memchr);
/// a stretch with quotes gets a boundary pass (the structural scan without
/// conversion, the dialect's exact rules: stray quotes as data, escapes, comments,
/// bad-row recovery). Quote parity alone would be wrong once a quote inside an
/// unquoted field (`5" disk`) is data. Every boundary found is cached per morsel, so
/// each stretch is walked at most once per thread that needs it, and no thread waits
/// for another.
///
/// Blank lines (nothing, or a lone CR, before the LF) are skipped when a record has
/// several fields: they cannot be records of such a table, and trailing blank lines
/// are common. With a single field a blank line is a record holding NULL, except the
/// blank last line of the file (DuckDB does the same). Comment lines (when enabled)
/// are never records. A UTF-8 byte order mark at the start is skipped.
///
/// Batches are never reused: every emitted batch has fresh columns the engine may keep.
///
/// Bad records: with the `fail` policy the first malformed record of a morsel stops
/// it with a `SpateError(.data)` naming `path:line:column` (before throwing, a morsel
/// whose predecessors have not all finished cleanly re-checks the structure of the
/// file before it, so the first bad record of the file is the one reported). With
/// `skip` and `dead-letter` the record is left out, logged to `badRows`, and reading
/// goes on at the next record.
public final class CSVScan: @unchecked Sendable {
    public let file: CSVFile
    /// Fields per record, from the declared schema.
    public let fieldCount: Int
    public let columns: [CSVColumn]
    public let options: CSVOptions
    public let batchCapacity: Int
    public let morselSize: Int
    public let morselCount: Int
    /// The projected columns, in projection order.
    public let outputSchema: Schema
    /// Whether the first record is a header (not data): `options.header` unless the
    /// caller said otherwise (the later chunks of standard input have none).
    public let skipsHeader: Bool
    /// Where left-out records go with the `skip` and `dead-letter` policies (nil with
    /// `fail`). Several scans (files, chunks) may share one.
    public let badRows: CSVBadRows?
    /// Added to this scan's morsel indexes when it reports bad rows (the morsels of
    /// earlier files of the same source).
    public var sequenceBase = 0

    private let lock = Monitor()
    private let ranges: MorselRanges
    /// Per morsel: the first record start at or after its first byte (-1 unknown),
    /// the first record start at or after its end (-1 until it finished), whether it
    /// finished without error, and its line feeds (-1 not counted).
    private var exactStart: [Int]
    private var nextStart: [Int]
    private var succeeded: [Bool]
    private var lineFeeds: [Int]
    private var pool: [CSVParseContext] = []
    private let columnNames: [Int: String]
    let nullLiteralBytes: UnsafeMutablePointer<UInt8>?
    let nullLiteralLength: Int

    /// A batch capacity that suits the engine's operators (rows per batch).
    public static let defaultBatchCapacity = 4096

    /// Bytes indexed per kernel call: big enough to amortise the call, small enough
    /// for its separators to stay in L2.
    static let scanChunk = 1 << 18

    public init(
        file: CSVFile, fieldCount: Int, columns: [CSVColumn], options: CSVOptions,
        batchCapacity: Int, morselSize: Int = 8 << 20, header: Bool? = nil, badRows: CSVBadRows? = nil
    ) {
        precondition(fieldCount >= 1, "a CSV record has at least one field")
        precondition(batchCapacity >= 1 && morselSize >= 1, "batch capacity and morsel size must be positive")
        precondition((try? options.validate()) != nil, "invalid CSV options (call options.validate() first)")
        for c in columns {
            precondition(c.fieldIndex >= 0 && c.fieldIndex < fieldCount, "column '\(c.name)' is past the record's fields")
        }
        self.file = file
        self.fieldCount = fieldCount
        self.columns = columns
        self.options = options
        self.batchCapacity = batchCapacity
        self.morselSize = morselSize
        skipsHeader = header ?? options.header
        if options.badRows != .fail {
            self.badRows = badRows ?? CSVBadRows(policy: options.badRows)
        } else {
            self.badRows = nil
        }
        ranges = MorselRanges(total: file.size, perMorsel: morselSize)
        morselCount = ranges.count
        outputSchema = Schema(columns.map { Field($0.name, $0.type) })
        exactStart = [Int](repeating: -1, count: morselCount)
        nextStart = [Int](repeating: -1, count: morselCount)
        succeeded = [Bool](repeating: false, count: morselCount)
        lineFeeds = [Int](repeating: -1, count: morselCount)
        var names = [Int: String]()
        for c in columns where names[c.fieldIndex] == nil { names[c.fieldIndex] = c.name }
        columnNames = names
        if let n = options.nullLiteral {
            let bytes = Array(n.utf8)
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
            p.initialize(from: bytes, count: bytes.count)
            nullLiteralBytes = p
            nullLiteralLength = bytes.count
        } else {
            nullLiteralBytes = nil
            nullLiteralLength = 0
        }
    }

    deinit { nullLiteralBytes?.deallocate() }

    /// Where the first record after the header starts (after any comment lines before
    /// it); the start of the text without a header. The header belongs to morsel 0
    /// wherever it ends, so every other morsel starts at or after this.
    private lazy var headerEnd: Int = {
        var pos = file.dataStart
        guard skipsHeader, let bytes = file.bytes else { return pos }
        while pos < file.size, let c = options.comment, bytes[pos] == c {
            while pos < file.size && bytes[pos] != 10 { pos += 1 }
            pos = min(pos + 1, file.size)
        }
        return pos < file.size ? skipRecord(from: pos) : file.size
    }()

    /// Thread-safe: claims the next morsel (in file order), nil when none are left.
    public func claimMorsel() -> Morsel? { ranges.claim() }

    /// Parses a claimed morsel, calling `emit` with each batch of its records, in
    /// order. Several threads call this concurrently on different morsels.
    public func parse(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let k = morsel.index
        guard file.size > file.dataStart else {
            lock.locked { nextStart[k] = file.size; succeeded[k] = true }
            try badRows?.submit(sequenceBase + k, [])
            return
        }
        let ctx = takeContext()
        defer { returnContext(ctx) }
        let log = badRows.map { _ in CSVBadRowLog(keep: true, known: nil) }
        var r0 = 0
        do {
            r0 = try firstRecordStart(k, ctx)
            let next: Int
            if r0 >= morsel.end && !(k == 0 && skipsHeader) {
                next = r0
            } else {
                if let log { log.known = (morsel.start, linesBefore(k) + 1 + file.lineOffset) }
                next = try parseRecords(
                    ctx, from: r0, limit: morsel.end, skipHeader: k == 0 && skipsHeader,
                    columns: columns, log: log, emit: emit)
            }
            lock.locked {
                nextStart[k] = next
                succeeded[k] = true
            }
            try badRows?.submit(sequenceBase + k, log?.rows ?? [])
        } catch let error as SpateError where error.kind == .data && k > 0 && badRows == nil {
            let clean = lock.locked { succeeded[0..<k].allSatisfy { $0 } }
            if !clean {
                _ = try parseRecords(
                    ctx, from: file.dataStart, limit: r0, skipHeader: skipsHeader, columns: [], log: nil, emit: { _ in })
            }
            throw error
        }
    }

    // MARK: - Where a morsel's records start

    private func morselStart(_ k: Int) -> Int { k * morselSize }

    /// The first record start at or after the first byte of morsel `k`, exactly.
    private func firstRecordStart(_ k: Int, _ ctx: CSVParseContext) throws -> Int {
        guard k > 0 else { return file.dataStart }
        var j = k
        var s = -1
        var done = false
        lock.locked {
            if nextStart[k - 1] >= 0 {
                s = nextStart[k - 1]
                done = true
                return
            }
            // The nearest morsel at or before k whose first record start is known.
            while j > 0 && exactStart[j] < 0 && nextStart[j - 1] < 0 { j -= 1 }
            if j > 0 { s = exactStart[j] >= 0 ? exactStart[j] : nextStart[j - 1] }
        }
        if done { return s }
        if j == 0 { s = lock.locked { headerEnd } }
        while j < k {
            let target = morselStart(j + 1)
            var next = s
            if s < target {
                if let fast = quoteFreeBoundary(from: s, to: target) {
                    next = fast
                } else {
                    // Recovery as the parse does it, nothing recorded (the owner records).
                    let log = badRows.map { _ in CSVBadRowLog(keep: false, known: nil) }
                    next = try parseRecords(
                        ctx, from: s, limit: target, skipHeader: false, columns: [], log: log, emit: { _ in })
                }
            }
            j += 1
            let found = next
            let jj = j
            lock.locked { if exactStart[jj] < 0 { exactStart[jj] = found } }
            s = next
            if let handed = lock.locked({ jj < k && nextStart[jj] >= 0 ? nextStart[jj] : nil }) {
                // A predecessor finished meanwhile: start from what it found.
                j += 1
                s = handed
            }
        }
        return s
    }

    /// From a record start `s`, the first record start at or after `target` when no
    /// quote occurs between them (then every line feed ends a record); nil otherwise.
    private func quoteFreeBoundary(from s: Int, to target: Int) -> Int? {
        let bytes = file.bytes!
        let q = options.quote
        if ck_csv_count_byte(bytes + s, target - s, q) != 0 { return nil }
        // A record starts right at `target` when the byte before it is a line feed.
        let from = target - 1
        guard let lf = memchr(bytes + from, 10, file.size - from) else {
            return memchr(bytes + from, Int32(q), file.size - from) == nil ? file.size : nil
        }
        let lfPos = UnsafeRawPointer(lf) - UnsafeRawPointer(bytes)
        if memchr(bytes + from, Int32(q), lfPos - from) != nil { return nil }
        return lfPos + 1
    }

    /// Line feeds before morsel k (counted once per morsel, cached).
    private func linesBefore(_ k: Int) -> Int {
        var total = 0
        for j in 0..<k {
            var c = lock.locked { lineFeeds[j] }
            if c < 0 {
                let start = morselStart(j)
                c = ck_csv_count_byte(file.bytes! + start, min(file.size, start + morselSize) - start, 10)
                let cc = c
                lock.locked { lineFeeds[j] = cc }
            }
            total += c
        }
        return total
    }

    // MARK: - Parsing records

    private func takeContext() -> CSVParseContext {
        if let ctx = lock.locked({ pool.popLast() }) { return ctx }
        return CSVParseContext(batchCapacity: batchCapacity, columnCount: columns.count)
    }

    private func returnContext(_ ctx: CSVParseContext) { lock.locked { pool.append(ctx) } }

    private static func freshState() -> ck_csv_index_state {
        var st = ck_csv_index_state()
        st.prev_sep = 1
        st.line_start = 1
        st.last_open = -1
        st.err_pos = -1
        return st
    }

    /// Parses the records starting in `[r0, limit)` (the first one, the header, only
    /// skipped when `skipHeader`), emitting batches of `columns`. Returns the first
    /// record start at or after `limit`. Bad records throw, or with a `log` are
    /// logged and left out.
    private func parseRecords(
        _ ctx: CSVParseContext, from r0: Int, limit: Int, skipHeader: Bool, columns: [CSVColumn],
        log: CSVBadRowLog?, emit: (Batch) throws -> Void
    ) throws -> Int {
        let bytes = file.bytes!
        let size = file.size
        let delimiter = options.delimiter, quote = options.quote
        var dialect = options.dialect
        let general = options.needsGeneralScanner
        // The last line break of the file: the real final LF, or the virtual one the
        // index adds at `size`.
        let endPos = bytes[size - 1] == UInt8(ascii: "\n") ? size - 1 : size
        var base = r0
        var scanPos = r0
        var st = CSVScan.freshState()
        var oneRecord = false
        var nseps = 0
        var sepIndex = 0
        var recStart: UInt32 = 0
        var needHeader = skipHeader
        var batch = CSVBatchBuilder(scan: self, columns: columns, ctx: ctx)

        func restart(at p: Int) {
            base = p
            scanPos = p
            st = CSVScan.freshState()
            oneRecord = false
            nseps = 0
            sepIndex = 0
            recStart = 0
        }

        while true {
            var needMore = true
            if needHeader {
                var j = sepIndex
                while j < nseps && (ctx.seps[j] & CK_CSV_LF == 0 || ctx.seps[j] & CK_CSV_SKIP != 0) { j += 1 }
                if j < nseps {
                    recStart = (ctx.seps[j] & CK_CSV_POS) + 1
                    sepIndex = j + 1
                    needHeader = false
                    continue
                }
            } else {
                var status: Int32 = 0
                let want = batchCapacity - batch.rows
                let n = ck_csv_records(
                    bytes + base, ctx.seps, nseps, &sepIndex, &recStart,
                    UInt32(clamping: max(0, limit - base)), UInt32(clamping: max(0, endPos - base)),
                    fieldCount, ctx.recStart, ctx.recSep, want, &status)
                if n > 0 {
                    var from = 0
                    while from < n {
                        guard let bad = batch.convert(base: base, seps: ctx.seps, from: from, count: n - from,
                                                      fieldCount: fieldCount)
                        else { break }
                        let record = from + bad.record
                        let error = conversionError(
                            column: columns[bad.column], start: base + bad.start, end: base + bad.end, known: log?.known)
                        guard let log else { throw error }
                        let rs = base + Int(ctx.recStart[record])
                        let lastSep = Int(ctx.recSep[record]) + fieldCount - 1
                        log.add(error, file: file, recordStart: rs, recordEnd: base + Int(ctx.seps[lastSep] & CK_CSV_POS))
                        from = record + 1
                    }
                    if batch.rows == batchCapacity {
                        let full = batch.finish()
                        try emit(full)
                    }
                }
                switch status {
                case Int32(CK_CSV_REC_FULL.rawValue):
                    needMore = false
                case Int32(CK_CSV_REC_LIMIT.rawValue):
                    if batch.rows > 0 { try emit(batch.finish()) }
                    // Past the virtual LF at EOF the next start would be size + 1.
                    return min(base + Int(recStart), size)
                case Int32(CK_CSV_REC_FIELD_COUNT.rawValue):
                    let rs = base + Int(recStart)
                    let error = fieldCountError(recordStart: rs, known: log?.known)
                    guard let log else { throw error }
                    let next = skipRecord(from: rs)
                    log.add(error, file: file, recordStart: rs, recordEnd: next)
                    restart(at: next)
                    continue
                default:
                    break
                }
            }
            guard needMore else { continue }
            if st.error != 0 {
                let rs = base + Int(recStart)
                if st.error == Int32(CK_CSV_STRAY_QUOTE.rawValue) && !options.strictQuotes && !general && !oneRecord {
                    // A quote inside an unquoted field is data: the byte-at-a-time
                    // scanner reads this record, then the SIMD scan goes on.
                    nseps = sepIndex
                    scanPos = rs
                    st = CSVScan.freshState()
                    oneRecord = true
                    continue
                }
                let error = structuralError(recordStart: rs, kernelPos: base + Int(st.err_pos), known: log?.known)
                guard let log else { throw error }
                let next = skipRecord(from: rs)
                log.add(error, file: file, recordStart: rs, recordEnd: next)
                needHeader = false
                restart(at: next)
                continue
            }
            if st.finished != 0 {
                if batch.rows > 0 { try emit(batch.finish()) }
                return size
            }
            // Keep the incomplete record's separators, re-based to its start.
            let delta = Int(recStart)
            let keep = nseps - sepIndex
            let d32 = UInt32(delta)
            for j in 0..<keep { ctx.seps[j] = ctx.seps[sepIndex + j] &- d32 }
            nseps = keep
            sepIndex = 0
            base += delta
            recStart = 0
            if st.last_open >= 0 { st.last_open = st.last_open >= delta ? st.last_open - Int64(delta) : -1 }
            if ctx.sepCapacity - nseps < max(4096, ctx.sepCapacity / 2) { ctx.growSeps(keeping: nseps) }
            let offset = scanPos - base
            if offset > 1 << 29 {
                let error = file.dataError(
                    at: base, "a record longer than 512 MiB starts here",
                    hint: "check for an unbalanced quote before this point", known: log?.known)
                guard let log else { throw error }
                let next = skipRecord(from: base)
                log.add(error, file: file, recordStart: base, recordEnd: next)
                restart(at: next)
                continue
            }
            let len = min(size - scanPos, CSVScan.scanChunk)
            let consumed: Int
            if general || oneRecord {
                consumed = ck_csv_index_general(
                    bytes + scanPos, len, scanPos + len == size, &dialect, UInt32(offset), &st,
                    ctx.seps, ctx.sepCapacity, &nseps, oneRecord)
                if oneRecord && st.record_done != 0 {
                    oneRecord = false
                    if st.finished == 0 { st = CSVScan.freshState() }
                }
            } else {
                consumed = ck_csv_index(
                    bytes + scanPos, len, scanPos + len == size, delimiter, quote, UInt32(offset), &st,
                    ctx.seps, ctx.sepCapacity, &nseps)
            }
            scanPos += consumed
        }
    }

    /// Where the record starting at `rs` ends (just after its line feed), read
    /// tolerantly: quotes inside fields and text after a closing quote are data. An
    /// unterminated quote runs to the end of the file.
    func skipRecord(from rs: Int) -> Int {
        guard let bytes = file.bytes, rs < file.size else { return file.size }
        var dialect = options.dialect
        dialect.strict_quotes = 0
        dialect.tolerant = 1
        var st = CSVScan.freshState()
        var seps = [UInt32](repeating: 0, count: 4096)
        var pos = rs
        while pos < file.size {
            var n = 0
            let len = min(file.size - pos, CSVScan.scanChunk)
            let used = seps.withUnsafeMutableBufferPointer {
                ck_csv_index_general(bytes + pos, len, pos + len == file.size, &dialect, 0, &st, $0.baseAddress!,
                                     $0.count, &n, true)
            }
            pos += used
            if st.record_done != 0 { return pos }
            if st.finished != 0 || st.error != 0 { return file.size }
        }
        return file.size
    }

    // MARK: - Errors

    private func structuralError(recordStart: Int, kernelPos: Int, known: (pos: Int, line: Int)?) -> SpateError {
        let bytes = file.bytes!
        let splitter = CSVRecordSplitter(bytes: bytes, size: file.size, options: options)
        let record = splitter.split(at: recordStart)
        if let failure = record.error {
            return file.structuralError(
                failure, recordStart: recordStart, options: options, columnNames: columnNames, known: known)
        }
        // The splitter and the kernel implement the same rules; should they ever
        // disagree, still stop, at the kernel's position.
        return file.dataError(at: kernelPos, "malformed quoting", hint: "check the quotes around this field", known: known)
    }

    private func fieldCountError(recordStart: Int, known: (pos: Int, line: Int)?) -> SpateError {
        let bytes = file.bytes!
        let splitter = CSVRecordSplitter(bytes: bytes, size: file.size, options: options)
        let record = splitter.split(at: recordStart)
        let found = record.fields.count
        let pos: Int
        let foundText: String
        if let failure = record.error {
            // The kernel saw too many fields before a quoting error later in the line.
            guard found >= fieldCount else {
                return file.structuralError(
                    failure, recordStart: recordStart, options: options, columnNames: columnNames, known: known)
            }
            pos = found > fieldCount ? record.fields[fieldCount].start : failure.fieldStart
            foundText = "at least \(found + 1)"
        } else {
            pos = found > fieldCount ? record.fields[fieldCount].start : (record.fields.last?.end ?? recordStart)
            foundText = "\(found)"
        }
        let d = options.delimiterName
        var hint = "check that the delimiter is '\(d)' and that fields containing it or line breaks are quoted"
        if found == 1 && fieldCount > 1 {
            let line = Set(UnsafeBufferPointer(start: bytes + recordStart, count: record.lineEnd - recordStart))
            for (c, name) in [(UInt8(ascii: ";"), ";"), (9, "\\t"), (UInt8(ascii: "|"), "|"), (UInt8(ascii: ","), ",")]
            where c != options.delimiter && line.contains(c) {
                hint = "the line contains '\(name)': if that separates the fields, set the delimiter to '\(name)'"
                break
            }
        }
        return file.dataError(
            at: pos, "expected \(fieldCount) field\(fieldCount == 1 ? "" : "s"), found \(foundText)", hint: hint,
            known: known)
    }

    /// The error for a field a converter rejected.
    func conversionError(column: CSVColumn, start: Int, end: Int, known: (pos: Int, line: Int)?) -> SpateError {
        let bytes = self.file.bytes!
        let file = KnownLines(file: self.file, known: known)
        var s = start, e = end
        if e - s >= 2 && bytes[s] == options.quote && bytes[e - 1] == options.quote { s += 1; e -= 1 }
        let raw = UnsafeBufferPointer(start: bytes + s, count: e - s)
        let text = String(decoding: raw, as: UTF8.self)
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        let trimmed = Array(raw.drop(while: { $0 == 32 || $0 == 9 }).reversed().drop(while: { $0 == 32 || $0 == 9 }).reversed())
        let hasSpaces = trimmed.count != raw.count
        let type = column.type
        func parses(_ bytes: [UInt8], as t: DataType) -> Bool {
            bytes.withUnsafeBufferPointer { b in
                var i: Int64 = 0, d: Double = 0, flag = false
                switch t {
                case .int64: return ck_parse_i64(b.baseAddress, b.count, &i) == 0
                case .float64: return ck_parse_f64(b.baseAddress, b.count, &d) == 0
                case .bool: return ck_parse_bool(b.baseAddress, b.count, &flag) == 0
                case .timestamp: return ck_parse_timestamp_ms(b.baseAddress, b.count, &i) == 0
                case .string: return true
                }
            }
        }
        let code: Int32 = { (b: UnsafeBufferPointer<UInt8>) -> Int32 in
            var i: Int64 = 0, d: Double = 0, flag = false
            switch type {
            case .int64: return ck_parse_i64(b.baseAddress, b.count, &i)
            case .float64: return ck_parse_f64(b.baseAddress, b.count, &d)
            case .bool: return ck_parse_bool(b.baseAddress, b.count, &flag)
            case .timestamp: return ck_parse_timestamp_ms(b.baseAddress, b.count, &i)
            case .string: return 0
            }
        }(raw)
        let what = "'\(shown)'"
        let col = "column '\(column.name)'"
        if hasSpaces && !trimmed.isEmpty && parses(trimmed, as: type) {
            return file.dataError(
                at: start, "\(what) is not a valid \(type) for \(col): it has spaces around the value",
                hint: "remove the spaces (values are not trimmed), or declare the column as VARCHAR")
        }
        switch (type, code) {
        case (.int64, Int32(CK_PARSE_RANGE.rawValue)):
            return file.dataError(
                at: start, "\(what) is out of range for BIGINT for \(col)",
                hint: "declare the column as DOUBLE or VARCHAR, or fix the value")
        case (.int64, _):
            let hint = parses(Array(raw), as: .float64)
                ? "declare the column as DOUBLE, or fix the value"
                : "declare the column as VARCHAR or DOUBLE, or fix the value"
            return file.dataError(at: start, "\(what) is not a valid BIGINT for \(col)", hint: hint)
        case (.float64, Int32(CK_PARSE_RANGE.rawValue)):
            return file.dataError(
                at: start, "\(what) is out of range for DOUBLE for \(col)",
                hint: "declare the column as VARCHAR, or fix the value")
        case (.float64, _):
            return file.dataError(
                at: start, "\(what) is not a valid DOUBLE for \(col)",
                hint: "write numbers like 12.5, -3, 1e-3, inf or nan, or declare the column as VARCHAR")
        case (.bool, _):
            return file.dataError(
                at: start, "\(what) is not a valid BOOLEAN for \(col)",
                hint: "write true/false, t/f, yes/no or 1/0, or declare the column as VARCHAR")
        case (.timestamp, Int32(CK_PARSE_DATE.rawValue)):
            return file.dataError(
                at: start, "\(what) is not a valid date for \(col): that day does not exist",
                hint: "fix the date (months 01-12, days up to the month's length)")
        case (.timestamp, Int32(CK_PARSE_RANGE.rawValue)):
            return file.dataError(
                at: start, "\(what) is not a valid \(type) for \(col): a time or offset is out of range",
                hint: "hours are 00-23, minutes and seconds 00-59")
        case (.timestamp, _):
            return file.dataError(
                at: start, "\(what) is not a valid \(type) for \(col)",
                hint: "write YYYY-MM-DD[ HH:MM[:SS[.fff]]] with an optional Z or +HH:MM, or epoch "
                    + "milliseconds, or declare the column as VARCHAR")
        case (.string, _):
            return file.dataError(
                at: start, "the strings of a batch of \(col) pass 2 GiB",
                hint: "use a smaller batch capacity")
        }
    }
}

// MARK: - Per-thread buffers

/// A parse's scratch memory, pooled by the scan so tiny morsels do not allocate.
final class CSVParseContext {
    private(set) var seps: UnsafeMutablePointer<UInt32>
    private(set) var sepCapacity: Int
    let recStart: UnsafeMutablePointer<UInt32>
    let recSep: UnsafeMutablePointer<UInt32>
    /// One bitmap per projected column (room for a batch), all ones between batches
    /// except where a finished batch had nulls.
    let validity: [UnsafeMutablePointer<UInt64>]
    let validityWords: Int

    init(batchCapacity: Int, columnCount: Int) {
        sepCapacity = 1 << 16
        seps = .allocate(capacity: sepCapacity)
        recStart = .allocate(capacity: batchCapacity)
        recSep = .allocate(capacity: batchCapacity)
        validityWords = (batchCapacity + 63) / 64
        validity = (0..<columnCount).map { _ in
            let v = UnsafeMutablePointer<UInt64>.allocate(capacity: (batchCapacity + 63) / 64)
            v.initialize(repeating: ~0, count: (batchCapacity + 63) / 64)
            return v
        }
    }

    deinit {
        seps.deallocate()
        recStart.deallocate()
        recSep.deallocate()
        for v in validity { v.deallocate() }
    }

    func growSeps(keeping n: Int) {
        let fresh = UnsafeMutablePointer<UInt32>.allocate(capacity: sepCapacity * 2)
        fresh.update(from: seps, count: n)
        seps.deallocate()
        seps = fresh
        sepCapacity *= 2
    }
}

/// The batch being filled: fresh columns, converted a slice of records at a time.
struct CSVBatchBuilder {
    let scan: CSVScan
    let columns: [CSVColumn]
    let ctx: CSVParseContext
    var built: [Column] = []
    var rows = 0
    let schema: Schema

    init(scan: CSVScan, columns: [CSVColumn], ctx: CSVParseContext) {
        self.scan = scan
        self.columns = columns
        self.ctx = ctx
        schema = columns == scan.columns ? scan.outputSchema : Schema(columns.map { Field($0.name, $0.type) })
    }

    /// Converts records `from..<from + n` of `ctx.recStart/recSep` into rows
    /// `rows...`. When a field is not a valid value, keeps the rows before its record
    /// and returns that record (relative to `from`), the column and the field's span.
    mutating func convert(
        base: Int, seps: UnsafeMutablePointer<UInt32>, from: Int, count n: Int, fieldCount: Int
    ) -> (record: Int, column: Int, start: Int, end: Int)? {
        let bytes = scan.file.bytes! + base
        // Columns are made on first use: with tiny morsels most parses own no record.
        if built.isEmpty && !columns.isEmpty {
            built = columns.map { Column($0.type, capacity: scan.batchCapacity) }
        }
        var failRecord = Int.max, failColumn = -1
        for (ci, col) in columns.enumerated() {
            let column = built[ci]
            var f = fields(bytes, seps, from, n, col.fieldIndex, fieldCount)
            var nullCount = 0
            let validity = ctx.validity[ci]
            let done: Int
            switch col.type {
            case .int64:
                done = ck_csv_convert_i64(&f, column.int64s, validity, rows, &nullCount)
            case .float64:
                done = ck_csv_convert_f64(&f, column.float64s, validity, rows, &nullCount)
            case .bool:
                done = ck_csv_convert_bool(&f, column.bools, validity, rows, &nullCount)
            case .timestamp(let unit):
                done = ck_csv_convert_ts_ms(&f, column.int64s, validity, rows, &nullCount)
                if unit != .millisecond { CSVBatchBuilder.rescale(column.int64s + rows, done, to: unit) }
            case .string:
                let first = Int(ctx.recStart[from])
                let lastSep = Int(ctx.recSep[from + n - 1]) + fieldCount - 1
                let span = Int(seps[lastSep] & CK_CSV_POS) - first + 1
                column.reserveArena(span + 64)
                var used = column.arenaCount
                done = ck_csv_convert_string(&f, column.offsets, column.bytes, &used, validity, rows, &nullCount)
                column.setArenaCount(used)
            }
            if done < n && (done < failRecord || (done == failRecord && col.fieldIndex < columns[failColumn].fieldIndex)) {
                failRecord = done
                failColumn = ci
            }
        }
        guard failColumn >= 0 else {
            rows += n
            return nil
        }
        // Keep the rows before the bad record; undo what the columns wrote after it.
        let keep = rows + failRecord
        for (ci, col) in columns.enumerated() {
            let v = ctx.validity[ci]
            for r in keep..<(rows + n) { v[r >> 6] |= 1 << UInt64(r & 63) }
            if col.type == .string { built[ci].setArenaCount(Int(built[ci].offsets[keep])) }
        }
        let col = columns[failColumn]
        var f = fields(bytes, seps, from, n, col.fieldIndex, fieldCount)
        var s: UInt32 = 0, e: UInt32 = 0
        ck_csv_field_span(&f, failRecord, &s, &e)
        rows = keep
        return (failRecord, failColumn, Int(s), Int(e))
    }

    private func fields(
        _ bytes: UnsafePointer<UInt8>, _ seps: UnsafeMutablePointer<UInt32>, _ from: Int, _ n: Int, _ field: Int,
        _ fieldCount: Int
    ) -> ck_csv_fields {
        let options = scan.options
        return ck_csv_fields(
            base: bytes, seps: UnsafePointer(seps), rec_start: UnsafePointer(ctx.recStart + from),
            rec_sep: UnsafePointer(ctx.recSep + from), n: n, field: UInt32(field),
            is_last: field == fieldCount - 1 ? 1 : 0, quote: options.quote, escape: options.escape ?? 0,
            has_escape: options.escape == nil ? 0 : 1, reserved: (0, 0, 0, 0, 0),
            null_literal: scan.nullLiteralBytes, null_len: scan.nullLiteralLength)
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

    /// The filled batch; the builder starts a fresh one.
    mutating func finish() -> Batch {
        let words = (rows + 63) / 64
        for (ci, column) in built.enumerated() {
            let v = ctx.validity[ci]
            var valid = 0
            for w in 0..<words {
                var x = v[w]
                if w == words - 1 && rows & 63 != 0 { x &= (1 << UInt64(rows & 63)) - 1 }
                valid += x.nonzeroBitCount
            }
            let nulls = rows - valid
            column.setCount(rows, nullCount: nulls)
            if nulls > 0 {
                column.ensureValidity().update(from: v, count: words)
                v.update(repeating: ~0, count: ctx.validityWords)
            }
        }
        let batch = Batch(schema: schema, columns: built, count: rows)
        built = []
        rows = 0
        return batch
    }
}

/// Errors located with a known line (bad-row logs count line feeds from there).
struct KnownLines {
    let file: CSVFile
    let known: (pos: Int, line: Int)?
    func dataError(at pos: Int, _ message: String, hint: String?) -> SpateError {
        file.dataError(at: pos, message, hint: hint, known: known)
    }
}

