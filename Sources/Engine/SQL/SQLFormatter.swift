// Turns AST nodes back into SQL text (on one line). Parsing the output yields an equal AST
// (positions aside), which the tests check; it is also what `description` returns, for
// messages such as "'a + 1' must appear in GROUP BY".

extension Statement: CustomStringConvertible {
    public var description: String { SQLFormatter.statement(self) }
}

extension Query: CustomStringConvertible {
    public var description: String { SQLFormatter.query(self) }
}

extension TableReference: CustomStringConvertible {
    public var description: String { SQLFormatter.tableReference(self) }
}

enum SQLFormatter {
    // MARK: Names

    /// Unquoted identifiers print as written (the parser accepted them unquoted in that
    /// position); quoted ones, and unquoted ones that are not word-shaped, get backticks.
    static func identifier(_ id: Identifier) -> String {
        if !id.isQuoted && isWordShaped(id.name) { return id.name }
        return "`" + id.name.replacingAll("`", with: "``") + "`"
    }

    private static func isWordShaped(_ name: String) -> Bool {
        guard let first = name.first, first == "_" || first.isLetter else { return false }
        return name.allSatisfy {
            $0 == "_" || $0 == "$" || $0.isLetter || ($0.isASCII && $0.isWholeNumber)
                || ($0.isNumber && !$0.isASCII)
        }
    }

    static func name(_ n: QualifiedName) -> String { n.parts.map(identifier).joined(separator: ".") }

    static func functionName(_ n: QualifiedName) -> String {
        n.parts.map { $0.isQuoted ? identifier($0) : $0.name }.joined(separator: ".")
    }

    static func string(_ s: String) -> String { "'" + s.replacingAll("'", with: "''") + "'" }

    // MARK: Types

    static func type(_ t: TypeName) -> String {
        let words = t.name.split(separator: " ", maxSplits: 1)
        var text = words.first.map(String.init) ?? ""
        if !t.parameters.isEmpty { text += "(" + t.parameters.map(String.init).joined(separator: ", ") + ")" }
        if !t.typeArguments.isEmpty { text += "<" + t.typeArguments.map(type).joined(separator: ", ") + ">" }
        if t.name == "ROW" {
            text += "<" + t.fields.map { identifier($0.name) + " " + type($0.type) }.joined(separator: ", ") + ">"
        }
        if words.count > 1 { text += " " + words[1] }
        if t.isNotNull { text += " NOT NULL" }
        return text
    }

    // MARK: Expressions

    /// Binding strength of the node's outermost operator (higher binds tighter).
    private static func precedence(_ e: Expression) -> Int {
        switch e.kind {
        case .binary(let op, _, _):
            switch op {
            case .or: 1
            case .and: 2
            case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: 4
            case .add, .subtract, .concat: 5
            case .multiply, .divide, .modulo: 6
            }
        case .unary(.not, _): 3
        case .unary: 7
        case .isNull, .isBoolean, .isDistinctFrom, .between, .inList, .inSubquery, .like: 4
        default: 8
        }
    }

    private static func operand(_ e: Expression, atLeast p: Int) -> String {
        precedence(e) >= p ? expression(e) : "(" + expression(e) + ")"
    }

    static func expression(_ e: Expression) -> String {
        switch e.kind {
        case .literal(let l):
            return literal(l)
        case .column(let n):
            return name(n)
        case .unary(.not, let x):
            return "NOT " + operand(x, atLeast: 3)
        case .unary(let op, let x):
            var inner = operand(x, atLeast: 7)
            if case .literal = x.kind, !inner.hasPrefix("(") { inner = "(" + inner + ")" }
            if inner.hasPrefix("-") || inner.hasPrefix("+") { inner = "(" + inner + ")" }
            return op.rawValue + inner
        case .binary(let op, let l, let r):
            let p = precedence(e)
            return operand(l, atLeast: p) + " " + op.rawValue + " " + operand(r, atLeast: p + 1)
        case .isNull(let x, let negated):
            return operand(x, atLeast: 4) + (negated ? " IS NOT NULL" : " IS NULL")
        case .isBoolean(let x, let value, let negated):
            return operand(x, atLeast: 4) + " IS " + (negated ? "NOT " : "") + (value ? "TRUE" : "FALSE")
        case .isDistinctFrom(let a, let b, let negated):
            return operand(a, atLeast: 4) + " IS " + (negated ? "NOT " : "") + "DISTINCT FROM "
                + operand(b, atLeast: 5)
        case .between(let x, let low, let high, let negated):
            return operand(x, atLeast: 4) + (negated ? " NOT" : "") + " BETWEEN "
                + operand(low, atLeast: 5) + " AND " + operand(high, atLeast: 5)
        case .inList(let x, let items, let negated):
            return operand(x, atLeast: 4) + (negated ? " NOT" : "") + " IN ("
                + items.map(expression).joined(separator: ", ") + ")"
        case .inSubquery(let x, let q, let negated):
            return operand(x, atLeast: 4) + (negated ? " NOT" : "") + " IN (" + query(q) + ")"
        case .like(let x, let pattern, let escape, let negated):
            var text = operand(x, atLeast: 4) + (negated ? " NOT" : "") + " LIKE " + operand(pattern, atLeast: 5)
            if let escape { text += " ESCAPE " + operand(escape, atLeast: 5) }
            return text
        case .call(let c):
            return call(c)
        case .cast(let x, let t, let isTry):
            return (isTry ? "TRY_CAST(" : "CAST(") + expression(x) + " AS " + type(t) + ")"
        case .caseWhen(let c):
            var text = "CASE"
            if let operand = c.operand { text += " " + expression(operand) }
            for b in c.branches {
                text += " WHEN " + expression(b.condition) + " THEN " + expression(b.result)
            }
            if let e = c.elseResult { text += " ELSE " + expression(e) }
            return text + " END"
        case .subquery(let q):
            return "(" + query(q) + ")"
        case .exists(let q):
            return "EXISTS (" + query(q) + ")"
        }
    }

