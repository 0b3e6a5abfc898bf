#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with one condition variable, on pthreads (no Foundation, so start-up stays
/// in milliseconds). The pthread objects live on the heap: they must never move.
public final class Monitor: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (the lock must be held) until signalled.
    public func wait() { pthread_cond_wait(cond, mutex) }

    public func broadcast() { pthread_cond_broadcast(cond) }
}

private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts a thread running `body` (join it with `pthread_join`, or detach it); nil when
/// the system has no thread to give (then `body` does not run).
public func startThread(stackSize: Int = 8 << 20, _ body: @escaping () -> Void) -> pthread_t? {
    let box = Unmanaged.passRetained(ThreadBody(body))
    var tid = pthread_t()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    // Workers recurse little but parse big batches: 8 MiB like the main thread.
    pthread_attr_setstacksize(&attr, stackSize)
    let rc = pthread_create(&tid, &attr, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, box.toOpaque())
    pthread_attr_destroy(&attr)
    if rc != 0 {
        box.release()
        return nil
    }
    return tid
}

/// Runs `count` OS threads executing `body(index)` and waits for all of them (one runs
/// on the calling thread; a thread the system refuses runs there too).
public func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    if count == 1 {
        body(0)
        return
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        if let t = startThread({ body(i) }) { threads.append(t) } else { body(i) }
    }
    for t in threads { pthread_join(t, nil) }
}
