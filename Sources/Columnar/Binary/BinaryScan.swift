import CKernels

/// A column read from fixed-layout binary records: `field` of each record, converted
/// to `type`.
public struct BinaryColumn: Sendable, Hashable {
    public var name: String
    public var type: DataType
    public var field: BinaryLayout.Field

    public init(name: String, type: DataType, field: BinaryLayout.Field) {
        self.name = name
        self.type = type
        self.field = field
    }

    /// Why a field of this storage type cannot be read into a column of `type`, or nil.
    public static func incompatibility(_ field: BinaryLayout.FieldType, _ type: DataType) -> String? {
        switch (field, type) {
        case (.int, .int64), (.int, .float64), (.int, .bool), (.float, .float64), (.char, .string), (.timestamp, .timestamp):
            return nil
        case (.float, .int64):
            return "a \(field) field cannot be read into BIGINT (declare the column as DOUBLE)"
        case (.timestamp, _):
            return "a \(field) field is read into TIMESTAMP(3) columns only"
        case (.int, .timestamp):
            return "a plain integer field cannot be read into TIMESTAMP(3) (write it as timestamp_s/_ms/_us/_ns)"
        case (.char, _):
            return "a \(field) field is read into VARCHAR columns only"
        default:
            return "a \(field) field cannot be read into \(type)"
        }
    }
}

/// One parallel scan of a file of fixed-size records: morsels are runs of whole
/// records, and each batch is decoded column by column by the strided C decoders
/// (no per-row work in Swift). There are no NULLs in binary records.
///
/// The file is `headerBytes` skipped, then records of `layout.recordSize` bytes; a
/// size that leaves a partial record at the end is an error naming the trailing
/// bytes. A uint64 above BIGINT's maximum in a BIGINT column, a timestamp_s that
/// overflows milliseconds, or text that is not UTF-8 is an error naming the record.
public final class BinaryScan: @unchecked Sendable {
    public let file: MappedInput
    public let layout: BinaryLayout
    public let headerBytes: Int
    public let columns: [BinaryColumn]
    public let batchCapacity: Int
    public let recordCount: Int
    public let recordsPerMorsel: Int
    public let morselCount: Int
    public let outputSchema: Schema

    private let ranges: MorselRanges

    public init(
        file: MappedInput, layout: BinaryLayout, headerBytes: Int, columns: [BinaryColumn], batchCapacity: Int,
        morselSize: Int = 8 << 20
    ) throws {
        precondition(batchCapacity >= 1 && morselSize >= 1, "batch capacity and morsel size must be positive")
        for c in columns {
            precondition(BinaryColumn.incompatibility(c.field.type, c.type) == nil, "column '\(c.name)' has an incompatible field")
        }
        let size = layout.recordSize
        if file.size < headerBytes {
            throw SpateError(
                .data, "the file has \(file.size) byte\(file.size == 1 ? "" : "s"), less than its \(headerBytes)-byte header",
                path: file.path, hint: "check 'binary.header-bytes'")
        }
        let body = file.size - headerBytes
        let trailing = body % size
        if trailing != 0 {
            let whole = body / size
            throw SpateError(
                .data,
                "the file is not a whole number of \(size)-byte records: \(trailing) byte\(trailing == 1 ? "" : "s") trail the last whole record "
                    + "(record \(whole + 1) would start at byte \(headerBytes + whole * size) of \(file.size))",
                path: file.path,
                hint: "check 'binary.layout' (\(size) bytes: \(layout)) and 'binary.header-bytes' (\(headerBytes)), "
                    + "or whether the file was truncated")
        }
        self.file = file
        self.layout = layout
        self.headerBytes = headerBytes
        self.columns = columns
        self.batchCapacity = batchCapacity
        recordCount = body / size
        recordsPerMorsel = max(1, morselSize / size)
        ranges = MorselRanges(total: recordCount, perMorsel: recordsPerMorsel)
        morselCount = ranges.count
        outputSchema = Schema(columns.map { Field($0.name, $0.type) })
    }

    /// Byte offset of record `r`.
    public func offset(ofRecord r: Int) -> Int { headerBytes + r * layout.recordSize }

