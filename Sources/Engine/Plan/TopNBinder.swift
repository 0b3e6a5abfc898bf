import Columnar

/// Top-N and deduplication, in Flink's form:
///
///     SELECT ... FROM (
///       SELECT ..., ROW_NUMBER() OVER (PARTITION BY p ORDER BY o DESC) AS rn FROM ...
///     ) WHERE rn <= N
///
/// The subquery is bound as a query of its own (a projection, or an aggregation), then
/// its rows are ranked: per window when it partitions by window_start and window_end
/// (over a TUMBLE TVF's rows, or over a window aggregation's result), else over the
/// whole input, emitted at its end. `rn = 1` with ORDER BY the time column is
/// deduplication (first row per key).
extension Binder {
    private static let rankFunctions: [String: RankFunction] = [
        "ROW_NUMBER": .rowNumber, "RANK": .rank, "DENSE_RANK": .denseRank,
    ]

    /// The plan of a Top-N query, or nil when the FROM subquery has no ranking function.
    func topNQuery(_ outer: Select, _ sub: TableReference.Subquery) throws(SQLSyntaxError) -> QueryPlan? {
        guard case .select(var inner) = sub.query.body else { return nil }
        var found: (index: Int, call: Expression.FunctionCall, name: String, position: SourcePosition, function: RankFunction)?
        for (i, item) in inner.items.enumerated() {
            guard case .expression(let e, let alias) = item, case .call(let c) = e.kind,
                  let f = Binder.rankFunctions[c.name.last.name.uppercased()] else { continue }
            if found != nil { throw Binder.error("one ranking function per query", at: e.position) }
            guard let alias else {
                throw Binder.error("name the \(f.rawValue) column to filter on it", at: e.position,
                                   hint: "\(f.rawValue)() OVER (...) AS rownum, then WHERE rownum <= 3 outside")
            }
            found = (i, c, alias.name, e.position, f)
        }
        guard let (index, call, rankName, position, function) = found else { return nil }
        let fn = function.rawValue
        guard let over = call.over else {
            throw Binder.error("\(fn) needs OVER (PARTITION BY ... ORDER BY ...)", at: position)
        }
        if over.frame != nil { throw Binder.error("\(fn) takes no window frame", at: position) }
        guard !over.orderBy.isEmpty else {
            throw Binder.error("\(fn) needs an ORDER BY", at: position, hint: "e.g. OVER (PARTITION BY window_start, window_end ORDER BY price DESC)")
        }
        if !outer.groupBy.isEmpty || outer.having != nil || outer.isDistinct {
            throw Binder.error("a Top-N query selects from the ranked rows only (no GROUP BY, HAVING or DISTINCT around it)",
                               at: outer.position)
        }
        let limit = try rankLimit(outer.whereClause, rankName, outer.position)
        inner.items.remove(at: index)
        // PARTITION BY / ORDER BY terms the SELECT list does not have are computed as
        // hidden columns (`SELECT a FROM (SELECT a, ROW_NUMBER() OVER (ORDER BY ts) ...)`).
        let hasWildcard = inner.items.contains { if case .wildcard = $0 { return true } else { return false } }
        var hidden: [String] = []
        if !hasWildcard {
            let listed = inner.items.compactMap { item -> (Expression, String)? in
                guard case .expression(let e, let alias) = item else { return nil }
                return (e, (alias?.name ?? Binder.outputName(e)).lowercased())
            }
            for e in over.partitionBy + over.orderBy.map(\.expression) {
                let name: String? = if case .column(let n) = e.kind { n.last.name.lowercased() } else { nil }
                if listed.contains(where: { $0.0 == e || $0.1 == name }) { continue }
                let alias = "$rank_term_\(hidden.count)"
                hidden.append(alias)
                inner.items.append(.expression(e, alias: Identifier(alias, position: e.position)))
            }
        }
        let innerQuery = Query(with: [], body: .select(inner), orderBy: [], limit: nil, offset: nil, position: sub.query.position)
        var plan: QueryPlan
        if let ranked = try rankedRows(inner) { plan = ranked } else { plan = try query(innerQuery) }
        if plan.join != nil {
            throw Binder.error("a Top-N over a join of two inputs is not supported yet", at: position,
                               hint: "rank one input's rows, or a lookup join's")
        }
        let rowFields = plan.outputSchema.fields
        func rowColumn(_ e: Expression) throws(SQLSyntaxError) -> Int {
            if case .column(let n) = e.kind,
               let i = rowFields.firstIndex(where: { $0.name.lowercased() == n.last.name.lowercased() }) {
                return i
            }
            // An expression the SELECT list computes (`ORDER BY SUM(price)` for `SUM(price) AS total`).
            for item in inner.items {
                guard case .expression(let ie, let alias) = item, ie == e else { continue }
                let name = (alias?.name ?? Binder.outputName(ie)).lowercased()
                if let i = rowFields.firstIndex(where: { $0.name.lowercased() == name }) { return i }
            }
            throw Binder.error("PARTITION BY and ORDER BY of \(fn) must name columns of the subquery's SELECT list", at: e.position,
                               hint: "select it (\(e) AS name) and use the name; the columns are: " + rowFields.map(\.name).joined(separator: ", "))
        }
        var partition: [Int] = []
        for p in over.partitionBy { partition.append(try rowColumn(p)) }
        var order: [RankOrder] = []
        for o in over.orderBy {
            order.append(RankOrder(column: try rowColumn(o.expression), descending: !o.ascending,
                                   nullsFirst: o.nullsFirst ?? false))
        }
        let names = partition.map { rowFields[$0].name.lowercased() }
        let byWindow = names.contains("window_start") && names.contains("window_end")
        // The outer SELECT over the ranked row and its rank.
        let ranked = rowFields + [Field(rankName, .int64)]
        let shown = Array(rowFields.prefix(rowFields.count - hidden.count).indices) + [rowFields.count]
        var output: [BoundExpr] = []
        var outputFields: [Field] = []
        for item in outer.items {
            switch item {
            case .wildcard:
                for i in shown {
                    let f = ranked[i]
                    output.append(.column(index: i, type: f.type, name: f.name))
                    outputFields.append(f)
                }
            case .expression(let e, let alias):
                let b = try ExpressionBinder.bind(e) { (name: QualifiedName) throws(SQLSyntaxError) -> BoundExpr in
                    guard let i = shown.first(where: { ranked[$0].name.lowercased() == name.last.name.lowercased() }) else {
                        throw Binder.error("unknown column '\(name.last.name)'", at: name.position,
                                           hint: "the columns are: " + shown.map { ranked[$0].name }.joined(separator: ", "))
                    }
                    return .column(index: i, type: ranked[i].type, name: ranked[i].name)
                }
                output.append(b)
                outputFields.append(Field(alias?.name ?? Binder.outputName(e), b.type))
            }
        }
        let topN = TopNPlan(function: function, partition: partition, order: order, limit: limit,
                            rowFields: rowFields, output: output)
        switch plan.shape {
        case .aggregate(var a):
            if plan.late.policy == .update {
                throw Binder.error("Top-N over updated windows is not supported", at: position, hint: "use --late-data drop or FILE")
            }
            if a.windowed && !byWindow {
                throw Binder.error("a Top-N over a window aggregation must partition by window_start, window_end", at: position,
                                   hint: "OVER (PARTITION BY window_start, window_end ORDER BY ...)")
            }
            a.topN = topN
            plan.shape = .aggregate(a)
        case .project(let exprs):
            var windowed = false
            if let w = plan.window, byWindow {
                guard case .tumble = w.kind else {
                    throw Binder.error("a Top-N over the rows of a \(w.kind.name) TVF is not supported (a row is in several windows)",
                                       at: position, hint: "rank the window aggregation's result instead, or use TUMBLE")
                }
                if let wm = plan.watermark, wm.column != w.timeColumn {
                    throw Binder.error("the window column must be the table's WATERMARK column", at: position)
                }
                windowed = true
            }
            // Partition keys for the per-partition thresholds: the window columns are one
            // value per window state already.
            let keys = partition.filter { !windowed || !["window_start", "window_end"].contains(rowFields[$0].name.lowercased()) }
                .map { exprs[$0] }
            plan.shape = .aggregate(AggregatePlan(windowed: windowed, keys: keys, aggregates: [], inputs: exprs,
                                                  having: nil, output: [], topN: topN, rowsTopN: true))
        }
        plan.outputSchema = Schema(outputFields)
        return plan
    }

