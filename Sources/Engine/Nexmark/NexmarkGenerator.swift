import Columnar

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Nexmark event generator as a pure function of (configuration, seed, event number).
///
/// Event `k` (k = 0, 1, 2, ...) has event number `num = 1 + k` and id `eid = 1 + num`
/// (Flink's table source numbers both from 1, so the first event is id 2, an auction).
/// From the id alone, with the formulas of Flink/Beam (NEXMARK.md §2.2-2.6):
/// - kind: `eid % total` below `person.proportion` is a person, below person +
///   auction an auction, else a bid (1 person, 3 auctions, 46 bids per block of 50);
/// - entity ids: persons and auctions are numbered densely from 1000 as they appear;
///   sellers, bidders and bid auctions are the hot entity of the current batch of 100
///   with probability 1 - 1/ratio, otherwise one of the recent ones (up to 10 ahead);
/// - event time: `base-time + floor(num × 1e6 / rate) / 1000` ms (Flink's arithmetic).
///
/// Random values come from a counter-based generator: each field of each event hashes
/// (seed, field, event id) with SplitMix64's finaliser, and fields that need several
/// draws (strings) run a SplitMix64 stream from that hash. So a value never depends on
/// which other values were generated, a worker can start anywhere, and a query that does
/// not use a column never pays for it. The values therefore differ from Flink's and
/// Beam's value for value (Flink's are not reproducible at all: it seeds from the clock);
/// their distributions, the id relationships, the proportions and the timing follow the
/// specification:
/// - names, cities, states: Flink's word lists; emails `nextString(7)@nextString(5).com`;
///   credit cards four `%04d` groups; item names `nextString(20)`, descriptions
///   `nextString(100)` (3 to max-1 characters, a space with probability 1/13, trimmed);
/// - prices `round(10^(6u) × 100)` cents (log-uniform over [100, 10^8));
/// - categories 10-14; `expires` uniform over `(dateTime, dateTime + 2 × horizon]` with
///   the horizon the event time of 1666 events;
/// - channels: half the bids one of Google, Facebook, Baidu, Apple, the rest
///   `channel-0` ... `channel-9999`, each with a fixed URL (90% of them carrying
///   `&channel_id=` and the bit-reversed channel number, as in Flink);
/// - `extra`: padding towards the average event size (`bid.avg-size` etc., ±20%),
///   a substring of a fixed random pool (64 KiB of a-z), as Flink does (1 MiB) since 2024.
public final class NexmarkGenerator: @unchecked Sendable {
    public let config: NexmarkConfig

    /// Kinds of events (Flink's `event_type` values).
    public enum Kind: UInt8, Sendable {
        case person = 0, auction = 1, bid = 2
    }

    // MARK: - Set-up

    let total: Int64
    let inverseTotal: Double
    let personP: Int64
    let personAuctionP: Int64
    let delayUs: Double
    /// Events between an auction and the end of its expiry horizon (1666 by default).
    let horizonEvents: Int64
    private let keys: [UInt64]
    /// Channel names and URLs: 0..<4 the hot channels, 4 + c `channel-c`.
    let channelNames: StringTable
    let channelURLs: StringTable
    /// The random text that `extra` fields are cut from.
    let extraPool: UnsafeMutablePointer<UInt8>
    /// 64 KiB stays in the L2 cache (a 1 MiB pool, as Flink's, made the random offsets
    /// miss it and `extra` twice as slow); larger when an average size needs more.
    let extraPoolSize: Int

