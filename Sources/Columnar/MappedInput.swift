import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An input file's bytes for the JSON lines and binary record readers: memory-mapped
/// when it is a regular file, otherwise read into memory (pipes, devices). The bytes
/// never move while the object lives, so scans keep raw pointers into them.
public final class MappedInput: @unchecked Sendable {
    public let path: String
    public let size: Int
    /// The first byte; nil when the input is empty.
    public let bytes: UnsafePointer<UInt8>?
    private let mapped: Bool

    /// Opens and maps `path`; `what` names the expected content in errors ("a JSON
    /// lines file").
    public init(path: String, what: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw MappedInput.ioError(path, "cannot open", errno) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw MappedInput.ioError(path, "cannot stat", errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw SpateError(.io, "cannot read '\(path)': it is a directory", path: path, hint: "name \(what), not a directory")
        }
        if (st.st_mode & S_IFMT) == S_IFREG {
            size = Int(st.st_size)
            mapped = size > 0
            if size == 0 {
                bytes = nil
                return
            }
            guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
                throw MappedInput.ioError(path, "cannot map", errno)
            }
            _ = madvise(p, size, Int32(MADV_SEQUENTIAL))
            bytes = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
            return
        }
        var cap = 1 << 16
        var buf = malloc(cap)!.assumingMemoryBound(to: UInt8.self)
        var n = 0
        while true {
            if n == cap {
                cap *= 2
                buf = realloc(buf, cap)!.assumingMemoryBound(to: UInt8.self)
            }
            let r = read(fd, buf + n, cap - n)
            if r < 0 {
                if errno == EINTR { continue }
                let e = errno
                free(buf)
                throw MappedInput.ioError(path, "cannot read", e)
            }
            if r == 0 { break }
            n += r
        }
        size = n
        mapped = false
        if n == 0 {
            free(buf)
            bytes = nil
        } else {
            bytes = UnsafePointer(buf)
        }
    }

    /// Bytes held in memory (tests); `path` only names them in errors.
    public init(contents: some Sequence<UInt8>, path: String) {
        let array = Array(contents)
        self.path = path
        size = array.count
        mapped = false
        if array.isEmpty {
            bytes = nil
        } else {
            let p = malloc(array.count)!.assumingMemoryBound(to: UInt8.self)
            array.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: array.count) }
            bytes = UnsafePointer(p)
        }
    }

    deinit {
        guard let bytes else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: bytes), size)
        } else {
            free(UnsafeMutableRawPointer(mutating: bytes))
        }
    }

    /// The process is done with bytes [start, end) for now: their pages leave the
    /// resident set (they stay in the page cache), so RSS stays at a few morsels.
    public func release(from start: Int, to end: Int) {
        guard mapped, let bytes else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (max(start, 0) + page - 1) / page * page
        let last = min(end, size) / page * page
        guard last > first else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: bytes + first), last - first, Int32(MADV_DONTNEED))
    }

    static func ioError(_ path: String, _ what: String, _ code: Int32) -> SpateError {
        let reason = String(cString: strerror(code))
        let hint: String
        switch code {
        case ENOENT: hint = "check the path; relative paths start at the current directory"
        case EACCES, EPERM: hint = "check the file's permissions"
        default: hint = "check that the file exists and is readable"
        }
        return SpateError(.io, "\(what) '\(path)': \(reason)", path: path, hint: hint)
    }

    /// 1-based line (LFs before `pos`), 1-based character column of `pos`, and the
    /// line's text without its line break.
    public func location(of pos: Int) -> (line: Int, column: Int, text: String) {
        guard let bytes, size > 0 else { return (1, 1, "") }
        let p = min(max(pos, 0), size)
        let line = 1 + ck_csv_count_byte(bytes, p, UInt8(ascii: "\n"))
        var start = p
        while start > 0 && bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        var end = p
        while end < size && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        var textEnd = end
        if textEnd > start && bytes[textEnd - 1] == UInt8(ascii: "\r") { textEnd -= 1 }
        var column = 1
        for i in start..<p where bytes[i] & 0xC0 != 0x80 { column += 1 }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: textEnd - start), as: UTF8.self)
        return (line, column, text)
    }

    /// A data error at byte `pos`, rendered `path:line:column`.
    public func dataError(at pos: Int, _ message: String, hint: String?) -> SpateError {
        let loc = location(of: pos)
        return SpateError(.data, message, path: path, line: loc.line, column: loc.column, sourceLine: loc.text, hint: hint)
    }

    /// The text of bytes [start, end) (clamped), shortened to `limit` characters.
    public func text(from start: Int, to end: Int, limit: Int = 60) -> String {
        guard let bytes else { return "" }
        let s = min(max(start, 0), size), e = min(max(end, s), size)
        let t = String(decoding: UnsafeBufferPointer(start: bytes + s, count: e - s), as: UTF8.self)
        return t.count > limit ? String(t.prefix(limit)) + "…" : t
    }
}
