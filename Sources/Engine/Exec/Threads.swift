#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with one condition variable (pthread based: no Foundation, so start-up stays
/// in milliseconds).
final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    @inline(__always)
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Waits (the lock must be held) until signalled.
    func wait() { pthread_cond_wait(&cond, &mutex) }

    func broadcast() { pthread_cond_broadcast(&cond) }
}

private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `count` OS threads executing `body(index)` and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    if count == 1 {
        body(0)
        return
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        let box = Unmanaged.passRetained(ThreadBody { body(i) })
        var tid = pthread_t()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        // Workers recurse little but parse big batches: 8 MiB like the main thread.
        pthread_attr_setstacksize(&attr, 8 << 20)
        let rc = pthread_create(&tid, &attr, { raw in
            let b = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            b.run()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attr)
        if rc != 0 {
            // Could not start a thread: run its share on this one instead.
            box.takeRetainedValue().run()
            continue
        }
        threads.append(tid)
    }
    for t in threads { pthread_join(t, nil) }
}