    public init(_ config: NexmarkConfig) {
        self.config = config
        total = config.totalProportion
        inverseTotal = 1.0 / Double(config.totalProportion)
        personP = config.personProportion
        personAuctionP = config.personProportion + config.auctionProportion
        delayUs = config.interEventDelayUs
        horizonEvents = config.auctionProportion > 0
            ? NexmarkConfig.numInFlightAuctions * config.totalProportion / config.auctionProportion : 0
        keys = (0..<Field.count.rawValue).map { f in
            nexmarkMix(config.seed &+ UInt64(f + 1) &* 0x9E37_79B9_7F4A_7C15)
        }
        // Tables built once from the seed (Flink builds them from an unseeded random per JVM).
        var names: [[UInt8]] = ["Google", "Facebook", "Baidu", "Apple"].map { Array($0.utf8) }
        var urls: [[UInt8]] = []
        var hot = NexmarkStream(seed: keys[Field.hotURL.rawValue])
        for _ in 0..<4 { urls.append(Self.baseURL(&hot)) }
        for c in 0..<Int(NexmarkConfig.channelsNumber) {
            names.append(Array("channel-\(c)".utf8))
            var s = NexmarkStream(seed: nexmarkMix(keys[Field.channelURL.rawValue] &+ UInt64(c) &* 0xD1B5_4A32_D192_ED03))
            var url = Self.baseURL(&s)
            if s.uniform(10) > 0 {
                // Flink: "&channel_id=" + Math.abs(Integer.reverse(c)); abs(Int32.min) stays negative.
                let reversed = Int32(bitPattern: Self.reverseBits(UInt32(c)))
                let id = reversed == Int32.min ? reversed : abs(reversed)
                url += Array("&channel_id=\(id)".utf8)
            }
            urls.append(url)
        }
        channelNames = StringTable(names)
        channelURLs = StringTable(urls)
        let longest = max(config.avgPersonByteSize, config.avgAuctionByteSize, config.avgBidByteSize)
        extraPoolSize = max(1 << 16, 2 * Self.maxExtra(longest))
        extraPool = .allocate(capacity: extraPoolSize + nexmarkCopySlack)
        extraPool.initialize(repeating: 0, count: extraPoolSize + nexmarkCopySlack)
        var pool = NexmarkStream(seed: keys[Field.extraPool.rawValue])
        var i = 0
        while i < extraPoolSize {
            let r = pool.next()
            for j in 0..<8 where i + j < extraPoolSize {
                extraPool[i + j] = 97 &+ UInt8(truncatingIfNeeded: (((r >> (8 * UInt64(j))) & 0xFF) * 26) >> 8)
            }
            i += 8
        }
    }

    deinit { extraPool.deallocate() }

    static func reverseBits(_ v: UInt32) -> UInt32 {
        var x = v, r: UInt32 = 0
        for _ in 0..<32 { r = (r << 1) | (x & 1); x >>= 1 }
        return r
    }

    /// `https://www.nexmark.com/<s1>/<s2>/<s3>/item.htm?query=1`, each segment
    /// `nextString(5, '_')`.
    static func baseURL(_ s: inout NexmarkStream) -> [UInt8] {
        var out = Array("https://www.nexmark.com/".utf8)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { buf in
            for part in 0..<3 {
                let n = nextString(&s, max: 5, special: UInt8(ascii: "_"), into: buf.baseAddress!)
                out += buf[0..<n]
                if part < 2 { out.append(UInt8(ascii: "/")) }
            }
        }
        out += Array("/item.htm?query=1".utf8)
        return out
    }

    /// The random streams, one per generated field (the value of a field of event `eid`
    /// hashes (seed, field, eid)).
    enum Field: Int {
        case personName, personEmail, personCard, personCity, personState, personExtra
        case auctionSeller, auctionCategory, auctionInitialBid, auctionReserve, auctionExpires
        case auctionItemName, auctionDescription, auctionExtra
        case bidAuction, bidBidder, bidPrice, bidChannel, bidExtra
        case hotURL, channelURL, extraPool
        case count
    }

    /// The hash that seeds field `f` of event `eid`.
    @inline(__always)
    func draw(_ eid: Int64, _ f: Field) -> UInt64 {
        nexmarkMix(keys[f.rawValue] &+ UInt64(bitPattern: eid) &* 0xD1B5_4A32_D192_ED03)
    }

    // MARK: - Numbering, kinds, ids, time

    /// Total events (`events.num`, or Flink's cap when unbounded).
    public var eventCount: Int64 { config.maxEvents }

