/// Row ids (ascending UInt32) of the rows of a batch that are still selected.
public final class SelectionVector: @unchecked Sendable {
    public let buffer: AlignedBuffer
    public var count: Int
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        buffer = AlignedBuffer(capacity: self.capacity * 4)
        count = 0
    }

    @inline(__always) public var ids: UnsafeMutablePointer<UInt32> { buffer.typed(UInt32.self) }

    public subscript(_ i: Int) -> Int { Int(ids[i]) }

    /// A selection holding `ids`.
    public convenience init(_ rows: [UInt32]) {
        self.init(capacity: rows.count)
        for (i, r) in rows.enumerated() { ids[i] = r }
        count = rows.count
    }

    public var array: [UInt32] { Array(UnsafeBufferPointer(start: ids, count: count)) }
}

/// A columnar micro-batch: `count` physical rows in `columns`, of which the rows in
/// `selection` (all of them when nil) are live. Filters narrow the selection and copy
/// nothing; `compacted()` copies the live rows out at a pipeline breaker.
public struct Batch: @unchecked Sendable {
    public var schema: Schema
    public var columns: [Column]
    public var count: Int
    public var selection: SelectionVector?

    public init(schema: Schema, columns: [Column], count: Int, selection: SelectionVector? = nil) {
        precondition(schema.count == columns.count, "schema and columns disagree")
        self.schema = schema
        self.columns = columns
        self.count = count
        self.selection = selection
    }

    /// Number of live rows.
    public var activeCount: Int { selection?.count ?? count }

    /// Calls `body` with the selection's pointer (nil for all rows) and the live count.
    @inline(__always)
    public func withSelection<R>(_ body: (UnsafePointer<UInt32>?, Int) throws -> R) rethrows -> R {
        if let selection { return try body(UnsafePointer(selection.ids), selection.count) }
        return try body(nil, count)
    }

    /// Row id of the i-th live row.
    @inline(__always)
    public func row(_ i: Int) -> Int { selection.map { Int($0.ids[i]) } ?? i }

    /// A batch holding only the live rows, with no selection.
    public func compacted() -> Batch {
        guard let selection else { return self }
        let n = selection.count
        let cols = columns.map { $0.gather(UnsafePointer(selection.ids), n) }
        return Batch(schema: schema, columns: cols, count: n)
    }
}
