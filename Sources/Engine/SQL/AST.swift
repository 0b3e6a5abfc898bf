// The syntax tree produced by `SQLParser`. Syntax only: names are not resolved and types are
// not checked; the binder does that.
//
// Conventions used throughout:
// - Every node has a `position` (`SourcePosition`) for diagnostics. For most nodes it is the
//   start of the node's first token; for operators (`a + b`, `a IS NULL`, `a BETWEEN ...`,
//   `a IN (...)`, `a LIKE b`) it is the operator itself (like clang), and for joins the JOIN
//   keyword.
// - Equality and hashing are structural and IGNORE positions, so the binder can match
//   `a + 1` in the SELECT list against `a + 1` in GROUP BY directly.
// - Identifiers keep their case as written; quoted identifiers are marked (`isQuoted`).
// - Keywords are matched case-insensitively and never appear in the tree as text, except where
//   noted (type names, interval units) in canonical upper case.

/// Stores a value that does not take part in `==` or `hash(into:)` of the enclosing type.
/// Used for `position` fields so that AST equality is structural.
@propertyWrapper
public struct IgnoredInEquality<Value: Sendable>: Sendable, Hashable {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
    public static func == (lhs: Self, rhs: Self) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

// MARK: - Names

/// A single (possibly quoted) identifier.
public struct Identifier: Sendable, Hashable, CustomStringConvertible {
    /// The name as written, with quotes removed and doubled quote characters unescaped.
    public var name: String
    /// Whether it was written in backticks or double quotes.
    public var isQuoted: Bool
    @IgnoredInEquality public var position: SourcePosition

    public init(_ name: String, isQuoted: Bool = false, position: SourcePosition = .start) {
        self.name = name
        self.isQuoted = isQuoted
        self.position = position
    }

    /// The name as SQL: backtick-quoted when `isQuoted` (or when it is not word-shaped).
    /// Set `isQuoted` when building identifiers whose names are reserved words.
    public var description: String { SQLFormatter.identifier(self) }
}

/// A dotted name: `t`, `db.t`, `catalog.db.t`, `t.col`, `col.field`.
/// Which part is a catalog, table, column or nested field is decided by the binder.
public struct QualifiedName: Sendable, Hashable, CustomStringConvertible {
    /// At least one part.
    public var parts: [Identifier]
    @IgnoredInEquality public var position: SourcePosition

    public init(_ parts: [Identifier], position: SourcePosition? = nil) {
        self.parts = parts
        self.position = position ?? parts.first?.position ?? .start
    }

    /// The last part (the object or column name itself).
    public var last: Identifier { parts[parts.count - 1] }

    public var description: String { parts.map(\.description).joined(separator: ".") }
}

// MARK: - Statements

/// One SQL statement. A script is a list of them, separated by `;`.
public enum Statement: Sendable, Hashable {
    /// `CREATE [TEMPORARY] TABLE ...`
    case createTable(CreateTableStatement)
    /// `CREATE [TEMPORARY] VIEW ...`
    case createView(CreateViewStatement)
    /// `INSERT INTO|OVERWRITE ...`
    case insert(InsertStatement)
    /// A query: `SELECT ...`, `VALUES ...`, `WITH ... SELECT ...`, set operations.
    case query(Query)

    /// Position of the statement's first token.
    public var position: SourcePosition {
        switch self {
        case .createTable(let s): s.position
        case .createView(let s): s.position
        case .insert(let s): s.position
        case .query(let q): q.position
        }
    }
}

/// `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name ( columns, [WATERMARK ...], [PRIMARY KEY ...] )
/// [COMMENT '...'] [PARTITIONED BY (cols)] [WITH ('k' = 'v', ...)]`
public struct CreateTableStatement: Sendable, Hashable {
    public var name: QualifiedName
    public var isTemporary: Bool
    public var ifNotExists: Bool
    /// Columns in declaration order (physical, computed and metadata columns).
    public var columns: [Column]
    /// `WATERMARK FOR col AS expr` (at most one).
    public var watermark: Watermark?
    /// Table-level `[CONSTRAINT name] PRIMARY KEY (cols) [NOT] ENFORCED`, or a column-level
    /// `col TYPE PRIMARY KEY NOT ENFORCED` (normalized to the same shape). At most one.
    public var primaryKey: PrimaryKey?
    /// `COMMENT '...'` after the column list.
    public var comment: String?
    /// `PARTITIONED BY (a, b)`.
    public var partitionedBy: [Identifier]
    /// `WITH (...)` options in written order (duplicates are kept; the binder rejects them).
    public var options: [Option]
    @IgnoredInEquality public var position: SourcePosition

