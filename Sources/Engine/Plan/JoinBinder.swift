import Columnar

// MARK: - Plan

/// The SQL join types.
public enum JoinType: String, Sendable {
    case inner = "INNER", left = "LEFT", right = "RIGHT", full = "FULL"

    /// Whether the rows of input `i` (0 left, 1 right) that match nothing are emitted,
    /// with NULLs for the other input's columns.
    public func preserves(_ i: Int) -> Bool {
        switch self {
        case .inner: return false
        case .left: return i == 0
        case .right: return i == 1
        case .full: return true
        }
    }
}

/// How a two-input join bounds its state in event time.
public enum JoinStrategy: Sendable {
    /// Rows meet within the same window of a window TVF (Flink's window join).
    case window(WindowKind)
    /// `right.time - left.time` must lie within the bounds (Flink's interval join).
    case interval
    /// Any two rows with equal keys meet; with a TTL, rows expire by event time.
    case regular(leftTTL: Int64?, rightTTL: Int64?)
}

/// One input of a two-input join: a projection of its own (scan, window TVF, WHERE), plus
/// what the join reads of each row. `keys`, `time`, `filter` and `condition` are over the
/// input's scan batch (with window_start, window_end appended for a window TVF), like the
/// plan's own expressions.
public struct JoinInput: Sendable {
    /// The name the query gives the input (alias or table name).
    public var name: String
    /// A `.project` plan: its outputs are this input's columns of the joined row.
    public var plan: QueryPlan
    public var keys: [BoundExpr]
    /// The row's time for the join (nil: the join is not in event time).
    public var time: BoundExpr?
    /// Conditions on this input alone, applied before the join.
    public var filter: BoundExpr?
    /// Outer joins: ON conditions on this (preserved) input alone; a row failing them
    /// matches nothing but is still emitted.
    public var condition: BoundExpr?
}

/// Where a column of the joined row comes from: input 0 or 1, and which of its outputs.
public struct JoinColumn: Sendable {
    public var input: Int
    public var column: Int
}

/// A join of two inputs, each read by its own source. The query plan holding it is a
/// projection over the joined rows: its scan columns are the joined row (`columns`).
///
/// Semantics, the same for any number of workers, batch size and morsel size:
/// - Each input has its own watermark, as if one reader read that input row by row (the
///   largest event time so far of that input minus its declared delay). A row whose join
///   time is at or behind its input's watermark is late: counted and dropped (for a
///   window join the join time is the window's last instant, so this is the window
///   aggregation's rule).
/// - A pair is joined when the keys are equal (a NULL key equals nothing) and
///   `right.time - left.time` lies in [lower, upper]. Rows that can no longer meet an
///   on-time row of the other input (the other input's watermark passed `time + upper`
///   or `time - lower`) leave the state; unmatched rows of a preserved input are then
///   emitted with NULLs.
/// - Results are emitted once the smaller of the two watermarks passes their time (the
///   later of the two rows' times; for an unmatched row, the time it was known to be
///   unmatched), in order of that time, then of the left row's and the right row's
///   input positions. At the end of both inputs everything left is emitted.
/// - Without event time (a regular join without TTL) nothing is late or expires, and
///   all results come at the end of the input, in the order of the left input, then of
///   the right one (unmatched right rows last).
///
/// A class: its inputs hold query plans, and a query plan holds it.
public final class JoinPlan: Sendable {
    public let type: JoinType
    public let strategy: JoinStrategy
    public let left: JoinInput
    public let right: JoinInput
    /// Bounds on `right.time - left.time` (Int64.min / Int64.max: unbounded).
    public let lower: Int64
    public let upper: Int64
    /// Whether rows have a join time (watermarks, lateness, expiry, ordered emission).
    public let timed: Bool
    public let columns: [JoinColumn]
    /// The join condition as written, for `--explain`.
    public let condition: String

    public var inputs: [JoinInput] { [left, right] }

    init(type: JoinType, strategy: JoinStrategy, left: JoinInput, right: JoinInput, lower: Int64, upper: Int64,
         timed: Bool, columns: [JoinColumn], condition: String) {
        self.type = type
        self.strategy = strategy
        self.left = left
        self.right = right
        self.lower = lower
        self.upper = upper
        self.timed = timed
        self.columns = columns
        self.condition = condition
    }
}

// MARK: - Names over two inputs

/// The columns of two join inputs and how the query names them: `alias.col`, or `col`
/// when only one input has it. In the joined row each column gets a unique name (a
/// repeated name takes a suffix, `k` then `k0`, as in Flink), and the query is rewritten
/// to those names so the ordinary binder can bind it over one table.
struct JoinScope {
    struct Side {
        var name: String
        var fields: [Field]
        var position: SourcePosition
    }

    let sides: [Side]
    /// The unique name of each column of the joined row (left's columns, then right's).
    let uniqueNames: [String]

    init(_ sides: [Side]) throws(SQLSyntaxError) {
        if sides[0].name.lowercased() == sides[1].name.lowercased() {
            throw Binder.error("both inputs of the join are called '\(sides[1].name)'", at: sides[1].position,
                               hint: "give one an alias: ... JOIN \(sides[1].name) AS \(sides[1].name.prefix(1))2 ON ...")
        }
        self.sides = sides
        var taken = Set<String>()
        var names: [String] = []
        for side in sides {
            for f in side.fields {
                var name = f.name
                var suffix = 0
                while taken.contains(name.lowercased()) {
                    name = f.name + String(suffix)
                    suffix += 1
                }
                taken.insert(name.lowercased())
                names.append(name)
            }
        }
        uniqueNames = names
    }

    func combined(_ side: Int, _ column: Int) -> Int { side == 0 ? column : sides[0].fields.count + column }

    var combinedFields: [Field] {
        let all = sides[0].fields + sides[1].fields
        return all.enumerated().map { Field(uniqueNames[$0.offset], $0.element.type, nullable: true) }
    }

    private func find(_ col: Identifier, in side: Int) -> Int? {
        sides[side].fields.firstIndex {
            col.isQuoted ? $0.name == col.name : $0.name.lowercased() == col.name.lowercased()
        }
    }

