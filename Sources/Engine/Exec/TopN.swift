import CKernels
import Columnar

/// What a worker keeps per pane (or for the whole stream): aggregate accumulators, or
/// the candidate rows of a Top-N.
protocol PaneState: AnyObject, Sendable {
    /// Adds the rows `sel[0..<n]`: their evaluated keys and inputs; row i of the batch
    /// has input position rowBase + i.
    func add(keys: [Column], inputs: [Column], scratch: KeyScratch, _ sel: UnsafePointer<UInt32>?, _ n: Int,
             rowBase: Int64)
}

extension AggState: PaneState {}

/// Ranking rows within their partition: `ROW_NUMBER`, `RANK` or `DENSE_RANK` over
/// `PARTITION BY p ORDER BY o`, keeping the ranks up to N.
enum Ranking {
    /// The rows of `rows` ranked up to `plan.limit`, ordered by partition then rank, with
    /// the rank appended as a last column. Ties under ROW_NUMBER are broken by column
    /// `tieBreak` (the input position), or else by the other columns, so the result does
    /// not depend on how work was split.
    static func topN(_ rows: Batch, _ plan: TopNPlan, tieBreak: Int? = nil) -> Batch {
        let b = rows.compacted()
        let n = b.count
        if let fast = oneOrderKey(b, plan, tieBreak) { return fast }
        let partition = plan.partition.map { BatchSorter.comparator(b.columns[$0]) }
        let order = plan.order.map { o in directed(b.columns[o.column], o) }
        let rest = tieBreak.map { [BatchSorter.comparator(b.columns[$0])] }
            ?? b.columns.indices.filter { c in !plan.partition.contains(c) && !plan.order.contains { $0.column == c } }
            .map { BatchSorter.comparator(b.columns[$0]) }
        var ids = (0..<n).map { UInt32($0) }
        func compare(_ cs: [(Int, Int) -> Int], _ x: Int, _ y: Int) -> Int {
            for c in cs {
                let o = c(x, y)
                if o != 0 { return o }
            }
            return 0
        }
        ids.sort { x, y in
            let a = Int(x), b = Int(y)
            var o = compare(partition, a, b)
            if o == 0 { o = compare(order, a, b) }
            if o == 0 { o = compare(rest, a, b) }
            return o != 0 ? o < 0 : x < y
        }
        var kept: [UInt32] = []
        var ranks: [Int64] = []
        var i = 0
        while i < n {
            // One partition: ids[i..<j].
            var j = i + 1
            while j < n && compare(partition, Int(ids[i]), Int(ids[j])) == 0 { j += 1 }
            var rank: Int64 = 0
            for k in i..<j {
                rank = nextRank(plan.function, rank, k - i, tied: k > i && compare(order, Int(ids[k - 1]), Int(ids[k])) == 0)
                if rank > Int64(plan.limit) { break }
                kept.append(ids[k])
                ranks.append(rank)
            }
            i = j
        }
        return withRanks(b, kept, ranks)
    }

    /// The common case, without comparison closures: one partition (the partition
    /// columns hold one value, e.g. window_start and window_end of one window's rows) and
    /// one numeric ORDER BY column without NULLs. Ties go by `tieBreak` (the input
    /// position) or else by row order (an emission's rows are sorted by their keys).
    private static func oneOrderKey(_ b: Batch, _ plan: TopNPlan, _ tieBreak: Int?) -> Batch? {
        let n = b.count
        guard plan.order.count == 1, plan.partition.allSatisfy({ BatchSorter.isConstant(b.columns[$0], n) }) else { return nil }
        let o = plan.order[0]
        let c = b.columns[o.column]
        guard c.nullCount == 0, c.type.isInt64Backed || c.type == .float64 else { return nil }
        let tie: UnsafeMutablePointer<Int64>? = tieBreak.flatMap { t in
            b.columns[t].type.isInt64Backed && b.columns[t].nullCount == 0 ? b.columns[t].int64s : nil
        }
        if tieBreak != nil && tie == nil { return nil }
        var keys = [(Int64, Int64, UInt32)]()
        keys.reserveCapacity(n)
        for r in 0..<n { keys.append((orderKey(c, r, o), tie?[r] ?? Int64(r), UInt32(r))) }
        keys.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var kept: [UInt32] = []
        var ranks: [Int64] = []
        var rank: Int64 = 0
        for (i, k) in keys.enumerated() {
            rank = nextRank(plan.function, rank, i, tied: i > 0 && keys[i - 1].0 == k.0)
            if rank > Int64(plan.limit) { break }
            kept.append(k.2)
            ranks.append(rank)
        }
        return withRanks(b, kept, ranks)
    }

