import Columnar
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// How fast a replay runs.
public enum ReplaySpeed: Sendable, Equatable, CustomStringConvertible {
    /// Gaps between events divided by this factor (1 = the original pace).
    case factor(Double)
    /// As fast as the consumer takes them.
    case max

    /// Parses `1x`, `10x`, `0.5x`, `2` or `max`.
    public init?(_ text: String) {
        let t = text.lowercased()
        if t == "max" { self = .max; return }
        let number = t.hasSuffix("x") ? String(t.dropLast()) : t
        guard let f = Double(number), f > 0, f.isFinite else { return nil }
        self = .factor(f)
    }

    public var description: String {
        switch self {
        case .max: return "max"
        case .factor(let f): return f == f.rounded() ? "\(Int64(f))x" : "\(f)x"
        }
    }
}

/// What a replay measured about its own pacing.
public struct PacingReport: Sendable {
    public var events: Int
    /// Event-time (or arrival-time) span of the input, in seconds, divided by the speed.
    public var dueSpan: Double
    /// Wall time from the first event's delivery to the last's.
    public var actualSpan: Double
    /// Lateness of events against their due time, in microseconds.
    public var p50: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    /// (actual - due) / due, e.g. 0.002 for 0.2 % slow.
    public var spanError: Double { dueSpan > 0 ? (actualSpan - dueSpan) / dueSpan : 0 }

    public var summary: String {
        func ms(_ us: Double) -> String { fixedDecimal(us / 1000, 3) + " ms" }
        return "replayed \(events) events in \(fixedDecimal(actualSpan, 3)) s (due \(fixedDecimal(dueSpan, 3)) s, "
            + "\(spanError >= 0 ? "+" : "")\(fixedDecimal(spanError * 100, 2))%); lateness p50 \(ms(p50)), "
            + "p99 \(ms(p99)), p99.9 \(ms(p999)), max \(ms(max))"
    }
}

/// Monotonic clock in nanoseconds.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Replays another source's rows at their recorded pace: a row is due at
/// `start + (t - t0) / speed`, where t is the largest time seen so far in the input
/// (so out-of-order events keep the order of the input and never make the replay
/// wait backwards) and t0 the first row's time. Rows are handed out in small chunks,
/// each when it is due (absolute sleeps on the monotonic clock, so errors do not
/// accumulate); the lateness of every row against its due time is recorded when the
/// consumer reports it `finished`.
public final class PacedSource: BatchSource, @unchecked Sendable {
    let inner: BatchSource
    /// Position of the pacing time column in the inner source's output.
    let timeColumn: Int
    /// Inner output columns this source emits, in order.
    let outputColumns: [Int]
    let speed: ReplaySpeed
    public let outputSchema: Schema
    /// Rows whose due times are this close share one chunk.
    let granularityNanos: UInt64 = 200_000

    private let monitor = Monitor()
    private var queue: [(batch: Batch, due: [UInt64])] = []
    private var queueHead = 0
    private var innerDone = false
    /// Rows read ahead and not yet handed out; the reader thread keeps it topped up so
    /// that reading and parsing never delay an event past its due time.
    private var queuedRows = 0
    private var readerStarted = false
    private var readerError: Error?
    private var stopping = false
    /// Rows to keep read ahead.
    let readAhead = 1 << 18
    private var nextIndex = 0
    private var handed: [Int: (batch: Batch, due: [UInt64])] = [:]
    /// Due time of the last row of recently finished morsels (for latency).
    private var dueOfMorsel: [Int: UInt64] = [:]
    private var startNanos: UInt64?
    private var firstTime: Int64?
    private var runningMax = Int64.min
    private var lateness = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    private var events = 0
    private var lastDue: UInt64 = 0
    private var lastDelivered: UInt64 = 0

    public init(inner: BatchSource, timeColumn: Int, outputColumns: [Int], speed: ReplaySpeed) {
        self.inner = inner
        self.timeColumn = timeColumn
        self.outputColumns = outputColumns
        self.speed = speed
        outputSchema = Schema(outputColumns.map { inner.outputSchema[$0] })
    }

    public var isStreaming: Bool { true }
    public var byteCount: Int? { inner.byteCount }

    public func claimMorsel() throws -> Morsel? {
        let claimed: (Int, UInt64)? = try monitor.locked {
            if !readerStarted {
                readerStarted = true
                startReader()
            }
            while queueHead == queue.count && !innerDone && readerError == nil { monitor.wait() }
            if let readerError { throw readerError }
            guard queueHead < queue.count else { return nil }
            let chunk = queue[queueHead]
            queueHead += 1
            queuedRows -= chunk.batch.count
            monitor.broadcast()
            if queueHead > 1024 {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            let index = nextIndex
            nextIndex += 1
            handed[index] = chunk
            return (index, chunk.due.first ?? 0)
        }
        guard let (index, due) = claimed else { return nil }
        sleepUntil(due)
        return Morsel(index: index, start: 0, end: 0)
    }

    public func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let chunk = monitor.locked { handed[morsel.index] }
        if let chunk { try emit(chunk.batch) }
    }

