/// A lexical token.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// An unquoted identifier or keyword; `text` is as written, `upper` its upper-case form.
        case word
        /// A backtick- or double-quoted identifier; `text` is the unescaped name.
        case quotedIdentifier
        /// A single-quoted string; `text` is the unescaped value.
        case string
        /// Digits only; `text` as written.
        case integer
        /// Digits with a decimal point and no exponent; `text` as written.
        case decimal
        /// A number with an exponent; `text` as written.
        case float
        /// An operator or punctuation; `text` is the symbol, e.g. `(`, `<=`, `||`.
        case symbol
        case endOfInput
        /// A lexical error; the parser reports `Lexer.Result.error` when it reaches this token.
        case invalid
    }

    var kind: Kind
    var text: String
    /// Upper-cased `text` for words; empty otherwise.
    var upper: String
    /// The token's source text (with quotes), for messages.
    var raw: String
    var start: SourcePosition
    /// Position just after the token.
    var end: SourcePosition
}

/// Splits SQL text into tokens, skipping whitespace and comments.
struct Lexer {
    struct Result {
        /// Always non-empty; ends with `.endOfInput`, or with `.invalid` when `error` is set.
        var tokens: [Token]
        var error: SQLSyntaxError?
    }

    private let chars: [Character]
    private var index = 0
    private var position = SourcePosition.start

    private init(_ sql: String) { chars = Array(sql) }

    static func tokenize(_ sql: String) -> Result {
        var lexer = Lexer(sql)
        var tokens: [Token] = []
        while true {
            do {
                let token = try lexer.next()
                tokens.append(token)
                if token.kind == .endOfInput { return Result(tokens: tokens, error: nil) }
            } catch let error as SQLSyntaxError {
                tokens.append(
                    Token(
                        kind: .invalid, text: "", upper: "", raw: "", start: error.position,
                        end: error.position))
                return Result(tokens: tokens, error: error)
            } catch {
                let p = lexer.position
                let e = SQLSyntaxError(message: "\(error)", position: p)
                tokens.append(Token(kind: .invalid, text: "", upper: "", raw: "", start: p, end: p))
                return Result(tokens: tokens, error: e)
            }
        }
    }

    // MARK: Character helpers

    private func peek(_ k: Int = 0) -> Character? {
        let i = index + k
        return i >= 0 && i < chars.count ? chars[i] : nil
    }

    private mutating func advance() {
        guard index < chars.count else { return }
        let ch = chars[index]
        index += 1
        position.offset += ch.utf8.count
        if Self.isNewline(ch) {
            position.line += 1
            position.column = 1
        } else {
            position.column += 1
        }
    }

    static func isNewline(_ ch: Character) -> Bool { ch == "\n" || ch == "\r\n" || ch == "\r" }

    private static func isDigit(_ ch: Character?) -> Bool {
        guard let ch, let a = ch.asciiValue else { return false }
        return a >= 48 && a <= 57
    }

    private static func isWordStart(_ ch: Character?) -> Bool {
        guard let ch else { return false }
        return ch == "_" || ch.isLetter
    }

    private static func isWordPart(_ ch: Character?) -> Bool {
        guard let ch else { return false }
        return ch == "_" || ch == "$" || ch.isLetter || isDigit(ch)
            || (ch.isNumber && !ch.isASCII)
    }

    private func text(from start: Int) -> String { String(chars[start..<index]) }

    // MARK: Tokens