    static func literal(_ l: Expression.Literal) -> String {
        switch l {
        case .integer(let v): return String(v)
        case .decimal(let text): return text
        case .double(let v):
            let text = v.description
            return text.contains("e") || text.contains("E") ? text : text + "e0"
        case .string(let s): return string(s)
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .null: return "NULL"
        case .interval(let i):
            let sign = i.milliseconds < 0 && !i.text.trimmingPrefixSpaces.hasPrefix("-") ? "-" : ""
            return "INTERVAL " + sign + string(i.text) + " " + i.unit.rawValue
                + (i.endUnit.map { " TO " + $0.rawValue } ?? "")
        case .timestamp(let s): return "TIMESTAMP " + string(s)
        case .date(let s): return "DATE " + string(s)
        case .time(let s): return "TIME " + string(s)
        }
    }

    static func call(_ c: Expression.FunctionCall) -> String {
        let fname = functionName(c.name)
        var text: String
        if c.arguments.isEmpty && !c.isStar && !c.isDistinct && c.name.parts.count == 1
            && Parser.niladicFunctions.contains(c.name.last.name.uppercased()) && !c.name.last.isQuoted
        {
            text = fname
        } else {
            text = fname + "("
            if c.isStar {
                text += "*"
            } else {
                if c.isDistinct { text += "DISTINCT " }
                text += c.arguments.map(expression).joined(separator: ", ")
            }
            text += ")"
        }
        if let f = c.filter { text += " FILTER (WHERE " + expression(f) + ")" }
        if let w = c.over {
            var parts: [String] = []
            if !w.partitionBy.isEmpty {
                parts.append("PARTITION BY " + w.partitionBy.map(expression).joined(separator: ", "))
            }
            if !w.orderBy.isEmpty { parts.append("ORDER BY " + orderBy(w.orderBy)) }
            if let frame = w.frame {
                if let end = frame.end {
                    parts.append(frame.units.rawValue + " BETWEEN " + bound(frame.start) + " AND " + bound(end))
                } else {
                    parts.append(frame.units.rawValue + " " + bound(frame.start))
                }
            }
            text += " OVER (" + parts.joined(separator: " ") + ")"
        }
        return text
    }

    private static func bound(_ b: Expression.WindowFrame.Bound) -> String {
        switch b {
        case .unboundedPreceding: "UNBOUNDED PRECEDING"
        case .preceding(let e): operand(e, atLeast: 5) + " PRECEDING"
        case .currentRow: "CURRENT ROW"
        case .following(let e): operand(e, atLeast: 5) + " FOLLOWING"
        case .unboundedFollowing: "UNBOUNDED FOLLOWING"
        }
    }

    static func orderBy(_ items: [OrderByItem]) -> String {
        items.map { item in
            var text = expression(item.expression)
            if !item.ascending { text += " DESC" }
            if let nf = item.nullsFirst { text += nf ? " NULLS FIRST" : " NULLS LAST" }
            return text
        }.joined(separator: ", ")
    }

    // MARK: Queries

    static func query(_ q: Query) -> String {
        var text = ""
        if !q.with.isEmpty {
            text += "WITH " + q.with.map { cte in
                identifier(cte.name) + columnList(cte.columns) + " AS (" + query(cte.query) + ")"
            }.joined(separator: ", ") + " "
        }
        text += body(q.body)
        if !q.orderBy.isEmpty { text += " ORDER BY " + orderBy(q.orderBy) }
        if let limit = q.limit { text += " LIMIT \(limit)" }
        if let offset = q.offset { text += " OFFSET \(offset)" }
        return text
    }

    private static func columnList(_ columns: [Identifier]) -> String {
        columns.isEmpty ? "" : " (" + columns.map(identifier).joined(separator: ", ") + ")"
    }

    static func body(_ b: QueryBody) -> String {
        switch b {
        case .select(let s): return select(s)
        case .values(let rows, _):
            return "VALUES " + rows.map { "(" + $0.map(expression).joined(separator: ", ") + ")" }
                .joined(separator: ", ")
        case .setOperation(let op):
            return body(op.left) + " " + op.op.rawValue + (op.all ? " ALL " : " ") + body(op.right)
        case .parenthesized(let q):
            return "(" + query(q) + ")"
        }
    }

