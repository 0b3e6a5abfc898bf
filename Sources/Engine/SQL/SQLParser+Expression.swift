// Scalar expressions: precedence climbing over prefix/primary parsers.
//
// Precedence, loosest to tightest:
//   1 OR   2 AND   3 NOT (prefix)
//   4 comparison: = <> != < <= > >=, IS [NOT] ..., [NOT] BETWEEN, [NOT] IN, [NOT] LIKE
//   5 + - ||   6 * / %   7 unary - +   then primaries.
// Binary operators are left-associative.

extension Parser {
    private enum Precedence {
        static let or = 1
        static let and = 2
        static let not = 3
        static let comparison = 4
        static let additive = 5
        static let multiplicative = 6
        static let unary = 7
    }

    private enum Infix {
        case binary(Expression.BinaryOperator)
        case isTest
        case between
        case inList
        case like
    }

    func parseExpression() throws -> Expression { try parseExpression(minPrecedence: Precedence.or) }

    private func parseExpression(minPrecedence: Int) throws -> Expression {
        try nested {
            let savedHeight = height
            defer { height = savedHeight }
            var left = try parsePrefix()
            while let (precedence, op) = currentInfix(), precedence >= minPrecedence {
                try growHeight()
                left = try parseInfix(op, precedence: precedence, left: left)
            }
            return left
        }
    }

    private func currentInfix() -> (Int, Infix)? {
        let t = current
        switch t.kind {
        case .symbol:
            switch t.text {
            case "=": return (Precedence.comparison, .binary(.equal))
            case "<>", "!=": return (Precedence.comparison, .binary(.notEqual))
            case "<": return (Precedence.comparison, .binary(.less))
            case "<=": return (Precedence.comparison, .binary(.lessOrEqual))
            case ">": return (Precedence.comparison, .binary(.greater))
            case ">=": return (Precedence.comparison, .binary(.greaterOrEqual))
            case "+": return (Precedence.additive, .binary(.add))
            case "-": return (Precedence.additive, .binary(.subtract))
            case "||": return (Precedence.additive, .binary(.concat))
            case "*": return (Precedence.multiplicative, .binary(.multiply))
            case "/": return (Precedence.multiplicative, .binary(.divide))
            case "%": return (Precedence.multiplicative, .binary(.modulo))
            default: return nil
            }
        case .word:
            switch t.upper {
            case "OR": return (Precedence.or, .binary(.or))
            case "AND": return (Precedence.and, .binary(.and))
            case "IS": return (Precedence.comparison, .isTest)
            case "BETWEEN": return (Precedence.comparison, .between)
            case "IN": return (Precedence.comparison, .inList)
            case "LIKE": return (Precedence.comparison, .like)
            case "NOT":
                switch peek(1).kind == .word ? peek(1).upper : "" {
                case "BETWEEN": return (Precedence.comparison, .between)
                case "IN": return (Precedence.comparison, .inList)
                case "LIKE": return (Precedence.comparison, .like)
                default: return nil
                }
            default: return nil
            }
        default:
            return nil
        }
    }

