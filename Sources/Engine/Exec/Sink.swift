import CPlatform
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
    /// Formats a batch ahead of its turn, on the thread that produced it, so workers
    /// format their results in parallel and the ordered write only copies bytes; nil
    /// when the writer cannot (then `write` does all of it in turn).
    func encode(_ batch: Batch) -> EncodedBatch?
    /// Writes a batch `encode` formatted, in its turn.
    func write(encoded: EncodedBatch) throws
}

/// A batch already formatted by its writer's `encode`.
public final class EncodedBatch: @unchecked Sendable {
    public let bytes: ByteBuffer
    public let rows: Int

    public init(bytes: ByteBuffer, rows: Int) {
        self.bytes = bytes
        self.rows = rows
    }
}

extension ResultWriter {
    public var isClosed: Bool { false }
    public func flush() {}
    public func encode(_ batch: Batch) -> EncodedBatch? { nil }
    public func write(encoded: EncodedBatch) throws {
        throw SpateError(.runtime, "this writer formats batches only in turn")
    }
}

/// How many results may wait in an `OrderedSink` for their turn to be written.
///
/// A worker more than `sequencesAhead` sequence numbers (morsels, window emissions)
/// past the next one to write, or whose results would take the waiting bytes past
/// `bytes`, waits for the writer. The defaults: 64 sequence numbers or 4 per CPU, which
/// keeps every worker busy when morsels finish out of order (the spread is about the
/// number of workers) and absorbs a morsel much slower than its neighbours; 64 MiB or
/// 4 MiB per CPU, eight morsels of output at the default 8 MiB morsel size on a small
/// machine, more where more workers have morsels in flight. A query holds about this
/// plus one morsel's output per worker, whatever the size of its input.
public struct BacklogLimit: Sendable, Equatable {
    public var sequencesAhead: Int
    public var bytes: Int

    public init(sequencesAhead: Int, bytes: Int) {
        self.sequencesAhead = max(0, sequencesAhead)
        self.bytes = max(0, bytes)
    }

    public static var standard: BacklogLimit {
        let cpus = Int(spate_available_cpus())
        return BacklogLimit(sequencesAhead: max(64, 4 * cpus), bytes: max(64 << 20, (4 << 20) * cpus))
    }

    /// No limit: results wait as long as they must (memory grows with a slow writer).
    public static let unlimited = BacklogLimit(sequencesAhead: Int.max, bytes: Int.max)
}

/// Puts results from several workers back in order: each producer submits the batches
/// of one sequence number (a morsel of the input, or a window emission) and they are
/// written in ascending sequence order.
///
/// Backpressure: batches wait ("park") here only while an earlier sequence number is
/// missing or the writer is busy. Once `limit` bounds the park, a submitter more than
/// `maxAhead` sequence numbers past the next one to write, or whose batches would take
/// the parked bytes past `byteBudget`, waits until the writer catches up; so a slow
/// destination (a pipe read slowly) slows the workers down instead of letting memory
/// grow with the input. The submitter of the next sequence number never waits (every
/// earlier one is written, so nothing could ever wake it): whoever holds the smallest
/// unwritten number can always hand it over. Work that fails never hands its number
/// over, so an owner that sets a limit must call `cancel()` when its work fails, or
/// the submitters waiting behind it would wait forever.
final class OrderedSink: @unchecked Sendable {
    private let monitor = Monitor()
    private var next = 0
    private var pending: [Int: (batches: [Prepared], bytes: Int)] = [:]

    /// A batch and, when the writer formats ahead, its bytes.
    private struct Prepared {
        var batch: Batch
        var encoded: EncodedBatch?
    }
    private let writer: ResultWriter
    /// Flush after every write (the input arrives over time: show results as they come).
    var streaming = false
    private var _rowsWritten = 0
    private var closed = false
    /// The writer failed or the query was cancelled: nothing more is written and
    /// waiting submitters give up.
    private var failed = false
    private var writerError: Error?
    /// Rows written so far.
    var rowsWritten: Int { monitor.locked { _rowsWritten } }

    /// How many sequence numbers past the next one to write may park (see
    /// `BacklogLimit`; unlimited until `limit`).
    private var maxAhead = Int.max
    /// Bytes of parked batches beyond which submitters (other than the next one) wait.
    private var byteBudget = Int.max

    /// Bounds the parked results from now on; the caller takes on calling `cancel()`
    /// when its work fails.
    func limit(_ l: BacklogLimit) {
        monitor.locked {
            maxAhead = l.sequencesAhead
            byteBudget = l.bytes
            monitor.broadcast()
        }
    }

