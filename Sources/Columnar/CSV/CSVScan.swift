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
/// Exactness with quoted line breaks: whether a morsel starts inside quotes is the
/// parity of the quotes before it. A morsel takes its first record start from its
/// predecessor when that one has finished (the usual case with one thread: nothing
/// is counted twice); otherwise it adds up the quote counts of the morsels before it,
/// counting any that nobody has counted yet itself (a SIMD popcount, ~20x faster
/// than parsing). Nobody waits on another thread, so a thread that claims several
/// morsels and parses them in any order cannot deadlock.
///
/// Blank lines (nothing, or a lone CR, before the LF) are skipped when a record has
/// several fields: they cannot be records of such a table, and trailing blank lines
/// are common. With a single field a blank line is a record holding NULL, except the
/// blank last line of the file (DuckDB does the same).
///
/// Batches are never reused: every emitted batch has fresh columns the engine may keep.
///
/// Errors: the first malformed record of a morsel stops it with a
/// `SpateError(.data)` naming `path:line:column`. Before throwing, a morsel whose
/// predecessors have not all finished cleanly re-checks the structure of the file
/// before it, so a bad quote earlier in the file is reported rather than what it
/// made of the following records.
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

    private let lock = CSVLock()
    private var claimed = 0
    /// Per morsel: quote parity at its start (-1 unknown), its quote count (-1
    /// unknown), the first record start at or after its end (-1 until it finished),
    /// and whether it finished without error.
    private var entryParity: [Int8]
    private var quoteCounts: [Int]
    private var nextStart: [Int]
    private var succeeded: [Bool]
    private var pool: [CSVParseContext] = []
    private let columnNames: [Int: String]

    /// A batch capacity that suits the engine's operators (rows per batch).
    public static let defaultBatchCapacity = 4096

    /// Bytes indexed per kernel call: big enough to amortise the call, small enough
    /// for its separators to stay in L2.
    static let scanChunk = 1 << 18

    public init(
        file: CSVFile, fieldCount: Int, columns: [CSVColumn], options: CSVOptions,
        batchCapacity: Int, morselSize: Int = 8 << 20
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
        morselCount = file.size == 0 ? 1 : (file.size + morselSize - 1) / morselSize
        outputSchema = Schema(columns.map { Field($0.name, $0.type) })
        entryParity = [Int8](repeating: -1, count: morselCount)
        entryParity[0] = 0
        quoteCounts = [Int](repeating: -1, count: morselCount)
        nextStart = [Int](repeating: -1, count: morselCount)
        succeeded = [Bool](repeating: false, count: morselCount)
        var names = [Int: String]()
        for c in columns where names[c.fieldIndex] == nil { names[c.fieldIndex] = c.name }
        columnNames = names
    }

    /// Thread-safe: claims the next morsel (in file order), nil when none are left.
    public func claimMorsel() -> CSVMorsel? {
        lock.withLock {
            guard claimed < morselCount else { return nil }
            let i = claimed
            claimed += 1
            let start = i * morselSize
            return CSVMorsel(index: i, start: start, end: min(file.size, start + morselSize))
        }
    }

    /// Parses a claimed morsel, calling `emit` with each batch of its records, in
    /// order. Several threads call this concurrently on different morsels.
    public func parse(_ morsel: CSVMorsel, emit: (Batch) throws -> Void) throws {
        let k = morsel.index
        guard file.size > 0 else {
            lock.withLock { nextStart[k] = 0; succeeded[k] = true }
            return
        }
        let r0 = firstRecordStart(of: morsel)
        let ctx = takeContext()
        defer { returnContext(ctx) }
        do {
            let next: Int
            if r0 >= morsel.end && !(k == 0 && options.header) {
                next = r0
            } else {
                next = try parseRecords(
                    ctx, from: r0, limit: morsel.end, skipHeader: k == 0 && options.header,
                    columns: columns, emit: emit)
            }
            lock.withLock {
                nextStart[k] = next
                succeeded[k] = true
            }
        } catch let error as SpateError where error.kind == .data && k > 0 {
            let clean = lock.withLock { succeeded[0..<k].allSatisfy { $0 } }
            if !clean {
                _ = try parseRecords(
                    ctx, from: 0, limit: r0, skipHeader: options.header, columns: [], emit: { _ in })
            }
            throw error
        }
    }

    // MARK: - Where a morsel's records start

    private func firstRecordStart(of morsel: CSVMorsel) -> Int {
        let k = morsel.index
        guard k > 0, let bytes = file.bytes else { return 0 }
        let handed = lock.withLock { nextStart[k - 1] }
        if handed >= 0 {
            // The predecessor finished: its last record ends where ours begin, and
            // the parity there is even, which gives ours for whoever comes next.
            let known = lock.withLock { entryParity[k] >= 0 }
            if !known {
                let q = ck_csv_count_byte(bytes + morsel.start, max(0, handed - morsel.start), options.quote)
                lock.withLock { entryParity[k] = Int8(q & 1) }
            }
            return handed
        }
        let parity = parityAt(k)
        // Search from the byte before the morsel: a record starts right at
        // `morsel.start` when that byte is a LF outside quotes.
        let from = morsel.start - 1
        let before = parity ^ (bytes[from] == options.quote ? 1 : 0)
        let offset = ck_csv_find_record_start(bytes + from, file.size - from, options.quote, Int32(before))
        return min(from + offset, file.size)
    }

    /// Quote parity at the start of morsel `k`, from the nearest known parity and the
    /// quote counts of the morsels in between (counted here when nobody has yet).
    private func parityAt(_ k: Int) -> Int {
        var j = k
        var parity = 0
        lock.withLock {
            while entryParity[j] < 0 { j -= 1 }
            parity = Int(entryParity[j])
        }
        let bytes = file.bytes!
        while j < k {
            var count = lock.withLock { quoteCounts[j] }
            if count < 0 {
                let start = j * morselSize
                count = ck_csv_count_byte(bytes + start, min(file.size, start + morselSize) - start, options.quote)
                let c = count
                lock.withLock { quoteCounts[j] = c }
            }
            parity ^= count & 1
            j += 1
            let p = parity
            lock.withLock { if entryParity[j] < 0 { entryParity[j] = Int8(p) } }
        }
        return parity
    }

    // MARK: - Parsing records

    private func takeContext() -> CSVParseContext {
        if let ctx = lock.withLock({ pool.popLast() }) { return ctx }
        return CSVParseContext(batchCapacity: batchCapacity, columnCount: columns.count)
    }

    private func returnContext(_ ctx: CSVParseContext) { lock.withLock { pool.append(ctx) } }

    /// Parses the records starting in `[r0, limit)` (the first one, the header, only
    /// skipped when `skipHeader`), emitting batches of `columns`. Returns the first
    /// record start at or after `limit`.
    private func parseRecords(
        _ ctx: CSVParseContext, from r0: Int, limit: Int, skipHeader: Bool, columns: [CSVColumn],
        emit: (Batch) throws -> Void
    ) throws -> Int {
        let bytes = file.bytes!
        let size = file.size
        let delimiter = options.delimiter, quote = options.quote
        // The last line break of the file: the real final LF, or the virtual one the
        // index adds at `size`.
        let endPos = bytes[size - 1] == UInt8(ascii: "\n") ? size - 1 : size
        var base = r0
        var scanPos = r0
        var st = ck_csv_index_state()
        st.prev_sep = 1
        st.last_open = -1
        st.err_pos = -1
        var nseps = 0
        var sepIndex = 0
        var recStart: UInt32 = 0
        var needHeader = skipHeader
        var batch = CSVBatchBuilder(scan: self, columns: columns, ctx: ctx)

        while true {
            var needMore = true
            if needHeader {
                var j = sepIndex
                while j < nseps && ctx.seps[j] & CK_CSV_LF == 0 { j += 1 }
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
                    try batch.convert(base: base, seps: ctx.seps, count: n, fieldCount: fieldCount)
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
                    throw fieldCountError(recordStart: base + Int(recStart))
                default:
                    break
                }
            }
            guard needMore else { continue }
            if st.error != 0 {
                throw structuralError(recordStart: base + Int(recStart), kernelPos: base + Int(st.err_pos))
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
            if offset > 1 << 30 {
                throw file.dataError(
                    at: base, "a record longer than 1 GiB starts here",
                    hint: "check for an unbalanced quote before this point")
            }
            let len = min(size - scanPos, CSVScan.scanChunk)
            let consumed = ck_csv_index(
                bytes + scanPos, len, scanPos + len == size, delimiter, quote, UInt32(offset), &st,
                ctx.seps, ctx.sepCapacity, &nseps)
            scanPos += consumed
        }
    }

    // MARK: - Errors

    private func structuralError(recordStart: Int, kernelPos: Int) -> SpateError {
        let bytes = file.bytes!
        let splitter = CSVRecordSplitter(bytes: bytes, size: file.size, options: options)
        let record = splitter.split(at: recordStart)
        if let failure = record.error {
            return file.structuralError(failure, recordStart: recordStart, options: options, columnNames: columnNames)
        }
        // The splitter and the kernel implement the same rules; should they ever
        // disagree, still stop, at the kernel's position.
        return file.dataError(at: kernelPos, "malformed quoting", hint: "check the quotes around this field")
    }

    private func fieldCountError(recordStart: Int) -> SpateError {
        let bytes = file.bytes!
        let splitter = CSVRecordSplitter(bytes: bytes, size: file.size, options: options)
        let record = splitter.split(at: recordStart)
        let found = record.fields.count
        let pos: Int
        let foundText: String
        if let failure = record.error {
            // The kernel saw too many fields before a quoting error later in the line.
            guard found >= fieldCount else {
                return file.structuralError(failure, recordStart: recordStart, options: options, columnNames: columnNames)
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
            at: pos, "expected \(fieldCount) field\(fieldCount == 1 ? "" : "s"), found \(foundText)", hint: hint)
    }

    /// The error for a field a converter rejected.
    func conversionError(column: CSVColumn, start: Int, end: Int) -> SpateError {
        let bytes = file.bytes!
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
    var nulls: [Int]
    var rows = 0
    let schema: Schema

    init(scan: CSVScan, columns: [CSVColumn], ctx: CSVParseContext) {
        self.scan = scan
        self.columns = columns
        self.ctx = ctx
        nulls = [Int](repeating: 0, count: columns.count)
        schema = columns == scan.columns ? scan.outputSchema : Schema(columns.map { Field($0.name, $0.type) })
    }

    /// Converts the `count` records in `ctx.recStart/recSep` into rows `rows...`.
    mutating func convert(base: Int, seps: UnsafeMutablePointer<UInt32>, count n: Int, fieldCount: Int) throws {
        let bytes = scan.file.bytes! + base
        // Columns are made on first use: with tiny morsels most parses own no record.
        if built.isEmpty && !columns.isEmpty {
            built = columns.map { Column($0.type, capacity: scan.batchCapacity) }
        }
        var failRecord = Int.max, failColumn = -1
        for (ci, col) in columns.enumerated() {
            let column = built[ci]
            var f = fields(bytes, seps, n, col.fieldIndex, fieldCount)
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
                let first = Int(ctx.recStart[0])
                let lastSep = Int(ctx.recSep[n - 1]) + fieldCount - 1
                let span = Int(seps[lastSep] & CK_CSV_POS) - first + 1
                column.reserveArena(span + 64)
                var used = column.arenaCount
                done = ck_csv_convert_string(&f, column.offsets, column.bytes, &used, validity, rows, &nullCount)
                column.setArenaCount(used)
            }
            nulls[ci] += nullCount
            if done < n && (done < failRecord || (done == failRecord && col.fieldIndex < columns[failColumn].fieldIndex)) {
                failRecord = done
                failColumn = ci
            }
        }
        if failColumn >= 0 {
            let col = columns[failColumn]
            var f = fields(bytes, seps, n, col.fieldIndex, fieldCount)
            var s: UInt32 = 0, e: UInt32 = 0
            ck_csv_field_span(&f, failRecord, &s, &e)
            throw scan.conversionError(column: col, start: base + Int(s), end: base + Int(e))
        }
        rows += n
    }

    private func fields(
        _ bytes: UnsafePointer<UInt8>, _ seps: UnsafeMutablePointer<UInt32>, _ n: Int, _ field: Int, _ fieldCount: Int
    ) -> ck_csv_fields {
        ck_csv_fields(
            base: bytes, seps: UnsafePointer(seps), rec_start: UnsafePointer(ctx.recStart),
            rec_sep: UnsafePointer(ctx.recSep), n: n, field: UInt32(field),
            is_last: field == fieldCount - 1 ? 1 : 0, quote: scan.options.quote, reserved: (0, 0, 0, 0, 0, 0, 0))
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
        for (ci, column) in built.enumerated() {
            column.setCount(rows, nullCount: nulls[ci])
            if nulls[ci] > 0 {
                let words = (rows + 63) / 64
                column.ensureValidity().update(from: ctx.validity[ci], count: words)
                ctx.validity[ci].update(repeating: ~0, count: ctx.validityWords)
            }
        }
        let batch = Batch(schema: schema, columns: built, count: rows)
        built = []
        nulls = [Int](repeating: 0, count: columns.count)
        rows = 0
        return batch
    }
}

/// A mutex (the Columnar target depends on nothing but CKernels and the C library).
final class CSVLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
