import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// `spate record`: reads a stream (stdin or a file, any input format) into a writer —
/// usually a capture file — optionally stamping each row with its arrival time.
public enum Record {
    /// What a recording saw.
    public struct Summary: Sendable {
        public var rows: Int
        public var seconds: Double
    }

    /// The declared columns of a `--schema "a BIGINT, ts TIMESTAMP(3)"` text.
    public static func schema(_ text: String) throws -> Schema {
        let sql = "CREATE TABLE t (\(text)) WITH ('connector' = 'nothing')"
        let statements: [Statement]
        do {
            statements = try SQLParser.parse(sql)
        } catch {
            throw SpateError(.usage, "cannot read the schema '\(text)': \(error.message)",
                             hint: "write columns as in CREATE TABLE: \"id BIGINT, name VARCHAR, ts TIMESTAMP(3)\"")
        }
        guard case .createTable(let c)? = statements.first else {
            throw SpateError(.usage, "cannot read the schema '\(text)'")
        }
        var fields: [Field] = []
        for column in c.columns {
            guard case .physical(let t) = column.kind else {
                throw SpateError(.usage, "the schema may only list columns and their types")
            }
            do {
                fields.append(Field(column.name.name, try Binder.dataType(t), nullable: !t.isNotNull))
            } catch {
                throw SpateError(.usage, error.message, hint: error.hint)
            }
        }
        return Schema(fields)
    }

    /// Records everything `input` (a path or "-") yields into `writer`. `options` are the
    /// table options of the input (format, csv.*, ...).
    public static func run(input: String, declared: Schema, options: [String: String], stampArrival: Bool,
                           writer: ResultWriter, batchCapacity: Int) throws -> Summary {
        var tableOptions = options
        tableOptions["connector"] = "filesystem"
        tableOptions["path"] = input
        let provider: TableProvider
        do {
            provider = try Connectors.make(ConnectorContext(tableName: "input", declared: declared, options: tableOptions))
        } catch let e as ConnectorError {
            throw e.spateError
        }
        let all = Array(0..<provider.schema.count)
        let source = try provider.open(projection: all, options: ExecutionOptions(workers: 1, batchCapacity: batchCapacity))
        var schema = provider.schema
        if stampArrival {
            if schema.index(of: "arrival_time") != nil {
                throw SpateError(.usage, "the input already has an 'arrival_time' column", hint: "leave out --stamp-arrival")
            }
            schema.fields.append(Field("arrival_time", .timestamp(.millisecond), nullable: false))
        }
        let start = monotonicSeconds()
        var rows = 0
        try writer.begin(schema)
        do {
            while let m = try source.claimMorsel() {
                try source.read(m) { batch in
                    var b = batch.compacted()
                    if stampArrival {
                        let now = wallClockMillis()
                        b = Batch(schema: schema, columns: b.columns + [Evaluator.constantColumn(.int(now), .timestamp(.millisecond), b.count)],
                                  count: b.count)
                    } else {
                        b.schema = schema
                    }
                    rows += b.count
                    try writer.write(b)
                }
                source.finished(m)
                if source.isStreaming { writer.flush() }
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return Summary(rows: rows, seconds: monotonicSeconds() - start)
    }
}