    /// The input and column a name refers to.
    func resolve(_ name: QualifiedName) throws(SQLSyntaxError) -> (side: Int, column: Int) {
        if name.parts.count > 2 {
            throw Binder.error("nested fields are not supported ('\(name)')", at: name.position)
        }
        let col = name.last
        if name.parts.count == 2 {
            let q = name.parts[0].name.lowercased()
            guard let s = sides.firstIndex(where: { $0.name.lowercased() == q }) else {
                throw Binder.error("unknown table '\(name.parts[0].name)'", at: name.position,
                                   hint: "the join reads '\(sides[0].name)' and '\(sides[1].name)'")
            }
            guard let c = find(col, in: s) else {
                throw Binder.error("unknown column '\(col.name)' in '\(sides[s].name)'", at: col.position,
                                   hint: Binder.suggestion(col.name, sides[s].fields.map(\.name))
                                       ?? "its columns are: " + sides[s].fields.map(\.name).joined(separator: ", "))
            }
            return (s, c)
        }
        let l = find(col, in: 0), r = find(col, in: 1)
        if l != nil && r != nil {
            throw Binder.error("column '\(col.name)' is ambiguous: both '\(sides[0].name)' and '\(sides[1].name)' have it",
                               at: col.position, hint: "qualify it: \(sides[0].name).\(col.name) or \(sides[1].name).\(col.name)")
        }
        if let l { return (0, l) }
        if let r { return (1, r) }
        let all = sides.flatMap { s in s.fields.map { "\(s.name).\($0.name)" } }
        throw Binder.error("unknown column '\(col.name)'", at: col.position,
                           hint: Binder.suggestion(col.name, sides.flatMap { $0.fields.map(\.name) })
                               ?? "the columns are: " + all.joined(separator: ", "))
    }

    /// The inputs an expression reads (checking every name).
    func sidesUsed(_ e: Expression) throws(SQLSyntaxError) -> Set<Int> {
        var used = Set<Int>()
        _ = try JoinScope.mapColumns(e) { (n: QualifiedName) throws(SQLSyntaxError) -> Expression in
            used.insert(try resolve(n).side)
            return Expression(.column(n), position: n.position)
        }
        return used
    }

    /// `e` with every column named by its unique name in the joined row.
    func rewrite(_ e: Expression) throws(SQLSyntaxError) -> Expression {
        try JoinScope.mapColumns(e) { (n: QualifiedName) throws(SQLSyntaxError) -> Expression in
            let (s, c) = try resolve(n)
            return JoinScope.columnExpression(uniqueNames[combined(s, c)], at: n.position)
        }
    }

    static func columnExpression(_ name: String, at position: SourcePosition) -> Expression {
        Expression(.column(QualifiedName([Identifier(name, isQuoted: true, position: position)])), position: position)
    }

    /// Binds `e`, which must read input `side` only, over that input's columns.
    func bind(_ e: Expression, side: Int) throws(SQLSyntaxError) -> BoundExpr {
        try ExpressionBinder.bind(e) { (n: QualifiedName) throws(SQLSyntaxError) -> BoundExpr in
            let (s, c) = try resolve(n)
            precondition(s == side, "bound over the wrong input")
            let f = sides[s].fields[c]
            return .column(index: c, type: f.type, name: f.name)
        }
    }

    /// `e` with each column reference replaced by `f(name)`; subqueries are left alone
    /// (the binder rejects them).
    static func mapColumns(_ e: Expression, _ f: (QualifiedName) throws(SQLSyntaxError) -> Expression)
        throws(SQLSyntaxError) -> Expression
    {
        func m(_ x: Expression) throws(SQLSyntaxError) -> Expression { try mapColumns(x, f) }
        func opt(_ x: Expression?) throws(SQLSyntaxError) -> Expression? {
            guard let x else { return nil }
            return try m(x)
        }
        func list(_ xs: [Expression]) throws(SQLSyntaxError) -> [Expression] {
            var out: [Expression] = []
            for x in xs { out.append(try m(x)) }
            return out
        }
        let kind: Expression.Kind
        switch e.kind {
        case .literal, .subquery, .exists:
            return e
        case .column(let n):
            return try f(n)
        case .unary(let op, let a): kind = .unary(op, try m(a))
        case .binary(let op, let a, let b): kind = .binary(op, try m(a), try m(b))
        case .isNull(let a, let n): kind = .isNull(try m(a), negated: n)
        case .isBoolean(let a, let v, let n): kind = .isBoolean(try m(a), value: v, negated: n)
        case .isDistinctFrom(let a, let b, let n): kind = .isDistinctFrom(try m(a), try m(b), negated: n)
        case .between(let a, let lo, let hi, let n): kind = .between(try m(a), low: try m(lo), high: try m(hi), negated: n)
        case .inList(let a, let xs, let n): kind = .inList(try m(a), try list(xs), negated: n)
        case .inSubquery(let a, let q, let n): kind = .inSubquery(try m(a), q, negated: n)
        case .like(let a, let p, let esc, let n): kind = .like(try m(a), pattern: try m(p), escape: try opt(esc), negated: n)
        case .cast(let a, let t, let isTry): kind = .cast(try m(a), t, isTry: isTry)
        case .call(var c):
            c.arguments = try list(c.arguments)
            c.filter = try opt(c.filter)
            if var over = c.over {
                over.partitionBy = try list(over.partitionBy)
                var order: [OrderByItem] = []
                for o in over.orderBy {
                    var o2 = o
                    o2.expression = try m(o.expression)
                    order.append(o2)
                }
                over.orderBy = order
                c.over = over
            }
            kind = .call(c)
        case .caseWhen(var c):
            c.operand = try opt(c.operand)
            var branches: [Expression.CaseExpression.Branch] = []
            for b in c.branches { branches.append(.init(condition: try m(b.condition), result: try m(b.result))) }
            c.branches = branches
            c.elseResult = try opt(c.elseResult)
            kind = .caseWhen(c)
        }
        return Expression(kind, position: e.position)
    }

    /// The SELECT list over the joined row: wildcards spelled out (`*` by the joined
    /// row's unique names, `t.*` by t's own names), other items rewritten and named as
    /// written.
    func rewriteItems(_ items: [SelectItem]) throws(SQLSyntaxError) -> [SelectItem] {
        var out: [SelectItem] = []
        for item in items {
            switch item {
            case .wildcard(let q, let p):
                var sides = [0, 1]
                if let q {
                    guard q.parts.count == 1, let s = self.sides.firstIndex(where: { $0.name.lowercased() == q.last.name.lowercased() })
                    else {
                        throw Binder.error("unknown table '\(q)' in \(q).*", at: p,
                                           hint: "the join reads '\(self.sides[0].name)' and '\(self.sides[1].name)'")
                    }
                    sides = [s]
                }
                for s in sides {
                    for (c, f) in self.sides[s].fields.enumerated() {
                        let unique = uniqueNames[combined(s, c)]
                        out.append(.expression(JoinScope.columnExpression(unique, at: p),
                                               alias: Identifier(q == nil ? unique : f.name, isQuoted: true, position: p)))
                    }
                }
            case .expression(let e, let alias):
                out.append(.expression(try rewrite(e), alias: alias ?? Identifier(Binder.outputName(e), isQuoted: true, position: e.position)))
            }
        }
        return out
    }
}

