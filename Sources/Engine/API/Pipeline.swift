import Columnar

// The model behind `DataStream`: the operator chain kept as the parts of one SELECT,
// turned into the SQL syntax tree and bound by the SQL binder, so a stream and the
// equivalent query get the same plan by construction.

/// Where an API operator was called, for its errors.
struct CallSite {
    var operation: String
    var file: String
    var line: Int

    func error(_ message: String, hint: String? = nil) -> SpateError {
        SpateError(.usage, "\(operation): \(message)", path: file, line: line, hint: hint)
    }
}

/// A column of a stream: its name and the SQL expression over the query's input that
/// computes it (a stream's operators substitute these for the names they use).
struct StreamColumn {
    var name: String
    var ast: Expression
}

/// The window TVF of a stream.
struct WindowClause {
    var kind: WindowKind
    /// A column of the table.
    var timeColumn: String
    var offsetMillis: Int64
}

/// After `aggregate`: the GROUP BY keys, the output columns (SELECT list, over window
/// columns, keys and aggregate calls) and the HAVING conditions.
struct AggregateStage {
    var keys: [StreamColumn]
    var output: [StreamColumn]
    var having: [Expression]
}

/// One SELECT in parts.
struct Pipeline {
    var table: TableDefinition
    /// The SELECT list before aggregation; nil: every input column (`*`).
    var projection: [StreamColumn]?
    /// WHERE, as conjuncts in the order the filters were applied.
    var conditions: [Expression] = []
    var keys: [StreamColumn]?
    var window: WindowClause?
    /// Count windows of this many rows per key (`window(.count(n))`).
    var countWindow: Int?
    /// A select/map came after the window (the window is then a projection's).
    var projectedAfterWindow = false
    var aggregate: AggregateStage?

    init(table: TableDefinition) { self.table = table }

    static let windowColumnNames = ["window_start", "window_end"]

    var isSession: Bool {
        if case .session = window?.kind { return true }
        return false
    }

    /// Whether rows carry window_start/window_end before aggregation (a row of a
    /// SESSION window has none: sessions exist only once rows are grouped).
    var rowsHaveWindowColumns: Bool { window != nil && !isSession }

    /// The columns of the scan (and of the window TVF).
    var inputColumns: [StreamColumn] {
        var names = table.schema.fields.map(\.name)
        if rowsHaveWindowColumns { names += Pipeline.windowColumnNames }
        return names.map { StreamColumn(name: $0, ast: columnAST($0)) }
    }

    /// The columns the next operator sees.
    var columns: [StreamColumn] { aggregate?.output ?? projection ?? inputColumns }

    /// False while a keyBy or a SESSION window waits for its aggregate.
    var isComplete: Bool { aggregate != nil || (keys == nil && !isSession && countWindow == nil) }

    // MARK: - Names

    /// `e` with each column name replaced by the expression of the stream's column of
    /// that name (exact spelling first, then ignoring case, as SQL matches names).
    func resolve(_ e: Expression, site: CallSite) throws -> Expression {
        try rewriteColumns(e) { name in try lookup(name, site: site) }
    }

    func lookup(_ name: QualifiedName, site: CallSite) throws -> Expression {
        let id = name.last
        guard name.parts.count == 1 else {
            throw site.error("'\(name)': a stream's columns are named without a table",
                             hint: "write col(\"\(id.name)\")")
        }
        if let c = column(named: id.name) { return c.ast }
        if id.name.lowercased() == "window_time", window != nil, aggregate != nil || rowsHaveWindowColumns {
            // The binder spells it window_end - 1 ms wherever window_end exists.
            return columnAST("window_time")
        }
        let names = columns.map(\.name)
        var hint = Binder.suggestion(id.name, names) ?? "the stream's columns are: " + names.joined(separator: ", ")
        if Pipeline.windowColumnNames.contains(id.name.lowercased()) {
            if window == nil {
                hint = "window_start and window_end come with window(...)"
            } else if isSession && aggregate == nil {
                hint = "a SESSION window's window_start and window_end exist after aggregate(...)"
            }
        }
        throw site.error("unknown column '\(id.name)'", hint: hint)
    }

    func column(named name: String) -> StreamColumn? {
        let cols = columns
        if let exact = cols.first(where: { $0.name == name }) { return exact }
        let lower = name.lowercased()
        return cols.first { $0.name.lowercased() == lower }
    }