    /// What is parked: sequence numbers, batches and their bytes.
    struct Backlog: Equatable, Sendable {
        var sequences = 0
        var batches = 0
        var bytes = 0
    }

    private var parked = Backlog()
    private var _highWater = Backlog()
    /// The most that was ever parked, each measure on its own (for tests and tuning).
    var highWater: Backlog { monitor.locked { _highWater } }

    init(_ writer: ResultWriter) { self.writer = writer }

    /// Whether a thread is writing now (it also writes whatever becomes ready while it
    /// does, so the others never wait for the writer: they leave their batches and go
    /// back to work, up to the backpressure bound).
    private var writing = false

    /// Hands over the batches of sequence number `seq` (each number exactly once);
    /// writes them, and whatever they make ready, when it is their turn and no other
    /// thread is writing. Waits while `seq` is too far ahead (see the type's comment).
    /// Once the writer has failed every submitter throws its error (so whichever error
    /// an owner keeps first is the real one); after `cancel()` they throw `Aborted`.
    func submit(_ seq: Int, _ results: [Batch]) throws {
        let bytes = OrderedSink.bytes(of: results)
        let batches = results.map { b in Prepared(batch: b, encoded: b.activeCount > 0 ? writer.encode(b) : nil) }
        var turn: [Prepared]? = try monitor.locked {
            while true {
                if failed { throw writerError ?? Aborted() }
                // The destination takes no more rows: drop them, the workers stop.
                if closed { return nil }
                if seq == next { break }
                if seq - next <= maxAhead && (parked.bytes == 0 || parked.bytes + bytes <= byteBudget) { break }
                monitor.wait()
            }
            pending[seq] = (batches, bytes)
            parked.sequences += 1
            parked.batches += batches.count
            parked.bytes += bytes
            _highWater.sequences = max(_highWater.sequences, parked.sequences)
            _highWater.batches = max(_highWater.batches, parked.batches)
            _highWater.bytes = max(_highWater.bytes, parked.bytes)
            guard !writing, let ready = takeNext() else { return nil }
            writing = true
            return ready
        }
        while let ready = turn {
            var rows = 0
            var nowClosed = false
            do {
                for p in ready where p.batch.activeCount > 0 && !nowClosed {
                    if let e = p.encoded { try writer.write(encoded: e) } else { try writer.write(p.batch) }
                    rows += p.batch.activeCount
                    nowClosed = writer.isClosed
                }
                if streaming { writer.flush() }
            } catch {
                monitor.locked {
                    writing = false
                    failed = true
                    writerError = error
                    dropParked()
                    monitor.broadcast()
                }
                throw error
            }
            turn = monitor.locked {
                _rowsWritten += rows
                if nowClosed && !closed {
                    closed = true
                    dropParked()
                    monitor.broadcast()
                }
                if !closed && !failed, let more = takeNext() { return more }
                writing = false
                return nil
            }
        }
    }

    /// The query failed elsewhere: the sequence numbers of the failed work will never
    /// come, so submitters waiting for them must stop waiting (they throw `Aborted`),
    /// and nothing more is written.
    func cancel() {
        monitor.locked {
            guard !failed else { return }
            failed = true
            dropParked()
            monitor.broadcast()
        }
    }

    /// The writer takes no more rows: workers stop claiming input.
    var stopped: Bool { monitor.locked { closed } }

    /// Takes the next sequence number's batches if they are parked (lock held).
    private func takeNext() -> [Prepared]? {
        guard let entry = pending.removeValue(forKey: next) else { return nil }
        next += 1
        parked.sequences -= 1
        parked.batches -= entry.batches.count
        parked.bytes -= entry.bytes
        // Submitters waiting for the writer to catch up may now fit.
        monitor.broadcast()
        return entry.batches
    }

    /// Forgets the parked batches, which will never be written (lock held).
    private func dropParked() {
        pending.removeAll()
        parked = Backlog()
    }

    /// Memory the batches hold: their buffers' capacities (a shared column counts once
    /// per batch, which errs on the side of waiting early).
    static func bytes(of batches: [Batch]) -> Int {
        var total = 0
        for b in batches {
            for c in b.columns {
                total += c.values.capacity + (c.validity?.capacity ?? 0) + (c.arena?.capacity ?? 0)
            }
            total += b.selection?.buffer.capacity ?? 0
        }
        return total
    }
}
