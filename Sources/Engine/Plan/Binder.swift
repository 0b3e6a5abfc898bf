import Columnar

/// Turns parsed statements into table definitions and runnable query plans: resolves
/// names, checks types, pushes the projection down to the scan, and splits a query into
/// scan -> filter -> (window) aggregate -> output expressions.
struct Binder {
    let catalog: [String: TableDefinition]
    /// The query's late-data policy (it decides what the scan reads and the output's
    /// columns).
    var lateData: LateDataPolicy = .drop

    // MARK: - Errors

    static func error(_ message: String, at position: SourcePosition, hint: String? = nil) -> SQLSyntaxError {
        SQLSyntaxError(message: message, position: position, hint: hint)
    }

    // MARK: - CREATE TABLE

    static func createTable(_ s: CreateTableStatement) throws(SQLSyntaxError) -> TableDefinition {
        var fields: [Field] = []
        var procTime: (name: String, position: SourcePosition)?
        for c in s.columns {
            switch c.kind {
            case .physical(let t):
                if fields.contains(where: { $0.name.lowercased() == c.name.name.lowercased() }) {
                    throw error("column '\(c.name.name)' is declared twice", at: c.position)
                }
                fields.append(Field(c.name.name, try dataType(t), nullable: !t.isNotNull))
            case .computed(let e):
                // `pt AS PROCTIME()`: the processing time, stamped when a row is read.
                if case .call(let f) = e.kind, f.name.last.name.uppercased() == "PROCTIME", f.arguments.isEmpty {
                    if procTime != nil { throw error("a table has at most one PROCTIME() column", at: c.position) }
                    procTime = (c.name.name, c.position)
                    continue
                }
                throw error("computed columns are not supported yet (only PROCTIME())", at: c.position,
                            hint: "compute the value in the SELECT list instead")
            case .metadata:
                throw error("metadata columns are not supported", at: c.position)
            }
        }
        if let pk = s.primaryKey {
            throw error("PRIMARY KEY is not supported yet", at: pk.position, hint: "remove the constraint")
        }
        var options: [(String, String)] = []
        var byKey: [String: String] = [:]
        for o in s.options {
            if byKey[o.key] != nil { throw error("option '\(o.key)' is given twice", at: o.position) }
            byKey[o.key] = o.value
            options.append((o.key, o.value))
        }
        // Table options of the engine's, not the connector's.
        var allowedLateness: Int64 = 0
        if let raw = byKey.removeValue(forKey: "allowed-lateness") {
            let at = s.options.first { $0.key == "allowed-lateness" }!.position
            guard let ms = Binder.durationMillis(raw) else {
                throw error("'allowed-lateness' must be a duration, not '\(raw)'", at: at, hint: "e.g. '10 s', '500 ms', '5 min'")
            }
            guard s.watermark != nil else {
                throw error("'allowed-lateness' needs a WATERMARK", at: at,
                            hint: "declare WATERMARK FOR ts AS ts - INTERVAL '5' SECOND")
            }
            allowedLateness = ms
        }
        if let ttl = byKey.removeValue(forKey: Binder.stateTTLOption) { try Binder.checkStateTTL(ttl, s) }  // read by joins
        var idleTimeout: Int64?
        if let raw = byKey.removeValue(forKey: "scan.watermark.idle-timeout") {
            let at = s.options.first { $0.key == "scan.watermark.idle-timeout" }!.position
            guard let ms = Binder.durationMillis(raw), ms > 0 else {
                throw error("'scan.watermark.idle-timeout' must be a positive duration, not '\(raw)'", at: at,
                            hint: "e.g. '5 s' or '500 ms'")
            }
            guard s.watermark != nil else {
                throw error("'scan.watermark.idle-timeout' needs a WATERMARK", at: at,
                            hint: "declare WATERMARK FOR ts AS ts - INTERVAL '5' SECOND")
            }
            idleTimeout = ms
        }
        let provider: TableProvider
        do {
            provider = try Connectors.make(ConnectorContext(tableName: s.name.last.name, declared: Schema(fields), options: byKey))
        } catch let e as ConnectorError {
            let at = e.option.flatMap { key in s.options.first { $0.key == key }?.position } ?? s.name.position
            throw error(e.message, at: at, hint: e.hint)
        } catch let e as SpateError {
            throw error(e.message, at: s.name.position, hint: e.hint)
        } catch {
            throw Binder.error("\(error)", at: s.name.position)
        }
        var schema = provider.schema
        var procTimeColumn: Int?
        if let procTime {
            if schema.index(of: procTime.name) != nil {
                throw error("column '\(procTime.name)' is declared twice", at: procTime.position)
            }
            // After the source's columns (SELECT * shows it last).
            procTimeColumn = schema.count
            schema = Schema(schema.fields + [Field(procTime.name, .timestamp(.millisecond), nullable: false)])
        }
        var watermark: (Int, Int64)?
        if let w = s.watermark {
            let name = w.column.last.name
            guard let idx = schema.index(of: name) else {
                throw error("unknown column '\(name)' in WATERMARK", at: w.column.position,
                            hint: "declare the column before the WATERMARK clause")
            }
            guard case .timestamp = schema[idx].type else {
                throw error("the WATERMARK column '\(name)' must be a TIMESTAMP(3), not \(schema[idx].type)",
                            at: w.column.position,
                            hint: "declare it as `\(name) TIMESTAMP(3)`; integer epoch milliseconds are read into it")
            }
            watermark = (idx, try watermarkDelay(w.expression, column: name))
        }
        return TableDefinition(name: s.name.last.name, schema: schema,
                               watermark: watermark.map { (column: $0.0, delayMillis: $0.1) },
                               allowedLatenessMillis: allowedLateness, idleTimeoutMillis: idleTimeout,
                               procTimeColumn: procTimeColumn,
                               provider: provider, options: options)
    }