    /// A column definition.
    public struct Column: Sendable, Hashable {
        public var name: Identifier
        public var kind: Kind
        /// `COMMENT '...'` on the column.
        public var comment: String?
        @IgnoredInEquality public var position: SourcePosition

        public enum Kind: Sendable, Hashable {
            /// `name TYPE [NOT NULL]` (nullability is part of `TypeName`).
            case physical(TypeName)
            /// `name AS expr` — a computed column.
            case computed(Expression)
            /// `name TYPE METADATA [FROM 'key'] [VIRTUAL]` — a connector metadata column.
            case metadata(TypeName, key: String?, isVirtual: Bool)
        }
    }

    /// `WATERMARK FOR column AS expression`.
    public struct Watermark: Sendable, Hashable {
        /// The rowtime column (a dotted name for nested fields).
        public var column: QualifiedName
        /// The watermark strategy expression, e.g. `ts - INTERVAL '5' SECOND`.
        public var expression: Expression
        @IgnoredInEquality public var position: SourcePosition
    }

    /// `[CONSTRAINT name] PRIMARY KEY (columns) [NOT] ENFORCED`.
    public struct PrimaryKey: Sendable, Hashable {
        public var constraintName: Identifier?
        public var columns: [Identifier]
        /// False for `NOT ENFORCED`; true when `ENFORCED` is written or nothing is
        /// (Flink only accepts NOT ENFORCED; the binder rejects the rest).
        public var isEnforced: Bool
        @IgnoredInEquality public var position: SourcePosition
    }

    /// One `'key' = 'value'` entry of `WITH (...)`.
    public struct Option: Sendable, Hashable {
        public var key: String
        public var value: String
        /// Position of the key.
        @IgnoredInEquality public var position: SourcePosition
    }
}

/// `CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(col, ...)] AS query`.
public struct CreateViewStatement: Sendable, Hashable {
    public var name: QualifiedName
    public var isTemporary: Bool
    public var ifNotExists: Bool
    /// Optional column names; empty when not written.
    public var columns: [Identifier]
    public var query: Query
    @IgnoredInEquality public var position: SourcePosition
}

/// `INSERT INTO|OVERWRITE name [(col, ...)] query`.
public struct InsertStatement: Sendable, Hashable {
    public var target: QualifiedName
    /// Target columns; empty when not written.
    public var columns: [Identifier]
    public var query: Query
    /// `INSERT OVERWRITE` rather than `INSERT INTO`.
    public var isOverwrite: Bool
    @IgnoredInEquality public var position: SourcePosition
}

// MARK: - Queries

/// A complete query: optional `WITH`, a body, and optional `ORDER BY` / `LIMIT` / `OFFSET`.
public struct Query: Sendable, Hashable {
    /// `WITH name [(cols)] AS (query), ...`; empty when absent.
    public var with: [CommonTableExpression]
    public var body: QueryBody
    /// `ORDER BY ...`; empty when absent.
    public var orderBy: [OrderByItem]
    /// `LIMIT n` or `FETCH FIRST n ROWS ONLY`.
    public var limit: Int64?
    /// `OFFSET n [ROWS]`.
    public var offset: Int64?
    @IgnoredInEquality public var position: SourcePosition

