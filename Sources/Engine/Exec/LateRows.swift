import Columnar

/// Finding late rows again after the on-time filter (which only counts them) and
/// writing them out whole, with the watermark each one met.
enum LateRows {
    /// The columns a late-data output adds after the table's own.
    static let extraFields = [Field("watermark", .timestamp(.millisecond)), Field("late_by_ms", .int64)]

    /// The watermark before each row r <= last of a batch: the running maximum of the
    /// valid event times before r, minus `delay` (Int64.min before any time).
    static func watermarks(_ ts: Column, through last: Int, runningBefore: Int64, delay: Int64) -> [Int64] {
        var out = [Int64](repeating: Int64.min, count: last + 1)
        var running = runningBefore
        let times = ts.int64s
        for r in 0...last {
            out[r] = running == Int64.min ? Int64.min : running &- delay
            if ts.isValid(r) && times[r] > running { running = times[r] }
        }
        return out
    }

    /// The considered rows (`sel[0..<nsel]`, or 0..<nsel when nil) with a valid time that
    /// the filter did not keep, with the watermark each met.
    static func find(_ ts: Column, _ sel: UnsafePointer<UInt32>?, _ nsel: Int, kept: SelectionVector,
                     runningBefore: Int64, delay: Int64) -> [(row: Int, watermark: Int64)] {
        guard nsel > 0 else { return [] }
        let lastRow = Int(sel?[nsel - 1] ?? UInt32(nsel - 1))
        let marks = watermarks(ts, through: lastRow, runningBefore: runningBefore, delay: delay)
        var out: [(Int, Int64)] = []
        var k = 0
        for i in 0..<nsel {
            let r = Int(sel?[i] ?? UInt32(i))
            while k < kept.count && Int(kept.ids[k]) < r { k += 1 }
            if k < kept.count && Int(kept.ids[k]) == r { continue }
            if ts.isValid(r) { out.append((r, marks[r])) }
        }
        return out
    }

    /// The late rows as a batch: the first `columns` columns of `batch` (the table's row)
    /// then the watermark and how far the row's time was behind it.
    static func batch(_ batch: Batch, columns: Int, fields: [Field], rows: [(row: Int, watermark: Int64)], time: Column) -> Batch {
        let ids = rows.map { UInt32($0.row) }
        var out: [Column] = ids.withUnsafeBufferPointer { p in
            batch.columns.prefix(columns).map { c in
                let o = Column(c.type, capacity: max(ids.count, 1))
                o.appendGathered(from: c, p.baseAddress, ids.count)
                return o
            }
        }
        let marks = Column(.timestamp(.millisecond), capacity: max(rows.count, 1))
        let by = Column(.int64, capacity: max(rows.count, 1))
        for (r, wm) in rows {
            marks.append(wm)
            by.append(wm &- time.int64s[r])
        }
        out += [marks, by]
        return Batch(schema: Schema(fields + extraFields), columns: out, count: rows.count)
    }
}
