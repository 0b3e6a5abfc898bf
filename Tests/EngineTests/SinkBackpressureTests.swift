import Columnar
import Foundation
import Testing

@testable import Engine

/// The ordered sink's bound on parked results: a slow writer slows the workers down
/// instead of letting parked batches grow with the input, the output stays complete
/// and in order, and failures (of the writer or of a morsel) end the query instead of
/// leaving workers waiting for a turn that never comes.
@Suite struct SinkBackpressureTests {
    // MARK: - Helpers

    /// A writer that sleeps on every batch (a slow pipe), keeps the first column of
    /// every row, and optionally fails at its n-th batch.
    final class SlowWriter: ResultWriter, @unchecked Sendable {
        let micros: UInt32
        let failAt: Int?
        private let monitor = Monitor()
        private var writing = false
        private(set) var overlapped = false
        private(set) var firstColumn: [Int64] = []
        private(set) var batches = 0
        /// The largest batch written, as the sink counts bytes.
        private(set) var largestBytes = 0

        init(micros: UInt32, failAt: Int? = nil) {
            self.micros = micros
            self.failAt = failAt
        }

        func begin(_ schema: Schema) throws {}

        func write(_ batch: Batch) throws {
            monitor.locked {
                if writing { overlapped = true }
                writing = true
            }
            defer { monitor.locked { writing = false } }
            batches += 1
            if let failAt, batches == failAt { throw SpateError(.io, "disk full", path: "out.csv") }
            usleep(micros)
            largestBytes = max(largestBytes, OrderedSink.bytes(of: [batch]))
            let c = batch.columns[0]
            batch.withSelection { sel, n in
                for i in 0..<n { firstColumn.append(c.int64(at: sel.map { Int($0[i]) } ?? i)) }
            }
        }

        func finish() throws {}
        func abandon() {}
    }

    /// `rows` rows `i,k,v,ts,note`, a table over them. Row `badRow` (if any) has a bad
    /// BIGINT and an 8 MB note, so its morsel takes long enough to scan that the other
    /// workers get ahead of it and wait in the sink before it fails.
    static func table(rows: Int, badRow: Int? = nil) throws -> (dir: URL, create: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var csv = "i,k,v,ts,note\n"
        for i in 0..<rows {
            if i == badRow {
                csv += "\(i),\(i % 5),abc,\(i * 10),\(String(repeating: "z", count: 8 << 20))\n"
            } else {
                csv += "\(i),\(i % 5),\(i % 97),\(i * 10),\n"
            }
        }
        try Data(csv.utf8).write(to: dir.appendingPathComponent("t.csv"))
        return (dir, """
            CREATE TABLE t (i BIGINT, k BIGINT, v BIGINT, ts TIMESTAMP(3), note VARCHAR,
                            WATERMARK FOR ts AS ts - INTERVAL '0' SECOND)
            WITH ('path' = '\(dir.path)/t.csv')
            """)
    }

    /// A QueryRun for `select` (as `Session.execute` makes one), so a test can set the
    /// sink's bounds and read its high-water mark.
    static func queryRun(_ create: String, _ select: String, _ options: ExecutionOptions,
                         _ writer: ResultWriter) throws -> QueryRun {
        let session = Session(options: options)
        try session.run(create) { _, _ in CollectingWriter() }
        guard case .query(let q) = try SQLParser.parseStatement(select) else {
            throw SpateError(.usage, "not a query: \(select)")
        }
        let plan = try Binder(catalog: session.tables).query(q)
        let source = try plan.scan.provider.open(projection: plan.scan.projection, options: options)
        try writer.begin(plan.outputSchema)
        return QueryRun(plan: plan, source: source, options: options, writer: writer)
    }

    /// Three workers over morsels of about ten rows, one batch each.
    static func options(_ backlog: BacklogLimit = .standard) -> ExecutionOptions {
        ExecutionOptions(workers: 3, batchCapacity: 4096, morselSize: 120, pinWorkers: false, backlog: backlog)
    }

    // MARK: - The bound holds, the output is whole

