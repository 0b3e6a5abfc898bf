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
    /// the rank appended as a last column. Ties under ROW_NUMBER are broken by the other
    /// columns (so the result does not depend on how work was split).
    static func topN(_ rows: Batch, _ plan: TopNPlan) -> Batch {
        let b = rows.compacted()
        let n = b.count
        let partition = plan.partition.map { BatchSorter.comparator(b.columns[$0]) }
        let order = plan.order.map { o in directed(b.columns[o.column], o) }
        let rest = b.columns.indices.filter { c in !plan.partition.contains(c) && !plan.order.contains { $0.column == c } }
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
                let tied = k > i && compare(order, Int(ids[k - 1]), Int(ids[k])) == 0
                switch plan.function {
                case .rowNumber: rank = Int64(k - i + 1)
                case .rank: if !tied { rank = Int64(k - i + 1) }
                case .denseRank: if !tied { rank += 1 }
                }
                if rank > Int64(plan.limit) { break }
                kept.append(ids[k])
                ranks.append(rank)
            }
            i = j
        }
        var columns = kept.withUnsafeBufferPointer { p in b.columns.map { $0.gather(p.baseAddress, kept.count) } }
        let rankColumn = Column(.int64, capacity: max(kept.count, 1))
        for r in ranks { rankColumn.append(r) }
        columns.append(rankColumn)
        var schema = b.schema
        schema.fields.append(Field("rank", .int64))
        return Batch(schema: schema, columns: columns, count: kept.count)
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
/// Rows arrive in batches; a row that is worse than the N-th best of its partition
/// (as of the last pruning) can never be in the top N and is skipped by a threshold
/// test, so for small N almost nothing is copied. The buffer is pruned (ranked, the
/// first N of each partition kept) whenever it doubles.
final class TopNState: PaneState, @unchecked Sendable {
    let plan: TopNPlan
    /// Partition groups (group id per distinct partition key), for the thresholds.
    let keys: AggState
    private(set) var columns: [Column]
    private(set) var count = 0
    /// Group id of each buffered row.
    private var groups: [UInt32] = []
    /// Per group: the value of the first ORDER BY column a row must reach (ties
    /// included) to be a candidate; nil until the group has N rows after a prune.
    private var thresholds: [Int64?] = []
    private var prunedCount = 0
    /// The threshold test applies: a numeric first ORDER BY column, and ROW_NUMBER or
    /// RANK (DENSE_RANK counts ties as one, so N rows at least as good do not bound it).
    private let thresholdColumn: Int?

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
        if thresholds.count < groupCount { thresholds += Array(repeating: nil, count: groupCount - thresholds.count) }
        if let t = thresholdColumn {
            let c = inputs[t]
            let o = plan.order[0]
            for i in 0..<n {
                let r = Int(sel?[i] ?? UInt32(i))
                let g = keyed ? Int(ids[r]) : 0
                if let bar = thresholds[g], !reaches(c, r, bar, o) { continue }
                rows.append(UInt32(r))
            }
        } else {
            for i in 0..<n { rows.append(sel?[i] ?? UInt32(i)) }
        }
        guard !rows.isEmpty else { return }
        rows.withUnsafeBufferPointer { p in
            for (dst, src) in zip(columns, inputs) { dst.appendGathered(from: src, p.baseAddress, p.count) }
        }
        for r in rows { groups.append(keyed ? ids[Int(r)] : 0) }
        count += rows.count
        if count > 2 * prunedCount + 4096 { prune() }
    }

    /// Whether row r of `c` is at least as good as `bar` under order `o` (a NULL is
    /// never compared away).
    private func reaches(_ c: Column, _ r: Int, _ bar: Int64, _ o: RankOrder) -> Bool {
        guard c.isValid(r) else { return true }
        if c.type == .float64 {
            let v = c.float64s[r], b = Double(bitPattern: UInt64(bitPattern: bar))
            if v.isNaN { return true }
            return o.descending ? v >= b : v <= b
        }
        let v = c.int64s[r]
        return o.descending ? v >= bar : v <= bar
    }

    /// Keeps the first N rows of each partition and sets each group's threshold to the
    /// N-th one's value.
    private func prune() {
        var fields = plan.rowFields
        fields.append(Field("group", .int64))
        let g = Column(.int64, capacity: max(count, 1))
        for x in groups { g.append(Int64(x)) }
        let ranked = Ranking.topN(Batch(schema: Schema(fields), columns: columns + [g], count: count), plan)
        let width = plan.rowFields.count
        columns = Array(ranked.columns.prefix(width))
        let groupColumn = ranked.columns[width]
        count = ranked.count
        groups = (0..<count).map { UInt32(groupColumn.int64s[$0]) }
        prunedCount = count
        guard let t = thresholdColumn else { return }
        // Per group, the value of its N-th row (rows are in rank order within a group).
        var seen = [Int](repeating: 0, count: thresholds.count)
        let c = columns[t]
        for r in 0..<count {
            let grp = Int(groups[r])
            seen[grp] += 1
            if seen[grp] == plan.limit && c.isValid(r) { thresholds[grp] = c.int64s[r] }
        }
    }

    /// The top N of the partitions over several workers' states, ranked.
    static func merged(_ states: [TopNState], _ plan: TopNPlan) -> Batch {
        let columns = plan.rowFields.map { Column($0.type, capacity: max(states.reduce(0) { $0 + $1.count }, 1)) }
        for s in states {
            for (dst, src) in zip(columns, s.columns) { dst.appendGathered(from: src, nil, s.count) }
        }
        let total = states.reduce(0) { $0 + $1.count }
        return Ranking.topN(Batch(schema: Schema(plan.rowFields), columns: columns, count: total), plan)
    }
}