    /// How far behind the clock the watermark of processing-time windows runs.
    static let procTimeSkewMillis: Int64 = 200

    /// A duration as Flink writes them in options: a number and a unit (ms, s, min, h,
    /// d, or their long forms; seconds when there is none), e.g. `10 s`, `500ms`.
    static func durationMillis(_ text: String) -> Int64? {
        let t = String(text.lowercased().filter { $0 != " " && $0 != "\t" })
        let split = t.firstIndex { !$0.isNumber } ?? t.endIndex
        guard let n = Int64(t[..<split]), n >= 0 else { return nil }
        let unit = t[split...]
        let scale: Int64
        switch unit {
        case "ms", "milli", "millis", "millisecond", "milliseconds": scale = 1
        case "", "s", "sec", "secs", "second", "seconds": scale = 1000
        case "min", "mins", "minute", "minutes": scale = 60_000
        case "h", "hour", "hours": scale = 3_600_000
        case "d", "day", "days": scale = 86_400_000
        default: return nil
        }
        let (v, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : v
    }

    static func dataType(_ t: TypeName) throws(SQLSyntaxError) -> DataType {
        switch t.name {
        case "BIGINT", "INT", "INTEGER", "SMALLINT", "TINYINT": return .int64
        case "DOUBLE", "DOUBLE PRECISION", "FLOAT", "REAL": return .float64
        case "BOOLEAN", "BOOL": return .bool
        case "VARCHAR", "STRING", "CHAR", "TEXT": return .string
        case "TIMESTAMP", "TIMESTAMP_LTZ", "TIMESTAMP WITH LOCAL TIME ZONE":
            if let p = t.parameters.first, p > 3 {
                throw error("TIMESTAMP(\(p)) is not supported yet", at: t.position,
                            hint: "use TIMESTAMP(3) (milliseconds)")
            }
            return .timestamp(.millisecond)
        case "DECIMAL", "NUMERIC", "DEC":
            throw error("DECIMAL is not supported yet", at: t.position, hint: "use DOUBLE, or BIGINT for cents")
        default:
            throw error("type \(t.name) is not supported", at: t.position,
                        hint: "use BIGINT, INT, DOUBLE, BOOLEAN, VARCHAR or TIMESTAMP(3)")
        }
    }

    /// `ts` or `ts - INTERVAL 'n' UNIT` -> the delay in milliseconds.
    static func watermarkDelay(_ e: Expression, column: String) throws(SQLSyntaxError) -> Int64 {
        switch e.kind {
        case .column(let n) where n.last.name.lowercased() == column.lowercased():
            return 0
        case .binary(.subtract, let l, let r):
            if case .column(let n) = l.kind, n.last.name.lowercased() == column.lowercased(),
               case .literal(.interval(let i)) = r.kind, i.milliseconds >= 0 {
                return i.milliseconds
            }
        default:
            break
        }
        throw error("unsupported watermark strategy '\(e)'", at: e.position,
                    hint: "write `WATERMARK FOR \(column) AS \(column) - INTERVAL '5' SECOND` (bounded out-of-orderness)")
    }

    // MARK: - SELECT

    /// What a FROM clause provides: the table, and the window TVF over it.
    struct Input {
        var table: TableDefinition
        var alias: String?
        /// The window TVF: its kind, time column and (SESSION) PARTITION BY columns, as
        /// indexes in table.schema.
        var window: InputWindow?
        /// table.schema fields + window_start, window_end (TVF only).
        var fields: [Field]
    }

    func query(_ q: Query) throws(SQLSyntaxError) -> QueryPlan {
        if !q.with.isEmpty { throw Binder.error("WITH is not supported yet", at: q.position) }
        if let o = q.orderBy.first {
            throw Binder.error("ORDER BY is not supported yet", at: o.expression.position,
                               hint: "windowed results come out ordered by window, then by the grouping keys")
        }
        if q.limit != nil || q.offset != nil {
            throw Binder.error("LIMIT/OFFSET are not supported yet", at: q.position, hint: "pipe the output through `head`")
        }
        guard case .select(var s) = q.body else {
            throw Binder.error("only SELECT queries are supported", at: q.body.position)
        }
        if let plan = try joinQuery(s) { return plan }  // two inputs: JoinBinder.swift
        if s.from.count == 1, case .subquery(let sub) = s.from[0], let plan = try topNQuery(s, sub) {
            return plan
        }
        var legacyWindow: InputWindow?
        if let (rewritten, window) = try legacyGroupWindow(s) {
            s = rewritten
            legacyWindow = window
        }
        if s.isDistinct { throw Binder.error("SELECT DISTINCT is not supported yet", at: s.position,
                                             hint: "use GROUP BY over the columns instead") }
        guard s.from.count == 1 else {
            throw Binder.error(s.from.isEmpty ? "a query needs a FROM clause" : "joins are not supported yet",
                               at: s.from.dropFirst().first?.position ?? s.position)
        }
        var input = try resolveFrom(s.from[0])
        if let legacyWindow {
            input.window = legacyWindow
            input.fields += [Field("window_start", .timestamp(.millisecond), nullable: false),
                             Field("window_end", .timestamp(.millisecond), nullable: false)]
        }
        var scope = Scope(input: input)

        if let w = s.whereClause, try Scope.containsAggregate(w) {
            throw Binder.error("aggregate functions are not allowed in WHERE", at: w.position, hint: "use HAVING")
        }
        let filter = try s.whereClause.map { e throws(SQLSyntaxError) in
            let b = try scope.bind(e)
            guard b.type == .bool else { throw Binder.error("WHERE needs a BOOLEAN condition, not \(b.type)", at: e.position) }
            return b
        }
        var hasAggregates = false
        for item in s.items {
            if case .expression(let e, _) = item, try Scope.containsAggregate(e) { hasAggregates = true }
        }
        if let h = s.having, try Scope.containsAggregate(h) { hasAggregates = true }

        var shape: QueryShape
        var outputFields: [Field] = []
        if s.groupBy.isEmpty && !hasAggregates {
            if let h = s.having { throw Binder.error("HAVING needs GROUP BY or an aggregate", at: h.position) }
            var exprs: [BoundExpr] = []
            for item in s.items {
                switch item {
                case .wildcard(_, _):
                    for (i, f) in input.fields.enumerated() {
                        exprs.append(scope.columnRef(i))
                        outputFields.append(Field(f.name, f.type))
                    }
                case .expression(let e, let alias):
                    let b = try scope.bind(e)
                    exprs.append(b)
                    outputFields.append(Field(alias?.name ?? Binder.outputName(e), b.type))
                }
            }
            shape = .project(exprs)
        } else {
            var agg = try AggregateBinder(scope: scope, groupBy: s.groupBy)
            var exprs: [BoundExpr] = []
            for item in s.items {
                switch item {
                case .wildcard(_, let p):
                    throw Binder.error("SELECT * cannot be used with GROUP BY", at: p, hint: "list the grouping columns")
                case .expression(let e, let alias):
                    let b = try agg.bindOutput(e)
                    exprs.append(b)
                    outputFields.append(Field(alias?.name ?? Binder.outputName(e), b.type))
                }
            }
            let having = try s.having.map { e throws(SQLSyntaxError) in
                let b = try agg.bindOutput(e)
                guard b.type == .bool else { throw Binder.error("HAVING needs a BOOLEAN condition", at: e.position) }
                return b
            }
            scope = agg.scope
            shape = .aggregate(AggregatePlan(
                windowed: agg.windowed, keys: agg.keys, aggregates: agg.aggregates, inputs: agg.inputs,
                having: having, output: exprs))
        }
        if let w = input.window {
            switch (w.kind, shape) {
            case (.tumble, _): break
            case (.session, .project):
                throw Binder.error("SESSION windows exist only per key: aggregate over them", at: s.from[0].position,
                                   hint: "GROUP BY window_start, window_end and the PARTITION BY columns")
            case (_, .project): break
            case (_, .aggregate):
                if let p = scope.windowColumnPosition {
                    throw Binder.error("a \(w.kind.name) row lies in several windows: window_start/window_end exist only after grouping",
                                       at: p, hint: "use them in SELECT or HAVING of the window aggregation")
                }
            }
        }
        return try finish(scope: scope, filter: filter, shape: shape, outputFields: outputFields)
    }

    static func outputName(_ e: Expression) -> String {
        if case .column(let n) = e.kind { return n.last.name }
        return e.description
    }

    func resolveFrom(_ ref: TableReference) throws(SQLSyntaxError) -> Input {
        switch ref {
        case .table(let t):
            if t.systemTimeAsOf != nil { throw Binder.error("FOR SYSTEM_TIME AS OF is not supported yet", at: t.position) }
            let table = try lookup(t.name)
            return Input(table: table, alias: t.alias?.name.name, window: nil, fields: table.schema.fields)
        case .function(let f):
            return try windowFunction(f)
        case .subquery(let s):
            throw Binder.error("subqueries in FROM are not supported yet", at: s.position)
        case .join(let j):
            throw Binder.error("joins are not supported yet", at: j.position)
        }
    }

    func lookup(_ name: QualifiedName) throws(SQLSyntaxError) -> TableDefinition {
        let key = name.last.name.lowercased()
        if let t = catalog[key] { return t }
        throw Binder.error("unknown table '\(name.last.name)'", at: name.position,
                           hint: Binder.suggestion(name.last.name, catalog.values.map(\.name))
                               ?? "declare it first with CREATE TABLE \(name.last.name) (...) WITH ('connector' = 'filesystem', 'path' = '...', 'format' = 'csv')")
    }

    static func suggestion(_ name: String, _ candidates: [String]) -> String? {
        let lower = Array(name.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let d = Parser.editDistance(lower, Array(c.lowercased()))
            if d <= max(1, lower.count / 3), d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best.map { "did you mean '\($0.0)'?" }
    }

    /// Pushes the projection down: the scan reads only the columns the query uses, and
    /// every expression is renumbered to the scan's output positions.
    func finish(scope: Scope, filter: BoundExpr?, shape: QueryShape, outputFields: [Field]) throws(SQLSyntaxError) -> QueryPlan {
        let input = scope.input
        let tableCount = input.table.schema.count
        var used = scope.usedColumns.filter { $0 < tableCount }
        var windowed = false
        if case .aggregate(let a) = shape { windowed = a.windowed }
        if let t = input.window {
            used.insert(t.timeColumn)
            for c in t.partition { used.insert(c) }
        }
        if windowed, let w = input.table.watermark { used.insert(w.column) }
        var late = LatePlan()
        var outputFields = outputFields
        if windowed, input.table.watermark != nil {
            late.policy = lateData
            late.allowedLatenessMillis = input.table.allowedLatenessMillis
            switch lateData {
            case .drop: break
            case .output:
                // A late row is written whole, so the scan reads every column.
                used.formUnion(0..<tableCount)
                late.rowFields = input.table.schema.fields
            case .update:
                if case .session = input.window?.kind {
                    throw Binder.error("the update policy for late rows does not support SESSION windows yet", at: .start,
                                       hint: "use --late-data drop or --late-data FILE")
                }
                guard late.allowedLatenessMillis > 0 else {
                    throw Binder.error("the update policy needs an allowed lateness on table '\(input.table.name)'", at: .start,
                                       hint: "add 'allowed-lateness' = '10 s' to its WITH options")
                }
                outputFields.append(Field("op", .string))
            }
        }
        // The PROCTIME() column is not the source's: the executor appends it after the
        // scanned columns.
        let procTime = input.table.procTimeColumn
        let physical = used.filter { $0 != procTime }.sorted()
        var map: [Int: Int] = [:]
        for (i, c) in physical.enumerated() { map[c] = i }
        var appended = 0
        if let p = procTime, used.contains(p) {
            map[p] = physical.count
            appended = 1
        }
        if input.window != nil {
            map[tableCount] = physical.count + appended
            map[tableCount + 1] = physical.count + appended + 1
        }
        let scan = ScanSpec(provider: input.table.provider, projection: physical)
        var watermark: WatermarkSpec?
        if let w = input.table.watermark, let mapped = map[w.column] {
            watermark = WatermarkSpec(column: mapped, delayMillis: w.delayMillis,
                                      idleTimeoutMillis: input.table.idleTimeoutMillis)
        }
        let window = input.window.map { t in
            WindowSpec(kind: t.kind, timeColumn: map[t.timeColumn]!, offsetMillis: t.offset, startColumn: physical.count + appended)
        }
        if let t = input.window, t.timeColumn == procTime {
            // Processing-time windows: the watermark is the clock (a little behind it, as
            // workers stamp their rows at slightly different moments).
            watermark = WatermarkSpec(column: map[t.timeColumn]!, delayMillis: Binder.procTimeSkewMillis)
        }
        if windowed, let t = input.window, t.timeColumn != procTime, let w = input.table.watermark, w.column != t.timeColumn {
            // Flink requires the window's time attribute to be the watermarked column.
            throw Binder.error("the window column must be the table's WATERMARK column '\(input.table.schema[w.column].name)'",
                               at: .start)
        }
        var mappedShape = shape
        switch shape {
        case .project(let exprs): mappedShape = .project(exprs.map { $0.remapped(map) })
        case .aggregate(var a):
            a.keys = a.keys.map { $0.remapped(map) }
            a.inputs = a.inputs.map { $0.remapped(map) }
            mappedShape = .aggregate(a)
        }
        var plan = QueryPlan(scan: scan, watermark: watermark, window: window, filter: filter?.remapped(map),
                             shape: mappedShape, outputSchema: Schema(outputFields))
        plan.late = late
        if appended == 1 { plan.procTimeColumn = physical.count }
        return plan
    }
}
