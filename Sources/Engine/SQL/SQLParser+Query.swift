// Queries: WITH, set operations, SELECT, VALUES, ORDER BY/LIMIT, and FROM clauses.

extension Parser {
    func parseQuery() throws -> Query {
        try nested {
            let start = current.start
            var ctes: [Query.CommonTableExpression] = []
            if accept("WITH") != nil {
                if isWord("RECURSIVE") {
                    throw error("WITH RECURSIVE is not supported", at: current.start)
                }
                repeat {
                    let name = try parseIdentifier("a name for the WITH query")
                    var columns: [Identifier] = []
                    if isSymbol("(") { columns = try parseIdentifierList("the column list of \(name)") }
                    try expect("AS", "after \(name) in WITH")
                    let open = try expectSymbol("(", "after AS in WITH", hint: "write WITH name AS (SELECT ...)")
                    let q = try parseQuery()
                    try expectClose(open, "the WITH query \(name)")
                    ctes.append(.init(name: name, columns: columns, query: q, position: name.position))
                } while acceptSymbol(",") != nil
                guard startsQuery() || isSymbol("(") else {
                    throw expected("a query after the WITH clause", keywords: ["SELECT", "VALUES"])
                }
            }
            let body = try parseSetOperations()
            var query = Query(
                with: ctes, body: body, orderBy: [], limit: nil, offset: nil, position: start)
            if accept("ORDER") != nil {
                try expect("BY", "after ORDER")
                query.orderBy = try parseOrderByList()
            }
            if accept("LIMIT") != nil {
                query.limit = try parseUnsignedInteger("a row count (an integer) after LIMIT")
            }
            if accept("OFFSET") != nil {
                query.offset = try parseUnsignedInteger("a row count (an integer) after OFFSET")
                if accept("ROWS") == nil { accept("ROW") }
            }
            if accept("FETCH") != nil {
                if accept("FIRST") == nil {
                    try expect("NEXT", "after FETCH (FETCH FIRST n ROWS ONLY)", hint: nil)
                }
                if query.limit != nil {
                    throw error("LIMIT and FETCH cannot both be used", at: previous?.start ?? start)
                }
                query.limit = try parseUnsignedInteger("a row count (an integer) after FETCH FIRST")
                if accept("ROWS") == nil { try expect("ROW", "or ROWS after the FETCH count") }
                try expect("ONLY", "after FETCH FIRST n ROWS")
            }
            return query
        }
    }

    func parseOrderByList() throws -> [OrderByItem] {
        var items: [OrderByItem] = []
        repeat {
            let e = try parseExpression()
            var item = OrderByItem(expression: e, ascending: true, nullsFirst: nil)
            if accept("DESC") != nil {
                item.ascending = false
            } else {
                accept("ASC")
            }
            if accept("NULLS") != nil {
                if accept("FIRST") != nil {
                    item.nullsFirst = true
                } else {
                    try expect("LAST", "or FIRST after NULLS")
                    item.nullsFirst = false
                }
            }
            items.append(item)
        } while acceptSymbol(",") != nil
        return items
    }

    /// UNION / EXCEPT (left-associative) over INTERSECT (binds tighter).
    func parseSetOperations() throws -> QueryBody {
        let savedHeight = height
        defer { height = savedHeight }
        var left = try parseIntersections()
        while isWord("UNION") || isWord("EXCEPT") || isWord("MINUS") {
            try growHeight()
            let opToken = advance()
            let all = parseSetQuantifier()
            let right = try parseIntersections()
            left = .setOperation(
                SetOperation(
                    op: opToken.upper == "UNION" ? .union : .except, all: all, left: left,
                    right: right, position: opToken.start))
        }
        return left
    }

    private func parseIntersections() throws -> QueryBody {
        var left = try parseQueryPrimary()
        while isWord("INTERSECT") {
            try growHeight()
            let opToken = advance()
            let all = parseSetQuantifier()
            let right = try parseQueryPrimary()
            left = .setOperation(
                SetOperation(op: .intersect, all: all, left: left, right: right, position: opToken.start))
        }
        return left
    }

    private func parseSetQuantifier() -> Bool {
        if accept("ALL") != nil { return true }
        accept("DISTINCT")
        return false
    }

    func parseQueryPrimary() throws -> QueryBody {
        if isWord("SELECT") { return .select(try parseSelect()) }
        if let values = accept("VALUES") {
            var rows: [[Expression]] = []
            repeat {
                let open = try expectSymbol(
                    "(", "to start a row of VALUES", hint: "write VALUES (1, 'a'), (2, 'b')")
                var row: [Expression] = []
                repeat {
                    row.append(try parseExpression())
                } while acceptSymbol(",") != nil
                try expectClose(open, "the VALUES row")
                rows.append(row)
            } while acceptSymbol(",") != nil
            return .values(rows, position: values.start)
        }
        if let open = acceptSymbol("(") {
            let q = try parseQuery()
            try expectClose(open, "the parenthesized query")
            return .parenthesized(q)
        }
        throw expected("SELECT, VALUES or '('", keywords: ["SELECT", "VALUES"])
    }

