import Columnar

/// An event-time window of `DataStream.window`: Flink's window TVFs with sizes as
/// `Duration`s (whole milliseconds, the engine's time unit).
public struct StreamWindow: Sendable {
    enum Kind: Sendable {
        case tumble(size: Duration)
        case hop(slide: Duration, size: Duration)
        case cumulate(step: Duration, maxSize: Duration)
        case session(gap: Duration)
        case count(Int)
    }

    var kind: Kind
    var offset: Duration

    /// Fixed, non-overlapping windows of `size`, shifted by `offset` from the epoch.
    public static func tumble(size: Duration, offset: Duration = .zero) -> StreamWindow {
        StreamWindow(kind: .tumble(size: size), offset: offset)
    }

    /// Windows of `size` starting every `slide` (size a whole multiple of slide).
    public static func hop(slide: Duration, size: Duration, offset: Duration = .zero) -> StreamWindow {
        StreamWindow(kind: .hop(slide: slide, size: size), offset: offset)
    }

    /// Windows that start every `maxSize` and grow by `step` up to `maxSize`.
    public static func cumulate(step: Duration, maxSize: Duration, offset: Duration = .zero) -> StreamWindow {
        StreamWindow(kind: .cumulate(step: step, maxSize: maxSize), offset: offset)
    }

    /// Per key (the keyBy columns): rows at most `gap` apart form one window.
    public static func session(gap: Duration) -> StreamWindow {
        StreamWindow(kind: .session(gap: gap), offset: .zero)
    }

    /// Per key, every `rows` rows in input order form a window (Flink's `countWindow`);
    /// a window is emitted when its last row arrives, one still short at the end of the
    /// input is not. The result has the keys and the aggregates (no window columns).
    public static func count(_ rows: Int) -> StreamWindow {
        StreamWindow(kind: .count(rows), offset: .zero)
    }

    /// The engine's window kind, in milliseconds.
    func resolved(site: CallSite) throws -> (WindowKind, offset: Int64) {
        func ms(_ d: Duration, _ what: String) throws -> Int64 {
            guard let v = durationMillis(d) else {
                throw site.error("the window \(what) \(d) is not a whole number of milliseconds",
                                 hint: "window sizes are in milliseconds, e.g. .milliseconds(1500) or .seconds(10)")
            }
            return v
        }
        let kind: WindowKind
        switch self.kind {
        case .tumble(let size): kind = .tumble(size: try ms(size, "size"))
        case .hop(let slide, let size): kind = .hop(slide: try ms(slide, "slide"), size: try ms(size, "size"))
        case .cumulate(let step, let maxSize): kind = .cumulate(step: try ms(step, "step"), maxSize: try ms(maxSize, "size"))
        case .session(let gap): kind = .session(gap: try ms(gap, "gap"))
        case .count: throw site.error("a count window has no time")
        }
        return (kind, try ms(offset, "offset"))
    }
}

/// A stream of rows built with operators, compiled to the same plan as the equivalent
/// SQL query and run by the same executor.
///
/// A stream is a value: each operator returns a new stream and checks itself at once
/// (names, types, window rules), so an error names the operator and the line that
/// called it. The shape of a stream is that of one SELECT:
///
///     [filter | select | map]* [keyBy] [window] [filter]* [aggregate [filter | select | map]*]
///
/// A filter after `aggregate` filters the aggregated rows (SQL's HAVING); `select`
/// after `keyBy`/`window` must wait for the aggregate. There is no `join` operator yet.
public struct DataStream {
    let env: StreamEnvironment
    var pipeline: Pipeline
    /// The columns of the stream's rows (for a keyBy or SESSION window still waiting for
    /// its aggregate: of the rows going into it).
    public private(set) var schema: Schema

    init(env: StreamEnvironment, pipeline: Pipeline, site: CallSite) throws {
        self.env = env
        self.pipeline = pipeline
        schema = Schema([])
        try check(site)
    }

