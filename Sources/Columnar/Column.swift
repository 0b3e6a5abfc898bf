#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One column of a batch: a 64-byte-aligned values buffer, an optional validity bitmap
/// and, for strings, a byte arena.
///
/// Layout (what the C kernels see):
/// - int64 / timestamp: `Int64` per row; float64: `Double` per row; bool: one byte
///   (0 or 1) per row.
/// - string: `Int32` offsets, `count + 1` of them, row `r` being
///   `arena[offsets[r] ..< offsets[r + 1]]`.
/// - validity: `nil` when every row is valid; otherwise 64-bit words, bit `r & 63` of
///   word `r >> 6` set when row `r` is valid. Bits past `count` are unspecified.
///
/// A column is also its own builder: `append…` grows it, `reset()` empties it and keeps
/// the memory for the next batch.
public final class Column: @unchecked Sendable {
    public let type: DataType
    public private(set) var count: Int = 0
    /// Rows the buffers have room for.
    public private(set) var capacity: Int
    public let values: AlignedBuffer
    public private(set) var validity: AlignedBuffer?
    /// String bytes; nil for other types.
    public let arena: AlignedBuffer?
    /// Bytes used in the arena.
    public private(set) var arenaCount: Int = 0
    /// Number of null rows among the first `count` (kept up to date by the append/set
    /// methods; `setNullCount` after a kernel wrote the bitmap directly).
    public private(set) var nullCount: Int = 0

    public init(_ type: DataType, capacity: Int) {
        self.type = type
        self.capacity = max(capacity, 1)
        let slots = type == .string ? self.capacity + 1 : self.capacity
        values = AlignedBuffer(capacity: slots * type.valueWidth)
        if type == .string {
            arena = AlignedBuffer(capacity: self.capacity * 16)
            values.typed(Int32.self)[0] = 0
        } else {
            arena = nil
        }
    }

    // MARK: - Typed views

    @inline(__always) public var int64s: UnsafeMutablePointer<Int64> { values.typed(Int64.self) }
    @inline(__always) public var float64s: UnsafeMutablePointer<Double> { values.typed(Double.self) }
    @inline(__always) public var bools: UnsafeMutablePointer<UInt8> { values.typed(UInt8.self) }
    @inline(__always) public var offsets: UnsafeMutablePointer<Int32> { values.typed(Int32.self) }
    @inline(__always) public var bytes: UnsafeMutablePointer<UInt8> { arena!.typed(UInt8.self) }
    /// The validity words, or nil when every row is valid.
    @inline(__always) public var validityWords: UnsafeMutablePointer<UInt64>? {
        validity?.typed(UInt64.self)
    }

    @inline(__always)
    public func isValid(_ row: Int) -> Bool {
        guard let v = validityWords else { return true }
        return (v[row >> 6] >> UInt64(row & 63)) & 1 == 1
    }

    public var hasNulls: Bool { nullCount > 0 }

    // MARK: - Reading

    @inline(__always) public func int64(at row: Int) -> Int64 { int64s[row] }
    @inline(__always) public func float64(at row: Int) -> Double { float64s[row] }
    @inline(__always) public func bool(at row: Int) -> Bool { bools[row] != 0 }

    /// The bytes of a string row; valid until the column is next modified.
    @inline(__always)
    public func stringBytes(at row: Int) -> UnsafeBufferPointer<UInt8> {
        let o = offsets
        let start = Int(o[row])
        return UnsafeBufferPointer(start: bytes + start, count: Int(o[row + 1]) - start)
    }

    public func string(at row: Int) -> String {
        String(decoding: stringBytes(at: row), as: UTF8.self)
    }

    // MARK: - Building

    /// Empties the column, keeping its memory.
    public func reset() {
        count = 0
        arenaCount = 0
        nullCount = 0
        if type == .string { offsets[0] = 0 }
        // The bitmap is dropped rather than cleared: most batches have no nulls.
        validity = nil
    }

