import Columnar

/// `spate gen nexmark`: the generator's rows written to any output format.
public enum NexmarkExport {
    /// What a generation run reports.
    public struct Statistics: Sendable {
        public var events: Int64
        public var rows: Int
        public var seconds: Double
    }

    /// Generates one Nexmark table and writes it to `writer` (which this begins and
    /// finishes, or abandons on an error).
    ///
    /// - Parameters:
    ///   - options: the connector's options (`events.num`, `first-event.rate`, `seed`,
    ///     `nexmark.table`, ...; see `NexmarkConfig`); an invalid one is a usage error
    ///     naming it.
    ///   - execution: workers (each generates whole morsels; the output stays in event
    ///     order), batch capacity and morsel size.
    @discardableResult
    public static func write(options: [String: String], to writer: ResultWriter,
                             execution: ExecutionOptions = ExecutionOptions()) throws -> Statistics {
        let provider: TableProvider
        do {
            var all = options
            all["connector"] = "nexmark"
            provider = try NexmarkTableProvider.make(ConnectorContext(tableName: "nexmark", declared: Schema([]), options: all))
        } catch let e as ConnectorError {
            throw SpateError(.usage, e.message, hint: e.hint)
        }
        let stats = try Convert.run(provider: provider, writer: writer, options: execution)
        let events = (provider as! NexmarkTableProvider).generator.eventCount
        return Statistics(events: events, rows: stats.rowsOut, seconds: stats.seconds)
    }
}
