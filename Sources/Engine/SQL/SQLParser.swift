/// Entry points of the SQL front end (Flink SQL dialect). Syntax only: no name resolution.
public enum SQLParser {
    /// Parses a script of statements separated by `;` (a trailing `;` is optional; empty
    /// statements are skipped). Never traps on malformed input: every problem is reported as a
    /// ``SQLSyntaxError`` naming the position and what was expected versus found.
    public static func parse(_ sql: String) throws(SQLSyntaxError) -> [Statement] {
        try run(sql) { try $0.parseScript() }
    }

    /// Parses exactly one statement (an optional trailing `;` is allowed).
    public static func parseStatement(_ sql: String) throws(SQLSyntaxError) -> Statement {
        try run(sql) { parser in
            let statements = try parser.parseScript()
            guard statements.count == 1 else {
                throw SQLSyntaxError(
                    message: statements.isEmpty
                        ? "expected a statement" : "expected a single statement, found \(statements.count)",
                    position: statements.count > 1 ? statements[1].position : .start)
            }
            return statements[0]
        }
    }

    /// Parses a standalone scalar expression, e.g. `price * 0.908 > 10`.
    public static func parseExpression(_ sql: String) throws(SQLSyntaxError) -> Expression {
        try run(sql) { parser in
            let e = try parser.parseExpression()
            try parser.expectEnd(what: "after the expression")
            return e
        }
    }

    private static func run<T>(_ sql: String, _ body: (Parser) throws -> T) throws(SQLSyntaxError) -> T {
        let parser = Parser(sql: sql)
        do {
            return try body(parser)
        } catch let error as SQLSyntaxError {
            throw error
        } catch {
            throw SQLSyntaxError(message: "internal parser error: \(error)", position: .start)
        }
    }
}

/// Recursive-descent parser over the token array. Internal; use `SQLParser`.
final class Parser {
    let tokens: [Token]
    let lexError: SQLSyntaxError?
    var index = 0
    /// Current recursion depth (parentheses, subqueries, unary operators, nested types).
    var nesting = 0
    /// Budget for the height of the tree being built (long operator chains, join chains).
    var height = 0

    static let maxNesting = 100
    static let maxHeight = 1000

    init(sql: String) {
        let result = Lexer.tokenize(sql)
        tokens = result.tokens
        lexError = result.error
    }

    // MARK: - Token access

    var current: Token { tokens[min(index, tokens.count - 1)] }

    func peek(_ k: Int) -> Token { tokens[min(max(index + k, 0), tokens.count - 1)] }

    var previous: Token? { index > 0 ? tokens[min(index - 1, tokens.count - 1)] : nil }

    var atEnd: Bool { current.kind == .endOfInput }

    @discardableResult
    func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func isWord(_ keyword: String, at k: Int = 0) -> Bool {
        let t = peek(k)
        return t.kind == .word && t.upper == keyword
    }

    func isSymbol(_ symbol: String, at k: Int = 0) -> Bool {
        let t = peek(k)
        return t.kind == .symbol && t.text == symbol
    }

    @discardableResult
    func accept(_ keyword: String) -> Token? {
        isWord(keyword) ? advance() : nil
    }

    @discardableResult
    func acceptSymbol(_ symbol: String) -> Token? {
        isSymbol(symbol) ? advance() : nil
    }

    /// Consumes a keyword or fails with "expected KEYWORD <context>, found ...".
    @discardableResult
    func expect(_ keyword: String, _ context: String = "", hint: String? = nil) throws -> Token {
        if let t = accept(keyword) { return t }
        throw expected(
            "\(keyword)\(context.isEmpty ? "" : " " + context)", hint: hint, keywords: [keyword])
    }

    @discardableResult
    func expectSymbol(_ symbol: String, _ context: String = "", hint: String? = nil) throws -> Token {
        if let t = acceptSymbol(symbol) { return t }
        throw expected("'\(symbol)'\(context.isEmpty ? "" : " " + context)", hint: hint)
    }

    /// Consumes `)` closing the parenthesis `open`, or fails with
    /// "expected ')' to close <what> opened at L:C, found ...".
    @discardableResult
    func expectClose(_ open: Token, _ what: String, itemHint: Bool = true) throws -> Token {
        if let t = acceptSymbol(")") { return t }
        var hint: String?
        if itemHint && (current.kind == .quotedIdentifier || isPlainIdentifier(current)
            || [.string, .integer, .decimal, .float].contains(current.kind))
        {
            hint = "is a comma missing before \(describe(current))?"
        }
        throw expected("')' to close \(what) opened at \(open.start)", hint: hint)
    }

    // MARK: - Errors