    private func parseInfix(_ op: Infix, precedence: Int, left: Expression) throws -> Expression {
        let opToken = advance()
        let at = opToken.start
        switch op {
        case .binary(let binary):
            let right = try parseExpression(minPrecedence: precedence + 1)
            return Expression(.binary(binary, left, right), position: at)

        case .isTest:
            let negated = accept("NOT") != nil
            if accept("NULL") != nil || accept("UNKNOWN") != nil {
                return Expression(.isNull(left, negated: negated), position: at)
            }
            if accept("TRUE") != nil {
                return Expression(.isBoolean(left, value: true, negated: negated), position: at)
            }
            if accept("FALSE") != nil {
                return Expression(.isBoolean(left, value: false, negated: negated), position: at)
            }
            if accept("DISTINCT") != nil {
                try expect("FROM", "after IS\(negated ? " NOT" : "") DISTINCT")
                let right = try parseExpression(minPrecedence: Precedence.additive)
                return Expression(.isDistinctFrom(left, right, negated: negated), position: at)
            }
            throw expected(
                "NULL, TRUE, FALSE or DISTINCT FROM after IS\(negated ? " NOT" : "")",
                keywords: ["NULL", "TRUE", "FALSE", "DISTINCT", "NOT"])

        case .between:
            let negated = opToken.upper == "NOT"
            if negated { advance() }
            accept("ASYMMETRIC")
            if isWord("SYMMETRIC") {
                throw error("BETWEEN SYMMETRIC is not supported", at: current.start)
            }
            let low = try parseExpression(minPrecedence: Precedence.additive)
            try expect("AND", "in \(negated ? "NOT " : "")BETWEEN ... AND ... (opened at \(at))")
            let high = try parseExpression(minPrecedence: Precedence.additive)
            return Expression(.between(left, low: low, high: high, negated: negated), position: at)

        case .inList:
            let negated = opToken.upper == "NOT"
            if negated { advance() }
            let open = try expectSymbol(
                "(", "after \(negated ? "NOT " : "")IN", hint: "write x IN (1, 2, 3)")
            if startsQuery() || parenthesizedQueryAhead() {
                let q = try parseQuery()
                try expectClose(open, "the IN subquery")
                return Expression(.inSubquery(left, q, negated: negated), position: at)
            }
            if isSymbol(")") {
                throw expected("a value in the IN list")
            }
            var items: [Expression] = []
            repeat {
                items.append(try parseExpression())
            } while acceptSymbol(",") != nil
            try expectClose(open, "the IN list")
            return Expression(.inList(left, items, negated: negated), position: at)

        case .like:
            let negated = opToken.upper == "NOT"
            if negated { advance() }
            let pattern = try parseExpression(minPrecedence: Precedence.additive)
            var escape: Expression?
            if accept("ESCAPE") != nil {
                escape = try parseExpression(minPrecedence: Precedence.additive)
            }
            return Expression(
                .like(left, pattern: pattern, escape: escape, negated: negated), position: at)
        }
    }

    // MARK: Prefix and primary

    private func parsePrefix() throws -> Expression {
        let t = current
        if t.kind == .symbol && (t.text == "-" || t.text == "+") {
            advance()
            let next = current
            if t.text == "-", [.integer, .decimal, .float].contains(next.kind) {
                advance()
                return Expression(
                    .literal(try numericLiteral(next, negative: true, at: t.start)), position: t.start)
            }
            let operand = try parseExpression(minPrecedence: Precedence.unary)
            return Expression(.unary(t.text == "-" ? .negate : .plus, operand), position: t.start)
        }
        if t.kind == .word && t.upper == "NOT" {
            advance()
            let operand = try parseExpression(minPrecedence: Precedence.not)
            return Expression(.unary(.not, operand), position: t.start)
        }
        return try parsePrimary()
    }

    private func numericLiteral(
        _ t: Token, negative: Bool, at start: SourcePosition? = nil
    ) throws -> Expression.Literal {
        let text = negative ? "-" + t.text : t.text
        switch t.kind {
        case .integer:
            guard let v = Int64(text) else {
                throw error(
                    "integer literal \(text) is out of range for BIGINT", at: start ?? t.start,
                    hint: "write it as a decimal literal, e.g. \(text).0")
            }
            return .integer(v)
        case .decimal:
            return .decimal(text)
        default:
            guard let v = Double(text), v.isFinite else {
                throw error(
                    "floating-point literal \(text) is out of range for DOUBLE", at: start ?? t.start)
            }
            return .double(v)
        }
    }

    /// Niladic functions written without parentheses.
    static let niladicFunctions: Set<String> = [
        "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "LOCALTIMESTAMP",
    ]

