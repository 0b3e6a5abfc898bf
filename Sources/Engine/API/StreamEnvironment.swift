import Columnar

/// The entry point of the Swift API: tables, execution options and the late-data policy
/// of the streams built from it.
///
/// Tables are declared exactly as SQL declares them, either in SQL (`env.sql("CREATE
/// TABLE ...")`) or from Swift (`env.fromTable(...)`, which becomes the same CREATE TABLE
/// statement), and share one catalog:
///
/// ```swift
/// let env = StreamEnvironment(options: ExecutionOptions(workers: 2))
/// let bids = try env.fromTable("bids",
///     schema: [Field("auction", .int64), Field("price", .float64), Field("ts", .timestamp(.millisecond))],
///     watermark: ("ts", delay: .seconds(2)),
///     options: ["connector": "filesystem", "path": "bids.csv", "format": "csv"])
/// ```
public final class StreamEnvironment {
    /// Holds the catalog and runs the plans, as for SQL scripts.
    let session: Session

    public init(options: ExecutionOptions = ExecutionOptions(), lateData: LateDataPolicy = .drop) {
        session = Session(options: options)
        session.lateData = lateData
    }

    public var options: ExecutionOptions {
        get { session.options }
        set { session.options = newValue }
    }

    /// What windowed streams do with rows that arrive after their window closed.
    public var lateData: LateDataPolicy {
        get { session.lateData }
        set { session.lateData = newValue }
    }

    /// Called about every 250 ms while a stream runs, from a thread of its own.
    public var onProgress: (@Sendable (Progress) -> Void)? {
        get { session.onProgress }
        set { session.onProgress = newValue }
    }

    /// The declared tables, by lower-cased name.
    public var tables: [String: TableDefinition] { session.tables }

    // MARK: - Tables

    /// Runs CREATE TABLE statements (a script of them, separated by `;`). Queries are
    /// built with `table(_:)` and the stream operators instead.
    public func sql(_ ddl: String, sourceName: String = "<sql>") throws {
        let statements: [Statement]
        do {
            statements = try SQLParser.parse(ddl)
        } catch {
            var e = SpateError(.sql, error.message, path: sourceName, line: error.position.line,
                               column: error.position.column, hint: error.hint)
            e.rendered = error.render(sql: ddl, sourceName: sourceName)
            throw e
        }
        for s in statements {
            guard case .createTable = s else {
                throw SpateError(.usage, "StreamEnvironment.sql takes CREATE TABLE statements only", path: sourceName,
                                 line: s.position.line, column: s.position.column,
                                 hint: "build a query with env.table(\"name\") and the stream operators, or run SQL with Session.run")
            }
        }
        try session.run(ddl, sourceName: sourceName) { _, _ in
            throw SpateError(.usage, "StreamEnvironment.sql runs no queries")
        }
    }

    /// A stream of the rows of a declared table.
    public func table(_ name: String, file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "table", file: file, line: line)
        guard let def = session.tables[name.lowercased()] else {
            let names = session.tables.values.map(\.name).sorted()
            throw site.error("unknown table '\(name)'",
                             hint: Binder.suggestion(name, names)
                                 ?? (names.isEmpty ? "declare it with env.sql(\"CREATE TABLE ...\") or env.fromTable(...)"
                                     : "the tables are: " + names.joined(separator: ", ")))
        }
        return try DataStream(env: self, pipeline: Pipeline(table: def), site: site)
    }

    /// Declares a table and returns the stream of its rows: the CREATE TABLE statement
    /// with these columns, watermark and WITH options, checked by the same code.
    ///
    /// - Parameters:
    ///   - schema: the columns; empty to take them from the source (a CSV header and
    ///     sample, a capture file, the Nexmark generator).
    ///   - watermark: the event-time column and how far out of order rows may come
    ///     (`WATERMARK FOR ts AS ts - INTERVAL '2' SECOND`).
    ///   - allowedLateness: how long after its end a window still takes late rows
    ///     under the `.update` late-data policy (`'allowed-lateness'`).
    ///   - options: the WITH options, in order: `"connector"`, `"path"`, `"format"`,
    ///     `"csv.field-delimiter"`, ...
    public func fromTable(
        _ name: String, schema: [Field] = [], watermark: (String, delay: Duration)? = nil,
        allowedLateness: Duration? = nil, options: KeyValuePairs<String, String>,
        file: String = #fileID, line: Int = #line
    ) throws -> DataStream {
        let site = CallSite(operation: "fromTable", file: file, line: line)
        var statement = CreateTableStatement(
            name: QualifiedName([Identifier(name, isQuoted: needsQuotes(name))]), isTemporary: false, ifNotExists: false,
            columns: schema.map { f in
                .init(name: Identifier(f.name, isQuoted: needsQuotes(f.name)),
                      kind: .physical(typeName(f.type, notNull: !f.nullable)), comment: nil, position: .start)
            },
            watermark: nil, primaryKey: nil, comment: nil, partitionedBy: [],
            options: options.map { .init(key: $0.key, value: $0.value, position: .start) }, position: .start)
        if case let (column, delay)? = watermark {
            guard let ms = durationMillis(delay), ms >= 0 else {
                throw site.error("the watermark delay \(delay) must be a whole, non-negative number of milliseconds")
            }
            var strategy = columnAST(column)
            if ms > 0 { strategy = Expression(.binary(.subtract, strategy, Expression(.literal(.interval(intervalAST(ms)))))) }
            statement.watermark = .init(column: QualifiedName([Identifier(column, isQuoted: needsQuotes(column))]),
                                        expression: strategy, position: .start)
        }
        if let allowedLateness {
            guard let ms = durationMillis(allowedLateness), ms >= 0 else {
                throw site.error("the allowed lateness \(allowedLateness) must be a whole, non-negative number of milliseconds")
            }
            statement.options.append(.init(key: "allowed-lateness", value: "\(ms) ms", position: .start))
        }
        do {
            try sql(Statement.createTable(statement).description)
        } catch let e as SpateError {
            throw site.error(e.message, hint: e.hint)
        }
        return try table(name, file: file, line: line)
    }
}
