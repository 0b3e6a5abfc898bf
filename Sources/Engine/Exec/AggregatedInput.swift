import Columnar

/// A window aggregation read as a table: the input of a join that aggregates (Nexmark
/// q8 joins two window aggregations). Opening it runs the aggregation (its own workers)
/// in the background; its result batches, emitted window by window as its watermark
/// passes them, are this source's morsels, one each, in emission order.
final class AggregatedInputProvider: TableProvider, @unchecked Sendable {
    let plan: QueryPlan
    var schema: Schema { plan.outputSchema }
    var summary: String { "the window aggregation over " + plan.scan.provider.summary }

    init(plan: QueryPlan) { self.plan = plan }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let source = try plan.scan.provider.open(projection: plan.scan.projection, options: options)
        return AggregatedSource(plan: plan, source: source, options: options, projection: projection)
    }
}

/// The running aggregation and the batches it has emitted but the join has not claimed.
final class AggregatedSource: BatchSource, ResultWriter, @unchecked Sendable {
    let outputSchema: Schema
    private let monitor = Monitor()
    private var ready: [Batch] = []
    private var claimed = 0
    private var batches: [Int: Batch] = [:]
    private var done = false
    private var failure: Error?
    private let inner: BatchSource
    /// The result columns the join reads (indexes into the aggregation's output).
    private let projection: [Int]

    init(plan: QueryPlan, source: BatchSource, options: ExecutionOptions, projection: [Int]) {
        outputSchema = Schema(projection.map { plan.outputSchema[$0] })
        inner = source
        self.projection = projection
        let run = QueryRun(plan: plan, source: source, options: options, writer: self)
        startThread { [self] in
            do {
                _ = try run.run()
                monitor.locked { done = true; monitor.broadcast() }
            } catch {
                monitor.locked { failure = error; done = true; monitor.broadcast() }
            }
        }
    }

    /// Rows of the aggregation arrive over time (windows close as it reads).
    var isStreaming: Bool { true }
    var byteCount: Int? { inner.byteCount }

    func claimMorsel() throws -> Morsel? {
        try monitor.locked {
            while true {
                if let failure { throw failure }
                if !ready.isEmpty {
                    let b = ready.removeFirst()
                    let m = Morsel(index: claimed, start: 0, end: b.count)
                    batches[claimed] = b
                    claimed += 1
                    return m
                }
                if done { return nil }
                monitor.wait()
            }
        }
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        guard let b = monitor.locked({ batches.removeValue(forKey: morsel.index) }) else { return }
        try emit(b)
    }

    // MARK: ResultWriter (the aggregation writes here)

    func begin(_ schema: Schema) throws {}

    func write(_ batch: Batch) throws {
        let all = batch.compacted()
        guard all.count > 0 else { return }
        let b = Batch(schema: outputSchema, columns: projection.map { all.columns[$0] }, count: all.count)
        monitor.locked {
            ready.append(b)
            monitor.broadcast()
        }
    }

    func finish() throws {}
    func abandon() {}
}