    private func parsePrimary() throws -> Expression {
        let t = current
        switch t.kind {
        case .integer, .decimal, .float:
            advance()
            return Expression(.literal(try numericLiteral(t, negative: false)), position: t.start)
        case .string:
            advance()
            return Expression(.literal(.string(t.text)), position: t.start)
        case .quotedIdentifier:
            return try parseNameOrCall()
        case .symbol where t.text == "(":
            let open = advance()
            if startsQuery() || parenthesizedQueryAhead() {
                let q = try parseQuery()
                try expectClose(open, "the subquery")
                return Expression(.subquery(q), position: open.start)
            }
            let inner = try parseExpression()
            if isSymbol(",") {
                throw error(
                    "row values such as (a, b) are not supported", at: current.start,
                    hint: "expected ')' to close the parenthesis opened at \(open.start)")
            }
            try expectClose(open, "the parenthesis")
            return inner
        case .word:
            return try parseWordPrimary()
        default:
            throw expectedExpression()
        }
    }

    /// "expected an expression after 'AND'[, found ...]".
    private func expectedExpression() -> SQLSyntaxError {
        let after = previous.map { " after \(describe($0))" } ?? ""
        var hint: String?
        if let p = previous, p.kind == .symbol, p.text == "=", isSymbol("=") {
            hint = "SQL compares with a single '='"
        } else if isSymbol("*") {
            hint = "'*' is only allowed as a select item or in COUNT(*)"
        } else if isSymbol(")"), let p = previous, p.kind == .symbol, p.text == "," {
            hint = "remove the trailing comma"
        }
        return expected("an expression\(after)", hint: hint)
    }

    private func parseWordPrimary() throws -> Expression {
        let t = current
        switch t.upper {
        case "TRUE", "FALSE":
            advance()
            return Expression(.literal(.boolean(t.upper == "TRUE")), position: t.start)
        case "NULL":
            advance()
            return Expression(.literal(.null), position: t.start)
        case "CASE":
            return try parseCase()
        case "CAST", "TRY_CAST":
            return try parseCast()
        case "EXISTS":
            advance()
            let open = try expectSymbol("(", "after EXISTS")
            guard startsQuery() || parenthesizedQueryAhead() else {
                throw expected("a query after EXISTS (", keywords: ["SELECT"])
            }
            let q = try parseQuery()
            try expectClose(open, "the EXISTS subquery")
            return Expression(.exists(q), position: t.start)
        case "INTERVAL":
            return try parseInterval()
        case "TIMESTAMP", "DATE", "TIME":
            if peek(1).kind == .string {
                advance()
                let text = advance().text
                let literal: Expression.Literal =
                    t.upper == "TIMESTAMP" ? .timestamp(text) : t.upper == "DATE" ? .date(text) : .time(text)
                return Expression(.literal(literal), position: t.start)
            }
        default:
            break
        }
        if Self.niladicFunctions.contains(t.upper), !isSymbol("(", at: 1) {
            advance()
            let name = QualifiedName([Identifier(t.text, position: t.start)])
            return Expression(.call(.init(name: name, arguments: [])), position: t.start)
        }
        if Self.reserved.contains(t.upper),
            !(Self.callableReserved.contains(t.upper) && isSymbol("(", at: 1))
        {
            throw expectedExpression()
        }
        return try parseNameOrCall()
    }

    /// A column reference `a`, `t.a`, or a call `f(...)`, `db.f(...)`.
    private func parseNameOrCall() throws -> Expression {
        let first = current
        var parts = [Identifier(first.text, isQuoted: first.kind == .quotedIdentifier, position: first.start)]
        advance()
        while isSymbol(".") {
            if isSymbol("*", at: 1) {
                throw error(
                    "'\(QualifiedName(parts)).*' is only allowed as a select item", at: current.start)
            }
            advance()
            parts.append(try parseIdentifier("a name after '.'", allowReserved: true))
        }
        let name = QualifiedName(parts)
        guard isSymbol("(") else {
            return Expression(.column(name), position: first.start)
        }
        return Expression(.call(try parseCallArguments(name)), position: first.start)
    }

