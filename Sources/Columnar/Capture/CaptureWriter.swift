#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels

/// Settings of a capture file writer. The defaults were picked by measurement
/// (BENCHMARKS.md, "Capture files").
public struct CaptureWriterOptions: Sendable {
    /// Rows per block (the unit of parallel reading, seeking and damage).
    public var blockRows: Int
    /// A block is also closed once its string bytes reach this many (so memory stays
    /// bounded whatever the row width).
    public var blockBytes: Int
    /// zstd level of the chunks.
    public var level: Int32
    /// Threads that encode and compress blocks (0: on the calling thread).
    public var threads: Int
    /// A bit-packed chunk stays zstd-compressed only when that saves at least this
    /// fraction of its size: uncompressed bit-packed chunks decode several times faster.
    public var minZstdSaving: Double
    /// False: no chunk is compressed (bigger files, the fastest reads).
    public var zstd: Bool

    public init(blockRows: Int = 131_072, blockBytes: Int = 16 << 20, level: Int32 = 1, threads: Int? = nil,
                minZstdSaving: Double = 0.2, zstd: Bool = true) {
        self.blockRows = max(1, min(blockRows, Int(Int32.max)))
        self.blockBytes = max(1, blockBytes)
        self.level = level
        self.threads = max(0, threads ?? captureCPUCount())
        self.minZstdSaving = minZstdSaving
        self.zstd = zstd
    }
}

/// What a finished capture file holds.
public struct CaptureSummary: Sendable {
    public var rows: Int
    public var blocks: Int
    public var bytes: Int
    public var minTime: Int64
    public var maxTime: Int64
}

/// Writes a capture file block by block.
///
/// `append` buffers rows until a block is full (`blockRows` rows or `blockBytes` of
/// strings), then hands the block to an encoder thread; blocks are compressed in
/// parallel and written in order, and at most two blocks per thread are in flight, so
/// memory stays bounded whatever the input size. The file is written under a
/// temporary name and renamed over `path` by `finish()`, after the footer: a capture
/// file that exists is complete. `abandon()` removes the temporary file.
///
/// `append` and `finish` are called from one thread at a time.
public final class CaptureFileWriter: @unchecked Sendable {
    public var path: String? { file.path }
    public let schema: Schema
    public let eventTimeColumn: Int?
    public let options: CaptureWriterOptions
    /// Where the bytes go (a temporary file renamed over `path` on success).
    private let file: OutputFile
    private var closed = false

    // Rows waiting for the current block (slices of batches the caller handed over).
    private var pending: [(batch: Batch, start: Int, count: Int)] = []
    private var pendingRows = 0
    private var pendingBytes = 0
    private let hasStrings: Bool

    // Shared with the encoder threads, under `monitor`.
    private let monitor = Monitor()
    private var queue: [(seq: Int, slices: [(batch: Batch, start: Int, count: Int)], rows: Int)] = []
    private var queuedRows = 0
    private var encodingRows = 0
    private var nextSeq = 0
    private var nextWrite = 0
    private var fileOffset = 0
    private var blocks: [BlockInfo] = []
    private var failure: SpateError?
    private var stopping = false
    private var threads: [pthread_t] = []
    private var inlineEncoder: BlockEncoder?

    /// The most rows the writer held at once (buffered, queued and being encoded).
    public private(set) var peakBufferedRows = 0

    /// `path` nil or "-" writes to standard output (no temporary file).
    public init(path: String?, schema: Schema, eventTimeColumn: Int?, options: CaptureWriterOptions = CaptureWriterOptions()) throws {
        self.schema = schema
        self.eventTimeColumn = eventTimeColumn
        self.options = options
        hasStrings = schema.fields.contains { $0.type == .string }
        if let e = eventTimeColumn {
            guard e >= 0, e < schema.count, case .timestamp = schema[e].type else {
                throw SpateError(.usage, "the event-time column of a capture file must be a TIMESTAMP column",
                                 hint: "name a TIMESTAMP column, or none")
            }
        }
        file = try OutputFile(path: path)
        let header = CaptureHeader(schema: schema, eventTimeColumn: eventTimeColumn, blockRows: options.blockRows, size: 0).encode()
        do {
            try header.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
        } catch {
            abandon()
            throw error
        }
        fileOffset = header.count
        if options.threads == 0 {
            inlineEncoder = BlockEncoder(schema: schema, eventTimeColumn: eventTimeColumn, options: options)
        } else {
            for _ in 0..<options.threads {
                let encoder = BlockEncoder(schema: schema, eventTimeColumn: eventTimeColumn, options: options)
                guard let t = startThread({ [self] in encoderLoop(encoder) }) else { break }
                threads.append(t)
            }
            if threads.isEmpty {
                inlineEncoder = BlockEncoder(schema: schema, eventTimeColumn: eventTimeColumn, options: options)
            }
        }
    }

    deinit {
        if !closed { abandon() }
    }

