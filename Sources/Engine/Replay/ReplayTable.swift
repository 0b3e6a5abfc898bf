import Columnar

/// `'connector' = 'replay'`: a recorded file (any format the filesystem connector
/// reads, usually a capture file) fed into a query at its original pace, or faster.
///
/// Options: `'path'`, `'format'` (default: from the extension), `'replay.speed'`
/// (`1x` default, `10x`, `max`), `'replay.by'` (`event-time` default, or `arrival`),
/// `'replay.time-column'` (default: `arrival_time` with `arrival`, else the first
/// TIMESTAMP column). The other options go to the file's format.
struct ReplayTableProvider: TableProvider {
    let inner: TableProvider
    let timeColumn: Int
    let speed: ReplaySpeed
    let path: String

    var schema: Schema { inner.schema }
    var summary: String { "replay of \(inner.summary) at \(speed) by '\(schema[timeColumn].name)'" }

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        var innerOptions = context.options
        for key in ["connector", "replay.speed", "replay.by", "replay.time-column"] { innerOptions.removeValue(forKey: key) }
        innerOptions["connector"] = "filesystem"
        let inner = try Connectors.make(ConnectorContext(tableName: context.tableName, declared: context.declared, options: innerOptions))
        let speedText = context.options["replay.speed"] ?? "1x"
        guard let speed = ReplaySpeed(speedText) else {
            throw ConnectorError("'replay.speed' must be like '1x', '10x' or 'max', not '\(speedText)'", option: "replay.speed")
        }
        let by = context.options["replay.by"] ?? "event-time"
        guard by == "event-time" || by == "arrival" else {
            throw ConnectorError("'replay.by' must be 'event-time' or 'arrival', not '\(by)'", option: "replay.by")
        }
        let column = try Replay.timeColumn(inner.schema, named: context.options["replay.time-column"], by: by)
        return ReplayTableProvider(inner: inner, timeColumn: column, speed: speed, path: context.options["path"] ?? "")
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        var innerProjection = projection
        if !innerProjection.contains(timeColumn) { innerProjection.append(timeColumn) }
        let source = try inner.open(projection: innerProjection, options: options)
        return PacedSource(inner: source, timeColumn: innerProjection.firstIndex(of: timeColumn)!,
                           outputColumns: Array(0..<projection.count), speed: speed)
    }
}

/// `spate replay`: writes a recorded file's events at their original pace.
public enum Replay {
    /// The pacing column: `name` if given, else `arrival_time` when replaying by
    /// arrival, else the first TIMESTAMP column.
    static func timeColumn(_ schema: Schema, named name: String?, by: String) throws -> Int {
        if let name {
            guard let i = schema.index(of: name) else {
                throw ConnectorError("no column '\(name)' to pace by", option: "replay.time-column",
                                     hint: "the columns are: " + schema.fields.map(\.name).joined(separator: ", "))
            }
            guard case .timestamp = schema[i].type else {
                throw ConnectorError("the pacing column '\(name)' must be a TIMESTAMP", option: "replay.time-column")
            }
            return i
        }
        if by == "arrival" {
            guard let i = schema.index(of: "arrival_time") else {
                throw ConnectorError("the file has no 'arrival_time' column to replay by arrival", option: "replay.by",
                                     hint: "record it with `spate record --stamp-arrival`, or replay by event-time")
            }
            return i
        }
        guard let i = schema.fields.firstIndex(where: { if case .timestamp = $0.type { return true }; return false }) else {
            throw ConnectorError("the file has no TIMESTAMP column to pace by", option: "replay.time-column")
        }
        return i
    }

    /// Replays the file at `path` (format from `options`/extension) into `writer`,
    /// flushing after every chunk; returns the pacing it achieved.
    public static func run(path: String, declared: Schema, options: [String: String], speed: ReplaySpeed, by: String,
                           timeColumn: String?, writer: ResultWriter, batchCapacity: Int) throws -> PacingReport {
        var innerOptions = options
        innerOptions["path"] = path
        innerOptions["connector"] = "filesystem"
        let provider: TableProvider
        do {
            provider = try Connectors.make(ConnectorContext(tableName: "replay", declared: declared, options: innerOptions))
        } catch let e as ConnectorError {
            throw e.spateError
        }
        let column: Int
        do {
            column = try Replay.timeColumn(provider.schema, named: timeColumn, by: by)
        } catch let e as ConnectorError {
            throw e.spateError
        }
        let all = Array(0..<provider.schema.count)
        let source = try provider.open(projection: all, options: ExecutionOptions(workers: 1, batchCapacity: batchCapacity))
        let paced = PacedSource(inner: source, timeColumn: column, outputColumns: all, speed: speed)
        defer { paced.stop() }
        try writer.begin(paced.outputSchema)
        do {
            while let m = try paced.claimMorsel() {
                try paced.read(m) { try writer.write($0) }
                writer.flush()
                paced.finished(m)
                if writer.isClosed { break }
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return paced.report
    }
}