    /// The id of event `k` (0-based position in the stream).
    @inline(__always) public func eventId(_ k: Int64) -> Int64 {
        NexmarkConfig.firstEventId + NexmarkConfig.firstEventNumber + k
    }

    /// The event number of an event id (Flink's `num`, which times the event).
    @inline(__always) func number(_ eid: Int64) -> Int64 { eid - NexmarkConfig.firstEventId }

    /// `(eid / total, eid % total)` for ids ≥ 0 without a 64-bit division (tens of
    /// cycles, and every id field needs one): a double-precision estimate, corrected.
    @inline(__always) func blockAndOffset(_ eid: Int64) -> (Int64, Int64) {
        var q = Int64(Double(eid) * inverseTotal)
        var r = eid &- q &* total
        while r < 0 { q -= 1; r += total }
        while r >= total { q += 1; r -= total }
        return (q, r)
    }

    @inline(__always) public func kind(_ eid: Int64) -> Kind {
        let r = blockAndOffset(eid).1
        return r < personP ? .person : (r < personAuctionP ? .auction : .bid)
    }

    /// Base-0 id of the last person created up to `eid`.
    @inline(__always) public func lastPerson(_ eid: Int64) -> Int64 {
        let (e, o) = blockAndOffset(eid)
        return e * personP + min(o, personP - 1)
    }

    /// Base-0 id of the last auction created up to `eid`.
    @inline(__always) public func lastAuction(_ eid: Int64) -> Int64 {
        let (e, o) = blockAndOffset(eid)
        let a = config.auctionProportion
        if o < personP { return (e - 1) * a + (a - 1) }
        if o >= personAuctionP { return e * a + (a - 1) }
        return e * a + (o - personP)
    }

    /// Event time (epoch ms) of event number `num`: Flink's `baseTime + (long)(num × delayUs) / 1000`.
    @inline(__always) public func timestamp(number num: Int64) -> Int64 {
        config.baseTime + Int64(Double(num) * delayUs) / 1000
    }

    /// Event time of event id `eid`.
    @inline(__always) public func dateTime(_ eid: Int64) -> Int64 { timestamp(number: number(eid)) }

    /// Flink's `nextBase0PersonId` given `lastPerson`: one of the last `numActivePeople`
    /// persons, or up to 10 not created yet.
    @inline(__always) func randomPerson(_ lastPerson: Int64, _ h: UInt64) -> Int64 {
        let n = lastPerson + 1
        let active = min(n, NexmarkConfig.numActivePeople)
        return n - active + Int64(nexmarkUniform(h, UInt64(active + NexmarkConfig.personIdLead)))
    }

    /// Flink's `nextBase0AuctionId` given `lastAuction`: one of the last
    /// `numInFlightAuctions` auctions, or up to 10 not created yet.
    @inline(__always) func randomAuction(_ last: Int64, _ h: UInt64) -> Int64 {
        let lo = max(last - NexmarkConfig.numInFlightAuctions, 0)
        return lo + Int64(nexmarkUniform(h, UInt64(last - lo + 1 + NexmarkConfig.auctionIdLead)))
    }

    /// `round(10^(6u) × 100)`: log-uniform cents in [100, 10^8).
    @inline(__always) static func price(_ h: UInt64) -> Int64 {
        let u = Double(h >> 11) * 0x1p-53
        // Java's Math.round: floor(x + 0.5).
        return Int64((nexmarkExp(u * 13.815510557964274) * 100 + 0.5).rounded(.down))
    }

    // MARK: - Person fields

    @inline(__always) public func personId(_ eid: Int64) -> Int64 { NexmarkConfig.firstPersonId + lastPerson(eid) }

