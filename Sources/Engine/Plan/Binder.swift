import Columnar

/// Turns parsed statements into table definitions and runnable query plans: resolves
/// names, checks types, pushes the projection down to the scan, and splits a query into
/// scan -> filter -> (window) aggregate -> output expressions.
struct Binder {
    let catalog: [String: TableDefinition]

    // MARK: - Errors

    static func error(_ message: String, at position: SourcePosition, hint: String? = nil) -> SQLSyntaxError {
        SQLSyntaxError(message: message, position: position, hint: hint)
    }

    // MARK: - CREATE TABLE

    static func createTable(_ s: CreateTableStatement) throws(SQLSyntaxError) -> TableDefinition {
        var fields: [Field] = []
        for c in s.columns {
            switch c.kind {
            case .physical(let t):
                if fields.contains(where: { $0.name.lowercased() == c.name.name.lowercased() }) {
                    throw error("column '\(c.name.name)' is declared twice", at: c.position)
                }
                fields.append(Field(c.name.name, try dataType(t), nullable: !t.isNotNull))
            case .computed:
                throw error("computed columns are not supported yet", at: c.position,
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
        let schema = provider.schema
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
                               provider: provider, options: options)
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
        /// Window TVF size/offset and time column (index in table.schema).
        var tumble: (timeColumn: Int, size: Int64, offset: Int64)?
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
        guard case .select(let s) = q.body else {
            throw Binder.error("only SELECT queries are supported", at: q.body.position)
        }
        if s.isDistinct { throw Binder.error("SELECT DISTINCT is not supported yet", at: s.position,
                                             hint: "use GROUP BY over the columns instead") }
        guard s.from.count == 1 else {
            throw Binder.error(s.from.isEmpty ? "a query needs a FROM clause" : "joins are not supported yet",
                               at: s.from.dropFirst().first?.position ?? s.position)
        }
        let input = try resolveFrom(s.from[0])
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
            return Input(table: table, alias: t.alias?.name.name, tumble: nil, fields: table.schema.fields)
        case .function(let f):
            let name = f.name.last.name.uppercased()
            guard name == "TUMBLE" else {
                throw Binder.error("window function \(name) is not supported yet", at: f.position,
                                   hint: name == "HOP" || name == "CUMULATE" || name == "SESSION" ? "only TUMBLE for now" : nil)
            }
            var tableName: QualifiedName?
            var descriptor: [Identifier] = []
            var intervals: [Int64] = []
            for a in f.arguments {
                switch a.value {
                case .table(let n, let partition):
                    if !partition.isEmpty { throw Binder.error("TUMBLE takes no PARTITION BY", at: a.position) }
                    tableName = n
                case .descriptor(let ids): descriptor = ids
                case .expression(let e):
                    guard case .literal(.interval(let i)) = e.kind else {
                        throw Binder.error("expected an INTERVAL here", at: e.position, hint: "e.g. INTERVAL '10' SECOND")
                    }
                    intervals.append(i.milliseconds)
                }
            }
            guard let tableName else {
                throw Binder.error("TUMBLE needs a table: TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)", at: f.position)
            }
            let table = try lookup(tableName)
            guard descriptor.count == 1 else {
                throw Binder.error("TUMBLE needs one time column: DESCRIPTOR(ts)", at: f.position)
            }
            guard let tcol = table.schema.index(of: descriptor[0].name) else {
                throw Binder.error("unknown column '\(descriptor[0].name)' in table '\(table.name)'",
                                   at: descriptor[0].position, hint: Binder.suggestion(descriptor[0].name, table.schema.fields.map(\.name)))
            }
            guard case .timestamp = table.schema[tcol].type else {
                throw Binder.error("the window column '\(descriptor[0].name)' must be a TIMESTAMP(3)", at: descriptor[0].position)
            }
            guard let size = intervals.first, size > 0 else {
                throw Binder.error("TUMBLE needs a positive size: INTERVAL '10' SECOND", at: f.position)
            }
            let offset = intervals.count > 1 ? intervals[1] : 0
            if intervals.count > 2 { throw Binder.error("TUMBLE takes a size and an optional offset", at: f.position) }
            let fields = table.schema.fields + [
                Field("window_start", .timestamp(.millisecond), nullable: false),
                Field("window_end", .timestamp(.millisecond), nullable: false),
            ]
            return Input(table: table, alias: f.alias?.name.name, tumble: (tcol, size, offset), fields: fields)
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
        if let t = input.tumble { used.insert(t.timeColumn) }
        if windowed, let w = input.table.watermark { used.insert(w.column) }
        let physical = used.sorted()
        var map: [Int: Int] = [:]
        for (i, c) in physical.enumerated() { map[c] = i }
        if input.tumble != nil {
            map[tableCount] = physical.count
            map[tableCount + 1] = physical.count + 1
        }
        let scan = ScanSpec(provider: input.table.provider, projection: physical)
        var watermark: WatermarkSpec?
        if let w = input.table.watermark, let mapped = map[w.column] {
            watermark = WatermarkSpec(column: mapped, delayMillis: w.delayMillis)
        }
        let tumble = input.tumble.map { t in
            TumbleSpec(timeColumn: map[t.timeColumn]!, sizeMillis: t.size, offsetMillis: t.offset,
                       startColumn: physical.count)
        }
        if windowed, let t = input.tumble, let w = input.table.watermark, w.column != t.timeColumn {
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
        return QueryPlan(scan: scan, watermark: watermark, tumble: tumble, filter: filter?.remapped(map),
                         shape: mappedShape, outputSchema: Schema(outputFields))
    }
}