    /// Binds what the stream is so far: the whole query when it is complete, else the
    /// grouping it waits with and the rows going into it.
    private mutating func check(_ site: CallSite) throws {
        if pipeline.isComplete {
            schema = try pipeline.bind(pipeline.query(.complete), lateData: env.lateData, site: site).outputSchema
        } else {
            _ = try pipeline.bind(pipeline.query(.probe), lateData: .drop, site: site)
            schema = try pipeline.bind(pipeline.query(.rows), lateData: .drop, site: site).outputSchema
        }
    }

    private func next(_ site: CallSite, _ change: (inout Pipeline) throws -> Void) throws -> DataStream {
        var s = self
        try change(&s.pipeline)
        try s.check(site)
        return s
    }

    // MARK: - Operators

    /// Keeps the rows where `condition` is TRUE (SQL's WHERE; HAVING after `aggregate`).
    public func filter(_ condition: Expr, file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "filter", file: file, line: line)
        if let problem = condition.problem { throw site.error(problem) }
        return try next(site) { p in
            try p.checkNoAggregateCall(condition.ast, site: site)
            let resolved = try p.resolve(condition.ast, site: site)
            if p.aggregate != nil { p.aggregate!.having.append(resolved) } else { p.conditions.append(resolved) }
        }
    }

    /// These columns, in this order: names (`"price"`), expressions, or named
    /// expressions (`(col("price") * 0.9).as("net")`).
    public func select(_ items: any Selectable..., file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "select", file: file, line: line)
        guard !items.isEmpty else { throw site.error("select needs at least one column") }
        return try project(site) { p in
            try items.map { let (e, n) = $0.selectItem; return try p.streamColumn(e, name: n, site: site) }
        }
    }

    /// Every column, with the named ones added at the end or, where the name exists,
    /// replaced in place: `map((col("price") * 0.9).as("price"))`.
    public func map(_ items: any Selectable..., file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "map", file: file, line: line)
        return try project(site) { p in
            var out = p.columns
            for item in items {
                let (e, n) = item.selectItem
                let c = try p.streamColumn(e, name: n, site: site)
                if let i = out.firstIndex(where: { $0.name.lowercased() == c.name.lowercased() }) { out[i] = c } else { out.append(c) }
            }
            return out
        }
    }

    private func project(_ site: CallSite, _ columns: (Pipeline) throws -> [StreamColumn]) throws -> DataStream {
        if pipeline.aggregate == nil && (pipeline.keys != nil || pipeline.isSession) {
            throw site.error("a keyed or SESSION-windowed stream goes on with aggregate(...)",
                             hint: "select before keyBy/window, or after aggregate")
        }
        return try next(site) { p in
            let out = try columns(p)
            try Pipeline.checkUnique(out, site: site)
            if p.aggregate != nil {
                p.aggregate!.output = out
            } else {
                p.projection = out
                if p.window != nil { p.projectedAfterWindow = true }
            }
        }
    }

    /// Groups the rows by these columns for `window` and `aggregate` (SQL's GROUP BY;
    /// a SESSION window's PARTITION BY).
    public func keyBy(_ columns: String..., file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "keyBy", file: file, line: line)
        guard !columns.isEmpty else { throw site.error("keyBy needs at least one column") }
        try checkNotAggregated(site)
        if pipeline.keys != nil { throw site.error("the stream is keyed already", hint: "give every key in one keyBy(...)") }
        if pipeline.projectedAfterWindow {
            throw site.error("keyBy after select on a windowed stream", hint: "key the stream before window(...)")
        }
        return try next(site) { p in
            let keys = try columns.map { try p.streamColumn(col($0), name: nil, site: site) }
            try Pipeline.checkUnique(keys, site: site)
            p.keys = keys
            try checkSessionKeys(p, site)
        }
    }

    /// Assigns each row to event-time windows over `column`, by default the table's
    /// WATERMARK column. Without `aggregate`, a TUMBLE/HOP/CUMULATE stream's rows get
    /// `window_start` and `window_end` (a HOP/CUMULATE row once per window it lies in).
    public func window(_ window: StreamWindow, on column: String? = nil, file: String = #fileID,
                       line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "window", file: file, line: line)
        try checkNotAggregated(site)
        if pipeline.window != nil || pipeline.countWindow != nil { throw site.error("the stream has a window already") }
        if case .count(let rows) = window.kind {
            guard rows >= 1 else { throw site.error("a count window needs at least 1 row, not \(rows)") }
            if column != nil { throw site.error("a count window takes no time column") }
            return try next(site) { p in p.countWindow = rows }
        }
        let (kind, offset) = try window.resolved(site: site)
        let table = pipeline.table
        let timeColumn: String
        if let column {
            // The TVF reads the table: the column must be one of its own, maybe renamed.
            let ast = try pipeline.lookup(QualifiedName([Identifier(column)]), site: site)
            guard case .column(let n) = ast.kind, let i = table.schema.index(of: n.last.name) else {
                throw site.error("the window column '\(column)' must be a column of table '\(table.name)'",
                                 hint: "window over the table's time column, e.g. window(..., on: \"ts\")")
            }
            timeColumn = table.schema[i].name
        } else {
            guard let w = table.watermark else {
                throw site.error("table '\(table.name)' has no WATERMARK to take the window's time column from",
                                 hint: "name the column: window(..., on: \"ts\"), or declare a watermark")
            }
            timeColumn = table.schema[w.column].name
        }
        return try next(site) { p in
            p.window = WindowClause(kind: kind, timeColumn: timeColumn, offsetMillis: offset)
            if p.rowsHaveWindowColumns, let cols = p.projection {
                p.projection = cols + Pipeline.windowColumnNames.map { StreamColumn(name: $0, ast: columnAST($0)) }
                try Pipeline.checkUnique(p.projection!, site: site)
            }
            try checkSessionKeys(p, site)
        }
    }

    /// Aggregates the rows: per key and window when keyed/windowed, else over the whole
    /// input. The result's columns are `window_start`, `window_end` (windowed), the keys
    /// and the aggregates. A window's rows are emitted when the watermark passes its end.
    public func aggregate(_ calls: AggregateCall..., file: String = #fileID, line: Int = #line) throws -> DataStream {
        let site = CallSite(operation: "aggregate", file: file, line: line)
        try checkNotAggregated(site)
        if pipeline.projectedAfterWindow {
            throw site.error("aggregate after select on a windowed stream",
                             hint: "select before window(...), or after aggregate")
        }
        if calls.isEmpty && pipeline.keys == nil && pipeline.window == nil {
            throw site.error("aggregate needs an aggregate call, or keys or a window to group by",
                             hint: "e.g. aggregate(.count(as: \"n\"))")
        }
        for c in calls { if let problem = c.problem { throw site.error(problem) } }
        return try next(site) { p in
            let keys = p.keys ?? []
            var output: [StreamColumn] = p.window == nil ? []
                : Pipeline.windowColumnNames.map { StreamColumn(name: $0, ast: columnAST($0)) }
            output += keys
            for c in calls {
                let resolved = try p.resolve(c.ast, site: site)
                output.append(StreamColumn(name: c.name ?? Binder.outputName(c.ast), ast: resolved))
            }
            try Pipeline.checkUnique(output, site: site)
            p.aggregate = AggregateStage(keys: keys, output: output, having: [])
        }
    }

    private func checkNotAggregated(_ site: CallSite) throws {
        if pipeline.aggregate != nil {
            throw site.error("the stream is aggregated already",
                             hint: "one aggregation per stream: the engine has no nested aggregation yet")
        }
    }

    /// A SESSION window's PARTITION BY takes columns of the table.
    private func checkSessionKeys(_ p: Pipeline, _ site: CallSite) throws {
        guard p.isSession, let keys = p.keys else { return }
        for k in keys {
            guard case .column(let n) = k.ast.kind, p.table.schema.index(of: n.last.name) != nil else {
                throw site.error("the key '\(k.name)' of a SESSION window must be a column of table '\(p.table.name)'",
                                 hint: "sessions are formed per value of table columns: key by columns, compute after aggregate")
            }
        }
    }

    // MARK: - Plans

    /// The plan the stream runs (the same as the equivalent SQL's).
    public func plan(file: String = #fileID, line: Int = #line) throws -> QueryPlan {
        try plan(CallSite(operation: "plan", file: file, line: line))
    }

    private func plan(_ site: CallSite) throws -> QueryPlan {
        try checkComplete(site)
        var plan = try pipeline.bind(pipeline.query(.complete), lateData: env.lateData, site: site)
        if let rows = pipeline.countWindow {
            // SQL has no count windows: the plan is the keyed aggregation's, cut by count.
            guard case .aggregate(var a) = plan.shape else { throw site.error("a count window needs aggregate(...)") }
            a.countWindow = rows
            plan.shape = .aggregate(a)
        }
        return plan
    }

    /// What `spate sql --explain` prints for the equivalent query.
    public func explain(file: String = #fileID, line: Int = #line) throws -> String {
        let plan = try plan(CallSite(operation: "explain", file: file, line: line))
        return PlanPrinter.describe(plan, options: env.options) + "\n" + env.options.placement.summary
    }

    /// The equivalent SQL query.
    public func sqlText(file: String = #fileID, line: Int = #line) throws -> String {
        try checkComplete(CallSite(operation: "sqlText", file: file, line: line))
        return pipeline.query(.complete).description
    }

    private func checkComplete(_ site: CallSite) throws {
        guard pipeline.isComplete else {
            throw site.error(pipeline.keys != nil ? "a keyed stream needs aggregate(...) before it can run"
                                 : "a SESSION-windowed stream needs aggregate(...) before it can run",
                             hint: "e.g. .aggregate(.count(as: \"n\"))")
        }
    }

    // MARK: - Sinks

    /// Runs into `writer` (which gets begin, the batches, then finish).
    public func sink(_ writer: ResultWriter, file: String = #fileID, line: Int = #line) throws -> StreamJob {
        try job("sink", file, line) { writer }
    }

    /// Runs into a file (nil or "-": standard output) in `format` (csv, tsv, jsonl,
    /// table, spate, blackhole; default: from the extension, else CSV). The file is
    /// written when the job executes, under a temporary name until it is complete.
    public func sink(path: String?, format: String? = nil, file: String = #fileID, line: Int = #line) throws -> StreamJob {
        let site = CallSite(operation: "sink", file: file, line: line)
        if let format, !OutputFormats.names.contains(format.lowercased()) {
            throw site.error("unknown output format '\(format)'", hint: "use one of: " + OutputFormats.names.joined(separator: ", "))
        }
        return try job("sink", file, line) { try OutputFormats.writer(format: format, path: path) }
    }

    /// Runs into a closure, called with each result batch in order (one call at a time,
    /// from a worker thread; the batch has no selection vector).
    public func sink(file: String = #fileID, line: Int = #line,
                     _ body: @escaping (Batch) throws -> Void) throws -> StreamJob {
        try job("sink", file, line) { BatchClosureWriter(body) }
    }

    private func job(_ operation: String, _ file: String, _ line: Int,
                     _ makeWriter: @escaping () throws -> ResultWriter) throws -> StreamJob {
        let plan = try plan(CallSite(operation: operation, file: file, line: line))
        return StreamJob(env: env, plan: plan, makeWriter: makeWriter)
    }
}

/// A stream with its sink, ready to run.
public struct StreamJob {
    let env: StreamEnvironment
    /// The bound plan.
    public let plan: QueryPlan
    let makeWriter: () throws -> ResultWriter

    /// Runs the stream to the end of its input (each time it is called) and returns what
    /// the run counted: rows read, late, out, bytes, time.
    @discardableResult
    public func execute() throws -> RunStatistics {
        let writer = try makeWriter()
        do {
            let stats = try env.session.execute(plan, writer: writer)
            try writer.finish()
            return stats
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// What `spate sql --explain` prints for the equivalent query.
    public func explain() -> String {
        PlanPrinter.describe(plan, options: env.options) + "\n" + env.options.placement.summary
    }
}

/// Hands each result batch to a closure.
final class BatchClosureWriter: ResultWriter {
    private let body: (Batch) throws -> Void

    init(_ body: @escaping (Batch) throws -> Void) { self.body = body }

    func begin(_ schema: Schema) throws {}
    func write(_ batch: Batch) throws { try body(batch.compacted()) }
    func finish() throws {}
    func abandon() {}
}
