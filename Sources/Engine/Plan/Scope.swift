import Columnar

/// Binds expressions over a query's input row (table columns, plus window_start and
/// window_end after a window TVF) and records which columns they read.
struct Scope {
    let input: Binder.Input
    private(set) var usedColumns: Set<Int> = []
    /// Where an expression over input rows first read window_start/window_end (which a
    /// row has only under TUMBLE, or in a projection of HOP/CUMULATE).
    private(set) var windowColumnPosition: SourcePosition?

    init(input: Binder.Input) { self.input = input }

    static let aggregateNames: Set<String> = [
        "COUNT", "SUM", "MIN", "MAX", "AVG", "APPROX_COUNT_DISTINCT", "FIRST_VALUE", "LAST_VALUE",
    ]
    static let knownAggregates: Set<String> = aggregateNames.union([
        "APPROX_COUNT_DISTINCT", "FIRST_VALUE", "LAST_VALUE", "STDDEV", "STDDEV_POP", "STDDEV_SAMP",
        "VAR_POP", "VAR_SAMP", "VARIANCE", "COLLECT", "LISTAGG",
    ])

    static func isAggregate(_ call: Expression.FunctionCall) -> Bool {
        knownAggregates.contains(call.name.last.name.uppercased()) && call.over == nil
    }

    /// Whether an aggregate call appears anywhere in `e`.
    static func containsAggregate(_ e: Expression) throws(SQLSyntaxError) -> Bool {
        var found = false
        visit(e) { sub in
            if case .call(let c) = sub.kind, isAggregate(c) { found = true }
        }
        return found
    }

    static func visit(_ e: Expression, _ f: (Expression) -> Void) {
        f(e)
        switch e.kind {
        case .literal, .column, .subquery, .exists: break
        case .unary(_, let a), .isNull(let a, _), .isBoolean(let a, _, _), .cast(let a, _, _): visit(a, f)
        case .binary(_, let a, let b), .isDistinctFrom(let a, let b, _): visit(a, f); visit(b, f)
        case .between(let a, let l, let h, _): visit(a, f); visit(l, f); visit(h, f)
        case .inList(let a, let list, _): visit(a, f); list.forEach { visit($0, f) }
        case .inSubquery(let a, _, _): visit(a, f)
        case .like(let a, let p, let esc, _): visit(a, f); visit(p, f); if let esc { visit(esc, f) }
        case .call(let c): c.arguments.forEach { visit($0, f) }; if let x = c.filter { visit(x, f) }
        case .caseWhen(let c):
            if let o = c.operand { visit(o, f) }
            for b in c.branches { visit(b.condition, f); visit(b.result, f) }
            if let x = c.elseResult { visit(x, f) }
        }
    }

    mutating func columnRef(_ i: Int) -> BoundExpr {
        usedColumns.insert(i)
        let f = input.fields[i]
        return .column(index: i, type: f.type, name: f.name)
    }

    /// Resolves a column name: `col`, or `t.col` where t is the table's name or alias.
    mutating func resolve(_ name: QualifiedName) throws(SQLSyntaxError) -> BoundExpr {
        if name.parts.count > 2 {
            throw Binder.error("nested fields are not supported ('\(name)')", at: name.position)
        }
        if name.parts.count == 2 {
            let q = name.parts[0].name.lowercased()
            guard q == input.table.name.lowercased() || q == input.alias?.lowercased() else {
                throw Binder.error("unknown table '\(name.parts[0].name)'", at: name.position,
                                   hint: "the FROM clause reads '\(input.alias ?? input.table.name)'")
            }
        }
        let col = name.last
        let matches = input.fields.indices.filter {
            col.isQuoted ? input.fields[$0].name == col.name : input.fields[$0].name.lowercased() == col.name.lowercased()
        }
        if let i = matches.first {
            if i >= input.table.schema.count && windowColumnPosition == nil { windowColumnPosition = name.position }
            return columnRef(i)
        }
        if col.name.lowercased() == "window_time", input.window != nil,
           let end = input.fields.indices.first(where: { input.fields[$0].name == "window_end" }) {
            return .arithmetic(.sub, columnRef(end), .literal(.int(1), .int64), .timestamp(.millisecond))
        }
        var hint = Binder.suggestion(col.name, input.fields.map(\.name))
        if hint == nil && (col.name.lowercased() == "window_start" || col.name.lowercased() == "window_end") {
            hint = "window_start and window_end come from a window TVF: FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
        }
        throw Binder.error("unknown column '\(col.name)'", at: col.position,
                           hint: hint ?? "the columns are: " + input.fields.map(\.name).joined(separator: ", "))
    }