    /// `name [(col, ...)] AS (query)` in a WITH clause.
    public struct CommonTableExpression: Sendable, Hashable {
        public var name: Identifier
        public var columns: [Identifier]
        public var query: Query
        @IgnoredInEquality public var position: SourcePosition
    }
}

/// The body of a query.
public indirect enum QueryBody: Sendable, Hashable {
    /// `SELECT ...`
    case select(Select)
    /// `VALUES (a, b), (c, d)` — each row is a list of expressions.
    case values([[Expression]], position: SourcePosition)
    /// `left UNION [ALL] right`, `INTERSECT`, `EXCEPT` (`MINUS` is parsed as EXCEPT).
    case setOperation(SetOperation)
    /// A parenthesized query, e.g. `(SELECT ... ORDER BY x LIMIT 3) UNION ALL ...`.
    case parenthesized(Query)

    public var position: SourcePosition {
        switch self {
        case .select(let s): s.position
        case .values(_, let p): p
        case .setOperation(let s): s.position
        case .parenthesized(let q): q.position
        }
    }

    public static func == (lhs: QueryBody, rhs: QueryBody) -> Bool {
        switch (lhs, rhs) {
        case (.select(let a), .select(let b)): a == b
        case (.values(let a, _), .values(let b, _)): a == b
        case (.setOperation(let a), .setOperation(let b)): a == b
        case (.parenthesized(let a), .parenthesized(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .select(let s): hasher.combine(0); hasher.combine(s)
        case .values(let rows, _): hasher.combine(1); hasher.combine(rows)
        case .setOperation(let s): hasher.combine(2); hasher.combine(s)
        case .parenthesized(let q): hasher.combine(3); hasher.combine(q)
        }
    }
}

/// `left op [ALL|DISTINCT] right`.
public struct SetOperation: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable {
        case union = "UNION", intersect = "INTERSECT", except = "EXCEPT"
    }
    public var op: Operator
    /// True for `ALL`; false for `DISTINCT` or nothing.
    public var all: Bool
    public var left: QueryBody
    public var right: QueryBody
    /// Position of the operator keyword.
    @IgnoredInEquality public var position: SourcePosition
}

/// `SELECT [DISTINCT] items [FROM ...] [WHERE ...] [GROUP BY ...] [HAVING ...]`.
public struct Select: Sendable, Hashable {
    public var isDistinct: Bool
    public var items: [SelectItem]
    /// Comma-separated FROM entries (each may be a join tree); empty when there is no FROM.
    /// Several entries mean an implicit cross join (`FROM a, b WHERE a.x = b.x`).
    public var from: [TableReference]
    public var whereClause: Expression?
    /// Empty when absent.
    public var groupBy: [Expression]
    public var having: Expression?
    /// Position of `SELECT`.
    @IgnoredInEquality public var position: SourcePosition
}

/// One item of a SELECT list.
public enum SelectItem: Sendable, Hashable {
    /// `*` (qualifier nil) or `t.*` / `db.t.*`.
    case wildcard(qualifier: QualifiedName?, position: SourcePosition)
    /// `expr [[AS] alias]`.
    case expression(Expression, alias: Identifier?)

    public var position: SourcePosition {
        switch self {
        case .wildcard(_, let p): p
        case .expression(let e, _): e.position
        }
    }

    public static func == (lhs: SelectItem, rhs: SelectItem) -> Bool {
        switch (lhs, rhs) {
        case (.wildcard(let a, _), .wildcard(let b, _)): a == b
        case (.expression(let a, let x), .expression(let b, let y)): a == b && x == y
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .wildcard(let q, _): hasher.combine(0); hasher.combine(q)
        case .expression(let e, let a): hasher.combine(1); hasher.combine(e); hasher.combine(a)
        }
    }
}

/// `expr [ASC|DESC] [NULLS FIRST|LAST]` (ORDER BY, OVER).
public struct OrderByItem: Sendable, Hashable {
    public var expression: Expression
    /// False for `DESC`.
    public var ascending: Bool
    /// `NULLS FIRST` → true, `NULLS LAST` → false, not written → nil.
    public var nullsFirst: Bool?
}

/// `AS alias [(col, ...)]` after a FROM entry.
public struct TableAlias: Sendable, Hashable {
    public var name: Identifier
    /// Column renames; empty when not written.
    public var columns: [Identifier]
}

/// An entry of a FROM clause.
public indirect enum TableReference: Sendable, Hashable {
    /// A table or view by name.
    case table(NamedTable)
    /// `(query) [AS] alias`.
    case subquery(Subquery)
    /// A table-valued function, e.g. a window TVF: `TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), ...))`.
    case function(TableFunction)
    /// `left [INNER|LEFT|RIGHT|FULL|CROSS] JOIN right [ON e | USING (cols)]`.
    case join(Join)

    public var position: SourcePosition {
        switch self {
        case .table(let t): t.position
        case .subquery(let s): s.position
        case .function(let f): f.position
        case .join(let j): j.position
        }
    }

    /// `name [FOR SYSTEM_TIME AS OF expr] [[AS] alias]`.
    public struct NamedTable: Sendable, Hashable {
        public var name: QualifiedName
        /// `FOR SYSTEM_TIME AS OF expr` (temporal / lookup join).
        public var systemTimeAsOf: Expression?
        public var alias: TableAlias?
        @IgnoredInEquality public var position: SourcePosition
    }

    /// `(query) [AS] alias`.
    public struct Subquery: Sendable, Hashable {
        public var query: Query
        public var alias: TableAlias?
        /// Position of the opening parenthesis.
        @IgnoredInEquality public var position: SourcePosition
    }

    /// `TABLE(name(arg, ...)) [[AS] alias]`.
    public struct TableFunction: Sendable, Hashable {
        /// The function name, e.g. `TUMBLE`, `HOP`, `CUMULATE`, `SESSION` (as written).
        public var name: QualifiedName
        public var arguments: [Argument]
        public var alias: TableAlias?
        /// Position of the `TABLE` keyword.
        @IgnoredInEquality public var position: SourcePosition

        /// One argument, positional or named (`DATA => TABLE t`).
        public struct Argument: Sendable, Hashable {
            /// The parameter name for `name => value`; nil for positional arguments.
            public var name: Identifier?
            public var value: Value
            @IgnoredInEquality public var position: SourcePosition

            public enum Value: Sendable, Hashable {
                /// `TABLE name [PARTITION BY col | PARTITION BY (col, ...)]`.
                case table(QualifiedName, partitionBy: [Expression])
                /// `DESCRIPTOR(col, ...)`.
                case descriptor([Identifier])
                /// Any scalar expression, e.g. `INTERVAL '10' SECOND`.
                case expression(Expression)
            }
        }
    }

    /// A join of two FROM entries.
    public struct Join: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case inner = "INNER", left = "LEFT", right = "RIGHT", full = "FULL", cross = "CROSS"
        }
        public enum Condition: Sendable, Hashable {
            case on(Expression)
            case using([Identifier])
        }
        public var kind: Kind
        public var left: TableReference
        public var right: TableReference
        /// Nil only for `CROSS JOIN`.
        public var condition: Condition?
        /// Position of the first join keyword (`JOIN`, `LEFT`, `INNER`, ...).
        @IgnoredInEquality public var position: SourcePosition
    }
}