    public func due(_ morsel: Morsel) -> (nanos: UInt64, interval: UInt64)? {
        guard case .factor = speed else { return nil }
        return monitor.locked {
            guard let d = dueOfMorsel[morsel.index] else { return nil }
            return (d, meanInterval)
        }
    }

    /// Average gap between chunks so far: the expected interval for coordinated-omission
    /// correction of latencies.
    private var meanInterval: UInt64 {
        guard let start = startNanos, nextIndex > 1, lastDue > start else { return 0 }
        return (lastDue - start) / UInt64(nextIndex)
    }

    public func finished(_ morsel: Morsel) {
        let now = monotonicNanos()
        monitor.locked {
            guard let chunk = handed.removeValue(forKey: morsel.index) else { return }
            dueOfMorsel[morsel.index] = chunk.due.last ?? 0
            if dueOfMorsel.count > 4096 { dueOfMorsel.removeValue(forKey: morsel.index - 4096) }
            for d in chunk.due {
                _ = lateness.record(now > d ? (now - d) / 1000 : 0)
            }
            events += chunk.due.count
            lastDelivered = max(lastDelivered, now)
        }
        inner.finished(morsel)
    }

    /// Pacing so far.
    public var report: PacingReport {
        monitor.locked {
            let start = startNanos ?? 0
            return PacingReport(
                events: events, dueSpan: Double(lastDue &- start) / 1e9,
                actualSpan: Double(lastDelivered > start ? lastDelivered - start : 0) / 1e9,
                p50: Double(lateness.valueAtPercentile(50)), p99: Double(lateness.valueAtPercentile(99)),
                p999: Double(lateness.valueAtPercentile(99.9)), max: Double(lateness.max))
        }
    }

    private func sleepUntil(_ due: UInt64) {
        guard case .factor = speed else { return }
        var ts = timespec(tv_sec: Int(due / 1_000_000_000), tv_nsec: Int(due % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }

    /// Reads the inner source in order on a thread of its own, `readAhead` rows ahead
    /// of the consumer.
    private func startReader() {
        if let t = startThread({ [self] in readLoop() }) {
            pthread_detach(t)
        } else {
            readerError = SpateError(.runtime, "cannot start the replay reader thread")
        }
    }

    private func readLoop() {
        while true {
            let proceed: Bool = monitor.locked {
                while queuedRows >= readAhead && !stopping { monitor.wait() }
                return !stopping
            }
            guard proceed else { return }
            do {
                guard let m = try inner.claimMorsel() else {
                    monitor.locked { innerDone = true; monitor.broadcast() }
                    return
                }
                var batches: [Batch] = []
                try inner.read(m) { batches.append($0.compacted()) }
                inner.finished(m)
                monitor.locked {
                    for b in batches where b.count > 0 { cut(b) }
                    monitor.broadcast()
                }
            } catch {
                monitor.locked { readerError = error; monitor.broadcast() }
                return
            }
        }
    }

    /// Stops the reader thread (the consumer is done early).
    public func stop() {
        monitor.locked { stopping = true; monitor.broadcast() }
    }

    private func cut(_ b: Batch) {
        let ts = b.columns[timeColumn]
        let n = b.count
        var due = [UInt64](repeating: 0, count: n)
        for r in 0..<n {
            if ts.isValid(r) {
                let t = ts.int64s[r]
                if firstTime == nil { firstTime = t }
                runningMax = max(runningMax, t)
            }
            if startNanos == nil { startNanos = monotonicNanos() }
            let offsetMillis = firstTime.map { Double(runningMax &- $0) } ?? 0
            switch speed {
            case .max: due[r] = startNanos!
            case .factor(let f): due[r] = startNanos! &+ UInt64(max(0, offsetMillis * 1_000_000 / f))
            }
        }
        lastDue = max(lastDue, due.last ?? 0)
        queuedRows += n
        let columns = outputColumns.map { b.columns[$0] }
        let schema = outputSchema
        if case .max = speed {
            queue.append((Batch(schema: schema, columns: columns, count: n), due))
            return
        }
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && due[end] - due[start] < granularityNanos { end += 1 }
            let sel = (start..<end).map { UInt32($0) }
            let part = sel.withUnsafeBufferPointer { p in columns.map { $0.gather(p.baseAddress, end - start) } }
            queue.append((Batch(schema: schema, columns: part, count: end - start), Array(due[start..<end])))
            start = end
        }
    }
}