    /// Binds a scalar expression over the input row (no aggregates).
    mutating func bind(_ e: Expression) throws(SQLSyntaxError) -> BoundExpr {
        try ExpressionBinder.bind(e) { (name: QualifiedName) throws(SQLSyntaxError) -> BoundExpr in try self.resolve(name) }
    }
}

/// Type checking and lowering of scalar expressions; column references are resolved by
/// a callback so the same code binds pre-aggregation and post-aggregation expressions.
enum ExpressionBinder {
    typealias Resolver = (QualifiedName) throws(SQLSyntaxError) -> BoundExpr
    typealias Hook = (Expression) throws(SQLSyntaxError) -> BoundExpr?

    static func bind(_ e: Expression, hook: Hook? = nil, _ resolve: Resolver) throws(SQLSyntaxError) -> BoundExpr {
        if let hook, let b = try hook(e) { return b }
        func sub(_ x: Expression) throws(SQLSyntaxError) -> BoundExpr { try bind(x, hook: hook, resolve) }
        switch e.kind {
        case .column(let name):
            return try resolve(name)
        case .literal(let lit):
            return try literal(lit, e.position)
        case .unary(let op, let a):
            let x = try sub(a)
            switch op {
            case .plus:
                guard x.type.isNumeric else { throw Binder.error("unary + needs a number, not \(x.type)", at: e.position) }
                return x
            case .negate:
                guard x.type.isNumeric else { throw Binder.error("unary - needs a number, not \(x.type)", at: e.position) }
                return .negate(x)
            case .not:
                guard x.type == .bool else { throw Binder.error("NOT needs a BOOLEAN, not \(x.type)", at: e.position) }
                return .not(x)
            }
        case .binary(let op, let a, let b):
            switch op {
            case .and, .or:
                let x = try sub(a), y = try sub(b)
                for (v, src) in [(x, a), (y, b)] where v.type != .bool {
                    throw Binder.error("\(op.rawValue) needs BOOLEAN operands, not \(v.type)", at: src.position)
                }
                return op == .and ? .and(x, y) : .or(x, y)
            case .add, .subtract, .multiply, .divide, .modulo:
                return try arithmetic(op, a, b, e.position, sub)
            case .concat:
                throw Binder.error("|| (string concatenation) is not supported yet", at: e.position)
            case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
                let cmp: ComparisonOp = [.equal: .eq, .notEqual: .ne, .less: .lt, .lessOrEqual: .le,
                                         .greater: .gt, .greaterOrEqual: .ge][op]!
                return try compare(cmp, a, b, e.position, sub)
            }
        case .isNull(let a, let negated):
            return .isNull(try sub(a), negated: negated)
        case .isBoolean(let a, let value, let negated):
            let x = try sub(a)
            guard x.type == .bool else { throw Binder.error("IS TRUE/FALSE needs a BOOLEAN", at: e.position) }
            // `x IS TRUE` is never NULL: false when x is NULL.
            let matches: BoundExpr = .and(.isNull(x, negated: true), value ? x : .not(x))
            return negated ? .not(matches) : matches
        case .between(let a, let low, let high, let negated):
            let ge = try compare(.ge, a, low, e.position, sub), le = try compare(.le, a, high, e.position, sub)
            return negated ? .not(.and(ge, le)) : .and(ge, le)
        case .inList(let a, let list, let negated):
            guard !list.isEmpty else { throw Binder.error("IN needs at least one value", at: e.position) }
            var acc = try compare(.eq, a, list[0], list[0].position, sub)
            for item in list.dropFirst() { acc = .or(acc, try compare(.eq, a, item, item.position, sub)) }
            return negated ? .not(acc) : acc
        case .cast(let a, let t, let isTry):
            if isTry { throw Binder.error("TRY_CAST is not supported yet", at: e.position) }
            let target = try Binder.dataType(t)
            let x = try sub(a)
            if case .literal(let v, _) = x, case .string(let s) = v, target != .string {
                guard let parsed = ValueFormat.parse(s, as: target) else {
                    throw Binder.error("'\(s)' is not a valid \(target)", at: a.position)
                }
                return .literal(parsed, target)
            }
            switch (x.type, target) {
            case (let s, let t) where s == t: return x
            case (.int64, .float64), (.float64, .int64), (.int64, .timestamp), (.timestamp, .int64),
                 (.bool, .int64), (_, .string), (.string, _):
                return .cast(x, target)
            default:
                throw Binder.error("cannot cast \(x.type) to \(target)", at: e.position)
            }
        case .call(let c) where c.filter != nil && !Scope.knownAggregates.contains(c.name.last.name.uppercased()):
            throw Binder.error("FILTER (WHERE ...) applies only to aggregate functions, not \(c.name.last.name)",
                               at: c.filter!.position, hint: "e.g. COUNT(*) FILTER (WHERE price > 100)")
        case .call(let c) where c.name.last.name.uppercased() == "MOD" && !Scope.isAggregate(c):
            guard c.arguments.count == 2, !c.isStar, !c.isDistinct else {
                throw Binder.error("MOD takes two arguments: MOD(a, b)", at: e.position)
            }
            return try arithmetic(.modulo, c.arguments[0], c.arguments[1], e.position, sub)
        case .call(let c):
            let fname = c.name.last.name.uppercased()
            if Scope.isAggregate(c) {
                throw Binder.error("aggregate function \(fname) is not allowed here", at: e.position,
                                   hint: "aggregates belong in the SELECT list or HAVING of a grouped query")
            }
            throw Binder.error("unknown function \(c.name.last.name)", at: e.position,
                               hint: "this version supports MOD and the aggregates " + AggregateBinder.supportedAggregates)
        case .like:
            throw Binder.error("LIKE is not supported yet", at: e.position)
        case .caseWhen:
            throw Binder.error("CASE is not supported yet", at: e.position)
        case .isDistinctFrom:
            throw Binder.error("IS DISTINCT FROM is not supported yet", at: e.position)
        case .subquery, .exists, .inSubquery:
            throw Binder.error("subqueries are not supported yet", at: e.position)
        }
    }

