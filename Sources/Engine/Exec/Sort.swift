import Columnar

/// Orders the rows of a (compacted) batch by some of its columns: NULLs first, then
/// ascending values; strings by bytes. Used to make each emission's rows deterministic.
enum BatchSorter {
    static func sorted(_ batch: Batch, by columns: [Int]) -> Batch {
        let b = batch.compacted()
        guard b.count > 1, !columns.isEmpty else { return b }
        var order = Array(0..<b.count)
        let cols = columns.map { b.columns[$0] }
        order.sort { x, y in compare(cols, x, y) < 0 }
        let sel = order.map { UInt32($0) }
        let out = sel.withUnsafeBufferPointer { p in b.columns.map { $0.gather(p.baseAddress, b.count) } }
        return Batch(schema: b.schema, columns: out, count: b.count)
    }

    static func compare(_ cols: [Column], _ x: Int, _ y: Int) -> Int {
        for c in cols {
            let vx = c.isValid(x), vy = c.isValid(y)
            if !vx || !vy {
                if vx == vy { continue }
                return vx ? 1 : -1
            }
            let o: Int
            switch c.type {
            case .int64, .timestamp:
                let a = c.int64s[x], b = c.int64s[y]
                o = a < b ? -1 : (a == b ? 0 : 1)
            case .float64:
                let a = c.float64s[x], b = c.float64s[y]
                o = a < b ? -1 : (a == b ? 0 : (a > b ? 1 : (a.isNaN ? (b.isNaN ? 0 : 1) : -1)))
            case .bool:
                o = Int(c.bools[x]) - Int(c.bools[y])
            case .string:
                let a = c.stringBytes(at: x), b = c.stringBytes(at: y)
                o = a.elementsEqual(b) ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
            }
            if o != 0 { return o }
        }
        return 0
    }
}