// MARK: - Binding

extension Binder {
    /// Name of the one-table stand-ins for joins in the binder's catalog (the `$` keeps
    /// them apart from any table a script can declare).
    static let lookupJoinTable = "$lookup_join"
    static let streamJoinTable = "$join"

    /// The table option that bounds a regular join's state: `'state.ttl' = '1 h'` on a
    /// table keeps its rows in a join's state for that long in event time (Flink's
    /// per-input `STATE_TTL` hint, as a table option). Checked where CREATE TABLE reads it.
    static let stateTTLOption = "state.ttl"

    /// Checks a table's `'state.ttl'` option (it needs event time to count in).
    static func checkStateTTL(_ value: String, _ s: CreateTableStatement) throws(SQLSyntaxError) {
        let at = s.options.first { $0.key == stateTTLOption }?.position ?? s.name.position
        guard let ms = durationMillis(value), ms > 0 else {
            throw error("'\(stateTTLOption)' must be a positive duration, not '\(value)'", at: at, hint: "e.g. '1 h', '30 min', '10 s'")
        }
        guard s.watermark != nil else {
            throw error("'\(stateTTLOption)' counts in event time, so the table needs a WATERMARK", at: at,
                        hint: "declare WATERMARK FOR ts AS ts - INTERVAL '5' SECOND")
        }
    }

    /// The plan of a query whose FROM joins two inputs (`a JOIN b ON ...` or `a, b`), or
    /// nil when FROM has a single input.
    func joinQuery(_ s: Select) throws(SQLSyntaxError) -> QueryPlan? {
        func tooMany(_ at: SourcePosition) -> SQLSyntaxError {
            Binder.error("joins of more than two inputs are not supported yet", at: at,
                         hint: "join two inputs per query; a lookup join (FOR SYSTEM_TIME AS OF) may be one of them")
        }
        let left: TableReference, right: TableReference
        var type = JoinType.inner
        var on: Expression?
        let position: SourcePosition
        switch s.from.count {
        case 1:
            guard case .join(let j) = s.from[0] else { return nil }
            if case .join(let inner) = j.right { throw tooMany(inner.position) }
            if case .join = j.left { throw tooMany(j.position) }
            left = j.left
            right = j.right
            position = j.position
            switch j.kind {
            case .inner, .cross: type = .inner
            case .left: type = .left
            case .right: type = .right
            case .full: type = .full
            }
            switch j.condition {
            case .on(let e): on = e
            case .using(let cols):
                throw Binder.error("JOIN ... USING is not supported yet", at: cols.first?.position ?? j.position,
                                   hint: "write the condition out: ON l.\(cols.first?.name ?? "k") = r.\(cols.first?.name ?? "k")")
            case nil: break
            }
        case 2:
            for f in s.from { if case .join(let j) = f { throw tooMany(j.position) } }
            left = s.from[0]
            right = s.from[1]
            position = s.from[1].position
        case 0:
            return nil
        default:
            throw tooMany(s.from[2].position)
        }
        if case .table(let t) = left, t.systemTimeAsOf != nil {
            throw Binder.error("the table read FOR SYSTEM_TIME AS OF goes on the right of the join", at: t.position,
                               hint: "FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.k = r.k")
        }
        // Inner joins: ON and WHERE are one condition; outer joins keep WHERE for after.
        var conjuncts = on.map(Binder.conjuncts) ?? []
        var outerWhere: [Expression] = []
        if type == .inner {
            conjuncts += s.whereClause.map(Binder.conjuncts) ?? []
        } else if let w = s.whereClause {
            outerWhere = [w]
        }
        if case .table(let t) = right, t.systemTimeAsOf != nil {
            return try lookupJoin(s, stream: left, table: t, type: type, conjuncts: conjuncts, outerWhere: outerWhere,
                                  at: position, on: on)
        }
        return try streamJoin(s, left, right, type: type, conjuncts: conjuncts, outerWhere: outerWhere, at: position, on: on)
    }

    static func conjuncts(_ e: Expression) -> [Expression] {
        if case .binary(.and, let a, let b) = e.kind { return conjuncts(a) + conjuncts(b) }
        return [e]
    }

    private static func and(_ es: [Expression]) -> Expression? {
        guard var acc = es.first else { return nil }
        for e in es.dropFirst() { acc = Expression(.binary(.and, acc, e), position: e.position) }
        return acc
    }

    private static func andBound(_ es: [BoundExpr]) -> BoundExpr? {
        guard var acc = es.first else { return nil }
        for e in es.dropFirst() { acc = .and(acc, e) }
        return acc
    }

    /// A join key pair with a common type (BIGINT and DOUBLE compare as DOUBLE).
    private static func keyPair(_ a: BoundExpr, _ b: BoundExpr, at: SourcePosition) throws(SQLSyntaxError) -> (BoundExpr, BoundExpr) {
        switch (a.type, b.type) {
        case (let x, let y) where x == y: return (a, b)
        case (.int64, .float64), (.float64, .int64): return (ExpressionBinder.widen(a), ExpressionBinder.widen(b))
        default:
            throw Binder.error("cannot join \(a.type) with \(b.type)", at: at, hint: "CAST one side, e.g. CAST(x AS \(b.type))")
        }
    }

    /// `a = b` with a reading only one input and b only the other: (left expr, right expr).
    private static func equiPair(_ c: Expression, _ scope: JoinScope) throws(SQLSyntaxError) -> (Expression, Expression)? {
        guard case .binary(.equal, let a, let b) = c.kind else { return nil }
        let sa = try scope.sidesUsed(a), sb = try scope.sidesUsed(b)
        if sa == [0] && sb == [1] { return (a, b) }
        if sa == [1] && sb == [0] { return (b, a) }
        return nil
    }

    /// Binds the rewritten one-table query over a stand-in table.
    private func bindOver(_ table: TableDefinition, _ s: Select) throws(SQLSyntaxError) -> QueryPlan {
        var catalog = self.catalog
        catalog[table.name.lowercased()] = table
        var binder = Binder(catalog: catalog)
        binder.lateData = lateData
        return try binder.query(Query(with: [], body: .select(s), orderBy: [], limit: nil, offset: nil, position: s.position))
    }

