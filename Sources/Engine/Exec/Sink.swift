import Columnar

/// Receives a query's result batches, in order, on any thread (never two at once).
public protocol ResultWriter: AnyObject {
    func begin(_ schema: Schema) throws
    func write(_ batch: Batch) throws
    /// Called once after the last batch; a file writer renames its temporary file here.
    func finish() throws
    /// Called instead of `finish` when the query failed: discard partial output.
    func abandon()
    /// True once the destination takes no more rows (stdout's reader went away): the
    /// query stops early.
    var isClosed: Bool { get }
    /// Writes out what is buffered (streaming inputs show results as they come).
    func flush()
}

extension ResultWriter {
    public var isClosed: Bool { false }
    public func flush() {}
}

/// Puts results from several workers back in order: each producer submits the batches
/// of one sequence number (a morsel of the input, or a window emission) and they are
/// written in ascending sequence order.
final class OrderedSink: @unchecked Sendable {
    private let monitor = Monitor()
    private var next = 0
    private var pending: [Int: [Batch]] = [:]
    private let writer: ResultWriter
    /// Flush after every write (the input arrives over time: show results as they come).
    var streaming = false
    private(set) var rowsWritten = 0
    private var closed = false

    init(_ writer: ResultWriter) { self.writer = writer }

    func submit(_ seq: Int, _ batches: [Batch]) throws {
        try monitor.locked {
            pending[seq] = batches
            while let ready = pending.removeValue(forKey: next) {
                for b in ready where b.activeCount > 0 && !closed {
                    try writer.write(b)
                    rowsWritten += b.activeCount
                    closed = writer.isClosed
                }
                next += 1
            }
            if streaming { writer.flush() }
        }
    }

    /// The writer takes no more rows: workers stop claiming input.
    var stopped: Bool { monitor.locked { closed } }

    /// Sequence numbers submitted out of order and not yet written.
    var backlog: Int { monitor.locked { pending.count } }
}