    /// Thread-safe: the next morsel in file order, nil when none are left.
    /// The next run of records (morsel start/end are record numbers).
    public func claimMorsel() -> Morsel? { ranges.claim() }

    /// Decodes a morsel's records, calling `emit` with its batches in order.
    public func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        guard let bytes = file.bytes else { return }
        let stride = layout.recordSize
        var r = morsel.start
        while r < morsel.end {
            let n = min(batchCapacity, morsel.end - r)
            let base = bytes + offset(ofRecord: r)
            var built: [Column] = []
            built.reserveCapacity(columns.count)
            for c in columns {
                let column = Column(c.type, capacity: n)
                let off = c.field.offset
                var done = n
                switch (c.field.type, c.type) {
                case (.int(let b, let signed), .int64):
                    done = ck_binary_to_i64(base, stride, n, off, BinaryScan.kind(b, signed), column.int64s)
                case (.int(let b, let signed), .float64):
                    done = ck_binary_to_f64(base, stride, n, off, BinaryScan.kind(b, signed), column.float64s)
                case (.float(let b), .float64):
                    done = ck_binary_to_f64(base, stride, n, off, Int32(b == 4 ? CK_BIN_F32.rawValue : CK_BIN_F64.rawValue), column.float64s)
                case (.int(let b, let signed), .bool):
                    done = ck_binary_to_bool(base, stride, n, off, BinaryScan.kind(b, signed), column.bools)
                case (.timestamp(let unit), .timestamp(let target)):
                    done = ck_binary_to_ts_ms(base, stride, n, off, unit.perSecond, column.int64s)
                    if target != .millisecond { JSONScan.rescale(column.int64s, min(done, n), to: target) }
                case (.char(let width), .string):
                    column.reserveArena(n * width)
                    var used = 0
                    done = ck_binary_to_string(base, stride, n, off, width, column.offsets, column.bytes, &used)
                    column.setArenaCount(used)
                default:
                    preconditionFailure("unchecked layout/type pair")
                }
                if done < n { throw decodeError(c, record: r + done) }
                column.setCount(n, nullCount: 0)
                built.append(column)
            }
            try emit(Batch(schema: outputSchema, columns: built, count: n))
            r += n
        }
    }

    /// The morsel's bytes (to release them after reading).
    public func byteRange(_ m: Morsel) -> Range<Int> { offset(ofRecord: m.start)..<offset(ofRecord: m.end) }

    static func kind(_ bytes: Int, _ signed: Bool) -> Int32 {
        let k: ck_binary_kind
        switch (bytes, signed) {
        case (1, true): k = CK_BIN_I8
        case (2, true): k = CK_BIN_I16
        case (4, true): k = CK_BIN_I32
        case (8, true): k = CK_BIN_I64
        case (1, false): k = CK_BIN_U8
        case (2, false): k = CK_BIN_U16
        case (4, false): k = CK_BIN_U32
        default: k = CK_BIN_U64
        }
        return Int32(k.rawValue)
    }

    private func decodeError(_ c: BinaryColumn, record r: Int) -> SpateError {
        let at = offset(ofRecord: r) + c.field.offset
        let p = file.bytes! + at
        let place = "record \(r + 1) (byte \(at))"
        switch c.field.type {
        case .int:
            var v: UInt64 = 0
            withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
            v = UInt64(littleEndian: v)
            return SpateError(
                .data, "\(place): field '\(c.name)' holds \(v), above BIGINT's maximum 9223372036854775807",
                path: file.path, hint: "declare the column as DOUBLE (large uint64 values are rounded), or fix the data")
        case .timestamp:
            var v: Int64 = 0
            withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
            return SpateError(
                .data, "\(place): field '\(c.name)' holds \(Int64(littleEndian: v)) seconds, too far from 1970 for TIMESTAMP(3)",
                path: file.path, hint: "check the field's unit in 'binary.layout' (timestamp_s, _ms, _us or _ns)")
        default:
            return SpateError(
                .data, "\(place): field '\(c.name)' is not valid UTF-8 text", path: file.path,
                hint: "char[N] fields hold UTF-8 text padded with NULs or spaces; check the field's offset and length in 'binary.layout'")
        }
    }
}
