// CREATE TABLE, CREATE VIEW, INSERT, and data types.

extension Parser {
    func parseCreate() throws -> Statement {
        let create = try expect("CREATE")
        if isWord("OR") && isWord("REPLACE", at: 1) {
            throw error("CREATE OR REPLACE is not supported", at: current.start)
        }
        let isTemporary = accept("TEMPORARY") != nil
        if accept("TABLE") != nil {
            return .createTable(try parseCreateTable(start: create.start, isTemporary: isTemporary))
        }
        if accept("VIEW") != nil {
            return .createView(try parseCreateView(start: create.start, isTemporary: isTemporary))
        }
        if current.kind == .word, ["FUNCTION", "CATALOG", "DATABASE"].contains(current.upper) {
            throw error("CREATE \(current.upper) is not supported", at: current.start)
        }
        throw expected(
            isTemporary ? "TABLE or VIEW after TEMPORARY" : "TABLE, VIEW or TEMPORARY after CREATE",
            keywords: ["TABLE", "VIEW", "TEMPORARY"])
    }

    func parseIfNotExists() throws -> Bool {
        guard isWord("IF") else { return false }
        advance()
        try expect("NOT", "after IF")
        try expect("EXISTS", "after IF NOT")
        return true
    }

    // MARK: CREATE TABLE

    func parseCreateTable(start: SourcePosition, isTemporary: Bool) throws -> CreateTableStatement {
        let ifNotExists = try parseIfNotExists()
        let name = try parseQualifiedName("a table name")
        var table = CreateTableStatement(
            name: name, isTemporary: isTemporary, ifNotExists: ifNotExists, columns: [],
            watermark: nil, primaryKey: nil, comment: nil, partitionedBy: [], options: [],
            position: start)
        if isWord("AS") || isWord("LIKE") {
            throw error(
                "CREATE TABLE ... \(current.upper) is not supported", at: current.start,
                hint: "declare the columns explicitly: CREATE TABLE \(name) (col TYPE, ...)")
        }
        // No column list (`CREATE TABLE t WITH (...)`): the connector infers the columns
        // (a capture file's schema, a CSV header and sample, a generator's schema).
        if isWord("WITH") {
            table.options = try parseOptions(accept("WITH")!)
            return table
        }
        let open = try expectSymbol("(", "to start the column list of table \(name)")
        while true {
            let element = try parseTableElement(into: &table)
            if acceptSymbol(",") != nil {
                if isSymbol(")") {
                    throw error(
                        "expected a column definition after ',', found ')'", at: current.start,
                        hint: "remove the trailing comma")
                }
                continue
            }
            if acceptSymbol(")") != nil { break }
            if isIdentifierToken(current) {
                throw expected(
                    "',' or ')' after \(element)",
                    hint: "is a comma missing between the column definitions?")
            }
            throw expected("')' to close the column list opened at \(open.start)")
        }
        if accept("COMMENT") != nil {
            table.comment = try parseStringLiteral("a comment string after COMMENT")
        }
        if accept("PARTITIONED") != nil {
            try expect("BY", "after PARTITIONED")
            table.partitionedBy = try parseIdentifierList("the PARTITIONED BY list")
        }
        if let with = accept("WITH") {
            table.options = try parseOptions(with)
        }
        if isWord("LIKE") {
            throw error("CREATE TABLE ... LIKE is not supported", at: current.start)
        }
        return table
    }

    func parseStringLiteral(_ what: String) throws -> String {
        guard current.kind == .string else { throw expected(what) }
        return advance().text
    }

