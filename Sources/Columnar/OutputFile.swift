#if canImport(Glibc)
import Glibc
#endif

/// Where a writer's bytes go, so that nothing the user had is lost:
/// - nil or "-": standard output (a closed pipe is reported, not an error);
/// - an existing non-regular file (/dev/null, a FIFO, a terminal): written directly;
/// - anything else: a temporary file beside the target, fsynced and renamed over it
///   on `commit`, removed on `discard` — a failed run leaves the old file as it was.
public final class OutputFile {
    public let path: String?
    private let fd: Int32
    private let temporaryPath: String?
    private var done = false
    /// Standard output's reader went away.
    public private(set) var pipeClosed = false

    /// Whether the output is a terminal.
    public var isTerminal: Bool { isatty(fd) != 0 }

    public init(path: String?) throws {
        guard let path, path != "-" else {
            self.path = nil
            fd = 1
            temporaryPath = nil
            return
        }
        self.path = path
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw SpateError(.usage, "cannot write '\(path)': it is a directory", hint: "name a file inside it")
            }
            fd = open(path, O_WRONLY | O_CLOEXEC)
            temporaryPath = nil
        } else {
            let tmp = path + ".spate-tmp-\(getpid())"
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            temporaryPath = tmp
        }
        if fd < 0 {
            throw SpateError(.io, "cannot write '\(path)': \(String(cString: strerror(errno)))",
                             hint: "check that the directory exists and is writable")
        }
    }

    /// Writes all `n` bytes (retrying short writes). On a closed stdout pipe, sets
    /// `pipeClosed` and drops the bytes.
    public func write(_ p: UnsafeRawPointer, _ n: Int) throws {
        var offset = 0
        while offset < n && !pipeClosed {
            let written = Glibc.write(fd, p + offset, n - offset)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE && path == nil { pipeClosed = true; break }
                let reason = String(cString: strerror(errno))
                throw SpateError(.io, "cannot write \(path.map { "'\($0)'" } ?? "standard output"): \(reason)",
                                 hint: errno == ENOSPC ? "free some disk space" : nil)
            }
            offset += written
        }
    }

    /// Makes the output final (fsync + rename for a regular file).
    public func commit() throws {
        guard !done else { return }
        done = true
        guard let path, fd != 1 else { return }
        guard let temporaryPath else {
            close(fd)
            return
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw SpateError(.io, "cannot write '\(path)': \(reason)")
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw SpateError(.io, "cannot move the result into '\(path)': \(reason)")
        }
    }

    /// Drops a partial output (the target keeps its previous contents).
    public func discard() {
        guard !done else { return }
        done = true
        guard path != nil, fd != 1 else { return }
        close(fd)
        if let temporaryPath { unlink(temporaryPath) }
    }

    deinit { discard() }
}