    private static func rewritten(_ s: Select, _ scope: JoinScope, table: String, where conditions: [Expression],
                                  at position: SourcePosition) throws(SQLSyntaxError) -> Select {
        var out = s
        out.items = try scope.rewriteItems(s.items)
        out.from = [.table(.init(name: QualifiedName([Identifier(table, isQuoted: true, position: position)]),
                                 systemTimeAsOf: nil, alias: nil, position: position))]
        out.whereClause = Binder.and(conditions)
        var groupBy: [Expression] = []
        for g in s.groupBy { groupBy.append(try scope.rewrite(g)) }
        out.groupBy = groupBy
        out.having = try s.having.map { e throws(SQLSyntaxError) in try scope.rewrite(e) }
        return out
    }

    // MARK: Lookup join

    /// `FROM s JOIN t FOR SYSTEM_TIME AS OF s.ts ON s.k = t.k`: t is read once into a hash
    /// table and every row of the stream s looks its key up (Flink's lookup join; the
    /// table has one version, so AS OF selects nothing).
    private func lookupJoin(_ s: Select, stream streamRef: TableReference, table t: TableReference.NamedTable, type: JoinType,
                            conjuncts: [Expression], outerWhere: [Expression], at position: SourcePosition,
                            on: Expression?) throws(SQLSyntaxError) -> QueryPlan {
        guard case .table(let st) = streamRef else {
            throw Binder.error("the stream side of a lookup join must be a table", at: streamRef.position,
                               hint: "FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.k = r.k")
        }
        guard type == .inner || type == .left else {
            throw Binder.error("a lookup join is an INNER or a LEFT join", at: position,
                               hint: "the table only answers lookups; LEFT JOIN keeps stream rows without a match")
        }
        if let a = t.alias, !a.columns.isEmpty {
            throw Binder.error("column aliases on a joined table are not supported yet", at: a.name.position)
        }
        let stream = try lookup(st.name), table = try lookup(t.name)
        // A PROCTIME() column of the looked-up table has no meaning here (it is read once).
        let tableFields = Array(table.schema.fields.prefix(table.procTimeColumn ?? table.schema.count))
        let scope = try JoinScope([
            .init(name: st.alias?.name.name ?? stream.name, fields: stream.schema.fields, position: st.position),
            .init(name: t.alias?.name.name ?? table.name, fields: tableFields, position: t.position),
        ])
        func noProcTime(_ b: BoundExpr, _ at: SourcePosition) throws(SQLSyntaxError) -> BoundExpr {
            if let p = stream.procTimeColumn, b.columnsUsed.contains(p) {
                throw Binder.error("a lookup join's keys and ON conditions cannot read the PROCTIME() column", at: at)
            }
            return b
        }
        let asOf = t.systemTimeAsOf!
        guard case .column(let n) = asOf.kind, let (side, col) = try? scope.resolve(n), side == 0,
              case .timestamp = stream.schema[col].type else {
            throw Binder.error("FOR SYSTEM_TIME AS OF takes a TIMESTAMP column of '\(scope.sides[0].name)'", at: asOf.position,
                               hint: "e.g. FOR SYSTEM_TIME AS OF \(scope.sides[0].name).ts")
        }
        var streamKeys: [BoundExpr] = [], tableKeys: [BoundExpr] = []
        var tableFilter: [BoundExpr] = [], streamCondition: [BoundExpr] = []
        var residual: [Expression] = []
        var keyText: [String] = []
        for c in conjuncts {
            if let (l, r) = try Binder.equiPair(c, scope) {
                let (a, b) = try Binder.keyPair(try noProcTime(scope.bind(l, side: 0), c.position), try scope.bind(r, side: 1),
                                                at: c.position)
                streamKeys.append(a)
                tableKeys.append(b)
                keyText.append(c.description)
                continue
            }
            let used = try scope.sidesUsed(c)
            if used == [1] {
                tableFilter.append(try Binder.condition(scope.bind(c, side: 1), c))
            } else if type == .inner {
                residual.append(c)
            } else if used == [0] {
                streamCondition.append(try noProcTime(Binder.condition(scope.bind(c, side: 0), c), c.position))
            } else {
                throw Binder.error("a LEFT lookup join's ON takes key equalities and conditions on one side", at: c.position,
                                   hint: "move this condition to WHERE")
            }
        }
        guard !streamKeys.isEmpty else {
            throw Binder.error("a lookup join needs an equality between the stream's and the table's columns",
                               at: on?.position ?? t.position,
                               hint: "ON \(scope.sides[0].name).k = \(scope.sides[1].name).k")
        }
        let spec = LookupJoinSpec(
            type: type, stream: stream.provider, streamName: scope.sides[0].name, table: table.provider,
            tableName: scope.sides[1].name, streamKeys: streamKeys, tableKeys: tableKeys,
            tableFilter: Binder.andBound(tableFilter), streamCondition: Binder.andBound(streamCondition),
            matchedColumn: type == .inner, condition: keyText.joined(separator: " AND "))
        let provider = LookupJoinProvider(spec: spec, streamFields: stream.schema.fields, tableFields: tableFields)
        var fields = scope.combinedFields
        if spec.matchedColumn { fields.append(provider.schema.fields.last!) }
        // The stream's columns come first, so its WATERMARK column keeps its index.
        let def = TableDefinition(name: Binder.lookupJoinTable, schema: Schema(fields), watermark: stream.watermark,
                                  allowedLatenessMillis: stream.allowedLatenessMillis, procTimeColumn: stream.procTimeColumn,
                                  provider: provider, options: [])
        var conditions: [Expression] = []
        if spec.matchedColumn { conditions.append(JoinScope.columnExpression(LookupJoinProvider.matchedName, at: position)) }
        for c in residual + outerWhere { conditions.append(try scope.rewrite(c)) }
        return try bindOver(def, try Binder.rewritten(s, scope, table: Binder.lookupJoinTable, where: conditions, at: position))
    }

    private static func condition(_ b: BoundExpr, _ e: Expression) throws(SQLSyntaxError) -> BoundExpr {
        guard b.type == .bool else { throw Binder.error("a join condition must be BOOLEAN, not \(b.type)", at: e.position) }
        return b
    }

    // MARK: Two-input joins