    static func literal(_ lit: Expression.Literal, _ position: SourcePosition) throws(SQLSyntaxError) -> BoundExpr {
        switch lit {
        case .integer(let v): return .literal(.int(v), .int64)
        case .decimal(let text):
            guard let d = Double(text) else { throw Binder.error("invalid number \(text)", at: position) }
            return .literal(.double(d), .float64)
        case .double(let d): return .literal(.double(d), .float64)
        case .string(let s): return .literal(.string(s), .string)
        case .boolean(let b): return .literal(.bool(b), .bool)
        case .null: return .literal(.null, .int64)
        case .interval(let i): return .literal(.int(i.milliseconds), .int64)
        case .timestamp(let text), .date(let text):
            guard let ms = Timestamp.parseMillis(Substring(text)) else {
                throw Binder.error("'\(text)' is not a valid timestamp", at: position,
                                   hint: "write TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.fff]'")
            }
            return .literal(.int(ms), .timestamp(.millisecond))
        case .time:
            throw Binder.error("TIME literals are not supported", at: position)
        }
    }

    static func isInterval(_ e: Expression) -> Bool {
        if case .literal(.interval) = e.kind { return true }
        return false
    }

    static func isNullLiteral(_ b: BoundExpr) -> Bool {
        if case .literal(.null, _) = b { return true }
        return false
    }