    /// Grows the buffers to hold at least `rows` rows.
    public func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newCapacity = max(rows, capacity * 2)
        let slots = type == .string ? newCapacity + 1 : newCapacity
        let used = type == .string ? count + 1 : count
        values.reserve(slots * type.valueWidth, preserving: used * type.valueWidth)
        validity?.reserve(Column.validityBytes(newCapacity), preserving: Column.validityBytes(count))
        capacity = newCapacity
    }

    /// Makes sure the arena has room for `more` bytes after `arenaCount`.
    @inline(__always)
    public func reserveArena(_ more: Int) {
        let need = arenaCount + more
        if need > arena!.capacity { arena!.reserve(need, preserving: arenaCount) }
    }

    static func validityBytes(_ rows: Int) -> Int { ((rows + 63) / 64) * 8 }

    /// Materialises the bitmap (all rows so far valid) and returns it.
    @discardableResult
    public func ensureValidity() -> UnsafeMutablePointer<UInt64> {
        if let v = validityWords { return v }
        let buffer = AlignedBuffer(capacity: Column.validityBytes(capacity))
        buffer.fill(0xFF, count: buffer.capacity)
        validity = buffer
        return buffer.typed(UInt64.self)
    }

    @inline(__always)
    private func growIfFull() {
        if count == capacity { reserve(capacity * 2) }
    }

    @inline(__always)
    private func markValid(_ row: Int) {
        if let v = validityWords { v[row >> 6] |= (1 as UInt64) << UInt64(row & 63) }
    }

    public func append(_ value: Int64) {
        growIfFull()
        int64s[count] = value
        markValid(count)
        count += 1
    }

    public func append(_ value: Double) {
        growIfFull()
        float64s[count] = value
        markValid(count)
        count += 1
    }

    public func append(_ value: Bool) {
        growIfFull()
        bools[count] = value ? 1 : 0
        markValid(count)
        count += 1
    }

    public func append(bytes source: UnsafeRawBufferPointer) {
        growIfFull()
        reserveArena(source.count)
        if source.count > 0 {
            (arena!.pointer + arenaCount).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        arenaCount += source.count
        offsets[count + 1] = Int32(arenaCount)
        markValid(count)
        count += 1
    }

    public func append(_ value: String) {
        var copy = value
        copy.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends a null row (its value slot is zero / an empty string).
    public func appendNull() {
        growIfFull()
        let v = ensureValidity()
        switch type {
        case .string: offsets[count + 1] = Int32(arenaCount)
        case .bool: bools[count] = 0
        default: int64s[count] = 0
        }
        v[count >> 6] &= ~((1 as UInt64) << UInt64(count & 63))
        nullCount += 1
        count += 1
    }

    /// Appends row `row` of `other` (same type).
    public func append(from other: Column, row: Int) {
        if !other.isValid(row) { appendNull(); return }
        switch type {
        case .int64, .timestamp, .float64: append(other.int64s[row])  // bit copy
        case .bool: append(other.bools[row] != 0)
        case .string: append(bytes: UnsafeRawBufferPointer(other.stringBytes(at: row)))
        }
    }

    /// After a kernel wrote `n` rows straight into `values` (and maybe the bitmap via
    /// `ensureValidity`), records the new count and null count.
    public func setCount(_ n: Int, nullCount nulls: Int) {
        precondition(n <= capacity)
        count = n
        nullCount = nulls
    }

    /// Marks an existing row null.
    public func setNull(_ row: Int) {
        let v = ensureValidity()
        let bit = (1 as UInt64) << UInt64(row & 63)
        if v[row >> 6] & bit != 0 { nullCount += 1 }
        v[row >> 6] &= ~bit
    }

    /// Records that the arena now holds `n` bytes (after writing into it directly).
    public func setArenaCount(_ n: Int) { arenaCount = n }

    /// Counts the nulls among the first `count` rows from the bitmap.
    public func recountNulls() {
        guard let v = validityWords else { nullCount = 0; return }
        var valid = 0
        let full = count >> 6
        for w in 0..<full { valid += v[w].nonzeroBitCount }
        let rest = count & 63
        if rest > 0 { valid += (v[full] & ((1 << UInt64(rest)) - 1)).nonzeroBitCount }
        nullCount = count - valid
    }

    // MARK: - Copies

    /// A new column with the rows `sel[0..<n]` (or the first `n` rows when sel is nil).
    public func gather(_ sel: UnsafePointer<UInt32>?, _ n: Int) -> Column {
        let out = Column(type, capacity: max(n, 1))
        out.appendGathered(from: self, sel, n)
        return out
    }

    /// Appends rows `sel[0..<n]` of `other` (same type).
    public func appendGathered(from other: Column, _ sel: UnsafePointer<UInt32>?, _ n: Int) {
        reserve(count + n)
        let hasNulls = other.validityWords != nil
        switch type {
        case .string:
            for i in 0..<n {
                let r = sel.map { Int($0[i]) } ?? i
                append(from: other, row: r)
            }
            return
        case .bool:
            let src = other.bools, dst = bools + count
            if let sel { for i in 0..<n { dst[i] = src[Int(sel[i])] } } else { dst.update(from: src, count: n) }
        default:
            let src = other.int64s, dst = int64s + count
            if let sel { for i in 0..<n { dst[i] = src[Int(sel[i])] } } else { dst.update(from: src, count: n) }
        }
        let base = count
        count += n
        if hasNulls {
            let v = ensureValidity()
            for i in 0..<n {
                let r = sel.map { Int($0[i]) } ?? i
                let row = base + i
                if !other.isValid(r) {
                    v[row >> 6] &= ~((1 as UInt64) << UInt64(row & 63))
                    nullCount += 1
                } else {
                    v[row >> 6] |= (1 as UInt64) << UInt64(row & 63)
                }
            }
        } else if let v = validityWords {
            for row in base..<count { v[row >> 6] |= (1 as UInt64) << UInt64(row & 63) }
        }
    }
}