    /// One element of a CREATE TABLE list: a column, WATERMARK, or PRIMARY KEY constraint.
    /// Returns a description of the element for messages, e.g. "column 'price'".
    func parseTableElement(into table: inout CreateTableStatement) throws -> String {
        let start = current
        if isWord("WATERMARK") && isWord("FOR", at: 1) {
            advance()
            advance()
            let column = try parseQualifiedName("the rowtime column after WATERMARK FOR")
            try expect("AS", "after WATERMARK FOR \(column)")
            let e = try parseExpression()
            if table.watermark != nil {
                throw error(
                    "a table can have only one WATERMARK definition", at: start.start)
            }
            table.watermark = .init(column: column, expression: e, position: start.start)
            return "the WATERMARK definition"
        }
        if (isWord("PRIMARY") && isWord("KEY", at: 1)) || isWord("CONSTRAINT") {
            var constraintName: Identifier?
            if accept("CONSTRAINT") != nil {
                constraintName = try parseIdentifier("a constraint name")
            }
            try expect("PRIMARY", "after CONSTRAINT \(constraintName?.description ?? "")")
            try expect("KEY", "after PRIMARY")
            let columns = try parseIdentifierList("the primary key column list")
            let enforced = try parseEnforced()
            try setPrimaryKey(
                &table,
                .init(
                    constraintName: constraintName, columns: columns, isEnforced: enforced,
                    position: start.start))
            return "the PRIMARY KEY definition"
        }

        let name = try parseIdentifier("a column name")
        var column = CreateTableStatement.Column(
            name: name, kind: .physical(TypeName("")), comment: nil, position: name.position)
        if accept("AS") != nil {
            column.kind = .computed(try parseExpression())
        } else {
            if current.kind == .symbol && (current.text == "," || current.text == ")")
                || atEnd
            {
                throw expected("a data type for column '\(name.name)'")
            }
            let type = try parseType(for: "column '\(name.name)'")
            column.kind = .physical(type)
            if accept("METADATA") != nil {
                var key: String?
                if accept("FROM") != nil {
                    key = try parseStringLiteral("a metadata key string after METADATA FROM")
                }
                let isVirtual = accept("VIRTUAL") != nil
                column.kind = .metadata(type, key: key, isVirtual: isVirtual)
            }
            if isWord("PRIMARY") {
                let p = advance()
                try expect("KEY", "after PRIMARY")
                let enforced = try parseEnforced()
                try setPrimaryKey(
                    &table,
                    .init(constraintName: nil, columns: [name], isEnforced: enforced, position: p.start))
            }
        }
        if accept("COMMENT") != nil {
            column.comment = try parseStringLiteral("a comment string after COMMENT")
        }
        table.columns.append(column)
        return "column '\(name.name)'"
    }

    private func parseEnforced() throws -> Bool {
        if isWord("NOT") {
            advance()
            try expect("ENFORCED", "after NOT")
            return false
        }
        accept("ENFORCED")
        return true
    }

    private func setPrimaryKey(
        _ table: inout CreateTableStatement, _ key: CreateTableStatement.PrimaryKey
    ) throws {
        if table.primaryKey != nil {
            throw error("a table can have only one PRIMARY KEY", at: key.position)
        }
        table.primaryKey = key
    }

    /// `WITH ('k' = 'v', ...)`
    func parseOptions(_ with: Token) throws -> [CreateTableStatement.Option] {
        let open = try expectSymbol("(", "after WITH", hint: "write options as WITH ('key' = 'value', ...)")
        var options: [CreateTableStatement.Option] = []
        if isSymbol(")") {
            advance()
            return options
        }
        repeat {
            let keyToken = current
            guard keyToken.kind == .string else {
                throw expected(
                    "an option key string",
                    hint: keyToken.kind == .word || keyToken.kind == .quotedIdentifier
                        ? "option keys are quoted with single quotes: '\(keyToken.text)' = '...'"
                        : nil)
            }
            advance()
            try expectSymbol("=", "after option key '\(keyToken.text)'")
            let valueToken = current
            guard valueToken.kind == .string else {
                throw expected(
                    "a string value for option '\(keyToken.text)'",
                    hint: [.integer, .decimal, .float, .word].contains(valueToken.kind)
                        ? "option values are quoted with single quotes: '\(keyToken.text)' = '\(valueToken.text)'"
                        : nil)
            }
            advance()
            options.append(.init(key: keyToken.text, value: valueToken.text, position: keyToken.start))
        } while acceptSymbol(",") != nil
        try expectClose(open, "the WITH options", itemHint: false)
        return options
    }

    // MARK: Data types