    @Test(.timeLimit(.minutes(2)))
    func slowWriterParksAtMostMaxAheadSequences() throws {
        let n = 3000
        let (dir, create) = try Self.table(rows: n)
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = SlowWriter(micros: 300)
        let run = try Self.queryRun(create, "SELECT i, v * 2 AS w FROM t",
                                    Self.options(BacklogLimit(sequencesAhead: 4, bytes: Int.max)), writer)
        let stats = try run.run()
        #expect(stats.rowsOut == n)
        #expect(writer.firstColumn == (0..<Int64(n)).map { $0 })
        #expect(!writer.overlapped)
        let high = run.sink.highWater
        // Sequence numbers next...next+4 at most, and the others did get ahead.
        #expect(high.sequences <= 5, "\(high)")
        #expect(high.sequences >= 2, "\(high)")
        #expect(writer.batches > 100)
    }

    @Test(.timeLimit(.minutes(2)))
    func slowWriterKeepsParkedBytesUnderTheBudget() throws {
        let n = 3000
        let (dir, create) = try Self.table(rows: n)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Measure a batch first, then allow about three of them.
        let probe = SlowWriter(micros: 0)
        _ = try Self.queryRun(create, "SELECT i, v FROM t", Self.options(.unlimited), probe).run()
        let budget = 3 * probe.largestBytes
        let writer = SlowWriter(micros: 300)
        let run = try Self.queryRun(create, "SELECT i, v FROM t",
                                    Self.options(BacklogLimit(sequencesAhead: 1_000_000, bytes: budget)), writer)
        let stats = try run.run()
        #expect(stats.rowsOut == n)
        #expect(writer.firstColumn == (0..<Int64(n)).map { $0 })
        let high = run.sink.highWater
        // The next sequence number is always let in, so one batch over at most.
        #expect(high.bytes <= budget + writer.largestBytes, "\(high), budget \(budget)")
        #expect(high.bytes > 0)
    }