    /// A join input before the join is planned: its bound projection (every column) and
    /// what the query calls it.
    private struct BoundInput {
        var name: String
        var plan: QueryPlan
        var exprs: [BoundExpr]
        /// Columns the query sees (a hidden watermark column may follow them).
        var fields: [Field]
        var position: SourcePosition
        var table: TableDefinition?
        /// A window aggregation read as an input: which of its columns is the window's
        /// end (`window_end` under any name), and its rows' time (the hidden last column).
        var aggregatedWindowEnd: Int? = nil
    }

    private static func selectAll(_ ref: TableReference) -> Query {
        let p = ref.position
        let sel = Select(isDistinct: false, items: [.wildcard(qualifier: nil, position: p)], from: [ref], whereClause: nil,
                         groupBy: [], having: nil, position: p)
        return Query(with: [], body: .select(sel), orderBy: [], limit: nil, offset: nil, position: p)
    }

    /// The table a join input reads (for its WATERMARK and 'state.ttl').
    private func baseTable(_ ref: TableReference) -> TableDefinition? {
        switch ref {
        case .table(let t): return try? lookup(t.name)
        case .function(let f):
            for a in f.arguments { if case .table(let n, _) = a.value { return try? lookup(n) } }
            return nil
        case .subquery(let sub):
            guard case .select(let inner) = sub.query.body, inner.from.count == 1 else { return nil }
            return baseTable(inner.from[0])
        case .join:
            return nil
        }
    }

    private func bindInput(_ ref: TableReference) throws(SQLSyntaxError) -> BoundInput {
        var name: String
        var alias: TableAlias?
        var query = Binder.selectAll(ref)
        let table = baseTable(ref)
        switch ref {
        case .table(let t):
            name = t.alias?.name.name ?? t.name.last.name
            alias = t.alias
        case .function(let f):
            alias = f.alias
            name = f.alias?.name.name ?? table?.name ?? f.name.last.name
        case .subquery(let sub):
            guard let a = sub.alias else {
                throw Binder.error("a subquery joined with another input needs a name", at: sub.position,
                                   hint: "(SELECT ...) AS l JOIN ...")
            }
            alias = a
            name = a.name.name
            query = sub.query
        case .join(let j):
            throw Binder.error("joins of more than two inputs are not supported yet", at: j.position)
        }
        var plan = try self.query(query)
        var hidden = 0
        // A subquery that does not select the WATERMARK column still has event time: read
        // it as a hidden column.
        if case .subquery = ref, plan.watermark == nil, case .project = plan.shape, let t = table, let wm = t.watermark,
           case .select(var inner) = query.body, !inner.items.isEmpty {
            let col = JoinScope.columnExpression(t.schema[wm.column].name, at: query.position)
            inner.items.append(.expression(col, alias: Identifier("$watermark", isQuoted: true, position: query.position)))
            query.body = .select(inner)
            plan = try self.query(query)
            hidden = 1
        }
        if plan.join != nil {
            throw Binder.error("joins of more than two inputs are not supported yet", at: ref.position,
                               hint: "join two inputs per query")
        }
        let exprs: [BoundExpr]
        var aggregatedEnd: Int?
        switch plan.shape {
        case .project(let e):
            exprs = e
        case .aggregate(var a):
            // A window aggregation is read as a table of its results (AggregatedInput),
            // whose rows' event time is their window's last instant (a hidden column).
            guard a.windowed, a.topN == nil, a.countWindow == nil, plan.late.policy == .drop,
                  plan.watermark != nil else {
                throw Binder.error("a join input may aggregate only by event-time windows", at: ref.position,
                                   hint: "GROUP BY window_start, window_end, ... over a table with a WATERMARK")
            }
            a.output.append(.arithmetic(.sub, .column(index: 1, type: .timestamp(.millisecond), name: "window_end"),
                                        .literal(.int(1), .int64), .timestamp(.millisecond)))
            var inner = plan
            inner.shape = .aggregate(a)
            inner.outputSchema = Schema(plan.outputSchema.fields + [Field("$watermark", .timestamp(.millisecond), nullable: false)])
            let fields = inner.outputSchema.fields
            let refs = fields.indices.map { BoundExpr.column(index: $0, type: fields[$0].type, name: fields[$0].name) }
            plan = QueryPlan(scan: ScanSpec(provider: AggregatedInputProvider(plan: inner), projection: Array(fields.indices)),
                             // 1 ms behind: the rows of one window share its last instant,
                             // and a row at the watermark would count as late.
                             watermark: WatermarkSpec(column: fields.count - 1, delayMillis: 1), window: nil, filter: nil,
                             shape: .project(refs), outputSchema: inner.outputSchema)
            exprs = refs
            hidden += 1
            aggregatedEnd = a.output.firstIndex {
                if case .column(1, _, _) = $0 { return true } else { return false }
            }
        }
        var fields = Array(plan.outputSchema.fields.dropLast(hidden))
        if let a = alias, !a.columns.isEmpty {
            guard a.columns.count == fields.count else {
                throw Binder.error("\(a.columns.count) column names for \(fields.count) columns", at: a.name.position)
            }
            for (i, c) in a.columns.enumerated() { fields[i].name = c.name }
        }
        var input = BoundInput(name: name, plan: plan, exprs: exprs, fields: fields, position: ref.position, table: table)
        input.aggregatedWindowEnd = aggregatedEnd
        return input
    }

    /// A term of an interval condition: `ts`, `ts + INTERVAL ...`, `ts - INTERVAL ...`
    /// where ts is an input's event-time column.
    private struct TimeTerm {
        var side: Int
        var column: Int
        var offset: Int64
    }

    private static func timeTerm(_ e: Expression, _ scope: JoinScope, _ isTimeAttribute: (Int, Int) -> Bool) -> TimeTerm? {
        switch e.kind {
        case .column(let n):
            guard let (s, c) = try? scope.resolve(n), isTimeAttribute(s, c) else { return nil }
            return TimeTerm(side: s, column: c, offset: 0)
        case .binary(let op, let a, let b) where op == .add || op == .subtract:
            if case .literal(.interval(let i)) = b.kind, var t = timeTerm(a, scope, isTimeAttribute), t.offset == 0 {
                t.offset = op == .add ? i.milliseconds : -i.milliseconds
                return t
            }
            if op == .add, case .literal(.interval(let i)) = a.kind, var t = timeTerm(b, scope, isTimeAttribute), t.offset == 0 {
                t.offset = i.milliseconds
                return t
            }
            return nil
        default:
            return nil
        }
    }