    private func parseCallArguments(_ name: QualifiedName) throws -> Expression.FunctionCall {
        let open = try expectSymbol("(")
        var call = Expression.FunctionCall(name: name, arguments: [])
        let upper = name.parts.count == 1 ? name.last.name.uppercased() : ""
        if isSymbol("*") && isSymbol(")", at: 1) {
            advance()
            advance()
            call.isStar = true
        } else if acceptSymbol(")") == nil {
            if accept("DISTINCT") != nil {
                call.isDistinct = true
            } else {
                accept("ALL")
            }
            func rejectSpecialSyntax() throws {
                if let keywords = Self.specialSyntax[upper], current.kind == .word,
                    keywords.contains(current.upper)
                {
                    throw error(
                        "the special syntax \(name)(... \(current.upper) ...) is not supported",
                        at: current.start,
                        hint: Self.specialSyntaxHint[upper])
                }
            }
            try rejectSpecialSyntax()
            repeat {
                call.arguments.append(try parseExpression())
                try rejectSpecialSyntax()
            } while acceptSymbol(",") != nil
            try expectClose(open, "the arguments of \(name)")
        }
        if isWord("FILTER") && isSymbol("(", at: 1) {
            advance()
            let filterOpen = advance()
            try expect("WHERE", "after FILTER (")
            call.filter = try parseExpression()
            try expectClose(filterOpen, "FILTER (WHERE ...")
        }
        if isWord("WITHIN") {
            throw error("WITHIN GROUP is not supported", at: current.start)
        }
        if accept("OVER") != nil {
            call.over = try parseWindowSpecification()
        }
        return call
    }

    /// Functions with keyword-separated arguments in standard SQL, and those keywords.
    static let specialSyntax: [String: Set<String>] = [
        "EXTRACT": ["FROM"], "SUBSTRING": ["FROM", "FOR"], "POSITION": ["IN"],
        "TRIM": ["FROM", "BOTH", "LEADING", "TRAILING"], "OVERLAY": ["PLACING"],
        "CEIL": ["TO"], "FLOOR": ["TO"],
    ]

    static let specialSyntaxHint: [String: String] = [
        "EXTRACT": "use a function instead, e.g. HOUR(ts), DAYOFMONTH(ts), YEAR(ts)",
        "SUBSTRING": "use SUBSTRING(s, start, length)",
        "POSITION": "use LOCATE(needle, haystack)",
        "TRIM": "use TRIM(s), LTRIM(s) or RTRIM(s)",
        "CEIL": "use a function like DATE_FORMAT or arithmetic on the timestamp",
        "FLOOR": "use a function like DATE_FORMAT or arithmetic on the timestamp",
    ]

    private func parseWindowSpecification() throws -> Expression.WindowSpecification {
        guard let open = acceptSymbol("(") else {
            if isIdentifierToken(current) {
                throw error(
                    "named windows (OVER \(current.text)) are not supported", at: current.start,
                    hint: "write the window specification inline: OVER (PARTITION BY ... ORDER BY ...)")
            }
            throw expected("'(' after OVER")
        }
        var spec = Expression.WindowSpecification(partitionBy: [], orderBy: [], frame: nil)
        if accept("PARTITION") != nil {
            try expect("BY", "after PARTITION")
            repeat {
                spec.partitionBy.append(try parseExpression())
            } while acceptSymbol(",") != nil
        }
        if accept("ORDER") != nil {
            try expect("BY", "after ORDER")
            spec.orderBy = try parseOrderByList()
        }
        if isWord("ROWS") || isWord("RANGE") {
            let units: Expression.WindowFrame.Units = advance().upper == "ROWS" ? .rows : .range
            if accept("BETWEEN") != nil {
                let start = try parseFrameBound()
                try expect("AND", "between the window frame bounds")
                let end = try parseFrameBound()
                spec.frame = .init(units: units, start: start, end: end)
            } else {
                spec.frame = .init(units: units, start: try parseFrameBound(), end: nil)
            }
        }
        try expectClose(
            open, "the window specification",
            itemHint: false)
        return spec
    }

    private func parseFrameBound() throws -> Expression.WindowFrame.Bound {
        if isWord("UNBOUNDED") {
            advance()
            if accept("PRECEDING") != nil { return .unboundedPreceding }
            try expect("FOLLOWING", "or PRECEDING after UNBOUNDED")
            return .unboundedFollowing
        }
        if isWord("CURRENT") && isWord("ROW", at: 1) {
            advance()
            advance()
            return .currentRow
        }
        let e = try parseExpression(minPrecedence: Precedence.additive)
        if accept("PRECEDING") != nil { return .preceding(e) }
        try expect("FOLLOWING", "or PRECEDING after the frame offset")
        return .following(e)
    }