    /// The stream's column for a `select`/`map`/aggregate item: its name (given, the
    /// name of the column it refers to, or SQL's name for the expression as written)
    /// and its resolved expression.
    func streamColumn(_ expr: Expr, name: String?, site: CallSite) throws -> StreamColumn {
        if let problem = expr.problem { throw site.error(problem) }
        try checkNoAggregateCall(expr.ast, site: site)
        let ast = try resolve(expr.ast, site: site)
        if let name { return StreamColumn(name: name, ast: ast) }
        if case .column(let n) = expr.ast.kind, let c = column(named: n.last.name) {
            return StreamColumn(name: c.name, ast: ast)
        }
        return StreamColumn(name: Binder.outputName(expr.ast), ast: ast)
    }

    /// Before `aggregate`, an aggregate call in a select or filter would turn the whole
    /// query into an aggregation behind the stream's back.
    func checkNoAggregateCall(_ e: Expression, site: CallSite) throws {
        guard aggregate == nil, (try? Scope.containsAggregate(e)) == true else { return }
        throw site.error("aggregate functions belong in aggregate(...)",
                         hint: "aggregate first, then filter or select on its columns, e.g. .aggregate(.count(as: \"n\")).filter(col(\"n\") > 3)")
    }

    static func checkUnique(_ columns: [StreamColumn], site: CallSite) throws {
        var seen: Set<String> = []
        for c in columns where !seen.insert(c.name.lowercased()).inserted {
            throw site.error("two columns are called '\(c.name)'", hint: "name one of them with .as(\"other_name\")")
        }
    }

    // MARK: - The SELECT

    enum Mode {
        /// The query the stream runs.
        case complete
        /// The rows flowing into a pending aggregate (its schema is the stream's).
        case rows
        /// Checks a pending keyBy/window: the grouping alone.
        case probe
    }

    func query(_ mode: Mode) -> Query {
        var items: [SelectItem]
        var groupBy: [Expression] = []
        var having: Expression?
        var withWindow = window != nil
        let windowColumns = window == nil ? [] : Pipeline.windowColumnNames.map(columnAST)
        switch mode {
        case .complete where aggregate != nil:
            let a = aggregate!
            items = a.output.map(selectListItem)
            groupBy = windowColumns + a.keys.map(\.ast)
            having = conjunction(a.having)
        case .complete, .rows:
            items = projection?.map(selectListItem) ?? [.wildcard(qualifier: nil, position: .start)]
            if mode == .rows && isSession { withWindow = false }
        case .probe:
            let keys = keys ?? []
            items = windowColumns.map { .expression($0, alias: nil) } + keys.map(selectListItem)
            groupBy = windowColumns + keys.map(\.ast)
        }
        let select = Select(isDistinct: false, items: items, from: [from(withWindow: withWindow)],
                            whereClause: conjunction(conditions), groupBy: groupBy, having: having, position: .start)
        return Query(with: [], body: .select(select), orderBy: [], limit: nil, offset: nil, position: .start)
    }

    /// `expr [AS name]`, the alias only where SQL would name the column otherwise.
    private func selectListItem(_ c: StreamColumn) -> SelectItem {
        .expression(c.ast, alias: Binder.outputName(c.ast) == c.name ? nil : Identifier(c.name, isQuoted: needsQuotes(c.name)))
    }

    private func conjunction(_ parts: [Expression]) -> Expression? {
        guard var acc = parts.first else { return nil }
        for p in parts.dropFirst() { acc = Expression(.binary(.and, acc, p)) }
        return acc
    }