    /// Bounds on `right.time - left.time` found in the conditions, and each input's time
    /// column.
    private struct Bounds {
        var lower = Int64.min
        var upper = Int64.max
        var columns: [Int?] = [nil, nil]
        var position: SourcePosition?

        var any: Bool { position != nil }

        /// Records `a op b` (terms on different inputs).
        mutating func add(_ a: TimeTerm, _ op: Expression.BinaryOperator, _ b: TimeTerm, at: SourcePosition) throws(SQLSyntaxError) {
            for t in [a, b] {
                if let c = columns[t.side], c != t.column {
                    throw Binder.error("an interval join compares one time column per input", at: at,
                                       hint: "use the same column of each input in every time condition")
                }
                columns[t.side] = t.column
            }
            // a.col + a.off op b.col + b.off  <=>  a.col - b.col op b.off - a.off
            var k = b.offset - a.offset
            var op = op
            if a.side == 0 {
                // left - right op k  <=>  right - left flipped(op) -k
                k = -k
                switch op {
                case .less: op = .greater
                case .lessOrEqual: op = .greaterOrEqual
                case .greater: op = .less
                case .greaterOrEqual: op = .lessOrEqual
                default: break
                }
            }
            switch op {
            case .greaterOrEqual: lower = max(lower, k)
            case .greater: lower = max(lower, k + 1)
            case .lessOrEqual: upper = min(upper, k)
            case .less: upper = min(upper, k - 1)
            case .equal:
                lower = max(lower, k)
                upper = min(upper, k)
            default: break
            }
            if position == nil { position = at }
        }
    }

    /// Whether `c` is a time condition between the inputs (and records it). As in Flink,
    /// only conditions on both inputs' event-time columns (their WATERMARK columns) bound
    /// the join; others, such as `b.ts BETWEEN a.ts AND a.expires`, are plain conditions.
    private static func timeCondition(_ c: Expression, _ scope: JoinScope, _ bounds: inout Bounds,
                                      isTimeAttribute: (Int, Int) -> Bool) throws(SQLSyntaxError) -> Bool {
        switch c.kind {
        case .binary(let op, let a, let b):
            guard [.less, .lessOrEqual, .greater, .greaterOrEqual, .equal].contains(op),
                  let ta = timeTerm(a, scope, isTimeAttribute), let tb = timeTerm(b, scope, isTimeAttribute),
                  ta.side != tb.side else { return false }
            try bounds.add(ta, op, tb, at: c.position)
            return true
        case .between(let x, let lo, let hi, false):
            guard let tx = timeTerm(x, scope, isTimeAttribute), let tl = timeTerm(lo, scope, isTimeAttribute),
                  let th = timeTerm(hi, scope, isTimeAttribute),
                  tl.side == th.side, tl.side != tx.side else { return false }
            try bounds.add(tx, .greaterOrEqual, tl, at: c.position)
            try bounds.add(tx, .lessOrEqual, th, at: c.position)
            return true
        default:
            return false
        }
    }

    /// `e` over an input's outputs, made an expression over its scan batch.
    private static func inlined(_ e: BoundExpr, _ exprs: [BoundExpr]) -> BoundExpr {
        switch e {
        case .column(let i, _, _): return exprs[i]
        case .literal: return e
        case .arithmetic(let op, let a, let b, let t): return .arithmetic(op, inlined(a, exprs), inlined(b, exprs), t)
        case .negate(let a): return .negate(inlined(a, exprs))
        case .compare(let op, let a, let b): return .compare(op, inlined(a, exprs), inlined(b, exprs))
        case .and(let a, let b): return .and(inlined(a, exprs), inlined(b, exprs))
        case .or(let a, let b): return .or(inlined(a, exprs), inlined(b, exprs))
        case .not(let a): return .not(inlined(a, exprs))
        case .isNull(let a, let n): return .isNull(inlined(a, exprs), negated: n)
        case .cast(let a, let t): return .cast(inlined(a, exprs), t)
        }
    }

    /// The input's plan reading only what the join needs: the outputs `keep`, in that
    /// order, and the scan columns they, `extra`, the input's WHERE, its watermark and its
    /// window's time column read; `extra` renumbered to the new scan batch.
    private static func pruned(_ plan: QueryPlan, _ exprs: [BoundExpr], keep: [Int],
                               extra: [BoundExpr?]) -> (QueryPlan, [BoundExpr?]) {
        // The scan batch: the scanned columns, then PROCTIME() when the input reads it,
        // then window_start, window_end of a window TVF.
        let width = plan.scan.projection.count
        let appended = plan.procTimeColumn != nil ? 1 : 0
        var used = Set<Int>()
        for e in keep.map({ exprs[$0] }) + extra.compactMap({ $0 }) + [plan.filter].compactMap({ $0 }) {
            used.formUnion(e.columnsUsed)
        }
        if let w = plan.watermark { used.insert(w.column) }
        if let w = plan.window { used.insert(w.timeColumn) }
        let scanned = used.filter { $0 < width }.sorted()
        var map: [Int: Int] = [:]
        for (i, c) in scanned.enumerated() { map[c] = i }
        for k in 0..<(appended + 2) { map[width + k] = scanned.count + k }
        var out = plan
        out.procTimeColumn = appended == 1 ? scanned.count : nil
        out.scan = ScanSpec(provider: plan.scan.provider, projection: scanned.map { plan.scan.projection[$0] })
        out.watermark = plan.watermark.map { WatermarkSpec(column: map[$0.column]!, delayMillis: $0.delayMillis, idleTimeoutMillis: $0.idleTimeoutMillis) }
        out.window = plan.window.map { w in
            WindowSpec(kind: w.kind, timeColumn: map[w.timeColumn]!, offsetMillis: w.offsetMillis,
                       startColumn: scanned.count + appended)
        }
        out.filter = plan.filter?.remapped(map)
        out.shape = .project(keep.map { exprs[$0].remapped(map) })
        out.outputSchema = Schema(keep.map { plan.outputSchema[$0] })
        return (out, extra.map { $0?.remapped(map) })
    }

    /// Whether output `column` of an input is the scan column `index` itself.
    private static func isColumn(_ e: BoundExpr, _ index: Int) -> Bool {
        if case .column(let i, _, _) = e, i == index { return true }
        return false
    }

