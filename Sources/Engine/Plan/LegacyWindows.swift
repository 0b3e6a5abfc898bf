import Columnar

/// Flink's legacy group windows: `GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), k` with
/// `TUMBLE_START(ts, INTERVAL '10' SECOND)` / `TUMBLE_END` / `TUMBLE_ROWTIME` in the
/// SELECT list (likewise HOP(ts, slide, size) and SESSION(ts, gap)). They are rewritten
/// into the window TVF form the rest of the binder knows: the table gets the window,
/// the GROUP BY call becomes `window_start, window_end`, and the auxiliary functions
/// become those columns. A SESSION is per value of the other GROUP BY columns.
extension Binder {
    private static let groupWindows: Set<String> = ["TUMBLE", "HOP", "SESSION"]

    /// The select rewritten to the TVF form and its window, or nil when its GROUP BY has
    /// no group window call.
    func legacyGroupWindow(_ s: Select) throws(SQLSyntaxError) -> (Select, InputWindow)? {
        var found: (index: Int, call: Expression.FunctionCall, position: SourcePosition)?
        for (i, g) in s.groupBy.enumerated() {
            guard case .call(let c) = g.kind, Binder.groupWindows.contains(c.name.last.name.uppercased()) else { continue }
            if found != nil { throw Binder.error("a query can group by one window only", at: g.position) }
            found = (i, c, g.position)
        }
        guard let (index, call, position) = found else { return nil }
        let name = call.name.last.name.uppercased()
        guard s.from.count == 1, case .table(let t) = s.from[0] else {
            throw Binder.error("GROUP BY \(name)(...) needs a plain table in FROM", at: position)
        }
        let table = try lookup(t.name)
        guard let timeArg = call.arguments.first, case .column(let tn) = timeArg.kind,
              let tcol = table.schema.index(of: tn.last.name) else {
            throw Binder.error("\(name)(...) takes the table's time column first", at: position,
                               hint: "e.g. GROUP BY \(name)(ts, INTERVAL '10' SECOND)")
        }
        guard case .timestamp = table.schema[tcol].type else {
            throw Binder.error("the window column '\(tn.last.name)' must be a TIMESTAMP(3)", at: timeArg.position)
        }
        var intervals: [Int64] = []
        for a in call.arguments.dropFirst() {
            guard case .literal(.interval(let i)) = a.kind, i.milliseconds > 0 else {
                throw Binder.error("expected a positive INTERVAL", at: a.position, hint: "e.g. INTERVAL '10' SECOND")
            }
            intervals.append(i.milliseconds)
        }
        let kind: WindowKind
        switch (name, intervals.count) {
        case ("TUMBLE", 1): kind = .tumble(size: intervals[0])
        case ("HOP", 2):
            guard intervals[1] % intervals[0] == 0 else {
                throw Binder.error("HOP's size must be a whole multiple of its slide", at: call.arguments[2].position)
            }
            try Binder.checkWindowsPerRow(intervals[1] / intervals[0], "HOP", call.arguments[1].position)
            kind = .hop(slide: intervals[0], size: intervals[1])
        case ("SESSION", 1): kind = .session(gap: intervals[0])
        default:
            let usage = name == "HOP" ? "HOP(ts, INTERVAL '10' SECOND, INTERVAL '60' SECOND) (slide, then size)"
                : "\(name)(ts, INTERVAL '10' SECOND)"
            throw Binder.error("wrong arguments to \(name)", at: position, hint: usage)
        }
        var partition: [Int] = []
        if case .session = kind {
            for (i, g) in s.groupBy.enumerated() where i != index {
                guard case .column(let n) = g.kind, let c = table.schema.index(of: n.last.name) else {
                    throw Binder.error("with GROUP BY SESSION(...) the other keys must be columns", at: g.position)
                }
                partition.append(c)
            }
        }
        func column(_ n: String, _ p: SourcePosition) -> Expression {
            Expression(.column(QualifiedName([Identifier(n, position: p)])), position: p)
        }
        // The auxiliary functions must name the same window as the GROUP BY.
        func auxiliary(_ e: Expression) throws(SQLSyntaxError) -> Expression? {
            guard case .call(let c) = e.kind else { return nil }
            let fn = c.name.last.name.uppercased()
            guard let cut = fn.lastIndex(of: "_"), Binder.groupWindows.contains(String(fn[..<cut])) else { return nil }
            let part = fn[fn.index(after: cut)...]
            guard ["START", "END", "ROWTIME"].contains(part) else { return nil }
            guard String(fn[..<cut]) == name, c.arguments == call.arguments else {
                throw Binder.error("\(fn) must repeat the GROUP BY window: \(name)_\(part)(\(call.arguments.map(\.description).joined(separator: ", ")))",
                                   at: e.position)
            }
            switch part {
            case "START": return column("window_start", e.position)
            case "END": return column("window_end", e.position)
            default: return column("window_time", e.position)
            }
        }
        var out = s
        out.groupBy.replaceSubrange(index...index, with: [column("window_start", position), column("window_end", position)])
        out.items = try s.items.map { item throws(SQLSyntaxError) in
            guard case .expression(let e, let alias) = item else { return item }
            return .expression(try e.rewritten(auxiliary), alias: alias ?? Identifier(Binder.outputName(e)))
        }
        out.having = try s.having.map { e throws(SQLSyntaxError) in try e.rewritten(auxiliary) }
        return (out, InputWindow(kind: kind, timeColumn: tcol, offset: 0, partition: partition))
    }
}

