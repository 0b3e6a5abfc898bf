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

    /// Appends `v` as `ValueFormat.double` writes it (Swift's shortest round-trip form).
    /// Values with at most three decimals between 0.001 and 2^40 (counts, sums, most
    /// averages of money) take a direct path: there a value's round-trip interval is
    /// narrower than 0.0005, so a decimal with at most three places that reads back as v
    /// (checked exactly: N and 10^k are exact doubles and division rounds correctly) is
    /// the only one of its length, hence the shortest form once trailing zeros are
    /// dropped, and Swift prints it positionally; the rest go through `description`.
    func appendDouble(_ v: Double) {
        let magnitude = Swift.abs(v)
        if magnitude >= 0.001 && magnitude < 1.0e12 {
            var scale = 1.0
            for k in 0...3 {
                let scaled = v * scale
                if scaled == scaled.rounded(), Double(Int64(scaled)) / scale == v {
                    var n = Int64(scaled), decimals = k
                    while decimals > 0 && n % 10 == 0 {
                        n /= 10
                        decimals -= 1
                    }
                    appendFixed(n, decimals: decimals)
                    return
                }
                scale *= 10
            }
        }
        append(ValueFormat.double(v))
    }

    /// `n / 10^decimals` in positional notation, at least one decimal ("12.0", "0.25").
    private func appendFixed(_ n: Int64, decimals: Int) {
        reserve(24)
        if n < 0 { append(UInt8(ascii: "-")) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var m = n.magnitude
            var count = 0
            repeat {
                digits[count] = UInt8(truncatingIfNeeded: 48 + m % 10)
                m /= 10
                count += 1
            } while m > 0
            while count <= decimals {  // a leading zero before the point
                digits[count] = 48
                count += 1
            }
            for i in stride(from: count - 1, through: decimals, by: -1) { append(digits[i]) }
            append(UInt8(ascii: "."))
            if decimals == 0 {
                append(UInt8(ascii: "0"))
            } else {
                for i in stride(from: decimals - 1, through: 0, by: -1) { append(digits[i]) }
            }
        }
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

    /// Writes `n` bytes after what is buffered, without copying them into the buffer
    /// (a large block formatted elsewhere).
    func writeThrough(_ p: UnsafePointer<UInt8>, _ n: Int) throws {
        if count > 0 { try flush() }
        try file.write(p, n)
    }

    func finish() throws {
        try flush()
        try file.commit()
    }

    func abandon() { file.discard() }
}