    /// Flink's form of a Top-N over a window aggregation ranks the rows of one more
    /// subquery: `SELECT *, ROW_NUMBER() OVER (...) AS rn FROM (SELECT ... GROUP BY
    /// window_start, window_end, ...)`. When the ranking SELECT only passes that
    /// subquery's columns through (`*` or plain column names, no WHERE), this is the
    /// subquery's plan with its output narrowed to those columns.
    private func rankedRows(_ select: Select) throws(SQLSyntaxError) -> QueryPlan? {
        guard select.from.count == 1, case .subquery(let sub) = select.from[0], select.whereClause == nil,
              select.groupBy.isEmpty, select.having == nil, !select.isDistinct else { return nil }
        var plan = try query(sub.query)
        let fields = plan.outputSchema.fields
        var picked: [Int] = []
        var names: [String] = []
        for item in select.items {
            switch item {
            case .wildcard:
                picked += fields.indices
                names += fields.map(\.name)
            case .expression(let e, let alias):
                guard case .column(let n) = e.kind,
                      let i = fields.firstIndex(where: { $0.name.lowercased() == n.last.name.lowercased() }) else {
                    throw Binder.error("the SELECT around a subquery with a ranking may only pass its columns through", at: e.position,
                                       hint: "compute \(e) inside the subquery")
                }
                picked.append(i)
                names.append(alias?.name ?? fields[i].name)
            }
        }
        switch plan.shape {
        case .project(let exprs): plan.shape = .project(picked.map { exprs[$0] })
        case .aggregate(var a):
            if a.topN != nil { throw Binder.error("one ranking per query", at: select.position) }
            a.output = picked.map { a.output[$0] }
            plan.shape = .aggregate(a)
        }
        plan.outputSchema = Schema(zip(picked, names).map { Field($1, fields[$0].type, nullable: fields[$0].nullable) })
        return plan
    }