    // MARK: SELECT

    func parseSelect() throws -> Select {
        let selectToken = try expect("SELECT")
        var select = Select(
            isDistinct: false, items: [], from: [], whereClause: nil, groupBy: [], having: nil,
            position: selectToken.start)
        if accept("DISTINCT") != nil {
            select.isDistinct = true
        } else {
            accept("ALL")
        }
        repeat {
            select.items.append(try parseSelectItem())
        } while acceptSymbol(",") != nil

        if accept("FROM") != nil {
            repeat {
                select.from.append(try parseJoinedTable())
            } while acceptSymbol(",") != nil
        }
        if accept("WHERE") != nil {
            select.whereClause = try parseExpression()
        }
        if accept("GROUP") != nil {
            try expect("BY", "after GROUP")
            repeat {
                select.groupBy.append(try parseExpression())
            } while acceptSymbol(",") != nil
        }
        if accept("HAVING") != nil {
            select.having = try parseExpression()
        }
        if isWord("WINDOW") {
            throw error("the WINDOW clause is not supported", at: current.start,
                hint: "write the window specification inline: OVER (PARTITION BY ... ORDER BY ...)")
        }
        return select
    }

    func parseSelectItem() throws -> SelectItem {
        let t = current
        if let star = acceptSymbol("*") {
            return .wildcard(qualifier: nil, position: star.start)
        }
        // t.* / db.t.*
        if isIdentifierToken(t) {
            var k = 0
            while (peek(k).kind == .quotedIdentifier || peek(k).kind == .word) && isSymbol(".", at: k + 1) {
                if isSymbol("*", at: k + 2) {
                    var parts: [Identifier] = []
                    for _ in 0...k / 2 {
                        let p = advance()
                        parts.append(Identifier(p.text, isQuoted: p.kind == .quotedIdentifier, position: p.start))
                        advance()  // '.'
                    }
                    advance()  // '*'
                    return .wildcard(qualifier: QualifiedName(parts), position: t.start)
                }
                k += 2
            }
        }
        if t.kind == .word && ["FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT"].contains(t.upper)
            || atEnd || isSymbol(";")
        {
            throw expected(
                "a select item after \(previous.map(describe) ?? "SELECT")",
                hint: previous?.kind == .symbol && previous?.text == "," ? "remove the trailing comma" : nil)
        }
        let e = try parseExpression()
        let alias = try parseAlias()
        return .expression(e, alias: alias)
    }

    /// `[AS] alias` — an alias is a quoted identifier or a non-reserved word.
    func parseAlias() throws -> Identifier? {
        if accept("AS") != nil {
            if current.kind == .string {
                throw expected(
                    "an alias after AS",
                    hint: "aliases are identifiers; quote them with backticks: `\(current.text)`")
            }
            return try parseIdentifier("an alias after AS")
        }
        if isIdentifierToken(current) {
            let t = advance()
            return Identifier(t.text, isQuoted: t.kind == .quotedIdentifier, position: t.start)
        }
        return nil
    }

    func parseTableAlias() throws -> TableAlias? {
        guard let name = try parseAlias() else { return nil }
        var columns: [Identifier] = []
        if isSymbol("(") { columns = try parseIdentifierList("the column aliases of \(name)") }
        return TableAlias(name: name, columns: columns)
    }

    // MARK: FROM

    func parseJoinedTable() throws -> TableReference {
        let savedHeight = height
        defer { height = savedHeight }
        var left = try parseTablePrimary()
        while true {
            let start = current
            let kind: TableReference.Join.Kind
            if accept("JOIN") != nil {
                kind = .inner
            } else if accept("INNER") != nil {
                kind = .inner
                try expect("JOIN", "after INNER")
            } else if isWord("LEFT") || isWord("RIGHT") || isWord("FULL") {
                let t = advance()
                kind = t.upper == "LEFT" ? .left : t.upper == "RIGHT" ? .right : .full
                accept("OUTER")
                try expect("JOIN", "after \(t.upper)\(previous?.upper == "OUTER" ? " OUTER" : "")")
            } else if accept("CROSS") != nil {
                kind = .cross
                if isWord("APPLY") {
                    throw error("CROSS APPLY is not supported", at: current.start)
                }
                try expect("JOIN", "after CROSS")
            } else if isWord("NATURAL") {
                throw error("NATURAL JOIN is not supported", at: current.start,
                    hint: "write the join condition explicitly with ON or USING")
            } else {
                return left
            }
            try growHeight()
            let right = try parseTablePrimary()
            var condition: TableReference.Join.Condition?
            if kind != .cross {
                if accept("ON") != nil {
                    condition = .on(try parseExpression())
                } else if accept("USING") != nil {
                    condition = .using(try parseIdentifierList("the USING column list"))
                } else {
                    throw expected(
                        "ON or USING after the joined table",
                        hint: "use CROSS JOIN for a join without a condition",
                        keywords: ["ON", "USING"])
                }
            }
            left = .join(
                .init(kind: kind, left: left, right: right, condition: condition, position: start.start))
        }
    }

