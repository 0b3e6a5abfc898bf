import Columnar

/// Binds a grouped query: the GROUP BY keys and the aggregate calls over the input
/// row, and the SELECT/HAVING expressions over the aggregate's result row
/// `[window_start, window_end]` (windowed) + keys + aggregates.
struct AggregateBinder {
    var scope: Scope
    let groupBy: [Expression]
    /// The GROUP BY expressions that are keys (window_start/window_end excluded when windowed).
    private var keyExprs: [Expression] = []
    private(set) var keys: [BoundExpr] = []
    private(set) var windowed = false
    private(set) var aggregates: [AggregateSpec] = []
    private(set) var inputs: [BoundExpr] = []
    private var aggregateCalls: [Expression] = []
    /// FILTER conditions bound so far and the aggregate input each one became.
    private var filterInputs: [(condition: Expression, input: Int)] = []

    init(scope: Scope, groupBy: [Expression]) throws(SQLSyntaxError) {
        self.scope = scope
        self.groupBy = groupBy
        var sawStart = false, sawEnd = false
        for g in groupBy {
            if try Scope.containsAggregate(g) {
                throw Binder.error("aggregate functions are not allowed in GROUP BY", at: g.position)
            }
            if scope.input.window != nil, case .column(let n) = g.kind {
                let name = n.last.name.lowercased()
                if name == "window_start" { sawStart = true; continue }
                if name == "window_end" { sawEnd = true; continue }
            }
            keyExprs.append(g)
            keys.append(try self.scope.bind(g))
        }
        if sawStart != sawEnd {
            throw Binder.error("a window aggregation must group by both window_start and window_end",
                               at: groupBy.first?.position ?? .start, hint: "GROUP BY window_start, window_end, ...")
        }
        windowed = sawStart && sawEnd
        if let w = scope.input.window {
            try Self.checkWindowGrouping(w, scope: scope, windowed: windowed, keyExprs: keyExprs, groupBy: groupBy)
        }
    }

    /// Grouping a TUMBLE TVF's rows without the window columns is a plain aggregate over
    /// them. The other windows must be grouped by their window: a HOP/CUMULATE row is in
    /// several windows and a SESSION window exists only per key. SESSION windows are
    /// formed per value of the PARTITION BY columns, which must be the GROUP BY keys.
    private static func checkWindowGrouping(_ w: InputWindow, scope: Scope, windowed: Bool, keyExprs: [Expression],
                                            groupBy: [Expression]) throws(SQLSyntaxError) {
        if case .tumble = w.kind { return }
        guard windowed else {
            throw Binder.error("a \(w.kind.name) window aggregation must group by window_start and window_end",
                               at: groupBy.first?.position ?? .start, hint: "GROUP BY window_start, window_end, ...")
        }
        guard case .session = w.kind else { return }
        var keyColumns: [Int] = []
        for k in keyExprs {
            guard case .column(let n) = k.kind, let c = scope.input.table.schema.index(of: n.last.name) else {
                throw Binder.error("a SESSION window groups by window_start, window_end and its PARTITION BY columns only",
                                   at: k.position)
            }
            keyColumns.append(c)
        }
        if Set(keyColumns) != Set(w.partition) || keyColumns.count != w.partition.count {
            let names = keyExprs.map(\.description).joined(separator: ", ")
            throw Binder.error("the GROUP BY keys of a SESSION window must be its PARTITION BY columns",
                               at: keyExprs.first?.position ?? groupBy.first?.position ?? .start,
                               hint: keyExprs.isEmpty ? "remove PARTITION BY, or group by its columns"
                                   : "write SESSION(TABLE t PARTITION BY \(names), DESCRIPTOR(ts), INTERVAL '30' SECOND)")
        }
    }

    /// Offset of the first key in the aggregate's result row.
    private var keyBase: Int { windowed ? 2 : 0 }

    mutating func bindOutput(_ e: Expression) throws(SQLSyntaxError) -> BoundExpr {
        let groupKeys = keyExprs
        let base = keyBase
        let windowCols = windowed
        let keyTypes = keys.map(\.type)
        var me = self
        let result = try ExpressionBinder.bind(e, hook: { (sub: Expression) throws(SQLSyntaxError) -> BoundExpr? in
            if let k = groupKeys.firstIndex(of: sub) {
                return .column(index: base + k, type: keyTypes[k], name: "key\(k)")
            }
            if case .call(let c) = sub.kind, Scope.isAggregate(c) {
                return try me.aggregate(c, sub)
            }
            return nil
        }) { (name: QualifiedName) throws(SQLSyntaxError) -> BoundExpr in
            let lower = name.last.name.lowercased()
            if windowCols && lower == "window_start" { return .column(index: 0, type: .timestamp(.millisecond), name: "window_start") }
            if windowCols && lower == "window_end" { return .column(index: 1, type: .timestamp(.millisecond), name: "window_end") }
            if windowCols && lower == "window_time" {
                return .arithmetic(.sub, .column(index: 1, type: .timestamp(.millisecond), name: "window_end"),
                                   .literal(.int(1), .int64), .timestamp(.millisecond))
            }
            // A bare column that is a GROUP BY key under another spelling (`t.a` vs `a`).
            for (k, g) in groupKeys.enumerated() {
                if case .column(let gn) = g.kind, gn.last.name.lowercased() == lower {
                    return .column(index: base + k, type: keyTypes[k], name: gn.last.name)
                }
            }
            throw Binder.error("column '\(name.last.name)' must appear in GROUP BY or be used in an aggregate function",
                               at: name.position, hint: "add it to GROUP BY, or wrap it, e.g. MAX(\(name.last.name))")
        }
        self = me
        return result
    }