    /// Windows are emitted by whichever worker hands over last; with the tightest
    /// bounds they still come out complete and in order.
    @Test(.timeLimit(.minutes(2)))
    func windowedQueryUnderTightBounds() throws {
        let (dir, create) = try Self.table(rows: 2000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let select = """
            SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s
            FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))
            GROUP BY window_start, window_end, k
            """
        let reference = CollectingWriter()
        try Session(options: ExecutionOptions(workers: 1, pinWorkers: false)).run(create + "; " + select) { _, _ in reference }
        let writer = CollectingWriter()
        let run = try Self.queryRun(create, select, Self.options(BacklogLimit(sequencesAhead: 1, bytes: 1)), writer)
        _ = try run.run()
        #expect(reference.rows.count == 100)
        #expect(writer.rows == reference.rows)
    }

    // MARK: - Failures end the query

    @Test(.timeLimit(.minutes(2)))
    func failingWriterEndsTheQueryWithItsError() throws {
        let (dir, create) = try Self.table(rows: 3000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let limits = [BacklogLimit(sequencesAhead: 1, bytes: 1), BacklogLimit(sequencesAhead: 4, bytes: Int.max),
                      .standard, .unlimited]
        for backlog in limits {
            let writer = SlowWriter(micros: 200, failAt: 20)
            let run = try Self.queryRun(create, "SELECT i, v FROM t", Self.options(backlog), writer)
            do {
                _ = try run.run()
                Issue.record("the query succeeded")
            } catch let e as SpateError {
                #expect(e.message == "disk full")
            }
            // Nothing was written after the failure.
            #expect(writer.batches == 20)
        }
        // The same through a session (default bounds).
        let writer = SlowWriter(micros: 200, failAt: 5)
        #expect(throws: SpateError.self) {
            try Session(options: Self.options()).run(create + "; SELECT i FROM t") { _, _ in writer }
        }
    }

    /// A morsel that fails while other workers wait for a turn behind it: they must be
    /// released (the failed morsel's turn never comes) and its error reported.
    @Test(.timeLimit(.minutes(2)))
    func failingMorselReleasesWaitingWorkers() throws {
        let (dir, create) = try Self.table(rows: 3000, badRow: 1500)
        defer { try? FileManager.default.removeItem(at: dir) }
        for backlog in [BacklogLimit(sequencesAhead: 1, bytes: 1), BacklogLimit(sequencesAhead: 2, bytes: Int.max)] {
            let run = try Self.queryRun(create, "SELECT i, v FROM t", Self.options(backlog), SlowWriter(micros: 0))
            do {
                _ = try run.run()
                Issue.record("the query succeeded")
            } catch let e as SpateError {
                #expect(e.kind == .data, "\(e)")
                #expect(e.line == 1502, "\(e)")
            }
        }
    }

    // MARK: - The sink alone

    @Test(.timeLimit(.minutes(1)))
    func submitterTooFarAheadWaitsForTheWriter() throws {
        let writer = SlowWriter(micros: 0)
        let sink = OrderedSink(writer)
        sink.limit(BacklogLimit(sequencesAhead: 2, bytes: Int.max))
        let done = SinkTestFlag()
        let t = startThread {
            try? sink.submit(5, [Self.batch(5)])
            done.set()
        }
        usleep(50_000)
        #expect(!done.isSet)    // 5 is more than 2 past 0
        try sink.submit(0, [Self.batch(0)])
        try sink.submit(1, [Self.batch(1)])
        try sink.submit(2, [Self.batch(2)])    // next is 3 now: 5 may park
        done.wait()
        try sink.submit(4, [Self.batch(4)])
        try sink.submit(3, [Self.batch(3)])
        pthread_join(t!, nil)
        #expect(writer.firstColumn == [0, 1, 2, 3, 4, 5])
        #expect(sink.highWater.sequences == 3)    // 4 and 5 waiting for 3
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelReleasesWaitingSubmitters() throws {
        let writer = SlowWriter(micros: 0)
        let sink = OrderedSink(writer)
        sink.limit(BacklogLimit(sequencesAhead: 1, bytes: Int.max))
        let done = SinkTestFlag()
        let aborted = SinkTestFlag()
        let t = startThread {
            do {
                try sink.submit(7, [Self.batch(7)])
            } catch is Aborted {
                aborted.set()
            } catch {}
            done.set()
        }
        usleep(50_000)
        #expect(!done.isSet)
        sink.cancel()
        done.wait()
        pthread_join(t!, nil)
        #expect(aborted.isSet)
        // Nothing is written after a cancel.
        #expect(throws: Aborted.self) { try sink.submit(0, [Self.batch(0)]) }
        #expect(writer.batches == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func writerFailureReachesWaitingSubmitters() throws {
        let writer = SlowWriter(micros: 0, failAt: 1)
        let sink = OrderedSink(writer)
        sink.limit(BacklogLimit(sequencesAhead: 1, bytes: Int.max))
        let done = SinkTestFlag()
        let message = SinkTestText()
        let t = startThread {
            do {
                try sink.submit(5, [Self.batch(5)])
            } catch {
                message.set("\(error)")
            }
            done.set()
        }
        usleep(50_000)
        #expect(!done.isSet)
        #expect(throws: SpateError.self) { try sink.submit(0, [Self.batch(0)]) }
        done.wait()
        pthread_join(t!, nil)
        // The waiting submitter reports the writer's error too, not an internal signal.
        #expect(message.value == "out.csv: error: disk full")
    }

    @Test func unlimitedSinkNeverWaits() throws {
        let writer = SlowWriter(micros: 0)
        let sink = OrderedSink(writer)    // what a sink is until `limit` (spate convert's)
        for seq in (1..<200).reversed() { try sink.submit(seq, [Self.batch(Int64(seq))]) }
        #expect(sink.highWater.sequences == 199)
        try sink.submit(0, [Self.batch(0)])
        #expect(writer.firstColumn == (0..<200).map { Int64($0) })
        #expect(ExecutionOptions(workers: 2).backlog == .standard)
    }

    static func batch(_ value: Int64) -> Batch {
        let c = Column(.int64, capacity: 1)
        c.append(value)
        return Batch(schema: Schema([Field("x", .int64)]), columns: [c], count: 1)
    }
}

/// A one-shot event between threads.
final class SinkTestFlag: @unchecked Sendable {
    private let monitor = Monitor()
    private var value = false

    func set() { monitor.locked { value = true; monitor.broadcast() } }
    var isSet: Bool { monitor.locked { value } }
    func wait() { monitor.locked { while !value { monitor.wait() } } }
}

/// A string set by another thread.
final class SinkTestText: @unchecked Sendable {
    private let monitor = Monitor()
    private var text: String?

    func set(_ t: String) { monitor.locked { text = t } }
    var value: String? { monitor.locked { text } }
}