    /// Describes a token for messages: `'WITH'`, `string 'abc'`, `end of input`.
    func describe(_ t: Token) -> String {
        switch t.kind {
        case .endOfInput, .invalid: return "end of input"
        case .string:
            let raw = t.raw.count > 40 ? String(t.raw.prefix(37)) + "...'" : t.raw
            return "string \(raw)"
        case .quotedIdentifier:
            return t.raw.count > 40 ? String(t.raw.prefix(37)) + "..." : t.raw
        default:
            let raw = t.raw.count > 40 ? String(t.raw.prefix(37)) + "..." : t.raw
            return "'\(raw)'"
        }
    }

    func error(_ message: String, at position: SourcePosition, hint: String? = nil) -> SQLSyntaxError {
        SQLSyntaxError(message: message, position: position, hint: hint)
    }

    /// "expected <what>, found <current token>" at the current token (or just after the previous
    /// token at the end of input). If the lexer failed at this point, its error wins.
    /// `keywords` are candidates for a "did you mean ...?" hint when the found token is a word.
    func expected(_ what: String, hint: String? = nil, keywords: [String] = []) -> SQLSyntaxError {
        let t = current
        if t.kind == .invalid, let lexError { return lexError }
        if t.kind == .endOfInput {
            return error("expected \(what)", at: previous?.end ?? t.start, hint: hint)
        }
        var hint = hint
        if hint == nil, t.kind == .word, let suggestion = Self.suggest(t.upper, among: keywords) {
            hint = "did you mean \(suggestion)?"
        }
        return error("expected \(what), found \(describe(t))", at: t.start, hint: hint)
    }