    /// A join of two inputs each read by its own source: a window join, an interval join,
    /// or a regular equi-join (bounded by `'state.ttl'` on its tables, or unbounded).
    private func streamJoin(_ s: Select, _ leftRef: TableReference, _ rightRef: TableReference, type: JoinType,
                            conjuncts: [Expression], outerWhere: [Expression], at position: SourcePosition,
                            on: Expression?) throws(SQLSyntaxError) -> QueryPlan {
        let inputs = [try bindInput(leftRef), try bindInput(rightRef)]
        let scope = try JoinScope(inputs.map { JoinScope.Side(name: $0.name, fields: $0.fields, position: $0.position) })
        func isTimeAttribute(_ side: Int, _ column: Int) -> Bool {
            guard let w = inputs[side].plan.watermark else { return false }
            return Binder.isColumn(inputs[side].exprs[column], w.column)
        }
        func isWindowColumn(_ side: Int, _ column: Int, end: Bool) -> Bool {
            guard let w = inputs[side].plan.window else { return false }
            return Binder.isColumn(inputs[side].exprs[column], w.startColumn + (end ? 1 : 0))
        }
        var keys: [[BoundExpr]] = [[], []]
        var keyText: [String] = []
        var windowEquality: [Bool] = [false, false]  // window_start, window_end
        // Two window aggregations joined on their windows' ends: their rows meet only
        // within one window, so the join can release each window as it closes.
        var aggregatedWindows = false
        var windowPosition: SourcePosition?
        var bounds = Bounds()
        var filters: [[BoundExpr]] = [[], []], conditions: [[BoundExpr]] = [[], []]
        var residual: [Expression] = []
        for c in conjuncts {
            if try Binder.timeCondition(c, scope, &bounds, isTimeAttribute: isTimeAttribute) {
                keyText.append(c.description)
                continue
            }
            if let (l, r) = try Binder.equiPair(c, scope) {
                if case .column(let ln) = l.kind, case .column(let rn) = r.kind {
                    let a = try scope.resolve(ln), b = try scope.resolve(rn)
                    for (k, end) in [(0, false), (1, true)]
                    where isWindowColumn(0, a.column, end: end) && isWindowColumn(1, b.column, end: end) {
                        windowEquality[k] = true
                        windowPosition = windowPosition ?? c.position
                    }
                    if let e0 = inputs[0].aggregatedWindowEnd, let e1 = inputs[1].aggregatedWindowEnd,
                       a.side == 0 ? (a.column == e0 && b.column == e1) : (a.column == e1 && b.column == e0) {
                        aggregatedWindows = true
                    }
                }
                let (a, b) = try Binder.keyPair(try scope.bind(l, side: 0), try scope.bind(r, side: 1), at: c.position)
                keys[0].append(a)
                keys[1].append(b)
                keyText.append(c.description)
                continue
            }
            let used = try scope.sidesUsed(c)
            if used.count == 1, let side = used.first {
                let b = try Binder.condition(scope.bind(c, side: side), c)
                if type.preserves(side) { conditions[side].append(b) } else { filters[side].append(b) }
            } else if type == .inner {
                residual.append(c)
            } else {
                throw Binder.error("a \(type.rawValue) JOIN's ON takes key equalities, time bounds and conditions on one input",
                                   at: c.position, hint: "move this condition to WHERE (it then filters the joined rows)")
            }
        }

        // The kind of join, and each input's join time (over its scan batch).
        let strategy: JoinStrategy
        var times: [BoundExpr?] = [nil, nil]
        var lower = Int64.min, upper = Int64.max
        if windowEquality[0] || windowEquality[1] {
            guard windowEquality[0] && windowEquality[1] else {
                throw Binder.error("a window join needs both window_start and window_end equal", at: windowPosition!,
                                   hint: "ON l.window_start = r.window_start AND l.window_end = r.window_end AND ...")
            }
            let w0 = inputs[0].plan.window!, w1 = inputs[1].plan.window!
            guard w0.kind == w1.kind, w0.offsetMillis == w1.offsetMillis else {
                throw Binder.error("both inputs of a window join need the same window", at: windowPosition!,
                                   hint: "here: \(PlanPrinter.windowText(w0)) and \(PlanPrinter.windowText(w1))")
            }
            if let p = bounds.position {
                throw Binder.error("a window join takes no time bounds besides the window", at: p)
            }
            for side in 0..<2 {
                let w = inputs[side].plan.window!
                if let wm = inputs[side].plan.watermark, wm.column != w.timeColumn {
                    throw Binder.error("the window column of '\(inputs[side].name)' must be its table's WATERMARK column",
                                       at: inputs[side].position)
                }
                // The window's last instant: the window join's time, and its lateness rule.
                times[side] = .arithmetic(.sub, .column(index: w.startColumn + 1, type: .timestamp(.millisecond), name: "window_end"),
                                          .literal(.int(1), .int64), .timestamp(.millisecond))
            }
            strategy = .window(w0.kind)
            lower = 0
            upper = 0
        } else if aggregatedWindows && !bounds.any {
            // Each row's time is its window's last instant (the aggregated input's hidden
            // column): equal window ends mean equal times, an interval join of width 0.
            for side in 0..<2 { times[side] = inputs[side].exprs[inputs[side].exprs.count - 1] }
            strategy = .interval
            lower = 0
            upper = 0
        } else if bounds.any {
            guard bounds.lower != Int64.min, bounds.upper != Int64.max else {
                throw Binder.error("an interval join needs a lower and an upper time bound", at: bounds.position!,
                                   hint: "e.g. \(scope.sides[1].name).ts BETWEEN \(scope.sides[0].name).ts - INTERVAL '4' SECOND AND \(scope.sides[0].name).ts + INTERVAL '1' SECOND")
            }
            guard bounds.lower <= bounds.upper else {
                throw Binder.error("the time bounds of this join can never hold together", at: bounds.position!)
            }
            for side in 0..<2 { times[side] = inputs[side].exprs[bounds.columns[side]!] }
            strategy = .interval
            lower = bounds.lower
            upper = bounds.upper
        } else {
            guard !keys[0].isEmpty else {
                throw Binder.error("a join of two inputs needs an equality between them, time bounds or a window",
                                   at: on?.position ?? position,
                                   hint: "e.g. ON l.k = r.k (regular join), AND r.ts BETWEEN l.ts - INTERVAL '5' SECOND AND l.ts (interval join)")
            }
            var ttls: [Int64?] = [nil, nil]
            for side in 0..<2 {
                if let t = inputs[side].table, let raw = t.options.first(where: { $0.0 == Binder.stateTTLOption })?.1 {
                    ttls[side] = Binder.durationMillis(raw)
                }
            }
            if ttls[0] != nil || ttls[1] != nil {
                for side in 0..<2 {
                    guard let wm = inputs[side].plan.watermark else {
                        throw Binder.error("a join with '\(Binder.stateTTLOption)' counts in event time: '\(inputs[side].name)' needs a WATERMARK",
                                           at: inputs[side].position, hint: "declare WATERMARK FOR ts AS ts - INTERVAL '5' SECOND on its table")
                    }
                    times[side] = .column(index: wm.column, type: .timestamp(.millisecond), name: "rowtime")
                }
                // A left row is kept `leftTTL` after its time (it meets right rows up to then),
                // a right row `rightTTL` after its own.
                upper = ttls[0] ?? Int64.max
                lower = ttls[1].map { -$0 } ?? Int64.min
            }
            strategy = .regular(leftTTL: ttls[0], rightTTL: ttls[1])
        }
        let timed = times[0] != nil
        if timed, lateData != .drop, inputs.contains(where: { $0.plan.watermark != nil }) {
            throw Binder.error("joins count late rows and drop them; --late-data FILE and update are not supported for joins yet",
                               at: position, hint: "use --late-data drop (the default)")
        }

        // The query over the joined row.
        let def = TableDefinition(name: Binder.streamJoinTable, schema: Schema(scope.combinedFields), watermark: nil,
                                  provider: JoinedRows(schema: Schema(scope.combinedFields)), options: [])
        var whereConditions: [Expression] = []
        for c in residual + outerWhere { whereConditions.append(try scope.rewrite(c)) }
        var plan = try bindOver(def, try Binder.rewritten(s, scope, table: Binder.streamJoinTable, where: whereConditions, at: position))
        guard case .project = plan.shape else {
            throw Binder.error("aggregating the result of a join of two inputs is not supported yet", at: s.position,
                               hint: "a lookup join (FOR SYSTEM_TIME AS OF) can be aggregated; or write the joined rows out and aggregate them in a second query")
        }

        // Each input reads what the joined row and the join need.
        var keep: [[Int]] = [[], []]
        var columns: [JoinColumn] = []
        let leftWidth = scope.sides[0].fields.count
        for c in plan.scan.projection {
            let side = c < leftWidth ? 0 : 1
            let col = side == 0 ? c : c - leftWidth
            if !keep[side].contains(col) { keep[side].append(col) }
            columns.append(JoinColumn(input: side, column: keep[side].firstIndex(of: col)!))
        }
        var joinInputs: [JoinInput] = []
        for side in 0..<2 {
            let input = inputs[side]
            let extra: [BoundExpr?] = keys[side].map { Binder.inlined($0, input.exprs) }
                + [times[side],
                   Binder.andBound(filters[side]).map { Binder.inlined($0, input.exprs) },
                   Binder.andBound(conditions[side]).map { Binder.inlined($0, input.exprs) }]
            var sidePlan = input.plan
            // Without event time the join reads no watermark (nothing is late).
            if !timed { sidePlan.watermark = nil }
            let (p, e) = Binder.pruned(sidePlan, input.exprs, keep: keep[side], extra: extra)
            let k = keys[side].count
            joinInputs.append(JoinInput(name: input.name, plan: p, keys: e[0..<k].map { $0! }, time: e[k],
                                        filter: e[k + 1], condition: e[k + 2]))
        }
        plan.join = JoinPlan(type: type, strategy: strategy, left: joinInputs[0], right: joinInputs[1], lower: lower,
                             upper: upper, timed: timed, columns: columns, condition: keyText.joined(separator: " AND "))
        return plan
    }
}

