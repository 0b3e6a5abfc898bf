import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CSV arriving over a pipe (standard input), cut into chunks of whole records as it
/// comes: `nextChunk` returns as soon as at least one complete record is buffered
/// (it never waits for the end of the input), and takes whatever else is already
/// readable, up to a size, so a fast producer gives big chunks and a slow one prompt
/// small ones.
///
/// Record ends are found with the dialect's exact rules (quoted line breaks, escapes,
/// comments), read tolerantly so that a bad record ends where the reader's recovery
/// says it does. Not thread-safe: one caller at a time (the source claims under a lock).
public final class CSVStream: @unchecked Sendable {
    public let fd: Int32
    public let name: String
    let options: CSVOptions
    private var pending: [UInt8] = []
    /// Bytes of `pending` already scanned for record ends.
    private var scanned = 0
    /// Position in `pending` just after the last complete record.
    private var lastCut = 0
    private var state: ck_csv_index_state
    private var eof = false
    private var linesBefore = 0
    private var chunks = 0
    private var seps = [UInt32](repeating: 0, count: 1 << 14)

    public init(fd: Int32, name: String = "<stdin>", options: CSVOptions) {
        self.fd = fd
        self.name = name
        self.options = options
        state = ck_csv_index_state()
        state.prev_sep = 1
        state.line_start = 1
        state.last_open = -1
        state.err_pos = -1
    }

    nonisolated(unsafe) private static var stdinStream: CSVStream?
    private static let stdinLock = Monitor()

    /// The process's standard input, shared by whoever reads it (schema inference
    /// peeks at it, then a query reads it).
    public static func standardInput(options: CSVOptions) throws -> CSVStream {
        try options.validate()
        return stdinLock.locked {
            if let s = stdinStream, s.options == options { return s }
            let s = CSVStream(fd: 0, options: options)
            stdinStream = s
            return s
        }
    }

    /// The buffered bytes after reading until `records` line breaks (or 1 MiB, or the
    /// end) are there; nothing is consumed.
    public func peek(records: Int) throws -> [UInt8] {
        while !eof && pending.count < 1 << 20 && pending.lazy.filter({ $0 == 10 }).count < records {
            try fill(blocking: true, limit: 1 << 20)
        }
        return pending
    }

    /// The next chunk of whole records, with the number of line breaks before it and
    /// its sequence number; nil at the end of the input. Blocks until a record is
    /// complete.
    ///
    /// With `idleAfter` (milliseconds), returns an empty chunk (index -1) when no
    /// complete record arrived in that time, so the caller can make progress (a
    /// streaming query's workers hand over their windows between morsels).
    public func nextChunk(maxBytes: Int, idleAfter: Int32? = nil) throws -> (bytes: [UInt8], linesBefore: Int, index: Int)? {
        while true {
            scan()
            if eof {
                guard !pending.isEmpty else { return nil }
                return take(pending.count)
            }
            if lastCut > 0 {
                // Take what else is readable right now, then cut at the last record.
                try fill(blocking: false, limit: maxBytes)
                scan()
                if eof { return take(pending.count) }
                return take(lastCut)
            }
            if pending.count > 1 << 29 {
                throw SpateError(.data, "a record on \(name) is longer than 512 MiB", path: name,
                                 line: linesBefore + 1, column: 1, hint: "check for an unbalanced quote")
            }
            if let idleAfter {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, idleAfter) == 0 { return ([], linesBefore, -1) }
            }
            try fill(blocking: true, limit: max(maxBytes, pending.count + (1 << 16)))
        }
    }

    private func take(_ n: Int) -> (bytes: [UInt8], linesBefore: Int, index: Int) {
        let bytes = Array(pending[0..<n])
        pending.removeFirst(n)
        scanned -= n
        lastCut = 0
        let result = (bytes, linesBefore, chunks)
        linesBefore += bytes.withUnsafeBufferPointer { b in b.baseAddress.map { ck_csv_count_byte($0, b.count, 10) } ?? 0 }
        chunks += 1
        return result
    }

    /// Finds record ends in the bytes not scanned yet.
    private func scan() {
        var dialect = options.dialect
        dialect.strict_quotes = 0
        dialect.tolerant = 1
        while scanned < pending.count {
            var n = 0
            let consumed = pending.withUnsafeBufferPointer { b in
                seps.withUnsafeMutableBufferPointer { s in
                    ck_csv_index_general(b.baseAddress! + scanned, b.count - scanned, false, &dialect,
                                         UInt32(truncatingIfNeeded: scanned), &state, s.baseAddress!, s.count, &n, false)
                }
            }
            for i in stride(from: n - 1, through: 0, by: -1) where seps[i] & CK_CSV_LF != 0 {
                lastCut = Int(seps[i] & CK_CSV_POS) + 1
                break
            }
            scanned += consumed
            if consumed == 0 { break }
        }
    }

    /// Reads once (blocking) or while data is ready (not blocking), up to `limit`
    /// buffered bytes.
    private func fill(blocking: Bool, limit: Int) throws {
        var first = blocking
        while pending.count < limit {
            if !first {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 0) <= 0 { return }
            }
            first = false
            let want = min(1 << 16, limit - pending.count)
            let old = pending.count
            pending.append(contentsOf: repeatElement(0, count: want))
            let r = pending.withUnsafeMutableBufferPointer { read(fd, $0.baseAddress! + old, want) }
            if r < 0 {
                pending.removeLast(want)
                if errno == EINTR { first = blocking; continue }
                throw SpateError(.io, "cannot read \(name): \(String(cString: strerror(errno)))", path: name)
            }
            pending.removeLast(want - r)
            if r == 0 {
                eof = true
                return
            }
        }
    }
}
