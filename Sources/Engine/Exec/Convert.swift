import Columnar

/// `spate convert` (and `spate gen`): copies every row of a table (any connector or
/// format) into a result writer (any output format), in input order. Workers parse morsels in
/// parallel; the writer receives them in order (a capture writer then compresses its
/// blocks on threads of its own).
public enum Convert {
    public static func run(provider: TableProvider, writer: ResultWriter, options: ExecutionOptions) throws -> RunStatistics {
        let start = monotonicSeconds()
        let schema = provider.schema
        let source = try provider.open(projection: Array(0..<schema.count), options: options)
        let sink = OrderedSink(writer)
        sink.streaming = source.isStreaming
        // A slow destination slows the workers (bounded memory whatever the input size).
        sink.limit(options.backlog)
        let state = ConvertState()
        do {
            try writer.begin(schema)
            runThreads(options.workers) { _ in
                do {
                    while !sink.stopped, !state.failed, let m = try source.claimMorsel() {
                        var batches: [Batch] = []
                        var rows = 0
                        try source.read(m) { b in
                            rows += b.count
                            batches.append(Batch(schema: schema, columns: b.columns, count: b.count, selection: b.selection))
                        }
                        source.finished(m)
                        try sink.submit(m.index, batches)
                        state.add(rows)
                    }
                } catch {
                    // Recorded before the cancel, so the real error wins over the
                    // `Aborted` of the submitters the cancel releases.
                    state.fail(error)
                    sink.cancel()
                }
            }
            if let e = state.error { throw e }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        var stats = RunStatistics()
        stats.rowsRead = state.rows
        stats.rowsOut = sink.rowsWritten
        stats.bytesRead = source.byteCount ?? 0
        stats.seconds = monotonicSeconds() - start
        return stats
    }
}

private final class ConvertState: @unchecked Sendable {
    private let monitor = Monitor()
    private var _rows = 0
    private var _error: Error?

    var rows: Int { monitor.locked { _rows } }
    var error: Error? { monitor.locked { _error } }
    var failed: Bool { monitor.locked { _error != nil } }

    func add(_ n: Int) { monitor.locked { _rows += n } }
    func fail(_ e: Error) { monitor.locked { if _error == nil { _error = e } } }
}
