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
        let start = monotonicSeconds()
        let source = try provider.open(projection: Array(0..<provider.schema.count), options: execution)
        let sink = OrderedSink(writer)
        sink.streaming = source.isStreaming
        let failure = FirstError()
        do {
            try writer.begin(source.outputSchema)
            runThreads(max(1, execution.workers)) { _ in
                do {
                    while !sink.stopped, failure.error == nil, let m = try source.claimMorsel() {
                        var out: [Batch] = []
                        try source.read(m) { out.append($0) }
                        try sink.submit(m.index, out)
                    }
                } catch {
                    failure.record(error)
                }
            }
            if let e = failure.error { throw e }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        let events = (provider as! NexmarkTableProvider).generator.eventCount
        return Statistics(events: events, rows: sink.rowsWritten, seconds: monotonicSeconds() - start)
    }
}

/// The first error of several threads.
final class FirstError: @unchecked Sendable {
    private let monitor = Monitor()
    private var first: Error?

    var error: Error? { monitor.locked { first } }

    func record(_ e: Error) { monitor.locked { if first == nil { first = e } } }
}