// MARK: - Types

/// A data type as written, e.g. `BIGINT`, `VARCHAR(10)`, `DECIMAL(10, 2)`, `TIMESTAMP(3)`,
/// `TIMESTAMP_LTZ(3)`, `ARRAY<INT>`, `ROW<a INT, b STRING>`. Not validated: the binder decides
/// which names and parameters are supported.
public struct TypeName: Sendable, Hashable, CustomStringConvertible {
    /// Upper-case name; multi-word names joined by one space: `DOUBLE PRECISION`,
    /// `TIMESTAMP WITH LOCAL TIME ZONE`, `TIMESTAMP WITH TIME ZONE`, `TIME WITH TIME ZONE`.
    /// (`TIMESTAMP WITHOUT TIME ZONE` is normalized to `TIMESTAMP`, likewise TIME.)
    public var name: String
    /// Numeric parameters in parentheses: `VARCHAR(10)` → [10], `DECIMAL(10, 2)` → [10, 2],
    /// `TIMESTAMP(3) WITH LOCAL TIME ZONE` → [3]. Empty when none.
    public var parameters: [Int]
    /// Element types in angle brackets: `ARRAY<INT>` → [INT], `MAP<STRING, INT>` → [STRING, INT].
    public var typeArguments: [TypeName]
    /// Fields of `ROW<name TYPE, ...>` / `ROW(name TYPE, ...)`.
    public var fields: [Field]
    /// `NOT NULL` written after the type.
    public var isNotNull: Bool
    @IgnoredInEquality public var position: SourcePosition