extension Expression {
    /// This expression with every subexpression for which `f` returns a replacement
    /// replaced (outermost first; replacements are not visited again).
    func rewritten(_ f: (Expression) throws(SQLSyntaxError) -> Expression?) throws(SQLSyntaxError) -> Expression {
        if let r = try f(self) { return r }
        func sub(_ e: Expression) throws(SQLSyntaxError) -> Expression { try e.rewritten(f) }
        var out = self
        switch kind {
        case .literal, .column, .subquery, .exists, .inSubquery:
            return self
        case .unary(let op, let e): out.kind = .unary(op, try sub(e))
        case .binary(let op, let l, let r): out.kind = .binary(op, try sub(l), try sub(r))
        case .isNull(let e, let n): out.kind = .isNull(try sub(e), negated: n)
        case .isBoolean(let e, let v, let n): out.kind = .isBoolean(try sub(e), value: v, negated: n)
        case .isDistinctFrom(let l, let r, let n): out.kind = .isDistinctFrom(try sub(l), try sub(r), negated: n)
        case .between(let e, let lo, let hi, let n): out.kind = .between(try sub(e), low: try sub(lo), high: try sub(hi), negated: n)
        case .inList(let e, let list, let n):
            var items: [Expression] = []
            for x in list { items.append(try sub(x)) }
            out.kind = .inList(try sub(e), items, negated: n)
        case .like(let e, let p, let esc, let n):
            out.kind = .like(try sub(e), pattern: try sub(p), escape: try esc.map { x throws(SQLSyntaxError) in try sub(x) }, negated: n)
        case .call(var c):
            var args: [Expression] = []
            for a in c.arguments { args.append(try sub(a)) }
            c.arguments = args
            c.filter = try c.filter.map { x throws(SQLSyntaxError) in try sub(x) }
            out.kind = .call(c)
        case .cast(let e, let t, let isTry): out.kind = .cast(try sub(e), t, isTry: isTry)
        case .caseWhen(var c):
            c.operand = try c.operand.map { x throws(SQLSyntaxError) in try sub(x) }
            var branches = c.branches
            for i in branches.indices {
                branches[i].condition = try sub(branches[i].condition)
                branches[i].result = try sub(branches[i].result)
            }
            c.branches = branches
            c.elseResult = try c.elseResult.map { x throws(SQLSyntaxError) in try sub(x) }
            out.kind = .caseWhen(c)
        }
        return out
    }
}