    private func parseCase() throws -> Expression {
        let caseToken = try expect("CASE")
        var operand: Expression?
        if !isWord("WHEN") && !isWord("END") && !isWord("ELSE") {
            operand = try parseExpression()
        }
        var branches: [Expression.CaseExpression.Branch] = []
        while accept("WHEN") != nil {
            let condition = try parseExpression()
            try expect("THEN", "after the WHEN condition")
            let result = try parseExpression()
            branches.append(.init(condition: condition, result: result))
        }
        if branches.isEmpty {
            throw expected("WHEN in the CASE expression opened at \(caseToken.start)", keywords: ["WHEN"])
        }
        var elseResult: Expression?
        if accept("ELSE") != nil {
            elseResult = try parseExpression()
        }
        if accept("END") == nil {
            throw expected(
                "END to close the CASE expression opened at \(caseToken.start)",
                keywords: ["END", "WHEN", "ELSE"])
        }
        return Expression(
            .caseWhen(.init(operand: operand, branches: branches, elseResult: elseResult)),
            position: caseToken.start)
    }

    private func parseCast() throws -> Expression {
        let castToken = advance()
        let open = try expectSymbol("(", "after \(castToken.upper)")
        let value = try parseExpression()
        try expect("AS", "in \(castToken.upper)(value AS type)")
        let type = try parseType(for: castToken.upper)
        try expectClose(open, castToken.upper + "(", itemHint: false)
        return Expression(.cast(value, type, isTry: castToken.upper == "TRY_CAST"), position: castToken.start)
    }

    // MARK: INTERVAL

    private func parseIntervalUnit() throws -> Expression.IntervalUnit {
        let t = current
        if t.kind == .word {
            var name = t.upper
            if name.hasSuffix("S") && name.count > 3 { name.removeLast() }
            if let unit = Expression.IntervalUnit(rawValue: name) {
                advance()
                return unit
            }
            if ["YEAR", "MONTH", "WEEK", "QUARTER", "MICROSECOND", "NANOSECOND"].contains(name) {
                throw error(
                    "\(name) intervals are not supported", at: t.start,
                    hint: "use DAY, HOUR, MINUTE, SECOND or MILLISECOND")
            }
        }
        throw expected(
            "an interval unit (DAY, HOUR, MINUTE, SECOND or MILLISECOND)",
            keywords: ["DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "DAYS", "HOURS",
                       "MINUTES", "SECONDS", "MILLISECONDS"])
    }

    private func parseInterval() throws -> Expression {
        let intervalToken = try expect("INTERVAL")
        var sign: Int64 = 1
        if let s = acceptSymbol("-") ?? acceptSymbol("+") { sign = s.text == "-" ? -1 : 1 }
        let valueToken = current
        guard valueToken.kind == .string else {
            throw expected(
                "a quoted interval value after INTERVAL",
                hint: [.integer, .decimal].contains(valueToken.kind)
                    ? "interval values are quoted: INTERVAL '\(valueToken.text)' SECOND" : nil)
        }
        advance()
        let unit = try parseIntervalUnit()
        var endUnit: Expression.IntervalUnit?
        if accept("TO") != nil {
            endUnit = try parseIntervalUnit()
        }
        let ms = try intervalMilliseconds(valueToken, unit: unit, endUnit: endUnit)
        let (signed, overflow) = ms.multipliedReportingOverflow(by: sign)
        if overflow { throw error("interval value is out of range", at: valueToken.start) }
        return Expression(
            .literal(.interval(.init(text: valueToken.text, unit: unit, endUnit: endUnit, milliseconds: signed))),
            position: intervalToken.start)
    }

