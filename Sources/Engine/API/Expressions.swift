import Columnar

// MARK: - Expressions

/// A scalar expression over a stream's columns, built in Swift: `col("price") * 2 > 100`.
///
/// An `Expr` is the SQL syntax tree the parser would build for the same text, so the
/// binder type-checks and lowers it exactly as it does SQL (one set of type rules);
/// names are resolved against the stream's columns when an operator takes it.
public struct Expr: Sendable, CustomStringConvertible {
    var ast: Expression
    /// Why this expression cannot be used (a duration finer than the engine's
    /// milliseconds), reported by the operator that takes it: building an expression
    /// cannot throw, or the operators could not be used in conditions.
    var problem: String?

    init(_ kind: Expression.Kind, problem: String? = nil) {
        ast = Expression(kind)
        self.problem = problem
    }

    init(ast: Expression) { self.ast = ast }

    /// Parses an SQL expression, for what the builder does not spell:
    /// `Expr(sql: "price BETWEEN 10 AND 20 OR channel IN ('A', 'B')")`.
    public init(sql: String) throws {
        do {
            ast = try SQLParser.parseExpression(sql)
        } catch {
            var e = SpateError(.sql, error.message, path: "<expression>", line: error.position.line,
                               column: error.position.column, hint: error.hint)
            e.rendered = error.render(sql: sql, sourceName: "<expression>")
            throw e
        }
    }

    /// The expression as SQL text.
    public var description: String { ast.description }

    /// SQL NULL.
    public static let null = Expr(.literal(.null))

    /// A TIMESTAMP(3) constant: `Expr.timestamp("2024-01-02 03:04:05.678")`.
    public static func timestamp(_ text: String) -> Expr { Expr(.literal(.timestamp(text))) }

    /// An interval, to add to or subtract from a timestamp: `col("ts") + .interval(.seconds(5))`.
    public static func interval(_ duration: Duration) -> Expr {
        guard let ms = durationMillis(duration) else {
            return Expr(.literal(.interval(intervalAST(0))),
                        problem: "the interval \(duration) is not a whole number of milliseconds")
        }
        return Expr(.literal(.interval(intervalAST(ms))))
    }

    // MARK: Predicates and conversions

    public func isNull() -> Expr { Expr(.isNull(ast, negated: false), problem: problem) }
    public func isNotNull() -> Expr { Expr(.isNull(ast, negated: true), problem: problem) }

    /// `self BETWEEN low AND high` (both ends included).
    public func between(_ low: some ExprOperand, and high: some ExprOperand) -> Expr {
        let l = low.asExpr, h = high.asExpr
        return Expr(.between(ast, low: l.ast, high: h.ast, negated: false), problem: problem ?? l.problem ?? h.problem)
    }

    /// `self IN (values...)`.
    public func isIn(_ values: [any ExprOperand]) -> Expr {
        let list = values.map(\.asExpr)
        return Expr(.inList(ast, list.map(\.ast), negated: false), problem: list.reduce(problem) { $0 ?? $1.problem })
    }

    /// `CAST(self AS type)`.
    public func cast(to type: DataType) -> Expr {
        Expr(.cast(ast, typeName(type), isTry: false), problem: problem)
    }

    /// The expression as an output column called `name`: `(col("price") * 2).as("double_price")`.
    public func `as`(_ name: String) -> NamedExpr { NamedExpr(expr: self, name: name) }
}

/// A column by name: `col("price")`. Names match as SQL's unquoted names do (exact
/// spelling first, then ignoring case).
public func col(_ name: String) -> Expr {
    Expr(.column(QualifiedName([Identifier(name, isQuoted: needsQuotes(name))])))
}

/// A constant. Swift values of the literal types mix with expressions directly
/// (`col("price") > 100`, `col("channel") == "Google"`); `lit` makes an expression of
/// one where no expression is next to it.
public func lit(_ value: some ExprLiteral) -> Expr { value.asExpr }

/// An operand of the expression operators, `between` and `isIn`: an expression or a
/// constant.
public protocol ExprOperand {
    var asExpr: Expr { get }
}

/// The Swift types whose values are SQL constants: integers (BIGINT), doubles (DOUBLE),
/// strings (VARCHAR; a string is a column name only where an operator takes column
/// names, as `select` and `keyBy` do) and booleans.
public protocol ExprLiteral: ExprOperand {}

extension Expr: ExprOperand {
    public var asExpr: Expr { self }
}

extension Int: ExprLiteral {
    public var asExpr: Expr { Expr(.literal(.integer(Int64(self)))) }
}