    /// The closest keyword to `word` by edit distance (with transpositions), if close enough.
    static func suggest(_ word: String, among keywords: [String]) -> String? {
        let w = Array(word.uppercased())
        guard w.count >= 2, !keywords.contains(String(w)) else { return nil }
        var best: (String, Int)?
        for k in keywords {
            let d = editDistance(w, Array(k))
            let limit = k.count <= 3 ? 1 : 2
            if d <= limit, d < (best?.1 ?? Int.max) { best = (k, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    // MARK: - Depth guards

    /// Runs `body` one nesting level deeper, failing cleanly instead of overflowing the stack.
    func nested<T>(_ body: () throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > Self.maxNesting {
            throw error(
                "the query is nested too deeply (more than \(Self.maxNesting) levels)",
                at: current.start, hint: "simplify the query or split it into views")
        }
        return try body()
    }

    /// Charges one level of tree height for a left-deep chain element.
    func growHeight() throws {
        height += 1
        if height > Self.maxHeight {
            throw error(
                "the expression is too long or too deeply nested (more than \(Self.maxHeight) levels)",
                at: current.start, hint: "simplify the query or split it into views")
        }
    }

    // MARK: - Keywords and identifiers

    /// Words that cannot be used unquoted as column names, aliases or table names.
    static let reserved: Set<String> = [
        "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CREATE", "CROSS", "DESC",
        "DISTINCT", "ELSE", "END", "EXCEPT", "EXISTS", "FALSE", "FETCH", "FOR", "FROM", "FULL",
        "GROUP", "HAVING", "IN", "INNER", "INSERT", "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN",
        "LATERAL", "LEFT", "LIKE", "LIMIT", "MINUS", "NATURAL", "NOT", "NULL", "OFFSET", "ON",
        "OR", "ORDER", "OUTER", "OVER", "RIGHT", "SELECT", "TABLE", "THEN", "TRUE", "TRY_CAST",
        "UNION", "USING", "VALUES", "WHEN", "WHERE", "WINDOW", "WITH",
    ]

    /// Reserved words that may still be called as functions: `LEFT(s, 3)`.
    static let callableReserved: Set<String> = ["LEFT", "RIGHT", "INSERT"]

    /// Clause keywords that may follow a query item; used for "did you mean" hints.
    static let clauseKeywords = [
        "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "EXCEPT",
        "INTERSECT", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "ON", "USING", "AS", "BY",
        "AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "WITH", "SELECT",
    ]

    func isPlainIdentifier(_ t: Token) -> Bool {
        t.kind == .word && !Self.reserved.contains(t.upper)
    }

    func isIdentifierToken(_ t: Token) -> Bool {
        t.kind == .quotedIdentifier || isPlainIdentifier(t)
    }

    /// Parses an identifier (unquoted non-reserved word, or quoted). `what` names it in errors.
    func parseIdentifier(_ what: String, allowReserved: Bool = false) throws -> Identifier {
        let t = current
        if t.kind == .quotedIdentifier {
            advance()
            return Identifier(t.text, isQuoted: true, position: t.start)
        }
        if t.kind == .word {
            if !Self.reserved.contains(t.upper) || allowReserved {
                advance()
                return Identifier(t.text, isQuoted: false, position: t.start)
            }
            throw error(
                "expected \(what), found reserved word \(describe(t))", at: t.start,
                hint: "quote it to use it as a name: `\(t.text)`")
        }
        throw expected(what)
    }

    /// `a.b.c`
    func parseQualifiedName(_ what: String) throws -> QualifiedName {
        var parts = [try parseIdentifier(what)]
        while isSymbol("."), !isSymbol("*", at: 1) {
            advance()
            parts.append(try parseIdentifier("a name after '.'", allowReserved: true))
        }
        return QualifiedName(parts)
    }

    /// `(a, b, c)` — a parenthesized, non-empty identifier list.
    func parseIdentifierList(_ what: String) throws -> [Identifier] {
        let open = try expectSymbol("(", "to start \(what)")
        var names: [Identifier] = []
        repeat {
            names.append(try parseIdentifier("a column name"))
        } while acceptSymbol(",") != nil
        try expectClose(open, what)
        return names
    }

    /// Whether the current token begins a query (`SELECT`, `WITH`, `VALUES`).
    func startsQuery(at k: Int = 0) -> Bool {
        isWord("SELECT", at: k) || isWord("WITH", at: k) || isWord("VALUES", at: k)
    }

    /// Whether the tokens at the current position are `(`* followed by a query keyword.
    func parenthesizedQueryAhead() -> Bool {
        var k = 0
        while isSymbol("(", at: k) { k += 1 }
        return k > 0 && startsQuery(at: k)
    }

    /// Parses an unsigned integer literal token into Int64.
    func parseUnsignedInteger(_ what: String) throws -> Int64 {
        let t = current
        guard t.kind == .integer else { throw expected(what) }
        advance()
        guard let v = Int64(t.text) else {
            throw error("integer \(t.text) is too large (the maximum is \(Int64.max))", at: t.start)
        }
        return v
    }

    // MARK: - Script

    func parseScript() throws -> [Statement] {
        var statements: [Statement] = []
        while true {
            while acceptSymbol(";") != nil {}
            if atEnd { return statements }
            statements.append(try parseStatement())
            if acceptSymbol(";") != nil { continue }
            try expectEnd(what: "after the statement")
        }
    }

    /// Fails unless at the end of input (or at `;` when `allowSemicolon`).
    func expectEnd(what: String) throws {
        if atEnd { return }
        if current.kind == .invalid, let lexError { throw lexError }
        throw unexpectedAfterQuery(what: what)
    }

    /// The error for a stray token after a complete statement or expression, with hints for
    /// misspelled clause keywords (`FORM`), including one swallowed as an alias, and for
    /// missing commas.
    func unexpectedAfterQuery(what: String) -> SQLSyntaxError {
        let t = current
        let message = "unexpected \(describe(t)) \(what)"
        if t.kind == .word, let s = Self.suggest(t.upper, among: Self.clauseKeywords) {
            return error(message, at: t.start, hint: "did you mean \(s)?")
        }
        if let p = previous, p.kind == .word, !Self.reserved.contains(p.upper),
            let s = Self.suggest(p.upper, among: Self.clauseKeywords)
        {
            return error(
                message, at: t.start,
                hint: "did you mean \(s)? '\(p.text)' was read as an alias of the item before it")
        }
        if isIdentifierToken(t) || [.string, .integer, .decimal, .float].contains(t.kind),
            let p = previous, isIdentifierToken(p) || p.kind == .symbol && p.text == ")"
                || [.string, .integer, .decimal, .float].contains(p.kind)
        {
            return error(message, at: t.start, hint: "is a comma missing before \(describe(t))?")
        }
        if t.kind == .symbol && t.text == ")" {
            return error(message, at: t.start, hint: "this ')' has no matching '('")
        }
        return error(message, at: t.start)
    }

    static let statementKeywords = ["SELECT", "INSERT", "CREATE", "WITH", "VALUES"]

    func parseStatement() throws -> Statement {
        let t = current
        if startsQuery() || isSymbol("(") {
            return .query(try parseQuery())
        }
        if isWord("CREATE") { return try parseCreate() }
        if isWord("INSERT") { return .insert(try parseInsert()) }
        if t.kind == .word,
            ["DROP", "ALTER", "EXPLAIN", "SHOW", "USE", "SET", "RESET", "DESCRIBE", "DESC",
             "DELETE", "UPDATE", "LOAD", "UNLOAD", "EXECUTE", "BEGIN", "END"].contains(t.upper)
        {
            throw error(
                "\(t.upper) statements are not supported", at: t.start,
                hint: "supported statements: SELECT, VALUES, WITH, INSERT INTO, CREATE TABLE, CREATE VIEW")
        }
        throw expected(
            "a statement (SELECT, INSERT, CREATE, VALUES or WITH)",
            keywords: Self.statementKeywords)
    }
}
