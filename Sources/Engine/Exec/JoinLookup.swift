import Columnar

/// What a lookup join needs (Flink's `FROM s JOIN t FOR SYSTEM_TIME AS OF s.ts ON s.k =
/// t.k`): the stream, the table it looks rows up in, and the equality keys. Expressions
/// are over the full schemas of the stream and of the table.
struct LookupJoinSpec: Sendable {
    var type: JoinType
    var stream: TableProvider
    var streamName: String
    var table: TableProvider
    var tableName: String
    var streamKeys: [BoundExpr]
    var tableKeys: [BoundExpr]
    /// Conditions on the table's columns alone: rows failing them are left out of the
    /// hash table.
    var tableFilter: BoundExpr?
    /// LEFT JOIN conditions on the stream's columns alone: a row failing them is kept
    /// but looks nothing up.
    var streamCondition: BoundExpr?
    /// Inner joins end the row with a hidden BOOLEAN `$matched`, which the query's WHERE
    /// tests: a stream row without a match still passes through the scan, so it moves
    /// the watermark exactly as in Flink (where watermarks come from the source, before
    /// the join), and is dropped by the filter after.
    var matchedColumn: Bool
    /// The ON condition as written, for `--explain`.
    var condition: String
}

/// A lookup join as a table: the stream's columns, then the looked-up table's, then (inner
/// joins) `$matched`. Opening it reads the table once into a hash table; the source it
/// returns is the stream's, each batch extended with the matching rows, so the rest of the
/// query (filters, windows, aggregates, Top-N, late data) runs over the joined stream
/// unchanged, morsel-parallel and in input order.
final class LookupJoinProvider: TableProvider, @unchecked Sendable {
    static let matchedName = "$matched"
    let spec: LookupJoinSpec
    let schema: Schema

    /// Columns of the stream and of the table in the joined row. The stream's may end with
    /// its PROCTIME() column, which the executor stamps (the stream's source never has it).
    let streamWidth: Int
    let tableWidth: Int

    init(spec: LookupJoinSpec, streamFields: [Field], tableFields: [Field]) {
        self.spec = spec
        streamWidth = streamFields.count
        tableWidth = tableFields.count
        // The table's columns may be NULL in a LEFT join whatever they were declared as.
        var fields = streamFields + tableFields.map { Field($0.name, $0.type, nullable: true) }
        if spec.matchedColumn { fields.append(Field(LookupJoinProvider.matchedName, .bool, nullable: false)) }
        schema = Schema(fields)
    }

    var summary: String {
        "\(spec.type.rawValue) lookup join of \(spec.stream.summary) (\(spec.streamName)) with \(spec.table.summary) "
            + "(\(spec.tableName), read once into a hash table) ON \(spec.condition)"
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        // What each output column is: a stream column, a table column, or `$matched`.
        var streamUsed = Set<Int>(), tableUsed = Set<Int>()
        for c in projection {
            if c < streamWidth { streamUsed.insert(c) } else if c < streamWidth + tableWidth { tableUsed.insert(c - streamWidth) }
        }
        for k in spec.streamKeys { streamUsed.formUnion(k.columnsUsed) }
        if let c = spec.streamCondition { streamUsed.formUnion(c.columnsUsed) }
        for k in spec.tableKeys { tableUsed.formUnion(k.columnsUsed) }
        if let f = spec.tableFilter { tableUsed.formUnion(f.columnsUsed) }
        let streamColumns = streamUsed.sorted(), tableColumns = tableUsed.sorted()
        var streamMap: [Int: Int] = [:], tableMap: [Int: Int] = [:]
        for (i, c) in streamColumns.enumerated() { streamMap[c] = i }
        for (i, c) in tableColumns.enumerated() { tableMap[c] = i }
        let outputs: [LookupJoinSource.Output] = projection.map { c in
            if c < streamWidth { return .stream(streamMap[c]!) }
            if c < streamWidth + tableWidth { return .table(tableMap[c - streamWidth]!) }
            return .matched
        }
        let built = try LookupTable.load(spec.table, columns: tableColumns, keys: spec.tableKeys.map { $0.remapped(tableMap) },
                                         filter: spec.tableFilter?.remapped(tableMap), options: options)
        let stream = try spec.stream.open(projection: streamColumns, options: options)
        return LookupJoinSource(
            stream: stream, table: built, outputs: outputs, schema: Schema(projection.map { schema[$0] }),
            keys: spec.streamKeys.map { $0.remapped(streamMap) }, condition: spec.streamCondition?.remapped(streamMap),
            capacity: options.batchCapacity)
    }
}

/// The looked-up table in memory: its rows (the columns the query reads) and a hash table
/// over their keys.
final class LookupTable: @unchecked Sendable {
    let columns: [Column]
    let keys: JoinKeys
    let table: JoinHashTable
    let count: Int
    let byteCount: Int
    let badRowCount: Int
    let badRowNote: String?

    private init(columns: [Column], keys: JoinKeys, table: JoinHashTable, count: Int, source: BatchSource) {
        self.columns = columns
        self.keys = keys
        self.table = table
        self.count = count
        byteCount = source.byteCount ?? 0
        badRowCount = source.badRowCount
        badRowNote = source.badRowNote
    }

