import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer with the appends result writers format with.
public class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity * 2, count + more))
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = max(capacity * 2, count + more)
    }

    @inline(__always) func append(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count += n
    }

    func append(_ s: String) {
        var copy = s
        copy.withUTF8 { if $0.count > 0 { append($0.baseAddress!, $0.count) } }
    }

    func append(_ s: StaticString) { append(s.utf8Start, s.utf8CodeUnitCount) }

    @inline(__always) func appendInt(_ v: Int64) {
        reserve(20)
        var m = v.magnitude
        if v < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var t = m / 10
        while t > 0 { digits += 1; t /= 10 }
        var k = count + digits - 1
        repeat {
            base[k] = UInt8(truncatingIfNeeded: 48 + m % 10)
            m /= 10
            k -= 1
        } while m > 0
        count += digits
    }

    @inline(__always) func appendTimestamp(_ ms: Int64) {
        reserve(Timestamp.maxFormattedLength)
        count += Timestamp.format(millis: ms, into: base + count)
    }

    /// Empties the buffer (keeping its memory).
    func clear() { count = 0 }
}

/// A result destination: standard output, or a file written under a temporary name
/// in the same directory, fsynced and renamed over the target by `finish`, so a
/// failed or interrupted run never leaves a half-written file (nor clobbers the
/// previous one). Output is buffered; a closed stdout pipe stops writing quietly.
final class BufferedResultFile: ByteBuffer {
    private let file: OutputFile
    var path: String? { file.path }
    /// Set when stdout's reader went away (`spate ... | head`): the rest is discarded.
    var pipeClosed: Bool { file.pipeClosed }

    /// `path` nil or "-" writes to standard output.
    init(path: String?) throws {
        file = try OutputFile(path: path)
        super.init(capacity: 1 << 20)
    }

    /// True when writing to a terminal.
    var isTerminal: Bool { file.isTerminal }

    /// Writes the buffer out when it holds more than `threshold` bytes.
    @inline(__always) func flushIfFull(_ threshold: Int = 1 << 20) throws {
        if count >= threshold { try flush() }
    }

    func flush() throws {
        try file.write(base, count)
        clear()
    }

    func finish() throws {
        try flush()
        try file.commit()
    }

    func abandon() { file.discard() }
}