    /// The table, or the window TVF over it (a SESSION's PARTITION BY is the keys).
    private func from(withWindow: Bool) -> TableReference {
        let tableName = QualifiedName([Identifier(table.name, isQuoted: needsQuotes(table.name))])
        guard withWindow, let w = window else {
            return .table(.init(name: tableName, systemTimeAsOf: nil, alias: nil, position: .start))
        }
        typealias Argument = TableReference.TableFunction.Argument
        func interval(_ ms: Int64) -> Argument {
            Argument(name: nil, value: .expression(Expression(.literal(.interval(intervalAST(ms))))), position: .start)
        }
        let partition = isSession ? (aggregate?.keys ?? keys ?? []).map(\.ast) : []
        var arguments = [
            Argument(name: nil, value: .table(tableName, partitionBy: partition), position: .start),
            Argument(name: nil, value: .descriptor([Identifier(w.timeColumn, isQuoted: needsQuotes(w.timeColumn))]),
                     position: .start),
        ]
        switch w.kind {
        case .tumble(let size): arguments.append(interval(size))
        case .hop(let slide, let size): arguments += [interval(slide), interval(size)]
        case .cumulate(let step, let maxSize): arguments += [interval(step), interval(maxSize)]
        case .session(let gap): arguments.append(interval(gap))
        }
        if w.offsetMillis != 0 { arguments.append(interval(w.offsetMillis)) }
        return .function(.init(name: QualifiedName([Identifier(w.kind.name)]), arguments: arguments, alias: nil,
                               position: .start))
    }

    // MARK: - Binding

    /// Binds `q` as `spate sql` binds a SELECT. On an error, the query is bound once more
    /// from its SQL text, for a caret under the part of the query that is wrong.
    func bind(_ q: Query, lateData: LateDataPolicy, site: CallSite) throws -> QueryPlan {
        var binder = Binder(catalog: [table.name.lowercased(): table])
        binder.lateData = lateData
        do {
            return try binder.query(q)
        } catch {
            var e = site.error(error.message, hint: error.hint)
            let sql = q.description
            if case .query(let parsed)? = try? SQLParser.parseStatement(sql) {
                do {
                    _ = try binder.query(parsed)
                } catch let again where again.message == error.message {
                    let p = again.position
                    var lines = [e.description.split(separator: "\n", maxSplits: 1)[0]]
                    lines.append("  as SQL: " + sql)
                    if p.line == 1 && p.offset > 0 {
                        lines.append(String(repeating: " ", count: 10 + p.column - 1) + "^")
                    }
                    if let hint = error.hint { lines.append("hint: " + hint) }
                    e.rendered = lines.joined(separator: "\n")
                } catch {}
            }
            throw e
        }
    }
}

/// A column reference as SQL text would have it (quoted where the name is a reserved word).
func columnAST(_ name: String) -> Expression {
    Expression(.column(QualifiedName([Identifier(name, isQuoted: needsQuotes(name))])))
}

/// `e` with every column reference replaced by `f(name)`.
func rewriteColumns(_ e: Expression, _ f: (QualifiedName) throws -> Expression) throws -> Expression {
    func sub(_ x: Expression) throws -> Expression { try rewriteColumns(x, f) }
    var out = e
    switch e.kind {
    case .literal, .subquery, .exists:
        return e
    case .column(let n):
        return try f(n)
    case .unary(let op, let a):
        out.kind = .unary(op, try sub(a))
    case .binary(let op, let a, let b):
        out.kind = .binary(op, try sub(a), try sub(b))
    case .isNull(let a, let negated):
        out.kind = .isNull(try sub(a), negated: negated)
    case .isBoolean(let a, let value, let negated):
        out.kind = .isBoolean(try sub(a), value: value, negated: negated)
    case .isDistinctFrom(let a, let b, let negated):
        out.kind = .isDistinctFrom(try sub(a), try sub(b), negated: negated)
    case .between(let a, let low, let high, let negated):
        out.kind = .between(try sub(a), low: try sub(low), high: try sub(high), negated: negated)
    case .inList(let a, let list, let negated):
        out.kind = .inList(try sub(a), try list.map(sub), negated: negated)
    case .inSubquery(let a, let q, let negated):
        out.kind = .inSubquery(try sub(a), q, negated: negated)
    case .like(let a, let pattern, let escape, let negated):
        out.kind = .like(try sub(a), pattern: try sub(pattern), escape: try escape.map(sub), negated: negated)
    case .call(var c):
        c.arguments = try c.arguments.map(sub)
        c.filter = try c.filter.map(sub)
        out.kind = .call(c)
    case .cast(let a, let type, let isTry):
        out.kind = .cast(try sub(a), type, isTry: isTry)
    case .caseWhen(var c):
        c.operand = try c.operand.map(sub)
        c.branches = try c.branches.map { b in
            var b = b
            b.condition = try sub(b.condition)
            b.result = try sub(b.result)
            return b
        }
        c.elseResult = try c.elseResult.map(sub)
        out.kind = .caseWhen(c)
    }
    return out
}
