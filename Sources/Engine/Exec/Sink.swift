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
    private var _rowsWritten = 0
    private var closed = false
    /// Rows written so far.
    var rowsWritten: Int { monitor.locked { _rowsWritten } }

    init(_ writer: ResultWriter) { self.writer = writer }

    /// Whether a thread is writing now (it also writes whatever becomes ready while it
    /// does, so the others never wait for the writer: they leave their batches and go
    /// back to work).
    private var writing = false

    func submit(_ seq: Int, _ batches: [Batch]) throws {
        var turn: [Batch]? = monitor.locked {
            pending[seq] = batches
            guard !writing, let ready = pending.removeValue(forKey: next) else { return nil }
            writing = true
            next += 1
            return ready
        }
        while let ready = turn {
            var rows = 0
            var nowClosed = false
            do {
                for b in ready where b.activeCount > 0 && !nowClosed {
                    try writer.write(b)
                    rows += b.activeCount
                    nowClosed = writer.isClosed
                }
                if streaming { writer.flush() }
            } catch {
                monitor.locked { writing = false }
                throw error
            }
            turn = monitor.locked {
                _rowsWritten += rows
                closed = closed || nowClosed
                if !closed, let more = pending.removeValue(forKey: next) {
                    next += 1
                    return more
                }
                writing = false
                return nil
            }
        }
    }

    /// The writer takes no more rows: workers stop claiming input.
    var stopped: Bool { monitor.locked { closed } }
}