    /// Parses a data type, e.g. `DECIMAL(10, 2) NOT NULL`, `ARRAY<INT>`, `ROW<a INT>`.
    func parseType(for what: String) throws -> TypeName {
        try nested {
            let t = current
            guard t.kind == .word, !Self.reserved.contains(t.upper) || t.upper == "INTERVAL" else {
                throw expected("a data type for \(what)")
            }
            advance()
            var type = TypeName(t.upper, position: t.start)
            if type.name == "DOUBLE", accept("PRECISION") != nil { type.name = "DOUBLE PRECISION" }
            if type.name == "CHARACTER" || type.name == "CHAR", accept("VARYING") != nil {
                type.name = "VARCHAR"
            }
            if let open = acceptSymbol("(") {
                if type.name == "ROW" {
                    type.fields = try parseRowFields(close: ")", open: open)
                } else {
                    repeat {
                        let v = try parseUnsignedInteger("an integer parameter for type \(type.name)")
                        guard let i = Int(exactly: v), i <= Int(Int32.max) else {
                            throw error("type parameter \(v) is too large", at: previous?.start ?? t.start)
                        }
                        type.parameters.append(i)
                    } while acceptSymbol(",") != nil
                    try expectClose(open, "the parameters of \(type.name)")
                }
            } else if type.name == "ROW", acceptSymbol("<>") != nil {
                // ROW<> — a row without fields.
            } else if let open = acceptSymbol("<") {
                if type.name == "ROW" {
                    type.fields = try parseRowFields(close: ">", open: open)
                } else {
                    repeat {
                        type.typeArguments.append(try parseType(for: "an element of \(type.name)"))
                    } while acceptSymbol(",") != nil
                    guard acceptSymbol(">") != nil else {
                        throw expected("'>' to close the type arguments of \(type.name) opened at \(open.start)")
                    }
                }
            }
            if type.name == "TIMESTAMP" || type.name == "TIME" {
                if isWord("WITH") && (isWord("LOCAL", at: 1) || isWord("TIME", at: 1)) {
                    advance()
                    let local = accept("LOCAL") != nil
                    try expect("TIME", "in TIMESTAMP WITH\(local ? " LOCAL" : "") TIME ZONE")
                    try expect("ZONE", "in TIMESTAMP WITH\(local ? " LOCAL" : "") TIME ZONE")
                    type.name += local ? " WITH LOCAL TIME ZONE" : " WITH TIME ZONE"
                } else if isWord("WITHOUT") {
                    advance()
                    try expect("TIME", "in WITHOUT TIME ZONE")
                    try expect("ZONE", "in WITHOUT TIME ZONE")
                }
            }
            if isWord("NOT") && isWord("NULL", at: 1) {
                advance()
                advance()
                type.isNotNull = true
            } else if isWord("NULL") {
                advance()
            }
            return type
        }
    }

    private func parseRowFields(close: String, open: Token) throws -> [TypeName.Field] {
        var fields: [TypeName.Field] = []
        if acceptSymbol(close) != nil { return fields }
        repeat {
            let name = try parseIdentifier("a field name", allowReserved: true)
            let type = try parseType(for: "field '\(name.name)'")
            if accept("COMMENT") != nil { _ = try parseStringLiteral("a comment string") }
            fields.append(.init(name: name, type: type))
        } while acceptSymbol(",") != nil
        guard acceptSymbol(close) != nil else {
            throw expected("'\(close)' to close the ROW fields opened at \(open.start)")
        }
        return fields
    }

    // MARK: CREATE VIEW / INSERT

    func parseCreateView(start: SourcePosition, isTemporary: Bool) throws -> CreateViewStatement {
        let ifNotExists = try parseIfNotExists()
        let name = try parseQualifiedName("a view name")
        var columns: [Identifier] = []
        if isSymbol("(") { columns = try parseIdentifierList("the view column list") }
        try expect("AS", "after the view name \(name)")
        let query = try parseQuery()
        return CreateViewStatement(
            name: name, isTemporary: isTemporary, ifNotExists: ifNotExists, columns: columns,
            query: query, position: start)
    }

    func parseInsert() throws -> InsertStatement {
        let insert = try expect("INSERT")
        let isOverwrite: Bool
        if accept("OVERWRITE") != nil {
            isOverwrite = true
        } else {
            try expect("INTO", "after INSERT", hint: nil)
            isOverwrite = false
        }
        accept("TABLE")
        let target = try parseQualifiedName("a table name")
        if isWord("PARTITION") {
            throw error("INSERT ... PARTITION is not supported", at: current.start)
        }
        var columns: [Identifier] = []
        if isSymbol("(") && !parenthesizedQueryAhead() {
            columns = try parseIdentifierList("the insert column list")
        }
        guard startsQuery() || isSymbol("(") else {
            throw expected(
                "a query (SELECT, VALUES or WITH) after INSERT INTO \(target)",
                keywords: ["SELECT", "VALUES", "WITH"])
        }
        let query = try parseQuery()
        return InsertStatement(
            target: target, columns: columns, query: query, isOverwrite: isOverwrite,
            position: insert.start)
    }
}