    static let firstNames: StringTable = StringTable(
        ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"].map { Array($0.utf8) })
    static let lastNames: StringTable = StringTable(
        ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"].map { Array($0.utf8) })
    static let cities: StringTable = StringTable(
        ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent",
         "Cheyenne"].map { Array($0.utf8) })
    static let states: StringTable = StringTable(["AZ", "CA", "ID", "OR", "WA", "WY"].map { Array($0.utf8) })

    /// "First Last".
    @inline(__always) func personName(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        let h = draw(eid, .personName)
        var n = Self.firstNames.copy(Int(nexmarkUniform(h, 11)), to: p)
        p[n] = UInt8(ascii: " ")
        n += 1
        n += Self.lastNames.copy(Int(nexmarkUniform(nexmarkMix(h), 9)), to: p + n)
        return n
    }

    /// `nextString(7) + "@" + nextString(5) + ".com"`.
    @inline(__always) func personEmail(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var s = NexmarkStream(seed: draw(eid, .personEmail))
        var n = Self.nextString(&s, max: 7, special: 32, into: p)
        p[n] = UInt8(ascii: "@")
        n += 1
        n += Self.nextString(&s, max: 5, special: 32, into: p + n)
        for c in ".com".utf8 { p[n] = c; n += 1 }
        return n
    }

    /// Four groups of 4 digits separated by spaces (19 bytes).
    @inline(__always) func personCreditCard(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var s = NexmarkStream(seed: draw(eid, .personCard))
        for g in 0..<4 {
            var v = Int(s.uniform(10_000))
            for d in stride(from: 3, through: 0, by: -1) {
                p[g * 5 + d] = 48 + UInt8(v % 10)
                v /= 10
            }
            if g < 3 { p[g * 5 + 4] = 32 }
        }
        return 19
    }

    @inline(__always) func personCity(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        Self.cities.copy(Int(nexmarkUniform(draw(eid, .personCity), 10)), to: p)
    }

    @inline(__always) func personState(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        Self.states.copy(Int(nexmarkUniform(draw(eid, .personState), 6)), to: p)
    }

    func personExtra(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        // The padding depends on the other fields' sizes (Flink: 8 + name + email + card + city + state).
        let size = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf -> Int in
            let b = buf.baseAddress!
            return personName(eid, into: b) + personEmail(eid, into: b) + 19 + personCity(eid, into: b)
                + personState(eid, into: b)
        }
        return extra(draw(eid, .personExtra), current: 8 + size, average: config.avgPersonByteSize, into: p)
    }

    // MARK: - Auction fields

    @inline(__always) public func auctionId(_ eid: Int64) -> Int64 { NexmarkConfig.firstAuctionId + lastAuction(eid) }

    /// The hot seller of the current batch of 100 persons with probability 1 - 1/ratio,
    /// else a random active person.
    @inline(__always) public func auctionSeller(_ eid: Int64) -> Int64 {
        let h = draw(eid, .auctionSeller)
        let last = lastPerson(eid)
        let base0 = nexmarkUniform(h, UInt64(config.hotSellersRatio)) > 0
            ? (last / NexmarkConfig.hotBatch) * NexmarkConfig.hotBatch
            : randomPerson(last, nexmarkMix(h))
        return NexmarkConfig.firstPersonId + base0
    }

    @inline(__always) public func auctionCategory(_ eid: Int64) -> Int64 {
        NexmarkConfig.firstCategoryId
            + Int64(nexmarkUniform(draw(eid, .auctionCategory), UInt64(NexmarkConfig.numCategories)))
    }

    @inline(__always) public func auctionInitialBid(_ eid: Int64) -> Int64 { Self.price(draw(eid, .auctionInitialBid)) }

    @inline(__always) public func auctionReserve(_ eid: Int64) -> Int64 {
        auctionInitialBid(eid) + Self.price(draw(eid, .auctionReserve))
    }

    /// `dateTime + 1 + U[0, max(2 × horizon, 1))`, the horizon being the event time
    /// `numInFlightAuctions × total / auction.proportion` events later.
    @inline(__always) public func auctionExpires(_ eid: Int64) -> Int64 {
        let num = number(eid)
        let now = timestamp(number: num)
        let horizon = timestamp(number: num + horizonEvents) - now
        return now + 1 + Int64(nexmarkUniform(draw(eid, .auctionExpires), UInt64(max(2 * horizon, 1))))
    }

