import Atomics
import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// `'connector' = 'nexmark'`: the Nexmark generator as a table.
///
/// ```sql
/// CREATE TABLE bid (
///   WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
/// ) WITH ('connector' = 'nexmark', 'nexmark.table' = 'bid', 'events.num' = '10000000');
/// ```
///
/// Options: see `NexmarkConfig` (Flink's names and defaults) and `'nexmark.table'`
/// (`events`, the default, or `bid`, `auction`, `person`; see `NexmarkTable`).
///
/// Columns: a table that declares none gets the whole table's schema. Declared columns
/// must each name a column of the table (case-insensitively) with its type (`INT` and
/// `BIGINT` are the same type in Spate); they may be any subset, in any order, and the
/// table then has exactly those columns. `NOT NULL` is refused on a column that can be
/// NULL (the entity columns of `events`).
///
/// Reading: morsels are ranges of event numbers, generated independently by whichever
/// worker claims them, so the rows are the same for any number of workers, morsel size
/// or batch capacity. Only the projected columns are computed.
struct NexmarkTableProvider: TableProvider {
    let generator: NexmarkGenerator
    let table: NexmarkTable
    /// The table's columns (all of `table`'s, or the declared subset), matching `schema`.
    let columns: [NexmarkColumn]
    let schema: Schema

    var summary: String {
        let c = generator.config
        let events = c.eventsNum == 0 ? "unbounded" : "\(c.eventsNum) events"
        return "Nexmark '\(table.rawValue)' (\(events), \(c.firstEventRate)/s, seed \(c.seed))"
    }

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(NexmarkConfig.optionKeys,
                                  supported: NexmarkConfig.optionKeys.sorted().joined(separator: ", "))
        let config = try NexmarkConfig(options: context.options)
        let tableName = context.options["nexmark.table"] ?? "events"
        guard let table = NexmarkTable(rawValue: tableName.lowercased()) else {
            throw ConnectorError("'nexmark.table' must be one of events, bid, auction, person, not '\(tableName)'",
                                 option: "nexmark.table")
        }
        let (columns, schema) = try resolve(table, declared: context.declared, tableName: context.tableName)
        return NexmarkTableProvider(generator: NexmarkGenerator(config), table: table, columns: columns, schema: schema)
    }

    /// The declared columns matched against the table's, or all of them.
    static func resolve(_ table: NexmarkTable, declared: Schema, tableName: String) throws
        -> ([NexmarkColumn], Schema)
    {
        let full = table.schema
        guard declared.count > 0 else { return (table.columns, full) }
        var columns: [NexmarkColumn] = []
        for f in declared.fields {
            guard let i = full.index(of: f.name) else {
                throw ConnectorError(
                    "column '\(f.name)' of table '\(tableName)' is not a column of the nexmark '\(table.rawValue)' table",
                    hint: "its columns are: " + full.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
            }
            guard full[i].type == f.type else {
                throw ConnectorError(
                    "column '\(f.name)' is \(full[i].type) in the nexmark '\(table.rawValue)' table, not \(f.type)",
                    hint: "declare it as `\(full[i].name) \(full[i].type)`")
            }
            if !f.nullable && full[i].nullable {
                throw ConnectorError("column '\(f.name)' can be NULL (rows of other event kinds)",
                                     hint: "remove NOT NULL from `\(f.name)`")
            }
            columns.append(table.columns[i])
        }
        return (columns, declared)
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let cols = projection.map { columns[$0] }
        let outSchema = Schema(projection.map { schema[$0] })
        var capacity = options.batchCapacity
        var perMorsel = Self.eventsPerMorsel(options.morselSize)
        if !generator.config.maxEmitSpeed {
            // Paced output leaves in small steps: a batch spans at most 10 ms and a
            // morsel 100 ms of event time, so rows are not held back for long.
            let rate = generator.config.firstEventRate
            capacity = min(capacity, Int(max(1, rate / 100)))
            perMorsel = min(perMorsel, max(1, rate / 10))
        }
        let builder = NexmarkBatchBuilder(generator: generator, table: table, columns: cols, schema: outSchema,
                                          batchCapacity: capacity)
        return NexmarkBatchSource(builder: builder, eventsPerMorsel: perMorsel)
    }

    /// A morsel covers about as many events as `morselSize` bytes of CSV would hold
    /// (Flink's average event is about 100 bytes).
    static func eventsPerMorsel(_ morselSize: Int) -> Int64 { Int64(max(1, morselSize / 100)) }
}

/// Morsels of event numbers, claimed in order, generated by whichever worker claims them.
final class NexmarkBatchSource: BatchSource, @unchecked Sendable {
    let builder: NexmarkBatchBuilder
    let eventsPerMorsel: Int64
    let eventCount: Int64
    private let claimed = ManagedAtomic<Int64>(0)
    /// Monotonic start time (ns) for pacing, set by the first claim.
    private let startNanos = ManagedAtomic<UInt64>(0)
    /// When each recently read morsel's last event was due (paced only), for latency.
    private var dueOfMorsel: [Int: UInt64] = [:]
    private let dueLock = Monitor()

    init(builder: NexmarkBatchBuilder, eventsPerMorsel: Int64) {
        self.builder = builder
        self.eventsPerMorsel = eventsPerMorsel
        eventCount = builder.generator.eventCount
    }

    var outputSchema: Schema { builder.schema }
    var isStreaming: Bool { !builder.generator.config.maxEmitSpeed }

    func claimMorsel() throws -> Morsel? {
        if startNanos.load(ordering: .relaxed) == 0 {
            _ = startNanos.compareExchange(expected: 0, desired: Self.nowNanos(), ordering: .relaxed)
        }
        let i = claimed.loadThenWrappingIncrement(ordering: .relaxed)
        let (start, overflow) = i.multipliedReportingOverflow(by: eventsPerMorsel)
        guard !overflow, start < eventCount else { return nil }
        let end = eventCount - start > eventsPerMorsel ? start + eventsPerMorsel : eventCount
        return Morsel(index: Int(i), start: Int(start), end: Int(end))
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let range = Int64(morsel.start)..<Int64(morsel.end)
        guard !builder.generator.config.maxEmitSpeed else {
            try builder.generate(range) { batch, _ in try emit(batch) }
            return
        }
        // Paced: a batch goes out once the wall clock reaches its last event's time
        // (event k is due k × delay after the start, as in Flink without max-emit-speed).
        let g = builder.generator
        let t0 = g.timestamp(number: NexmarkConfig.firstEventNumber)
        let start = startNanos.load(ordering: .relaxed)
        try builder.generate(range) { batch, lastEventId in
            let dueNanos = start &+ UInt64(max(0, g.dateTime(lastEventId) - t0)) &* 1_000_000
            while true {
                let now = Self.nowNanos()
                guard now < dueNanos else { break }
                let wait = min(dueNanos - now, 100_000_000)
                var ts = timespec(tv_sec: 0, tv_nsec: Int(wait))
                nanosleep(&ts, nil)
            }
            try emit(batch)
            dueLock.locked {
                dueOfMorsel[morsel.index] = dueNanos
                dueOfMorsel.removeValue(forKey: morsel.index - 1024)
            }
        }
    }

    func due(_ morsel: Morsel) -> (nanos: UInt64, interval: UInt64)? {
        guard !builder.generator.config.maxEmitSpeed else { return nil }
        let interval = UInt64(Double(eventsPerMorsel) * builder.generator.config.interEventDelayUs * 1000)
        return dueLock.locked { dueOfMorsel[morsel.index].map { ($0, interval) } }
    }

    var byteCount: Int? { nil }

    static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
