import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// Runs SQL scripts: CREATE TABLE statements declare tables, each SELECT runs to
/// completion over its input and sends its rows to a writer.
///
/// ```swift
/// let session = Session(options: ExecutionOptions(workers: 2))
/// let stats = try session.run(sql) { _, _ in try CSVResultWriter(path: nil) }
/// ```
public final class Session {
    public private(set) var tables: [String: TableDefinition] = [:]
    public var options: ExecutionOptions
    /// What the queries do with rows that arrive after their window has closed.
    public var lateData: LateDataPolicy = .drop
    /// Called about every 250 ms while a query runs, from a thread of its own.
    public var onProgress: (@Sendable (Progress) -> Void)?

    public init(options: ExecutionOptions = ExecutionOptions()) {
        self.options = options
    }

    /// What one SELECT of a script reported.
    public struct QueryResult: Sendable {
        public var schema: Schema
        public var statistics: RunStatistics
    }

    /// Parses the whole script first (so a syntax error anywhere stops it before any
    /// work), then runs its statements in order. `writer(i, schema)` gives the writer
    /// for the i-th SELECT.
    @discardableResult
    public func run(
        _ sql: String, sourceName: String = "<query>",
        writer: (Int, Schema) throws -> ResultWriter
    ) throws -> [QueryResult] {
        let statements = try parse(sql, sourceName: sourceName)
        var results: [QueryResult] = []
        for statement in statements {
            switch statement {
            case .createTable(let c):
                let def = try sqlErrors(sql, sourceName) { () throws(SQLSyntaxError) in try Binder.createTable(c) }
                let key = def.name.lowercased()
                if tables[key] != nil && !c.ifNotExists {
                    throw sqlError(Binder.error("table '\(def.name)' already exists", at: c.name.position), sql, sourceName)
                }
                if tables[key] == nil || !c.ifNotExists { tables[key] = def }
            case .query(let q):
                let plan = try self.plan(q, sql, sourceName)
                let w = try writer(results.count, plan.outputSchema)
                do {
                    let stats = try execute(plan, writer: w)
                    try w.finish()
                    results.append(QueryResult(schema: plan.outputSchema, statistics: stats))
                } catch {
                    w.abandon()
                    throw error
                }
            case .createView(let v):
                throw sqlError(Binder.error("CREATE VIEW is not supported yet", at: v.position), sql, sourceName)
            case .insert(let i):
                throw sqlError(Binder.error("INSERT INTO is not supported yet", at: i.position,
                                            hint: "run the SELECT and write its output with -o FILE"), sql, sourceName)
            }
        }
        return results
    }

    /// The plans of a script's SELECTs (declaring its tables), without running them.
    public func explain(_ sql: String, sourceName: String = "<query>") throws -> String {
        var out: [String] = []
        for statement in try parse(sql, sourceName: sourceName) {
            switch statement {
            case .createTable(let c):
                let def = try sqlErrors(sql, sourceName) { () throws(SQLSyntaxError) in try Binder.createTable(c) }
                tables[def.name.lowercased()] = def
            case .query(let q):
                out.append(PlanPrinter.describe(try plan(q, sql, sourceName), options: options)
                           + "\n" + options.placement.summary)
            default:
                break
            }
        }
        return out.joined(separator: "\n")
    }

    private func parse(_ sql: String, sourceName: String) throws -> [Statement] {
        do {
            return try SQLParser.parse(sql)
        } catch {
            throw sqlError(error, sql, sourceName)
        }
    }

    private func plan(_ q: Query, _ sql: String, _ sourceName: String) throws -> QueryPlan {
        var binder = Binder(catalog: tables)
        binder.lateData = lateData
        return try sqlErrors(sql, sourceName) { () throws(SQLSyntaxError) in try binder.query(q) }
    }

    private func sqlErrors<T>(_ sql: String, _ sourceName: String, _ body: () throws(SQLSyntaxError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw sqlError(error, sql, sourceName)
        }
    }

    private func sqlError(_ e: SQLSyntaxError, _ sql: String, _ sourceName: String) -> SpateError {
        var err = SpateError(.sql, e.message, path: sourceName, line: e.position.line, column: e.position.column, hint: e.hint)
        err.rendered = e.render(sql: sql, sourceName: sourceName)
        return err
    }

    /// Runs one bound query into `writer` (which this calls `begin` on, not `finish`).
    public func execute(_ plan: QueryPlan, writer: ResultWriter) throws -> RunStatistics {
        if let join = plan.join { return try executeJoin(plan, join, writer: writer) }
        let start = monotonicSeconds()
        let source = try plan.scan.provider.open(projection: plan.scan.projection, options: options)
        try writer.begin(plan.outputSchema)
        var lateWriter: ResultWriter?
        if case .output(let path) = plan.late.policy {
            let w = try OutputFormats.writer(format: nil, path: path)
            try w.begin(Schema(plan.late.rowFields + LateRows.extraFields))
            lateWriter = w
        }
        let run = QueryRun(plan: plan, source: source, options: options, writer: writer, lateWriter: lateWriter)
        run.onProgress = onProgress
        var stats: RunStatistics
        do {
            stats = try run.run()
            try lateWriter?.finish()
        } catch {
            lateWriter?.abandon()
            throw error
        }
        stats.bytesRead = source.byteCount ?? 0
        stats.badRows = source.badRowCount
        stats.badRowNote = source.badRowNote
        stats.seconds = monotonicSeconds() - start
        return stats
    }
}

/// Wall-clock time in epoch milliseconds (processing time, arrival stamps).
func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