    /// Adds the live rows of `batch` (same columns as the schema).
    public func append(_ batch: Batch) throws {
        precondition(batch.columns.count == schema.count, "batch and capture schema disagree")
        if let f = monitor.locked({ failure }) { throw f }
        let b = batch.selection == nil ? batch : batch.compacted()
        var start = 0
        while start < b.count {
            var n = min(b.count - start, options.blockRows - pendingRows)
            var bytes = hasStrings ? CaptureCopy.stringBytes(b, start: start, count: n) : 0
            if pendingBytes + bytes > options.blockBytes && n > 1 {
                // The most rows (at least one) whose strings still fit in the block.
                var lo = 1, hi = n
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if pendingBytes + CaptureCopy.stringBytes(b, start: start, count: mid) <= options.blockBytes { lo = mid } else { hi = mid - 1 }
                }
                n = lo
                bytes = CaptureCopy.stringBytes(b, start: start, count: n)
            }
            pending.append((b, start, n))
            pendingRows += n
            pendingBytes += bytes
            start += n
            if pendingRows >= options.blockRows || pendingBytes >= options.blockBytes { try sealBlock() }
        }
        let held = pendingRows + monitor.locked { queuedRows + encodingRows }
        if held > peakBufferedRows { peakBufferedRows = held }
    }

    /// Hands the pending rows to an encoder (waiting while too many blocks are in flight).
    private func sealBlock() throws {
        guard pendingRows > 0 else { return }
        let slices = pending, rows = pendingRows
        pending.removeAll(keepingCapacity: true)
        pendingRows = 0
        pendingBytes = 0
        if let encoder = inlineEncoder {
            let seq = nextSeq
            nextSeq += 1
            let held = rows
            if held > peakBufferedRows { peakBufferedRows = held }
            try encodeAndWrite(encoder, seq: seq, slices: slices)
            return
        }
        try monitor.locked {
            while queue.count >= threads.count && failure == nil { monitor.wait() }
            if let f = failure { throw f }
            queue.append((nextSeq, slices, rows))
            queuedRows += rows
            nextSeq += 1
            let held = queuedRows + encodingRows
            if held > peakBufferedRows { peakBufferedRows = held }
            monitor.broadcast()
        }
    }

    private func encoderLoop(_ encoder: BlockEncoder) {
        while true {
            let job: (seq: Int, slices: [(batch: Batch, start: Int, count: Int)], rows: Int)? = monitor.locked {
                while queue.isEmpty && !stopping { monitor.wait() }
                if queue.isEmpty { return nil }
                let j = queue.removeFirst()
                queuedRows -= j.rows
                encodingRows += j.rows
                monitor.broadcast()
                return j
            }
            guard let job else { return }
            do {
                try encodeAndWrite(encoder, seq: job.seq, slices: job.slices)
            } catch let e as SpateError {
                monitor.locked {
                    if failure == nil { failure = e }
                    monitor.broadcast()
                }
            } catch {
                monitor.locked {
                    if failure == nil { failure = SpateError(.io, "\(error)") }
                    monitor.broadcast()
                }
            }
            monitor.locked {
                encodingRows -= job.rows
                monitor.broadcast()
            }
        }
    }

    /// Gathers and encodes a block, waits for its turn, and appends it to the file.
    private func encodeAndWrite(_ encoder: BlockEncoder, seq: Int, slices: [(batch: Batch, start: Int, count: Int)]) throws {
        encoder.reset()
        for s in slices { encoder.gather(s.batch, start: s.start, count: s.count) }
        var block = encoder.encode(index: seq, offset: 0)
        let size = encoder.outputCount
        let ready: Bool = monitor.locked {
            while nextWrite != seq && failure == nil { monitor.wait() }
            return failure == nil
        }
        guard ready else { return }
        // Only this thread writes now (it holds the turn until nextWrite advances).
        block.offset = fileOffset
        do {
            try writeAll(encoder.output.pointer, size)
        } catch {
            monitor.locked {
                if failure == nil { failure = error as? SpateError }
                monitor.broadcast()
            }
            throw error
        }
        monitor.locked {
            fileOffset += size
            blocks.append(block)
            nextWrite += 1
            monitor.broadcast()
        }
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws {
        try file.write(p, n)
    }

    private func stopThreads() {
        monitor.locked {
            stopping = true
            monitor.broadcast()
        }
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }

    /// Writes the last block, the footer and the trailer, and moves the file into place.
    @discardableResult
    public func finish() throws -> CaptureSummary {
        precondition(!closed, "capture writer already closed")
        do {
            try sealBlock()
            stopThreads()
            if let f = failure { throw f }
            let rows = blocks.reduce(0) { $0 + $1.rows }
            let lo = blocks.map(\.minTime).min() ?? Int64.max
            let hi = blocks.map(\.maxTime).max() ?? Int64.min
            let footer = CaptureFooter.encode(blocks: blocks, rows: rows, minTime: lo, maxTime: hi, columns: schema.count)
            let trailer = CaptureFooter.trailer(footerOffset: fileOffset, footerLength: footer.count)
            try footer.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
            try trailer.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
            let total = fileOffset + footer.count + trailer.count
            closed = true
            try file.commit()
            return CaptureSummary(rows: rows, blocks: blocks.count, bytes: total, minTime: lo, maxTime: hi)
        } catch {
            if !closed { abandon() }
            throw error
        }
    }

    /// Discards the file being written (the target path is left as it was).
    public func abandon() {
        guard !closed else { return }
        closed = true
        monitor.locked {
            if failure == nil { failure = SpateError(.runtime, "capture writer abandoned") }
            queue.removeAll()
            queuedRows = 0
            monitor.broadcast()
        }
        stopThreads()
        file.discard()
    }
}