    /// Registers an aggregate call (deduplicated) and returns its result column.
    private mutating func aggregate(_ c: Expression.FunctionCall, _ e: Expression) throws(SQLSyntaxError) -> BoundExpr {
        let name = c.name.last.name.uppercased()
        let base = keyBase + keys.count
        if let i = aggregateCalls.firstIndex(of: e) {
            return .column(index: base + i, type: aggregates[i].outputType, name: name)
        }
        guard Scope.aggregateNames.contains(name) else {
            throw Binder.error("aggregate \(name) is not supported yet", at: e.position,
                               hint: "supported: " + Self.supportedAggregates)
        }
        var spec: AggregateSpec
        if c.isStar {
            guard name == "COUNT" else { throw Binder.error("only COUNT takes *", at: e.position) }
            spec = AggregateSpec(kind: .countStar, input: nil, inputType: nil, outputType: .int64)
        } else {
            guard c.arguments.count == 1 else {
                throw Binder.error("\(name) takes one argument", at: e.position)
            }
            let arg = c.arguments[0]
            if try Scope.containsAggregate(arg) {
                throw Binder.error("aggregate calls cannot be nested", at: arg.position)
            }
            let bound = try scope.bind(arg)
            let kind: AggregateKind = [
                "COUNT": .count, "SUM": .sum, "MIN": .min, "MAX": .max, "AVG": .avg,
                "APPROX_COUNT_DISTINCT": .approxCountDistinct, "FIRST_VALUE": .firstValue, "LAST_VALUE": .lastValue,
            ][name]!
            switch (kind, bound.type) {
            // COUNT, the distinct counts and FIRST/LAST_VALUE work on every type.
            case (.count, _), (.approxCountDistinct, _), (.firstValue, _), (.lastValue, _): break
            case (.sum, .int64), (.sum, .float64), (.avg, .int64), (.avg, .float64): break
            case (.min, .int64), (.min, .float64), (.min, .timestamp), (.max, .int64), (.max, .float64), (.max, .timestamp):
                break
            default:
                throw Binder.error("\(name) over \(bound.type) is not supported", at: arg.position,
                                   hint: kind == .min || kind == .max ? "MIN/MAX work on numbers and timestamps for now" : nil)
            }
            if c.isDistinct && (kind == .firstValue || kind == .lastValue) {
                throw Binder.error("\(name)(DISTINCT ...) is not supported: \(name) picks the value of one row",
                                   at: e.position, hint: "remove DISTINCT")
            }
            let inputIndex: Int
            if case .column(let ci, _, _) = bound,
               let existing = inputs.firstIndex(where: { if case .column(let j, _, _) = $0 { return j == ci }; return false }) {
                inputIndex = existing
            } else {
                inputIndex = inputs.count
                inputs.append(bound)
            }
            spec = AggregateSpec(kind: kind, input: inputIndex, inputType: bound.type,
                                 outputType: AggregateSpec.outputType(kind, bound.type))
            // DISTINCT changes COUNT, SUM and AVG; MIN, MAX and APPROX_COUNT_DISTINCT give
            // the same result with or without it.
            spec.distinct = c.isDistinct && (kind == .count || kind == .sum || kind == .avg)
        }
        if let f = c.filter { spec.filter = try filterInput(f) }
        spec.label = e.description
        aggregates.append(spec)
        aggregateCalls.append(e)
        return .column(index: base + aggregates.count - 1, type: spec.outputType, name: name)
    }

    static let supportedAggregates = "COUNT, SUM, MIN, MAX, AVG, APPROX_COUNT_DISTINCT, FIRST_VALUE, LAST_VALUE"

    /// The aggregate input holding a FILTER condition (one per distinct condition, shared
    /// by the aggregates that use it).
    private mutating func filterInput(_ f: Expression) throws(SQLSyntaxError) -> Int {
        if try Scope.containsAggregate(f) {
            throw Binder.error("aggregate calls are not allowed in FILTER (WHERE ...)", at: f.position)
        }
        if let known = filterInputs.first(where: { $0.condition == f }) { return known.input }
        let bound = try scope.bind(f)
        guard bound.type == .bool else {
            throw Binder.error("FILTER (WHERE ...) needs a BOOLEAN condition, not \(bound.type)", at: f.position,
                               hint: "e.g. COUNT(*) FILTER (WHERE price > 100)")
        }
        inputs.append(bound)
        filterInputs.append((f, inputs.count - 1))
        return inputs.count - 1
    }
}