    /// Converts the quoted interval text to milliseconds.
    /// Single units: `'10'`, `'-5'`, `'1.5'` (fractions only for SECOND).
    /// Ranges: DAY TO HOUR `'d h'`, DAY TO MINUTE `'d h:m'`, DAY TO SECOND `'d h:m:s[.fff]'`,
    /// HOUR TO MINUTE `'h:m'`, HOUR TO SECOND `'h:m:s[.fff]'`, MINUTE TO SECOND `'m:s[.fff]'`.
    private func intervalMilliseconds(
        _ token: Token, unit: Expression.IntervalUnit, endUnit: Expression.IntervalUnit?
    ) throws -> Int64 {
        let order: [Expression.IntervalUnit] = [.day, .hour, .minute, .second]
        let fields: [Expression.IntervalUnit]
        var format: String
        if let endUnit {
            guard let a = order.firstIndex(of: unit), let b = order.firstIndex(of: endUnit), a < b else {
                throw error(
                    "invalid interval range \(unit.rawValue) TO \(endUnit.rawValue)", at: token.start,
                    hint: "valid ranges: DAY TO HOUR|MINUTE|SECOND, HOUR TO MINUTE|SECOND, MINUTE TO SECOND")
            }
            fields = Array(order[a...b])
        } else {
            fields = [unit]
        }
        let names: [Expression.IntervalUnit: String] = [.day: "d", .hour: "h", .minute: "m", .second: "s", .millisecond: "ms"]
        format = ""
        for (i, f) in fields.enumerated() {
            if i > 0 { format += f == .hour ? " " : ":" }
            format += names[f] ?? "?"
        }
        if fields.last == .second { format += "[.fff]" }
        let bad = error(
            "invalid interval value '\(token.text)' for \(unit.rawValue)\(endUnit.map { " TO " + $0.rawValue } ?? "")",
            at: token.start, hint: "expected the format '\(format)'")

        var chars = Array(token.text.trimmingSpaces)
        var negative = false
        if let c = chars.first, c == "-" || c == "+" {
            negative = c == "-"
            chars.removeFirst()
        }
        // Split into numeric fields with the separators the format requires.
        var values: [Int64] = []
        var fractionMs: Int64 = 0
        var i = 0
        func digits() -> String {
            var s = ""
            while i < chars.count, let a = chars[i].asciiValue, a >= 48 && a <= 57 {
                s.append(chars[i])
                i += 1
            }
            return s
        }
        for (k, field) in fields.enumerated() {
            if k > 0 {
                let separator: Character = field == .hour ? " " : ":"
                guard i < chars.count, chars[i] == separator else { throw bad }
                i += 1
            }
            let d = digits()
            guard !d.isEmpty, d.count <= 18, let v = Int64(d) else { throw bad }
            values.append(v)
        }
        if i < chars.count, chars[i] == ".", fields.last == .second {
            i += 1
            let f = digits()
            guard !f.isEmpty else { throw bad }
            let padded = Array((f + "000").prefix(3))
            if f.count > 3, f.dropFirst(3).contains(where: { $0 != "0" }) {
                throw error(
                    "interval value '\(token.text)' has sub-millisecond precision", at: token.start,
                    hint: "at most 3 fractional digits (milliseconds) are supported")
            }
            fractionMs = Int64(String(padded)) ?? 0
        }
        guard i == chars.count else { throw bad }
        // Trailing fields must be in range: hours < 24, minutes < 60, seconds < 60.
        for (k, field) in fields.enumerated() where k > 0 {
            let limit: Int64 = field == .hour ? 24 : 60
            if values[k] >= limit {
                throw error(
                    "interval field \(field.rawValue) value \(values[k]) is out of range (0-\(limit - 1))",
                    at: token.start, hint: "expected the format '\(format)'")
            }
        }
        var total: Int64 = 0
        for (k, field) in fields.enumerated() {
            let (product, o1) = values[k].multipliedReportingOverflow(by: field.milliseconds)
            let (sum, o2) = total.addingReportingOverflow(product)
            if o1 || o2 { throw error("interval value '\(token.text)' is out of range", at: token.start) }
            total = sum
        }
        let (withFraction, o3) = total.addingReportingOverflow(fractionMs)
        if o3 { throw error("interval value '\(token.text)' is out of range", at: token.start) }
        return negative ? -withFraction : withFraction
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
