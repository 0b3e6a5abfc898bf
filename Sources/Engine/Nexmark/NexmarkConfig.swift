import Columnar

/// The configuration of the Nexmark generator: Flink's source options
/// (`NexmarkSourceOptions`) with Flink's defaults, plus Spate's `seed` and `base-time`
/// so that runs are reproducible.
///
/// | option | default | meaning |
/// |---|---|---|
/// | `events.num` | 0 | events to generate; 0 = unbounded (Flink's cap, 368,934,881,474,191 with the defaults) |
/// | `first-event.rate` | 10000 | events per second of event time (sets the inter-event delay, 1e6/rate µs) |
/// | `next-event.rate` | = first | accepted as in Flink; Flink's generator uses only the first rate, so it must equal it |
/// | `person.proportion` / `auction.proportion` / `bid.proportion` | 1 / 3 / 46 | event kinds per block |
/// | `person.avg-size` / `auction.avg-size` / `bid.avg-size` | 200b / 500b / 100b | sizes the `extra` fields are padded towards |
/// | `auction.hot-ratio.sellers` / `bid.hot-ratio.auctions` / `bid.hot-ratio.bidders` | 4 / 2 / 4 | 1 - 1/ratio of the choices go to the hot entity |
/// | `max-emit-speed` | true | false: pace the output to event time (event k is emitted k × delay after the start) |
/// | `base-time` | 2015-07-15 00:00:00 | event time of event number 0 (epoch ms or `YYYY-MM-DD[ HH:MM[:SS[.fff]]]`, UTC) |
/// | `seed` | 0 | keys the random values; same seed, same events |
/// | `bid.flink-bidder-offset` | false | true: add 2000 to bidders as Flink does (nexmark/nexmark#30) |
/// | `nexmark.table` | events | which flattened table: `events`, `bid`, `auction`, `person` |
public struct NexmarkConfig: Sendable, Hashable {
    /// Events to generate; 0 means unbounded (capped as Flink caps it).
    public var eventsNum: Int64 = 0
    public var firstEventRate: Int64 = 10_000
    public var nextEventRate: Int64 = 10_000
    public var personProportion: Int64 = 1
    public var auctionProportion: Int64 = 3
    public var bidProportion: Int64 = 46
    public var avgPersonByteSize: Int64 = 200
    public var avgAuctionByteSize: Int64 = 500
    public var avgBidByteSize: Int64 = 100
    public var hotAuctionRatio: Int64 = 2
    public var hotBiddersRatio: Int64 = 4
    public var hotSellersRatio: Int64 = 4
    public var maxEmitSpeed = true
    /// Epoch milliseconds of event number 0: 2015-07-15T00:00:00Z, Beam's (and RisingWave's) fixed base.
    public var baseTime: Int64 = 1_436_918_400_000
    public var seed: UInt64 = 0
    /// Reproduce Flink's bug that adds FIRST_PERSON_ID twice to `bid.bidder`.
    public var flinkBidderOffset = false

    // Constants of every port (NEXMARK.md §2.1).
    public static let firstPersonId: Int64 = 1000
    public static let firstAuctionId: Int64 = 1000
    public static let firstCategoryId: Int64 = 10
    public static let numCategories: Int64 = 5
    public static let personIdLead: Int64 = 10
    public static let auctionIdLead: Int64 = 10
    /// Hot sellers/auctions/bidders are the first id of each batch of this many.
    public static let hotBatch: Int64 = 100
    public static let numInFlightAuctions: Int64 = 100
    public static let numActivePeople: Int64 = 1000
    public static let channelsNumber: Int64 = 10_000
    /// Flink's table factory numbers events and ids from 1, so its first event (k = 0)
    /// has id 2, an auction.
    public static let firstEventId: Int64 = 1
    public static let firstEventNumber: Int64 = 1

    public init() {}

    /// Events per block (`person + auction + bid` proportions; 50 by default).
    public var totalProportion: Int64 { personProportion + auctionProportion + bidProportion }

    /// Microseconds between consecutive events of the (single) generator, as a double as in Flink.
    public var interEventDelayUs: Double { 1_000_000.0 / Double(firstEventRate) }

    /// The number of events this configuration generates (Flink's cap when `events.num` is 0).
    public var maxEvents: Int64 {
        if eventsNum > 0 { return min(eventsNum, Self.eventLimit) }
        let largest = max(avgPersonByteSize, avgAuctionByteSize, avgBidByteSize)
        return min(Int64.max / (totalProportion * max(largest, 1)), Self.eventLimit)
    }

    /// At most 2^62 events, so that event ids and numbers never overflow.
    public static let eventLimit: Int64 = 1 << 62

    /// Option keys of the `nexmark` connector.
    public static let optionKeys: Set<String> = [
        "connector", "nexmark.table", "events.num", "first-event.rate", "next-event.rate",
        "person.proportion", "auction.proportion", "bid.proportion",
        "person.avg-size", "auction.avg-size", "bid.avg-size",
        "bid.hot-ratio.auctions", "bid.hot-ratio.bidders", "auction.hot-ratio.sellers",
        "max-emit-speed", "base-time", "seed", "bid.flink-bidder-offset",
    ]