    /// The rank of the `i`-th row of a partition (0-based) after one of rank `rank`.
    @inline(__always)
    static func nextRank(_ f: RankFunction, _ rank: Int64, _ i: Int, tied: Bool) -> Int64 {
        switch f {
        case .rowNumber: return Int64(i + 1)
        case .rank: return tied ? rank : Int64(i + 1)
        case .denseRank: return tied ? rank : rank + 1
        }
    }

    /// Rows `kept` of `b`, with their ranks as a last column.
    static func withRanks(_ b: Batch, _ kept: [UInt32], _ ranks: [Int64]) -> Batch {
        var columns = kept.withUnsafeBufferPointer { p in b.columns.map { $0.gather(p.baseAddress, kept.count) } }
        let rankColumn = Column(.int64, capacity: max(kept.count, 1))
        for r in ranks { rankColumn.append(r) }
        columns.append(rankColumn)
        var schema = b.schema
        schema.fields.append(Field("rank", .int64))
        return Batch(schema: schema, columns: columns, count: kept.count)
    }

    /// An integer that orders row r of numeric `c` as `o` does, best (first) smallest:
    /// doubles by their ordered bit pattern (NaN last), descending by the complement.
    @inline(__always)
    static func orderKey(_ c: Column, _ r: Int, _ o: RankOrder) -> Int64 {
        var k = c.int64s[r]
        if c.type == .float64 {
            if c.float64s[r].isNaN { return Int64.max }
            if k < 0 { k ^= Int64.max }
        }
        return o.descending ? ~k : k
    }

    /// A comparison of one ORDER BY term, with its direction and NULL placement.
    static func directed(_ c: Column, _ o: RankOrder) -> (Int, Int) -> Int {
        let base = BatchSorter.comparator(c)
        return { x, y in
            let vx = c.isValid(x), vy = c.isValid(y)
            if vx != vy { return vx == o.nullsFirst ? 1 : -1 }
            if !vx { return 0 }
            let v = base(x, y)
            return o.descending ? -v : v
        }
    }
}

/// The candidate rows of a Top-N in one window (or the whole stream) on one worker.
///
/// Rows arrive in batches; each partition keeps the N best values of the first ORDER BY
/// column seen so far, and a row worse than the N-th of them can never be in the top N:
/// it is skipped, so for small N almost nothing is copied (about N log(rows) rows per
/// partition for rows in random order). The buffer is pruned (ranked, the first N of
/// each partition kept) whenever it doubles. Rows keep their input position: rows
/// tied on the ORDER BY rank in input order (Flink keeps the first row that arrived).
final class TopNState: PaneState, @unchecked Sendable {
    let plan: TopNPlan
    /// Partition groups (group id per distinct partition key), for the thresholds.
    let keys: AggState
    var columns: [Column]
    var count = 0
    /// Group id and input position of each buffered row.
    var groups: [UInt32] = []
    var positions: [Int64] = []
    /// Per group: the best order keys of the first ORDER BY column so far, best first
    /// (at most N); a row whose key is worse than the N-th is no candidate.
    var best: [[Int64]] = []
    var prunedCount = 0
    /// The threshold test applies: a numeric first ORDER BY column, and ROW_NUMBER or
    /// RANK (DENSE_RANK counts ties as one, so N rows at least as good do not bound it).
    let thresholdColumn: Int?

    init(plan: TopNPlan, layout: KeyLayout) {
        self.plan = plan
        keys = AggState(layout: layout, specs: [])
        columns = plan.rowFields.map { Column($0.type, capacity: 64) }
        if let first = plan.order.first, plan.function != .denseRank {
            switch plan.rowFields[first.column].type {
            case .int64, .timestamp, .float64: thresholdColumn = first.column
            default: thresholdColumn = nil
            }
        } else {
            thresholdColumn = nil
        }
    }