    func parseTablePrimary() throws -> TableReference {
        try nested {
            let t = current
            if isWord("TABLE") {
                return .function(try parseTableFunction())
            }
            if isWord("LATERAL") || isWord("UNNEST") {
                throw error("\(t.upper) is not supported", at: t.start)
            }
            if let open = acceptSymbol("(") {
                if parenthesizedQueryAhead() || startsQuery() {
                    let q = try parseQuery()
                    try expectClose(open, "the subquery")
                    let alias = try parseTableAlias()
                    return .subquery(.init(query: q, alias: alias, position: open.start))
                }
                // A parenthesized join: (a JOIN b ON ...)
                let inner = try parseJoinedTable()
                try expectClose(open, "the parenthesized FROM item")
                return inner
            }
            if isWord("TUMBLE") || isWord("HOP") || isWord("CUMULATE") || isWord("SESSION"),
                isSymbol("(", at: 1)
            {
                throw error(
                    "window table functions must be wrapped in TABLE(...)", at: t.start,
                    hint: "write FROM TABLE(\(t.upper)(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND))")
            }
            guard isIdentifierToken(t) else {
                throw expected("a table name, '(' or TABLE(...) in FROM", keywords: ["TABLE"])
            }
            let name = try parseQualifiedName("a table name")
            if isSymbol("(") {
                throw error(
                    "table functions must be wrapped in TABLE(...)", at: current.start,
                    hint: "write FROM TABLE(\(name)(...))")
            }
            var systemTime: Expression?
            if isWord("FOR") {
                advance()
                try expect("SYSTEM_TIME", "after FOR (FOR SYSTEM_TIME AS OF ...)")
                try expect("AS", "after FOR SYSTEM_TIME")
                try expect("OF", "after FOR SYSTEM_TIME AS")
                systemTime = try parseExpression()
            }
            let alias = try parseTableAlias()
            return .table(.init(name: name, systemTimeAsOf: systemTime, alias: alias, position: t.start))
        }
    }

    /// `TABLE(name(args)) [[AS] alias]`.
    func parseTableFunction() throws -> TableReference.TableFunction {
        let tableToken = try expect("TABLE")
        let open = try expectSymbol(
            "(", "after TABLE in FROM",
            hint: "table functions are written TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND))")
        let name = try parseQualifiedName("a table function name")
        let argsOpen = try expectSymbol("(", "after the table function name \(name)")
        var arguments: [TableReference.TableFunction.Argument] = []
        if acceptSymbol(")") == nil {
            repeat {
                arguments.append(try parseTableFunctionArgument())
            } while acceptSymbol(",") != nil
            try expectClose(argsOpen, "the arguments of \(name)")
        }
        try expectClose(open, "TABLE(")
        let alias = try parseTableAlias()
        return .init(name: name, arguments: arguments, alias: alias, position: tableToken.start)
    }

    func parseTableFunctionArgument() throws -> TableReference.TableFunction.Argument {
        let start = current.start
        var name: Identifier?
        if (current.kind == .word || current.kind == .quotedIdentifier) && isSymbol("=>", at: 1) {
            let t = advance()
            name = Identifier(t.text, isQuoted: t.kind == .quotedIdentifier, position: t.start)
            advance()
        }
        if isWord("TABLE") {
            advance()
            if isSymbol("(") {
                throw error(
                    "a subquery cannot be used as a table argument here", at: current.start,
                    hint: "define a view for the subquery and pass TABLE view_name")
            }
            let table = try parseQualifiedName("a table name after TABLE")
            var partitionBy: [Expression] = []
            if accept("PARTITION") != nil {
                try expect("BY", "after PARTITION")
                if let open = acceptSymbol("(") {
                    repeat {
                        partitionBy.append(try parseExpression())
                    } while acceptSymbol(",") != nil
                    try expectClose(open, "the PARTITION BY list")
                } else {
                    partitionBy.append(try parseExpression())
                }
            }
            return .init(name: name, value: .table(table, partitionBy: partitionBy), position: start)
        }
        if isWord("DESCRIPTOR") && isSymbol("(", at: 1) {
            advance()
            let columns = try parseIdentifierList("the DESCRIPTOR column list")
            return .init(name: name, value: .descriptor(columns), position: start)
        }
        return .init(name: name, value: .expression(try parseExpression()), position: start)
    }
}