    /// Reads the whole table (one thread: it is the small side) and indexes its rows.
    static func load(_ provider: TableProvider, columns used: [Int], keys: [BoundExpr], filter: BoundExpr?,
                     options: ExecutionOptions) throws -> LookupTable {
        let source = try provider.open(projection: used, options: options)
        let fields = used.map { provider.schema[$0] }
        let columns = fields.map { Column($0.type, capacity: 1024) }
        while let m = try source.claimMorsel() {
            try source.read(m) { raw in
                let batch = raw.compacted()
                var sel: SelectionVector?
                if let filter { sel = try Evaluator.select(filter, batch, nil) }
                let n = sel?.count ?? batch.count
                guard n > 0 else { return }
                for (dst, src) in zip(columns, batch.columns) {
                    dst.appendGathered(from: src, sel.map { UnsafePointer($0.ids) }, n)
                }
            }
            source.finished(m)
        }
        let count = columns.first?.count ?? 0
        let all = Batch(schema: Schema(fields), columns: columns, count: count)
        let keyColumns = try keys.map { try Evaluator.evaluate($0, all) }
        let joinKeys = JoinKeys(keyColumns, count: count)
        var table = JoinHashTable(expected: count)
        // Inserted last row first, so each key's rows come out in the table's order.
        for r in stride(from: count - 1, through: 0, by: -1) where joinKeys.matchable(r) {
            table.insert(row: r, hash: joinKeys.hashes[r])
        }
        return LookupTable(columns: columns, keys: joinKeys, table: table, count: count, source: source)
    }
}

/// The stream of a lookup join: each batch of the stream with, per row, one output row
/// per matching table row (in the table's order), or one row with NULL table columns
/// when none matches. Batches stay within the batch capacity.
final class LookupJoinSource: BatchSource, @unchecked Sendable {
    enum Output {
        case stream(Int)
        case table(Int)
        case matched
    }

    let stream: BatchSource
    let table: LookupTable
    let outputs: [Output]
    let outputSchema: Schema
    let keys: [BoundExpr]
    let condition: BoundExpr?
    let capacity: Int

    init(stream: BatchSource, table: LookupTable, outputs: [Output], schema: Schema, keys: [BoundExpr],
         condition: BoundExpr?, capacity: Int) {
        self.stream = stream
        self.table = table
        self.outputs = outputs
        outputSchema = schema
        self.keys = keys
        self.condition = condition
        self.capacity = max(1, capacity)
    }

    func claimMorsel() throws -> Morsel? { try stream.claimMorsel() }
    func finished(_ morsel: Morsel) { stream.finished(morsel) }
    var byteCount: Int? { stream.byteCount.map { $0 + table.byteCount } }
    var isStreaming: Bool { stream.isStreaming }
    var badRowCount: Int { stream.badRowCount + table.badRowCount }
    var badRowNote: String? { stream.badRowNote ?? table.badRowNote }
    func due(_ morsel: Morsel) -> (nanos: UInt64, interval: UInt64)? { stream.due(morsel) }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        try stream.read(morsel) { raw in
            let batch = raw.compacted()
            let n = batch.count
            guard n > 0 else { return }
            let probe = JoinKeys(try keys.map { try Evaluator.evaluate($0, batch) }, count: n)
            var allowed: [Bool]?
            if let condition {
                let sel = try Evaluator.select(condition, batch, nil)
                var a = [Bool](repeating: false, count: n)
                for i in 0..<sel.count { a[sel[i]] = true }
                allowed = a
            }
            var streamRows: [UInt32] = []
            var tableRows: [Int32] = []
            streamRows.reserveCapacity(n)
            tableRows.reserveCapacity(n)
            for r in 0..<n {
                var found = false
                if probe.matchable(r) && (allowed?[r] ?? true) {
                    table.table.forEach(hash: probe.hashes[r]) { t in
                        guard JoinKeys.equal(probe.columns, r, table.keys.columns, t) else { return }
                        streamRows.append(UInt32(r))
                        tableRows.append(Int32(t))
                        found = true
                    }
                }
                if !found {
                    streamRows.append(UInt32(r))
                    tableRows.append(-1)
                }
            }
            // The table's chains list a key's rows last inserted first; they were inserted
            // backwards, so this is the table's order.
            var start = 0
            while start < streamRows.count {
                let end = min(start + capacity, streamRows.count)
                try emit(piece(batch, Array(streamRows[start..<end]), Array(tableRows[start..<end])))
                start = end
            }
        }
    }

    private func piece(_ batch: Batch, _ streamRows: [UInt32], _ tableRows: [Int32]) -> Batch {
        let m = streamRows.count
        let columns: [Column] = outputs.map { o in
            switch o {
            case .stream(let c):
                return streamRows.withUnsafeBufferPointer { batch.columns[c].gather($0.baseAddress, m) }
            case .table(let c):
                return table.columns[c].gatherOptional(tableRows)
            case .matched:
                let col = Column(.bool, capacity: max(m, 1))
                for t in tableRows { col.append(t >= 0) }
                return col
            }
        }
        return Batch(schema: outputSchema, columns: columns, count: m)
    }
}