    public init(
        _ name: String, parameters: [Int] = [], typeArguments: [TypeName] = [],
        fields: [Field] = [], isNotNull: Bool = false, position: SourcePosition = .start
    ) {
        self.name = name
        self.parameters = parameters
        self.typeArguments = typeArguments
        self.fields = fields
        self.isNotNull = isNotNull
        self.position = position
    }

    /// A field of a ROW type.
    public struct Field: Sendable, Hashable {
        public var name: Identifier
        public var type: TypeName
    }

    /// SQL text for the type, e.g. `DECIMAL(10, 2) NOT NULL`.
    public var description: String { SQLFormatter.type(self) }
}

// MARK: - Expressions

/// A scalar expression. `kind` holds the shape; `position` is for diagnostics (ignored by `==`).
public struct Expression: Sendable, Hashable, CustomStringConvertible {
    public var kind: Kind
    @IgnoredInEquality public var position: SourcePosition

    public init(_ kind: Kind, position: SourcePosition = .start) {
        self.kind = kind
        self.position = position
    }

    /// SQL text for the expression (fully parenthesized where precedence requires), e.g. for
    /// error messages such as "'a + 1' must appear in GROUP BY".
    public var description: String { SQLFormatter.expression(self) }

    public indirect enum Kind: Sendable, Hashable {
        /// A literal constant.
        case literal(Literal)
        /// A column reference: `a`, `t.a`, `db.t.a`, or a nested field `col.field`.
        case column(QualifiedName)
        /// `-x`, `+x`, `NOT x`. (A minus sign directly before a numeric literal is folded into
        /// the literal: `-5` is `.literal(.integer(-5))`.)
        case unary(UnaryOperator, Expression)
        /// `left op right`.
        case binary(BinaryOperator, Expression, Expression)
        /// `e IS [NOT] NULL` (also `IS [NOT] UNKNOWN`).
        case isNull(Expression, negated: Bool)
        /// `e IS [NOT] TRUE` / `e IS [NOT] FALSE`.
        case isBoolean(Expression, value: Bool, negated: Bool)
        /// `a IS [NOT] DISTINCT FROM b`.
        case isDistinctFrom(Expression, Expression, negated: Bool)
        /// `e [NOT] BETWEEN low AND high`.
        case between(Expression, low: Expression, high: Expression, negated: Bool)
        /// `e [NOT] IN (a, b, ...)`.
        case inList(Expression, [Expression], negated: Bool)
        /// `e [NOT] IN (SELECT ...)`.
        case inSubquery(Expression, Query, negated: Bool)
        /// `e [NOT] LIKE pattern [ESCAPE esc]`.
        case like(Expression, pattern: Expression, escape: Expression?, negated: Bool)
        /// A function call, possibly an aggregate with FILTER or a window function with OVER.
        case call(FunctionCall)
        /// `CAST(e AS type)`; `TRY_CAST(...)` when `isTry`.
        case cast(Expression, TypeName, isTry: Bool)
        /// `CASE [operand] WHEN ... THEN ... [ELSE ...] END`.
        case caseWhen(CaseExpression)
        /// A scalar subquery `(SELECT ...)`.
        case subquery(Query)
        /// `EXISTS (SELECT ...)`.
        case exists(Query)
    }

    public enum UnaryOperator: String, Sendable, Hashable {
        case negate = "-", plus = "+", not = "NOT"
    }