    /// N of `WHERE rn <= N` (also `rn < N`, `rn = 1`, `N >= rn`, `rn BETWEEN 1 AND N`).
    private func rankLimit(_ w: Expression?, _ name: String, _ at: SourcePosition) throws(SQLSyntaxError) -> Int {
        let usage = "WHERE \(name) <= 3 (or \(name) = 1 to deduplicate)"
        guard let w else { throw Binder.error("a Top-N query needs a condition on '\(name)'", at: at, hint: usage) }
        func isRank(_ e: Expression) -> Bool {
            if case .column(let n) = e.kind { return n.last.name.lowercased() == name.lowercased() }
            return false
        }
        func int(_ e: Expression) -> Int64? {
            if case .literal(.integer(let v)) = e.kind { return v }
            return nil
        }
        var n: Int64?
        switch w.kind {
        case .binary(let op, let l, let r):
            if isRank(l), let v = int(r) {
                switch op {
                case .lessOrEqual: n = v
                case .less: n = v - 1
                case .equal: n = v == 1 ? 1 : nil
                default: break
                }
            } else if isRank(r), let v = int(l) {
                switch op {
                case .greaterOrEqual: n = v
                case .greater: n = v - 1
                case .equal: n = v == 1 ? 1 : nil
                default: break
                }
            }
        case .between(let e, let lo, let hi, false):
            if isRank(e), int(lo) == 1, let v = int(hi) { n = v }
        default:
            break
        }
        guard let n, n >= 1, n <= 1_000_000 else {
            throw Binder.error("unsupported condition on '\(name)'", at: w.position, hint: usage)
        }
        return Int(n)
    }
}