/// The joined rows of a two-input join as the one table the query over them is bound
/// against; the join's runner produces them (see `JoinRun`), so this is never opened.
struct JoinedRows: TableProvider {
    let schema: Schema
    var summary: String { "the joined rows" }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        throw SpateError(.runtime, "the rows of a join come from its runner, not from a scan")
    }
}

// MARK: - Explain

extension PlanPrinter {
    /// `--explain` of a two-input join: the projection over the joined rows, the join,
    /// then each input's own pipeline.
    static func describeJoin(_ plan: QueryPlan, _ join: JoinPlan, options: ExecutionOptions) -> String {
        var lines: [String] = []
        lines.append("Sink: CSV [\(plan.outputSchema.fields.map(\.name).joined(separator: ", "))]")
        if case .project(let exprs) = plan.shape {
            lines.append("  Project: " + exprs.map(\.description).joined(separator: ", "))
        }
        if let f = plan.filter { lines.append("  Filter: \(f)") }
        func bound(_ v: Int64) -> String { v == Int64.min ? "-inf" : v == Int64.max ? "+inf" : "\(v)" }
        let what: String
        switch join.strategy {
        case .window(let kind):
            what = "WindowJoin (\(kind.name)): rows meet in the same window; each window is emitted when both inputs' watermarks pass its end"
        case .interval:
            what = "IntervalJoin: \(join.right.name).time - \(join.left.name).time in [\(join.lower), \(join.upper)] ms; rows leave the state once the other input's watermark is past their bound"
        case .regular(let l, let r):
            if join.timed {
                let ttl = [l.map { "\(join.left.name) \($0) ms" }, r.map { "\(join.right.name) \($0) ms" }].compactMap { $0 }
                what = "Join with state TTL (\(ttl.joined(separator: ", "))) in event time: \(join.right.name).time - \(join.left.name).time in [\(bound(join.lower)), \(bound(join.upper))] ms"
            } else {
                what = "Join: every row is kept (no 'state.ttl'); results at the end of the input"
            }
        }
        lines.append("  \(join.type.rawValue) \(what); ON \(join.condition)")
        if join.timed {
            lines.append("  Event time: each input's own watermark decides its late rows (counted and dropped); results in order of time once both watermarks pass it")
        }
        for (i, input) in join.inputs.enumerated() {
            lines.append("  \(i == 0 ? "Left" : "Right") input '\(input.name)': keys [\(input.keys.map(\.description).joined(separator: ", "))]"
                         + (input.time.map { ", time \($0)" } ?? ""))
            if let f = input.filter { lines.append("    Join filter: \(f)") }
            if let c = input.condition { lines.append("    Matches only when: \(c)") }
            let side = describe(input.plan, options: options).split(separator: "\n").dropFirst().dropLast()
            for l in side { lines.append("  " + l) }
        }
        lines.append("Workers: \(options.workers); batch capacity \(options.batchCapacity)")
        return lines.joined(separator: "\n")
    }
}