    @inline(__always) func auctionItemName(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var s = NexmarkStream(seed: draw(eid, .auctionItemName))
        return Self.nextString(&s, max: 20, special: 32, into: p)
    }

    @inline(__always) func auctionDescription(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        var s = NexmarkStream(seed: draw(eid, .auctionDescription))
        return Self.nextString(&s, max: 100, special: 32, into: p)
    }

    func auctionExtra(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        let size = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buf -> Int in
            auctionItemName(eid, into: buf.baseAddress!) + auctionDescription(eid, into: buf.baseAddress!)
        }
        return extra(draw(eid, .auctionExtra), current: 8 + size + 40, average: config.avgAuctionByteSize, into: p)
    }

    // MARK: - Bid fields

    /// The hot auction of the current batch of 100 with probability 1 - 1/ratio, else
    /// one of the last 100 auctions (or up to 10 ahead).
    @inline(__always) public func bidAuction(_ eid: Int64) -> Int64 {
        let h = draw(eid, .bidAuction)
        let last = lastAuction(eid)
        let base0 = nexmarkUniform(h, UInt64(config.hotAuctionRatio)) > 0
            ? (last / NexmarkConfig.hotBatch) * NexmarkConfig.hotBatch
            : randomAuction(last, nexmarkMix(h))
        return NexmarkConfig.firstAuctionId + base0
    }

    /// The hot bidder (hot seller + 1) with probability 1 - 1/ratio, else a random active person.
    @inline(__always) public func bidBidder(_ eid: Int64) -> Int64 {
        let h = draw(eid, .bidBidder)
        let last = lastPerson(eid)
        let base0 = nexmarkUniform(h, UInt64(config.hotBiddersRatio)) > 0
            ? (last / NexmarkConfig.hotBatch) * NexmarkConfig.hotBatch + 1
            : randomPerson(last, nexmarkMix(h))
        return NexmarkConfig.firstPersonId + base0 + (config.flinkBidderOffset ? NexmarkConfig.firstPersonId : 0)
    }

    @inline(__always) public func bidPrice(_ eid: Int64) -> Int64 { Self.price(draw(eid, .bidPrice)) }

    /// Index into the channel tables: 0..<4 hot (probability 1/2), else 4 + U[0, 10000).
    @inline(__always) func bidChannelIndex(_ eid: Int64) -> Int {
        let h = draw(eid, .bidChannel)
        let next = nexmarkMix(h)
        return nexmarkUniform(h, 2) > 0
            ? Int(nexmarkUniform(next, 4))
            : 4 + Int(nexmarkUniform(next, UInt64(NexmarkConfig.channelsNumber)))
    }

    @inline(__always) func bidExtra(_ eid: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        extra(draw(eid, .bidExtra), current: 32, average: config.avgBidByteSize, into: p)
    }

    // MARK: - Strings

    /// Flink's `nextExtra`: empty when the event is already larger than the average,
    /// else `d - δ + U[0, 2δ)` bytes with `d = average - current`, `δ = round(0.2 d)`,
    /// cut from the random pool at a random offset.
    @inline(__always)
    func extra(_ h: UInt64, current: Int, average: Int64, into p: UnsafeMutablePointer<UInt8>) -> Int {
        let cur = Int64(current)
        guard cur <= average else { return 0 }
        let d = average - cur
        let delta = Int64((0.2 * Double(d) + 0.5).rounded(.down))
        let len = Int(d - delta + (delta == 0 ? 0 : Int64(nexmarkUniform(h, UInt64(2 * delta)))))
        let offset = Int(nexmarkUniform(nexmarkMix(h), UInt64(extraPoolSize - len)))
        nexmarkCopy(p, extraPool + offset, len)
        return len
    }

    /// The most bytes `extra` can have for an average size.
    static func maxExtra(_ average: Int64) -> Int { Int(average + average / 5 + 2) }

    /// Flink's `nextString(max, special)`: 3 to max-1 characters, each `special` with
    /// probability 1/13 and otherwise a letter a-z; then trimmed of spaces.
    @inline(__always)
    static func nextString(_ s: inout NexmarkStream, max: Int, special: UInt8, into p: UnsafeMutablePointer<UInt8>) -> Int {
        let len = 3 + Int(s.uniform(UInt64(max - 3)))
        var i = 0
        while i < len {
            let r = s.next()
            // 338 = 13 × 26: u < 26 is the 1/13 special case; otherwise u % 26 is uniform.
            let u0 = ((r & 0xFFFF_FFFF) &* 338) >> 32
            p[i] = u0 < 26 ? special : 97 &+ UInt8(truncatingIfNeeded: u0 % 26)
            if i + 1 < len {
                let u1 = ((r >> 32) &* 338) >> 32
                p[i + 1] = u1 < 26 ? special : 97 &+ UInt8(truncatingIfNeeded: u1 % 26)
            }
            i += 2
        }
        guard special == 32 else { return len }
        var start = 0, end = len
        while start < end && p[start] == 32 { start += 1 }
        while end > start && p[end - 1] == 32 { end -= 1 }
        if start > 0 { for j in 0..<(end - start) { p[j] = p[start + j] } }
        return end - start
    }
}