extension Int64: ExprLiteral {
    public var asExpr: Expr { Expr(.literal(.integer(self))) }
}

extension Double: ExprLiteral {
    public var asExpr: Expr { doubleLiteral(self) }
}

extension String: ExprLiteral {
    public var asExpr: Expr { Expr(.literal(.string(self))) }
}

extension Bool: ExprLiteral {
    public var asExpr: Expr { Expr(.literal(.boolean(self))) }
}

/// A finite double as SQL writes it (`0.9`, as the parser reads `0.9`); infinities and
/// NaN, which SQL has no literal for, as `CAST('inf' AS DOUBLE)`, which the binder folds
/// to the same constant.
private func doubleLiteral(_ v: Double) -> Expr {
    guard v.isFinite else {
        let text = v.isNaN ? "nan" : v < 0 ? "-inf" : "inf"
        return Expr(.cast(Expression(.literal(.string(text))), TypeName("DOUBLE"), isTry: false))
    }
    let text = v.description
    return Expr(.literal(text.contains("e") ? .double(v) : .decimal(text)))
}

// MARK: - Operators

// Each operator takes two expressions, or an expression and a Swift constant of a
// literal type on either side. Expr deliberately conforms to no ExpressibleBy...Literal
// protocol: with those, every integer or string literal in a program that imports the
// module could be an Expr, and the type checker gives up on ordinary arithmetic such
// as `Int64(i * 7 % 5)` in a closure.

private func binary(_ op: Expression.BinaryOperator, _ l: Expr, _ r: Expr) -> Expr {
    Expr(.binary(op, l.ast, r.ast), problem: l.problem ?? r.problem)
}

public func + (l: Expr, r: Expr) -> Expr { binary(.add, l, r) }
public func + (l: Expr, r: some ExprLiteral) -> Expr { binary(.add, l, r.asExpr) }
public func + (l: some ExprLiteral, r: Expr) -> Expr { binary(.add, l.asExpr, r) }
public func - (l: Expr, r: Expr) -> Expr { binary(.subtract, l, r) }
public func - (l: Expr, r: some ExprLiteral) -> Expr { binary(.subtract, l, r.asExpr) }
public func - (l: some ExprLiteral, r: Expr) -> Expr { binary(.subtract, l.asExpr, r) }
public func * (l: Expr, r: Expr) -> Expr { binary(.multiply, l, r) }
public func * (l: Expr, r: some ExprLiteral) -> Expr { binary(.multiply, l, r.asExpr) }
public func * (l: some ExprLiteral, r: Expr) -> Expr { binary(.multiply, l.asExpr, r) }
public func / (l: Expr, r: Expr) -> Expr { binary(.divide, l, r) }
public func / (l: Expr, r: some ExprLiteral) -> Expr { binary(.divide, l, r.asExpr) }
public func / (l: some ExprLiteral, r: Expr) -> Expr { binary(.divide, l.asExpr, r) }
public func % (l: Expr, r: Expr) -> Expr { binary(.modulo, l, r) }
public func % (l: Expr, r: some ExprLiteral) -> Expr { binary(.modulo, l, r.asExpr) }
public func % (l: some ExprLiteral, r: Expr) -> Expr { binary(.modulo, l.asExpr, r) }
public func == (l: Expr, r: Expr) -> Expr { binary(.equal, l, r) }
public func == (l: Expr, r: some ExprLiteral) -> Expr { binary(.equal, l, r.asExpr) }
public func == (l: some ExprLiteral, r: Expr) -> Expr { binary(.equal, l.asExpr, r) }
public func != (l: Expr, r: Expr) -> Expr { binary(.notEqual, l, r) }
public func != (l: Expr, r: some ExprLiteral) -> Expr { binary(.notEqual, l, r.asExpr) }
public func != (l: some ExprLiteral, r: Expr) -> Expr { binary(.notEqual, l.asExpr, r) }
public func < (l: Expr, r: Expr) -> Expr { binary(.less, l, r) }
public func < (l: Expr, r: some ExprLiteral) -> Expr { binary(.less, l, r.asExpr) }
public func < (l: some ExprLiteral, r: Expr) -> Expr { binary(.less, l.asExpr, r) }
public func <= (l: Expr, r: Expr) -> Expr { binary(.lessOrEqual, l, r) }
public func <= (l: Expr, r: some ExprLiteral) -> Expr { binary(.lessOrEqual, l, r.asExpr) }
public func <= (l: some ExprLiteral, r: Expr) -> Expr { binary(.lessOrEqual, l.asExpr, r) }
public func > (l: Expr, r: Expr) -> Expr { binary(.greater, l, r) }
public func > (l: Expr, r: some ExprLiteral) -> Expr { binary(.greater, l, r.asExpr) }
public func > (l: some ExprLiteral, r: Expr) -> Expr { binary(.greater, l.asExpr, r) }
public func >= (l: Expr, r: Expr) -> Expr { binary(.greaterOrEqual, l, r) }
public func >= (l: Expr, r: some ExprLiteral) -> Expr { binary(.greaterOrEqual, l, r.asExpr) }
public func >= (l: some ExprLiteral, r: Expr) -> Expr { binary(.greaterOrEqual, l.asExpr, r) }
public func && (l: Expr, r: Expr) -> Expr { binary(.and, l, r) }
public func || (l: Expr, r: Expr) -> Expr { binary(.or, l, r) }