    public enum BinaryOperator: String, Sendable, Hashable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
        /// `||`
        case concat = "||"
        case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<="
        case greater = ">", greaterOrEqual = ">="
        case and = "AND", or = "OR"
    }

    /// A literal constant.
    public enum Literal: Sendable, Hashable {
        /// An integer literal that fits in Int64, e.g. `42`, `-7`.
        case integer(Int64)
        /// An exact decimal literal, as written (sign included), e.g. `0.908`, `-1.50`, `.5`, `3.`.
        /// (Flink types these as DECIMAL.)
        case decimal(String)
        /// An approximate numeric literal with an exponent, e.g. `1e3`, `2.5E-2` (DOUBLE).
        case double(Double)
        /// `'text'` with `''` unescaped.
        case string(String)
        case boolean(Bool)
        case null
        /// `INTERVAL '10' SECOND`, `INTERVAL '1:30' MINUTE TO SECOND`.
        case interval(Interval)
        /// `TIMESTAMP '2020-01-01 00:00:00'` — the text is not validated here.
        case timestamp(String)
        /// `DATE '2020-01-01'` — the text is not validated here.
        case date(String)
        /// `TIME '12:00:00'` — the text is not validated here.
        case time(String)
    }

    /// A day-time interval literal.
    public struct Interval: Sendable, Hashable {
        /// The quoted text as written, e.g. `10`, `-5`, `1:30`, `1.5`.
        public var text: String
        /// The (leading) unit, e.g. SECOND in `INTERVAL '10' SECOND`, MINUTE in `MINUTE TO SECOND`.
        public var unit: IntervalUnit
        /// The trailing unit of a range such as `MINUTE TO SECOND`; nil for a single unit.
        public var endUnit: IntervalUnit?
        /// The signed value in milliseconds.
        public var milliseconds: Int64
    }

    /// Units of day-time intervals (singular and plural spellings are accepted).
    public enum IntervalUnit: String, Sendable, Hashable, CaseIterable {
        case day = "DAY", hour = "HOUR", minute = "MINUTE", second = "SECOND"
        case millisecond = "MILLISECOND"

        /// Milliseconds in one unit.
        public var milliseconds: Int64 {
            switch self {
            case .day: 86_400_000
            case .hour: 3_600_000
            case .minute: 60_000
            case .second: 1_000
            case .millisecond: 1
            }
        }
    }

    /// `name([DISTINCT|ALL] args) [FILTER (WHERE cond)] [OVER (...)]`, or `COUNT(*)`.
    /// Niladic functions written without parentheses (`CURRENT_TIMESTAMP`, `LOCALTIMESTAMP`,
    /// `CURRENT_DATE`, `CURRENT_TIME`, `LOCALTIME`) are calls with no arguments.
    public struct FunctionCall: Sendable, Hashable {
        /// The name as written (case preserved; resolve case-insensitively).
        public var name: QualifiedName
        public var arguments: [Expression]
        /// `f(DISTINCT x)`.
        public var isDistinct: Bool
        /// `COUNT(*)` (then `arguments` is empty).
        public var isStar: Bool
        /// `FILTER (WHERE cond)`.
        public var filter: Expression?
        /// `OVER (...)`.
        public var over: WindowSpecification?

        public init(
            name: QualifiedName, arguments: [Expression], isDistinct: Bool = false,
            isStar: Bool = false, filter: Expression? = nil, over: WindowSpecification? = nil
        ) {
            self.name = name
            self.arguments = arguments
            self.isDistinct = isDistinct
            self.isStar = isStar
            self.filter = filter
            self.over = over
        }
    }

    /// `OVER ([PARTITION BY ...] [ORDER BY ...] [frame])`.
    public struct WindowSpecification: Sendable, Hashable {
        public var partitionBy: [Expression]
        public var orderBy: [OrderByItem]
        public var frame: WindowFrame?
    }

    /// `ROWS|RANGE BETWEEN start AND end`, or `ROWS|RANGE start` (then `end` is nil,
    /// meaning CURRENT ROW).
    public struct WindowFrame: Sendable, Hashable {
        public enum Units: String, Sendable, Hashable { case rows = "ROWS", range = "RANGE" }
        public enum Bound: Sendable, Hashable {
            case unboundedPreceding
            /// `expr PRECEDING`, e.g. `10 PRECEDING`, `INTERVAL '1' HOUR PRECEDING`.
            case preceding(Expression)
            case currentRow
            case following(Expression)
            case unboundedFollowing
        }
        public var units: Units
        public var start: Bound
        public var end: Bound?
    }

    /// `CASE [operand] WHEN a THEN b ... [ELSE c] END`.
    public struct CaseExpression: Sendable, Hashable {
        /// The operand of a simple CASE (`CASE x WHEN 1 THEN ...`); nil for a searched CASE.
        public var operand: Expression?
        /// At least one branch.
        public var branches: [Branch]
        public var elseResult: Expression?

        public struct Branch: Sendable, Hashable {
            /// The WHEN value (simple CASE) or condition (searched CASE).
            public var condition: Expression
            public var result: Expression
        }
    }
}