// MARK: - Random numbers

/// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix whose outputs
/// for consecutive inputs pass BigCrush; the counter-based generator hashes with it.
@inline(__always)
func nexmarkMix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// `U[0, m)` from 64 random bits by multiply-shift (Lemire): the high half of `h × m`.
/// (The bias, at most m / 2^64, is far below anything a test could see.)
@inline(__always)
func nexmarkUniform(_ h: UInt64, _ m: UInt64) -> UInt64 {
    h.multipliedFullWidth(by: m).high
}

/// e^x for the prices.
@inline(__always)
func nexmarkExp(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.exp(x)
    #else
    return Darwin.exp(x)
    #endif
}

/// Bytes that `nexmarkCopy` may read and write past the end of a string.
let nexmarkCopySlack = 16

/// Copies `n` short bytes in 16-byte steps (a call to memcpy costs more than the copy
/// for strings of tens of bytes). May read and write up to 15 bytes past `n`: sources
/// carry `nexmarkCopySlack` bytes of padding, destinations that much spare room.
@inline(__always)
func nexmarkCopy(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ n: Int) {
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    var i = 0
    while i < n {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self), toByteOffset: i, as: SIMD16<UInt8>.self)
        i += 16
    }
}

/// A SplitMix64 stream, for fields that need several draws (strings).
struct NexmarkStream {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always) mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return nexmarkMix(state)
    }

    @inline(__always) mutating func uniform(_ m: UInt64) -> UInt64 { nexmarkUniform(next(), m) }
}

/// A fixed list of short strings in one arena.
final class StringTable: @unchecked Sendable {
    let bytes: UnsafeMutablePointer<UInt8>
    let offsets: UnsafeMutablePointer<Int32>
    let count: Int
    /// The longest entry.
    let maxLength: Int

    init(_ items: [[UInt8]]) {
        count = items.count
        let total = items.reduce(0) { $0 + $1.count }
        bytes = .allocate(capacity: total + nexmarkCopySlack)
        bytes.initialize(repeating: 0, count: total + nexmarkCopySlack)
        offsets = .allocate(capacity: items.count + 1)
        var pos = 0
        offsets[0] = 0
        for (i, s) in items.enumerated() {
            for (j, b) in s.enumerated() { bytes[pos + j] = b }
            pos += s.count
            offsets[i + 1] = Int32(pos)
        }
        maxLength = items.map(\.count).max() ?? 0
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
    }

    @inline(__always) func length(_ i: Int) -> Int { Int(offsets[i + 1] - offsets[i]) }

    @inline(__always) func copy(_ i: Int, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let start = Int(offsets[i]), n = Int(offsets[i + 1]) - start
        nexmarkCopy(p, bytes + start, n)
        return n
    }

    func string(_ i: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes + Int(offsets[i]), count: length(i)), as: UTF8.self)
    }
}