    static func arithmetic(
        _ op: Expression.BinaryOperator, _ a: Expression, _ b: Expression, _ position: SourcePosition,
        _ sub: (Expression) throws(SQLSyntaxError) -> BoundExpr
    ) throws(SQLSyntaxError) -> BoundExpr {
        let x = try sub(a), y = try sub(b)
        let aop: ArithmeticOp = [.add: .add, .subtract: .sub, .multiply: .mul, .divide: .div, .modulo: .mod][op]!
        // TIMESTAMP +/- INTERVAL
        if case .timestamp = x.type, isInterval(b), aop == .add || aop == .sub {
            return .arithmetic(aop, x, y, .timestamp(.millisecond))
        }
        if case .timestamp = y.type, isInterval(a), aop == .add {
            return .arithmetic(.add, y, x, .timestamp(.millisecond))
        }
        let xt = isNullLiteral(x) ? y.type : x.type, yt = isNullLiteral(y) ? x.type : y.type
        guard xt.isNumeric, yt.isNumeric else {
            throw Binder.error("cannot apply \(op.rawValue) to \(x.type) and \(y.type)", at: position,
                               hint: x.type == .timestamp(.millisecond) || y.type == .timestamp(.millisecond)
                                   ? "add or subtract an INTERVAL to a TIMESTAMP, e.g. ts + INTERVAL '1' SECOND" : nil)
        }
        if xt == .float64 || yt == .float64 {
            return .arithmetic(aop, widen(x), widen(y), .float64)
        }
        return .arithmetic(aop, x, y, .int64)
    }

    static func widen(_ e: BoundExpr) -> BoundExpr {
        switch e {
        case .literal(.int(let v), _): return .literal(.double(Double(v)), .float64)
        case .literal(.null, _): return .literal(.null, .float64)
        default: return e.type == .int64 ? .cast(e, .float64) : e
        }
    }

    static func compare(
        _ op: ComparisonOp, _ a: Expression, _ b: Expression, _ position: SourcePosition,
        _ sub: (Expression) throws(SQLSyntaxError) -> BoundExpr
    ) throws(SQLSyntaxError) -> BoundExpr {
        var x = try sub(a), y = try sub(b)
        if isNullLiteral(x) || isNullLiteral(y) { return .literal(.null, .bool) }
        // A string literal compared with a timestamp is a timestamp literal.
        func coerceTimestamp(_ lit: inout BoundExpr, _ src: Expression) throws(SQLSyntaxError) {
            if case .literal(.string(let s), _) = lit {
                guard let ms = Timestamp.parseMillis(Substring(s)) else {
                    throw Binder.error("'\(s)' is not a valid timestamp", at: src.position,
                                       hint: "write 'YYYY-MM-DD HH:MM:SS[.fff]'")
                }
                lit = .literal(.int(ms), .timestamp(.millisecond))
            }
        }
        if case .timestamp = x.type { try coerceTimestamp(&y, b) }
        if case .timestamp = y.type { try coerceTimestamp(&x, a) }
        switch (x.type, y.type) {
        case (let s, let t) where s == t:
            return .compare(op, x, y)
        case (.int64, .float64), (.float64, .int64):
            return .compare(op, widen(x), widen(y))
        default:
            throw Binder.error("cannot compare \(x.type) with \(y.type)", at: position,
                               hint: "CAST one side, e.g. CAST(x AS \(x.type))")
        }
    }
}
