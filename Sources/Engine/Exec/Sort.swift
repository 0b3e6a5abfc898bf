import Columnar

/// Orders the rows of a batch by some of its columns: NULLs first, then ascending
/// values; strings by bytes. Used to make each emission's rows deterministic.
enum BatchSorter {
    static func sorted(_ batch: Batch, by columns: [Int]) -> Batch {
        let b = batch.compacted()
        let n = b.count
        guard n > 1 else { return b }
        // Columns holding one value (window_start, window_end of a window) order nothing.
        let keys = columns.map { b.columns[$0] }.filter { !isConstant($0, n) }
        guard !keys.isEmpty else { return b }
        var order: [UInt32]
        if keys.count == 1, keys[0].type.isInt64Backed, keys[0].validityWords == nil {
            // The common case (one integer key): a radix sort of the values, stable, so
            // equal values keep row order.
            order = radixOrder(keys[0].int64s, n)
        } else {
            let comparators = keys.map(comparator)
            order = (0..<n).map { UInt32($0) }
            order.sort { x, y in
                for c in comparators {
                    let o = c(Int(x), Int(y))
                    if o != 0 { return o < 0 }
                }
                return x < y
            }
        }
        let out = order.withUnsafeBufferPointer { p in b.columns.map { $0.gather(p.baseAddress, n) } }
        return Batch(schema: b.schema, columns: out, count: n)
    }

    /// The rows 0..<n ordered by `values` (ascending, stable): an LSD radix sort by
    /// bytes, skipping the bytes on which all values agree (usually most of them).
    static func radixOrder(_ values: UnsafePointer<Int64>, _ n: Int) -> [UInt32] {
        var keys = [UInt64](repeating: 0, count: n)
        var rows = [UInt32](repeating: 0, count: n)
        var lo = UInt64.max, hi = UInt64.min
        for i in 0..<n {
            // Flipping the sign bit orders signed values as unsigned ones.
            let k = UInt64(bitPattern: values[i]) ^ (1 << 63)
            keys[i] = k
            rows[i] = UInt32(i)
            lo = min(lo, k)
            hi = max(hi, k)
        }
        var keys2 = [UInt64](repeating: 0, count: n)
        var rows2 = [UInt32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 256)
        let varying = lo ^ hi
        for shift in stride(from: 0, to: 64, by: 8) where (varying >> UInt64(shift)) & 0xFF != 0 {
            for b in 0..<256 { counts[b] = 0 }
            for i in 0..<n { counts[Int((keys[i] >> UInt64(shift)) & 0xFF)] += 1 }
            var sum = 0
            for b in 0..<256 {
                let c = counts[b]
                counts[b] = sum
                sum += c
            }
            for i in 0..<n {
                let b = Int((keys[i] >> UInt64(shift)) & 0xFF)
                let at = counts[b]
                counts[b] = at + 1
                keys2[at] = keys[i]
                rows2[at] = rows[i]
            }
            swap(&keys, &keys2)
            swap(&rows, &rows2)
        }
        return rows
    }

    static func isConstant(_ c: Column, _ n: Int) -> Bool {
        if c.nullCount > 0 && c.nullCount < n { return false }
        if c.nullCount == n { return true }
        switch c.type {
        case .string:
            let first = c.stringBytes(at: 0)
            for r in 1..<n where !c.stringBytes(at: r).elementsEqual(first) { return false }
        case .bool:
            let p = c.bools
            for r in 1..<n where p[r] != p[0] { return false }
        default:
            let p = c.int64s  // bit equality is enough for doubles here
            for r in 1..<n where p[r] != p[0] { return false }
        }
        return true
    }

    /// A three-way comparison of two rows of `c` (NULLs first).
    static func comparator(_ c: Column) -> (Int, Int) -> Int {
        let valid: [Bool]? = c.validityWords == nil ? nil : (0..<c.count).map { c.isValid($0) }
        let value: (Int, Int) -> Int
        switch c.type {
        case .int64, .timestamp:
            let p = c.int64s
            value = { x, y in p[x] < p[y] ? -1 : (p[x] == p[y] ? 0 : 1) }
        case .float64:
            let p = c.float64s
            value = { x, y in
                let a = p[x], b = p[y]
                if a < b { return -1 }
                if a > b { return 1 }
                if a == b { return 0 }
                return a.isNaN ? (b.isNaN ? 0 : 1) : -1  // NaN sorts last
            }
        case .bool:
            let p = c.bools
            value = { x, y in Int(p[x]) - Int(p[y]) }
        case .string:
            value = { x, y in
                let a = c.stringBytes(at: x), b = c.stringBytes(at: y)
                if a.elementsEqual(b) { return 0 }
                return a.lexicographicallyPrecedes(b) ? -1 : 1
            }
        }
        guard let valid else { return value }
        return { x, y in
            let vx = valid[x], vy = valid[y]
            if vx && vy { return value(x, y) }
            return vx == vy ? 0 : (vx ? 1 : -1)
        }
    }
}