    func add(keys keyColumns: [Column], inputs: [Column], scratch: KeyScratch, _ sel: UnsafePointer<UInt32>?, _ n: Int,
             rowBase: Int64) {
        guard n > 0 else { return }
        let ids = scratch.groups.typed(UInt32.self)
        let keyed = keys.layout.width > 0
        if keyed { keys.add(keys: keyColumns, inputs: [], scratch: scratch, sel, n, rowBase: rowBase) }
        var rows: [UInt32] = []
        rows.reserveCapacity(n)
        let groupCount = keyed ? keys.groupCount : 1
        if best.count < groupCount { best += Array(repeating: [], count: groupCount - best.count) }
        // One partition with its N best known: a vectorized filter keeps the rows at
        // least as good as the N-th (most of a batch is not), then the loop below.
        var sel = sel, n = n
        var narrowed: SelectionVector?
        defer { withExtendedLifetime(narrowed) {} }
        if let t = thresholdColumn, !keyed, best[0].count == plan.limit, inputs[t].type.isInt64Backed {
            let o = plan.order[0]
            let worst = best[0][plan.limit - 1]
            let bar = o.descending ? ~worst : worst
            let c = inputs[t]
            let out = SelectionVector(capacity: max(c.count, 1))
            out.count = ck_filter_i64_const(o.descending ? CK_CMP_GE : CK_CMP_LE, c.int64s, c.validityWords, sel, n, bar, out.ids)
            if c.validityWords != nil {
                // NULLs stay candidates (they rank last; the prune sorts them out).
                var ids = Array(UnsafeBufferPointer(start: out.ids, count: out.count))
                for i in 0..<n {
                    let r = sel?[i] ?? UInt32(i)
                    if !c.isValid(Int(r)) { ids.append(r) }
                }
                ids.sort()
                for (i, r) in ids.enumerated() { out.ids[i] = r }
                out.count = ids.count
            }
            narrowed = out
            sel = UnsafePointer(out.ids)
            n = out.count
        }
        if let t = thresholdColumn {
            let c = inputs[t]
            let o = plan.order[0]
            let limit = plan.limit
            for i in 0..<n {
                let r = Int(sel?[i] ?? UInt32(i))
                let g = keyed ? Int(ids[r]) : 0
                guard c.isValid(r) else {
                    rows.append(UInt32(r))  // NULLs rank last; the prune sorts them out
                    continue
                }
                let k = Ranking.orderKey(c, r, o)
                if best[g].count == limit {
                    let worst = best[g][limit - 1]
                    if k > worst { continue }
                    if k == worst {
                        // A tie with the N-th may still rank within N (RANK, or a later
                        // ORDER BY term): a candidate, but the N best stay.
                        rows.append(UInt32(r))
                        continue
                    }
                    best[g].removeLast()
                }
                var at = best[g].count
                while at > 0 && best[g][at - 1] > k { at -= 1 }
                best[g].insert(k, at: at)
                rows.append(UInt32(r))
            }
        } else {
            for i in 0..<n { rows.append(sel?[i] ?? UInt32(i)) }
        }
        guard !rows.isEmpty else { return }
        rows.withUnsafeBufferPointer { p in
            for (dst, src) in zip(columns, inputs) { dst.appendGathered(from: src, p.baseAddress, p.count) }
        }
        for r in rows {
            groups.append(keyed ? ids[Int(r)] : 0)
            positions.append(rowBase + Int64(r))
        }
        count += rows.count
        if count > 2 * prunedCount + 4096 { prune() }
    }


    /// The buffer as a batch: the rows, then each one's group and position.
    private func buffered() -> Batch {
        let g = Column(.int64, capacity: max(count, 1))
        let p = Column(.int64, capacity: max(count, 1))
        for x in groups { g.append(Int64(x)) }
        for x in positions { p.append(x) }
        let fields = plan.rowFields + [Field("group", .int64), Field("position", .int64)]
        return Batch(schema: Schema(fields), columns: columns + [g, p], count: count)
    }

    /// Keeps the first N rows of each partition.
    private func prune() {
        let width = plan.rowFields.count
        let ranked = Ranking.topN(buffered(), plan, tieBreak: width + 1)
        columns = Array(ranked.columns.prefix(width))
        count = ranked.count
        groups = (0..<count).map { UInt32(ranked.columns[width].int64s[$0]) }
        positions = (0..<count).map { ranked.columns[width + 1].int64s[$0] }
        prunedCount = count
    }

    /// The top N of the partitions over several workers' states, ranked: the rows, then
    /// their rank.
    static func merged(_ states: [TopNState], _ plan: TopNPlan) -> Batch {
        let all = states.map { $0.buffered() }
        let width = plan.rowFields.count
        let total = all.reduce(0) { $0 + $1.count }
        let columns = all[0].columns.map { Column($0.type, capacity: max(total, 1)) }
        for b in all {
            for (dst, src) in zip(columns, b.columns) { dst.appendGathered(from: src, nil, b.count) }
        }
        let ranked = Ranking.topN(Batch(schema: all[0].schema, columns: columns, count: total), plan, tieBreak: width + 1)
        // Drop the group and position columns: rows, then rank.
        let kept = Array(ranked.columns.prefix(width)) + [ranked.columns[width + 2]]
        return Batch(schema: Schema(plan.rowFields + [Field("rank", .int64)]), columns: kept, count: ranked.count)
    }
}
