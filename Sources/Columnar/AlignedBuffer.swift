#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable block of raw memory aligned to 64 bytes (one cache line, one AVX-512
/// register), so kernels may use aligned loads and never share a line between columns.
///
/// The buffer owns its memory and frees it on deinit. Growing moves the contents, so
/// pointers taken earlier are invalid after `reserve`.
public final class AlignedBuffer: @unchecked Sendable {
    public static let alignment = 64

    public private(set) var pointer: UnsafeMutableRawPointer
    /// Usable size in bytes (always a multiple of 64).
    public private(set) var capacity: Int

    public init(capacity bytes: Int) {
        let size = AlignedBuffer.roundUp(max(bytes, 64))
        pointer = AlignedBuffer.allocate(size)
        capacity = size
    }

    deinit { free(pointer) }

    @inline(__always)
    static func roundUp(_ n: Int) -> Int { (n + 63) & ~63 }

    static func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        guard let p = aligned_alloc(alignment, size) else {
            fatalError("Spate: out of memory allocating \(size) bytes")
        }
        return p
    }

    /// Makes room for at least `bytes`, keeping the first `preserving` bytes.
    public func reserve(_ bytes: Int, preserving: Int) {
        guard bytes > capacity else { return }
        let size = AlignedBuffer.roundUp(max(bytes, capacity &* 2))
        let fresh = AlignedBuffer.allocate(size)
        if preserving > 0 { fresh.copyMemory(from: pointer, byteCount: min(preserving, capacity)) }
        free(pointer)
        pointer = fresh
        capacity = size
    }

    /// Sets `count` bytes from `offset` to `value`.
    public func fill(_ value: UInt8, offset: Int = 0, count: Int) {
        guard count > 0 else { return }
        memset(pointer + offset, Int32(value), count)
    }

    @inline(__always)
    public func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        pointer.assumingMemoryBound(to: T.self)
    }
}