public prefix func ! (e: Expr) -> Expr { Expr(.unary(.not, e.ast), problem: e.problem) }

/// Negation; a numeric constant is negated in place, as the parser folds `-5`.
public prefix func - (e: Expr) -> Expr {
    switch e.ast.kind {
    case .literal(.integer(let v)) where v != .min: return Expr(.literal(.integer(-v)))
    case .literal(.decimal(let text)):
        return Expr(.literal(.decimal(text.hasPrefix("-") ? String(text.dropFirst()) : "-" + text)))
    case .literal(.double(let v)): return Expr(.literal(.double(-v)))
    default: return Expr(.unary(.negate, e.ast), problem: e.problem)
    }
}

// MARK: - Column lists

/// An expression with the name of the column it becomes.
public struct NamedExpr: Sendable {
    public var expr: Expr
    public var name: String
}

/// What `select` and `map` take: a column name (`"price"`), an expression (named as SQL
/// names an unaliased one: `price * 2`), or a named expression (`expr.as("name")`).
public protocol Selectable {
    /// The expression and, when given, its column name.
    var selectItem: (expr: Expr, name: String?) { get }
}

/// What an aggregate takes as its argument: a column name or an expression.
public protocol ColumnOrExpr: Selectable {
    var columnOrExpr: Expr { get }
}

extension ColumnOrExpr {
    public var selectItem: (expr: Expr, name: String?) { (columnOrExpr, nil) }
}

extension String: ColumnOrExpr {
    /// The column of this name.
    public var columnOrExpr: Expr { col(self) }
}

extension Expr: ColumnOrExpr {
    public var columnOrExpr: Expr { self }
}

extension NamedExpr: Selectable {
    public var selectItem: (expr: Expr, name: String?) { (expr, name) }
}

// MARK: - Helpers shared by the API

/// Whether an identifier must be quoted to read back as the same name (a reserved word).
func needsQuotes(_ name: String) -> Bool { Parser.reserved.contains(name.uppercased()) }

/// A duration in whole milliseconds (the engine's time unit), or nil.
func durationMillis(_ d: Duration) -> Int64? {
    let (seconds, atto) = d.components
    let perMilli: Int64 = 1_000_000_000_000_000
    guard atto % perMilli == 0 else { return nil }
    let (ms, o1) = seconds.multipliedReportingOverflow(by: 1000)
    let (total, o2) = ms.addingReportingOverflow(atto / perMilli)
    return o1 || o2 ? nil : total
}

/// An interval literal in the largest unit that divides it (`INTERVAL '10' SECOND`, as
/// a person writes it, so the query text reads naturally).
func intervalAST(_ ms: Int64) -> Expression.Interval {
    let units: [Expression.IntervalUnit] = [.day, .hour, .minute, .second]
    let unit = units.first { ms != 0 && ms % $0.milliseconds == 0 } ?? (ms == 0 ? .second : .millisecond)
    return Expression.Interval(text: String(ms / unit.milliseconds), unit: unit, endUnit: nil, milliseconds: ms)
}

/// The SQL type name of a column type (the binder maps it back).
func typeName(_ t: DataType, notNull: Bool = false) -> TypeName {
    switch t {
    case .int64: return TypeName("BIGINT", isNotNull: notNull)
    case .float64: return TypeName("DOUBLE", isNotNull: notNull)
    case .bool: return TypeName("BOOLEAN", isNotNull: notNull)
    case .string: return TypeName("VARCHAR", isNotNull: notNull)
    case .timestamp(let unit):
        let digits: Int
        switch unit {
        case .second: digits = 0
        case .millisecond: digits = 3
        case .microsecond: digits = 6
        case .nanosecond: digits = 9
        }
        return TypeName("TIMESTAMP", parameters: [digits], isNotNull: notNull)
    }
}