    /// Reads the options of a `'connector'='nexmark'` table (or `spate gen nexmark`);
    /// an invalid value is a `ConnectorError` naming its option.
    public init(options: [String: String]) throws {
        let context = ConnectorContext(tableName: "", declared: Schema([]), options: options)
        func positive(_ key: String, _ value: inout Int64, allowZero: Bool = false, maximum: Int64 = Int64.max) throws {
            guard let v = try context.int(key) else { return }
            guard v > 0 || (allowZero && v == 0) else {
                throw ConnectorError("'\(key)' must be \(allowZero ? "zero or more" : "at least 1"), not \(v)", option: key)
            }
            guard v <= maximum else {
                throw ConnectorError("'\(key)' must be at most \(maximum), not \(v)", option: key)
            }
            value = v
        }
        try positive("events.num", &eventsNum, allowZero: true)
        try positive("first-event.rate", &firstEventRate, maximum: 1_000_000_000_000)
        nextEventRate = firstEventRate
        try positive("next-event.rate", &nextEventRate)
        if nextEventRate != firstEventRate {
            throw ConnectorError(
                "'next-event.rate' (\(nextEventRate)) differs from 'first-event.rate' (\(firstEventRate))",
                option: "next-event.rate",
                hint: "the generator (like Flink's) emits at one constant rate: leave 'next-event.rate' out or set it equal")
        }
        try positive("person.proportion", &personProportion, allowZero: true, maximum: 1_000_000)
        try positive("auction.proportion", &auctionProportion, allowZero: true, maximum: 1_000_000)
        try positive("bid.proportion", &bidProportion, allowZero: true, maximum: 1_000_000)
        if totalProportion == 0 {
            throw ConnectorError("the proportions add up to 0", option: "bid.proportion",
                                 hint: "set 'person.proportion', 'auction.proportion' or 'bid.proportion' to at least 1")
        }
        for (key, size) in [("person.avg-size", \NexmarkConfig.avgPersonByteSize),
                            ("auction.avg-size", \.avgAuctionByteSize), ("bid.avg-size", \.avgBidByteSize)] {
            if let v = options[key] { self[keyPath: size] = try Self.byteSize(v, key) }
        }
        try positive("bid.hot-ratio.auctions", &hotAuctionRatio)
        try positive("bid.hot-ratio.bidders", &hotBiddersRatio)
        try positive("auction.hot-ratio.sellers", &hotSellersRatio)
        if let v = try context.bool("max-emit-speed") { maxEmitSpeed = v }
        if let v = try context.bool("bid.flink-bidder-offset") { flinkBidderOffset = v }
        if let v = options["base-time"] { baseTime = try Self.parseBaseTime(v) }
        if let v = options["seed"] {
            guard let s = UInt64(v) ?? Int64(v).map({ UInt64(bitPattern: $0) }) else {
                throw ConnectorError("'seed' must be an integer, not '\(v)'", option: "seed")
            }
            seed = s
        }
        // Timestamps are baseTime + num × delay; keep the last one representable.
        let spanMs = Double(maxEvents) * interEventDelayUs / 1000
        if spanMs > 9.0e15 || Double(baseTime) + spanMs > 9.0e15 {
            throw ConnectorError("the events would reach past the year 287,000 at this rate", option: "events.num",
                                 hint: "set 'events.num' or raise 'first-event.rate'")
        }
    }

    /// `200`, `200b`, `1kb` (Flink's MemorySize spelling for the avg-size options).
    static func byteSize(_ text: String, _ key: String) throws -> Int64 {
        let t = text.lowercased().filter { $0 != " " }
        var digits = Substring(t)
        var scale: Int64 = 1
        for (suffix, s) in [("kb", Int64(1024)), ("k", 1024), ("bytes", 1), ("b", 1)] where t.hasSuffix(suffix) {
            digits = t.dropLast(suffix.count)
            scale = s
            break
        }
        guard let v = Int64(digits), v >= 1, v <= 1 << 20 else {
            throw ConnectorError("'\(key)' must be a size between 1b and 1024kb, such as '100b', not '\(text)'",
                                 option: key)
        }
        return v * scale
    }

    /// Epoch milliseconds, or `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z]` read as UTC.
    static func parseBaseTime(_ text: String) throws -> Int64 {
        let t = text.trimmingPrefixSpaces()
        if let ms = Int64(t) { return ms }
        if let ms = Timestamp.parseMillis(Substring(t)) { return ms }
        throw ConnectorError("'base-time' must be epoch milliseconds or a timestamp such as '2015-07-15 00:00:00', not '\(text)'",
                             option: "base-time")
    }
}

extension String {
    fileprivate func trimmingPrefixSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