    private mutating func next() throws -> Token {
        try skipWhitespaceAndComments()
        let start = position
        let startIndex = index
        guard let ch = peek() else {
            return Token(kind: .endOfInput, text: "", upper: "", raw: "", start: start, end: start)
        }
        func token(_ kind: Token.Kind, _ text: String, upper: String = "") -> Token {
            Token(kind: kind, text: text, upper: upper, raw: self.text(from: startIndex),
                start: start, end: position)
        }

        if Self.isWordStart(ch) {
            while Self.isWordPart(peek()) { advance() }
            let word = text(from: startIndex)
            return token(.word, word, upper: word.uppercased())
        }
        if Self.isDigit(ch) || (ch == "." && Self.isDigit(peek(1))) {
            return try number(start: start, startIndex: startIndex)
        }
        switch ch {
        case "'":
            let value = try quoted(
                by: "'", start: start,
                unterminated: "unterminated string literal",
                hint: "close the string with ' (write '' for a quote inside a string)")
            return token(.string, value)
        case "`", "\"":
            let value = try quoted(
                by: ch, start: start,
                unterminated: "unterminated quoted identifier",
                hint: "close the identifier with \(ch) (write \(ch)\(ch) for a \(ch) inside it)")
            if value.isEmpty {
                throw SQLSyntaxError(
                    message: "empty quoted identifier \(ch)\(ch)", position: start,
                    hint: ch == "\"" ? "string literals use single quotes: 'text'" : nil)
            }
            return token(.quotedIdentifier, value)
        default:
            break
        }

        // Operators and punctuation.
        let two: String? = peek(1).map { String(ch) + String($0) }
        if let two, ["<=", ">=", "<>", "!=", "||", "=>"].contains(two) {
            advance()
            advance()
            return token(.symbol, two)
        }
        if "(),;.*+-/%=<>[]".contains(ch) {
            advance()
            return token(.symbol, String(ch))
        }
        let hint: String? =
            switch ch {
            case "|": "use || for string concatenation and OR for logical or"
            case "&": "use AND for logical and"
            case "!": "use NOT for negation and <> (or !=) for inequality"
            case "?": "query parameters are not supported"
            case "{", "}": nil
            default: nil
            }
        let shown = ch.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control }
            ? ch.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
                .joined(separator: " ")
            : "'\(ch)'"
        throw SQLSyntaxError(message: "unexpected character \(shown)", position: start, hint: hint)
    }

    private mutating func skipWhitespaceAndComments() throws {
        while let ch = peek() {
            if ch.isWhitespace {
                advance()
            } else if ch == "-" && peek(1) == "-" {
                while let c = peek(), !Self.isNewline(c) { advance() }
            } else if ch == "/" && peek(1) == "*" {
                let start = position
                advance()
                advance()
                while true {
                    guard let c = peek() else {
                        throw SQLSyntaxError(
                            message: "unterminated block comment", position: start,
                            hint: "close the comment with */")
                    }
                    if c == "*" && peek(1) == "/" {
                        advance()
                        advance()
                        break
                    }
                    advance()
                }
            } else {
                return
            }
        }
    }

    /// Reads a quoted string or identifier starting at the opening quote; doubled quotes escape.
    private mutating func quoted(
        by quote: Character, start: SourcePosition, unterminated: String, hint: String
    ) throws -> String {
        advance()  // opening quote
        var value = ""
        while true {
            guard let c = peek() else {
                throw SQLSyntaxError(message: unterminated, position: start, hint: hint)
            }
            advance()
            if c == quote {
                if peek() == quote {
                    value.append(quote)
                    advance()
                } else {
                    return value
                }
            } else {
                value.append(c)
            }
        }
    }

    private mutating func number(start: SourcePosition, startIndex: Int) throws -> Token {
        var kind = Token.Kind.integer
        while Self.isDigit(peek()) { advance() }
        if peek() == ".", !Self.isWordStart(peek(1)) || peek(1) == "e" || peek(1) == "E" {
            kind = .decimal
            advance()
            while Self.isDigit(peek()) { advance() }
        }
        if peek() == "e" || peek() == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if Self.isDigit(peek(signed ? 2 : 1)) {
                kind = .float
                advance()
                if signed { advance() }
                while Self.isDigit(peek()) { advance() }
            } else {
                let soFar = text(from: startIndex)
                throw SQLSyntaxError(
                    message: "invalid number '\(soFar)\(peek().map { String($0) } ?? "")': "
                        + "missing digits in the exponent",
                    position: start, hint: "write exponents like 1e3 or 2.5E-2")
            }
        }
        if Self.isWordPart(peek()) || peek() == "." {
            let soFar = text(from: startIndex)
            var bad = soFar
            var j = index
            while j < chars.count, Self.isWordPart(chars[j]) || chars[j] == "." {
                bad.append(chars[j])
                j += 1
            }
            throw SQLSyntaxError(
                message: "invalid number '\(bad)'", position: start,
                hint: "identifiers cannot start with a digit; quote them with backticks: `\(bad)`")
        }
        let text = text(from: startIndex)
        return Token(kind: kind, text: text, upper: "", raw: text, start: start, end: position)
    }
}