    static func select(_ s: Select) -> String {
        var text = "SELECT " + (s.isDistinct ? "DISTINCT " : "")
        text += s.items.map { item in
            switch item {
            case .wildcard(let q, _): return q.map { name($0) + ".*" } ?? "*"
            case .expression(let e, let alias):
                return expression(e) + (alias.map { " AS " + identifier($0) } ?? "")
            }
        }.joined(separator: ", ")
        if !s.from.isEmpty { text += " FROM " + s.from.map(tableReference).joined(separator: ", ") }
        if let w = s.whereClause { text += " WHERE " + expression(w) }
        if !s.groupBy.isEmpty { text += " GROUP BY " + s.groupBy.map(expression).joined(separator: ", ") }
        if let h = s.having { text += " HAVING " + expression(h) }
        return text
    }

    private static func alias(_ a: TableAlias?) -> String {
        guard let a else { return "" }
        return " AS " + identifier(a.name) + columnList(a.columns)
    }

    static func tableReference(_ t: TableReference) -> String {
        switch t {
        case .table(let n):
            var text = name(n.name)
            if let e = n.systemTimeAsOf { text += " FOR SYSTEM_TIME AS OF " + expression(e) }
            return text + alias(n.alias)
        case .subquery(let s):
            return "(" + query(s.query) + ")" + alias(s.alias)
        case .function(let f):
            let args = f.arguments.map { arg in
                var text = arg.name.map { identifier($0) + " => " } ?? ""
                switch arg.value {
                case .table(let n, let partitionBy):
                    text += "TABLE " + name(n)
                    if !partitionBy.isEmpty {
                        text += " PARTITION BY (" + partitionBy.map(expression).joined(separator: ", ") + ")"
                    }
                case .descriptor(let columns):
                    text += "DESCRIPTOR(" + columns.map(identifier).joined(separator: ", ") + ")"
                case .expression(let e):
                    text += expression(e)
                }
                return text
            }
            return "TABLE(" + functionName(f.name) + "(" + args.joined(separator: ", ") + "))" + alias(f.alias)
        case .join(let j):
            var right = tableReference(j.right)
            if case .join = j.right { right = "(" + right + ")" }
            var text = tableReference(j.left) + " " + j.kind.rawValue + " JOIN " + right
            switch j.condition {
            case .on(let e): text += " ON " + expression(e)
            case .using(let columns): text += " USING (" + columns.map(identifier).joined(separator: ", ") + ")"
            case nil: break
            }
            return text
        }
    }

    // MARK: Statements

    static func statement(_ s: Statement) -> String {
        switch s {
        case .query(let q):
            return query(q)
        case .insert(let i):
            return "INSERT " + (i.isOverwrite ? "OVERWRITE " : "INTO ") + name(i.target)
                + columnList(i.columns) + " " + query(i.query)
        case .createView(let v):
            return "CREATE " + (v.isTemporary ? "TEMPORARY " : "") + "VIEW "
                + (v.ifNotExists ? "IF NOT EXISTS " : "") + name(v.name) + columnList(v.columns)
                + " AS " + query(v.query)
        case .createTable(let t):
            var elements: [String] = t.columns.map { c in
                var text = identifier(c.name)
                switch c.kind {
                case .physical(let ty): text += " " + type(ty)
                case .computed(let e): text += " AS " + expression(e)
                case .metadata(let ty, let key, let isVirtual):
                    text += " " + type(ty) + " METADATA"
                    if let key { text += " FROM " + string(key) }
                    if isVirtual { text += " VIRTUAL" }
                }
                if let comment = c.comment { text += " COMMENT " + string(comment) }
                return text
            }
            if let w = t.watermark {
                elements.append("WATERMARK FOR " + name(w.column) + " AS " + expression(w.expression))
            }
            if let pk = t.primaryKey {
                var text = pk.constraintName.map { "CONSTRAINT " + identifier($0) + " " } ?? ""
                text += "PRIMARY KEY (" + pk.columns.map(identifier).joined(separator: ", ") + ")"
                text += pk.isEnforced ? " ENFORCED" : " NOT ENFORCED"
                elements.append(text)
            }
            var text = "CREATE " + (t.isTemporary ? "TEMPORARY " : "") + "TABLE "
                + (t.ifNotExists ? "IF NOT EXISTS " : "") + name(t.name)
                + (elements.isEmpty ? "" : " (" + elements.joined(separator: ", ") + ")")
            if let comment = t.comment { text += " COMMENT " + string(comment) }
            if !t.partitionedBy.isEmpty {
                text += " PARTITIONED BY (" + t.partitionedBy.map(identifier).joined(separator: ", ") + ")"
            }
            if !t.options.isEmpty {
                text += " WITH (" + t.options.map { string($0.key) + " = " + string($0.value) }
                    .joined(separator: ", ") + ")"
            }
            return text
        }
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self {
            if ch == target { out += replacement } else { out.append(ch) }
        }
        return out
    }

    fileprivate var trimmingPrefixSpaces: Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        return s
    }
}
