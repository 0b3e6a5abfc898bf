import Columnar
@testable import Engine
import Foundation
import SpateTestSupport
import Testing

/// The Nexmark generator: determinism, the specification's kinds, ids and times, value
/// distributions, projection, and option errors.
@Suite struct NexmarkTests {
    // MARK: - Helpers

    static func provider(_ options: [String: String], declared: Schema = Schema([])) throws -> NexmarkTableProvider {
        var all = options
        all["connector"] = "nexmark"
        return try NexmarkTableProvider.make(ConnectorContext(tableName: "t", declared: declared, options: all))
            as! NexmarkTableProvider
    }

    /// Reads every morsel of a source with `workers` threads (morsels claimed
    /// concurrently), then returns the rows in morsel order as text.
    static func rows(_ p: NexmarkTableProvider, projection: [Int]? = nil, options: ExecutionOptions) throws -> [[String]] {
        let source = try p.open(projection: projection ?? Array(0..<p.schema.count), options: options)
        let byMorsel = Collected()
        let failure = FirstError()
        runThreads(options.workers) { _ in
            do {
                while let m = try source.claimMorsel() {
                    var out: [[String]] = []
                    try source.read(m) { b in
                        #expect(b.count <= options.batchCapacity)
                        for r in 0..<b.count {
                            out.append(b.columns.map { $0.isValid(r) ? ValueFormat.text($0, r) : "NULL" })
                        }
                    }
                    byMorsel.add(m.index, out)
                }
            } catch {
                failure.record(error)
            }
        }
        if let e = failure.error { throw e }
        return byMorsel.inOrder
    }

    /// Rows per morsel, from several threads.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var rows: [Int: [[String]]] = [:]

        func add(_ morsel: Int, _ r: [[String]]) { lock.withLock { rows[morsel] = r } }

        var inOrder: [[String]] { lock.withLock { rows.keys.sorted().flatMap { rows[$0]! } } }
    }

    static func opts(workers: Int = 1, capacity: Int = 4096, morsel: Int = 8 << 20) -> ExecutionOptions {
        ExecutionOptions(workers: workers, batchCapacity: capacity, morselSize: morsel, pinWorkers: false)
    }

    // MARK: - Determinism

    @Test(arguments: ["events", "bid", "auction", "person"])
    func sameRowsForAnyWorkersMorselsAndBatches(_ table: String) throws {
        let p = try Self.provider(["events.num": "3000", "nexmark.table": table, "seed": "42"])
        let reference = try Self.rows(p, options: Self.opts())
        #expect(reference.count > 0)
        for (workers, capacity, morsel) in [(3, 1, 700), (2, 7, 6400), (1, 1000, 100), (4, 4096, 25_000)] {
            let got = try Self.rows(p, options: Self.opts(workers: workers, capacity: capacity, morsel: morsel))
            #expect(got == reference, "workers \(workers), capacity \(capacity), morsel \(morsel)")
        }
        // A second generator with the same configuration gives the same rows.
        let again = try Self.rows(try Self.provider(["events.num": "3000", "nexmark.table": table, "seed": "42"]),
                                  options: Self.opts(workers: 2))
        #expect(again == reference)
    }

    @Test func seedChangesValuesNotStructure() throws {
        let a = try Self.rows(try Self.provider(["events.num": "500", "seed": "1"]), options: Self.opts())
        let b = try Self.rows(try Self.provider(["events.num": "500", "seed": "2"]), options: Self.opts())
        #expect(a.count == b.count)
        #expect(a != b)
        // Kinds, ids of created entities and times do not depend on the seed.
        let schema = NexmarkTable.events.schema
        for name in ["event_type", "person_id", "auction_id", "dateTime", "person_dateTime", "bid_dateTime"] {
            let i = schema.index(of: name)!
            #expect(a.map { $0[i] } == b.map { $0[i] }, "\(name)")
        }
        let price = schema.index(of: "bid_price")!
        #expect(a.map { $0[price] } != b.map { $0[price] })
    }

    /// A projected column has the same values as in the full table: columns are
    /// generated independently of each other.
    @Test func projectionGivesTheSameValues() throws {
        for table in NexmarkTable.allCases {
            let p = try Self.provider(["events.num": "2000", "nexmark.table": table.rawValue])
            let full = try Self.rows(p, options: Self.opts(capacity: 333))
            var rng = SplitMix64(seed: 7)
            for _ in 0..<6 {
                let k = Int(rng.next() % UInt64(p.schema.count)) + 1
                let projection = (0..<k).map { _ in Int(rng.next() % UInt64(p.schema.count)) }
                let got = try Self.rows(p, projection: projection, options: Self.opts(workers: 2, capacity: 50, morsel: 3000))
                #expect(got == full.map { row in projection.map { row[$0] } }, "\(table) \(projection)")
            }
            // No columns at all (COUNT(*)): only the row count.
            let source = try p.open(projection: [], options: Self.opts(capacity: 100))
            var n = 0
            while let m = try source.claimMorsel() { try source.read(m) { n += $0.count } }
            #expect(n == full.count)
        }
    }

    // MARK: - Kinds, ids, times (NEXMARK.md 2.2, 2.3, 2.6)

    @Test func kindsFollowTheProportionsInEveryBlock() throws {
        for (pp, ap, bp) in [(1, 3, 46), (2, 5, 13), (0, 1, 1), (1, 0, 9)] {
            let p = try Self.provider(["events.num": "1000", "person.proportion": "\(pp)", "auction.proportion": "\(ap)",
                                       "bid.proportion": "\(bp)"])
            let kinds = try Self.rows(p, projection: [0], options: Self.opts(capacity: 64)).map { Int($0[0])! }
            #expect(kinds.count == 1000)
            let total = pp + ap + bp
            for (k, kind) in kinds.enumerated() {
                let r = (k + 2) % total  // event k has id 2 + k
                let expected = r < pp ? 0 : (r < pp + ap ? 1 : 2)
                #expect(kind == expected, "event \(k) with proportions \(pp):\(ap):\(bp)")
                if kind != expected { break }
            }
        }
        // Default: each block of 50 ids is 1 person, 3 auctions, 46 bids, in that order.
        let g = NexmarkGenerator(NexmarkConfig())
        for block in [Int64(0), 1, 7, 123_456_789] {
            let kinds = (0..<50).map { g.kind(block * 50 + Int64($0)) }
            #expect(kinds[0] == .person)
            #expect(kinds[1...3].allSatisfy { $0 == .auction })
            #expect(kinds[4...].allSatisfy { $0 == .bid })
        }
    }

    /// Reads a table's rows as typed values (for the id and distribution checks).
    struct Events {
        var columns: [String: [Int64?]] = [:]
        var strings: [String: [String?]] = [:]
        var count = 0
    }

    static func events(_ options: [String: String]) throws -> Events {
        let p = try provider(options)
        let source = try p.open(projection: Array(0..<p.schema.count), options: opts(workers: 2, capacity: 1000))
        var out = Events()
        var batches: [(Int, [Batch])] = []
        while let m = try source.claimMorsel() {
            var bs: [Batch] = []
            try source.read(m) { bs.append($0) }
            batches.append((m.index, bs))
        }
        for (_, bs) in batches.sorted(by: { $0.0 < $1.0 }) {
            for b in bs {
                for (i, f) in p.schema.fields.enumerated() {
                    let c = b.columns[i]
                    if f.type == .string {
                        out.strings[f.name, default: []] += (0..<b.count).map { c.isValid($0) ? c.string(at: $0) : nil }
                    } else {
                        out.columns[f.name, default: []] += (0..<b.count).map { c.isValid($0) ? c.int64s[$0] : nil }
                    }
                }
                out.count += b.count
            }
        }
        return out
    }

    @Test func idsAreDenseAndReferencesStayNearTheCreatedEntities() throws {
        let n = 60_000
        let e = try Self.events(["events.num": "\(n)", "seed": "3"])
        #expect(e.count == n)
        var lastPerson: Int64 = 1000, lastAuction: Int64 = 1000
        var hotAuctions = 0, hotBidders = 0, hotSellers = 0, bids = 0, auctions = 0
        let kinds = e.columns["event_type"]!
        for i in 0..<n {
            switch kinds[i]! {
            case 0:
                let id = e.columns["person_id"]![i]!
                #expect(id == lastPerson + 1, "person ids are dense and increasing (row \(i))")
                lastPerson = id
            case 1:
                let id = e.columns["auction_id"]![i]!
                #expect(id == lastAuction + 1, "auction ids are dense and increasing (row \(i))")
                lastAuction = id
                auctions += 1
                let seller = e.columns["auction_seller"]![i]!
                // The hot seller of the batch of 100, or one of the last 1000 persons up to 10 ahead.
                let base0 = lastPerson - 1000
                if seller == 1000 + (base0 / 100) * 100 { hotSellers += 1 }
                #expect(seller >= 1000 + max(0, base0 + 1 - 1000) && seller <= 1000 + base0 + 10, "seller \(seller) row \(i)")
                let category = e.columns["auction_category"]![i]!
                #expect((10...14).contains(category))
                let t = e.columns["auction_dateTime"]![i]!, expires = e.columns["auction_expires"]![i]!
                // Horizon: 1666 events at 100 µs = 166 ms; expires in (t, t + 2 × 166 ms].
                #expect(expires > t && expires <= t + 2 * 167, "expires \(expires - t) ms after")
                #expect(e.columns["auction_reserve"]![i]! >= e.columns["auction_initialBid"]![i]! + 100)
            default:
                bids += 1
                let auction = e.columns["bid_auction"]![i]!, bidder = e.columns["bid_bidder"]![i]!
                let a0 = lastAuction - 1000, p0 = lastPerson - 1000
                if auction == 1000 + (a0 / 100) * 100 { hotAuctions += 1 }
                if bidder == 1000 + (p0 / 100) * 100 + 1 { hotBidders += 1 }
                #expect(auction >= 1000 + max(0, a0 - 100) && auction <= 1000 + a0 + 10, "auction \(auction) row \(i)")
                #expect(bidder >= 1000 + max(0, p0 + 1 - 1000) && bidder <= 1000 + p0 + 10, "bidder \(bidder) row \(i)")
            }
        }
        // Hot choices: 1 - 1/ratio (random picks can hit the hot id too, slightly more).
        let hotA = Double(hotAuctions) / Double(bids), hotB = Double(hotBidders) / Double(bids)
        let hotS = Double(hotSellers) / Double(auctions)
        #expect(hotA > 0.49 && hotA < 0.53, "hot auctions \(hotA)")
        #expect(hotB > 0.74 && hotB < 0.77, "hot bidders \(hotB)")
        #expect(hotS > 0.72 && hotS < 0.79, "hot sellers \(hotS)")
    }

    @Test func timestampsFollowTheRate() throws {
        for (rate, base) in [(Int64(10_000), Int64(1_436_918_400_000)), (3, 0), (7_000_000, 1_000), (333, -86_400_000)] {
            let p = try Self.provider(["events.num": "5000", "first-event.rate": "\(rate)", "base-time": "\(base)"])
            let source = try p.open(projection: [p.schema.index(of: "dateTime")!], options: Self.opts(capacity: 999))
            var k: Int64 = 0
            var previous = Int64.min
            while let m = try source.claimMorsel() {
                try source.read(m) { b in
                    for r in 0..<b.count {
                        // Flink: baseTime + (long)(num * (1e6 / rate)) / 1000 with num = 1 + k.
                        let num = Double(k + 1)
                        let expected = base + Int64(num * (1_000_000.0 / Double(rate))) / 1000
                        #expect(b.columns[0].int64s[r] == expected, "rate \(rate), event \(k)")
                        #expect(b.columns[0].int64s[r] >= previous)
                        previous = b.columns[0].int64s[r]
                        k += 1
                    }
                }
            }
            #expect(k == 5000)
        }
        // ISO base times are UTC.
        #expect(try NexmarkConfig(options: ["base-time": "2015-07-15 00:00:00"]).baseTime == 1_436_918_400_000)
        #expect(try NexmarkConfig(options: ["base-time": "2015-07-15T00:00:01.5Z"]).baseTime == 1_436_918_401_500)
    }

    // MARK: - Values

    @Test func valueDistributions() throws {
        let e = try Self.events(["events.num": "200000", "seed": "11"])
        let kinds = e.columns["event_type"]!
        var terciles = [0, 0, 0], hotChannels = 0, bids = 0, withChannelId = 0, plainChannels = 0
        let hot = ["Google", "Facebook", "Baidu", "Apple"]
        var channelURL: [String: String] = [:]
        for i in 0..<e.count where kinds[i] == 2 {
            bids += 1
            let price = e.columns["bid_price"]![i]!
            #expect(price >= 100 && price <= 100_000_000)
            terciles[price < 10_000 ? 0 : (price < 1_000_000 ? 1 : 2)] += 1
            let channel = e.strings["bid_channel"]![i]!, url = e.strings["bid_url"]![i]!
            if hot.contains(channel) {
                hotChannels += 1
                #expect(!url.contains("channel_id"))
            } else {
                #expect(channel.hasPrefix("channel-") && Int(channel.dropFirst(8))! < 10_000)
                plainChannels += 1
                if url.contains("&channel_id=") { withChannelId += 1 }
            }
            // One URL per channel.
            if let seen = channelURL[channel] { #expect(seen == url) } else { channelURL[channel] = url }
            #expect(url.hasPrefix("https://www.nexmark.com/"))
            let dirs = url.dropFirst("https://www.nexmark.com/".count).split(separator: "/")
            #expect(dirs.count == 4 && dirs[3].hasPrefix("item.htm?query=1"))
            #expect(dirs[0..<3].allSatisfy { (3...4).contains($0.count) && $0.allSatisfy { $0 == "_" || ("a"..."z").contains($0) } })
            // bid.avg-size 100 minus 32: 54 to 81 bytes.
            #expect((54...81).contains(e.strings["bid_extra"]![i]!.utf8.count))
        }
        for t in terciles { #expect(abs(Double(t) / Double(bids) - 1.0 / 3) < 0.01, "price terciles \(terciles)") }
        #expect(abs(Double(hotChannels) / Double(bids) - 0.5) < 0.01)
        #expect(abs(Double(withChannelId) / Double(plainChannels) - 0.9) < 0.02)
        // Flink's abs(Integer.reverse(1)) is Integer.MIN_VALUE.
        if let url = channelURL["channel-1"], url.contains("channel_id") { #expect(url.hasSuffix("&channel_id=-2147483648")) }

        let names = Set(["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"])
        for i in 0..<e.count where kinds[i] == 0 {
            let name = e.strings["person_name"]![i]!.split(separator: " ")
            #expect(name.count == 2 && names.contains(String(name[0])))
            let email = e.strings["person_emailAddress"]![i]!
            #expect(email.hasSuffix(".com") && email.split(separator: "@").count == 2 && email.count <= 15)
            let card = e.strings["person_creditCard"]![i]!
            #expect(card.count == 19 && card.split(separator: " ").allSatisfy { $0.count == 4 && Int($0) != nil })
            #expect(["AZ", "CA", "ID", "OR", "WA", "WY"].contains(e.strings["person_state"]![i]!))
            let size = 8 + e.strings["person_name"]![i]!.utf8.count + email.utf8.count + 19
                + e.strings["person_city"]![i]!.utf8.count + 2
            let d = 200 - size, delta = Int((0.2 * Double(d) + 0.5).rounded(.down))
            #expect((d - delta..<d + max(delta, 1)).contains(e.strings["person_extra"]![i]!.utf8.count))
        }
        for i in 0..<e.count where kinds[i] == 1 {
            let item = e.strings["auction_itemName"]![i]!, desc = e.strings["auction_description"]![i]!
            #expect(item.count <= 19 && desc.count <= 99)
            #expect(item.first != " " && item.last != " " && desc.first != " " && desc.last != " ")
            #expect(item.allSatisfy { $0 == " " || ("a"..."z").contains($0) })
        }
    }

    @Test func flinkBidderOffsetAddsAnother1000() throws {
        let plain = try Self.events(["events.num": "2000", "nexmark.table": "bid"])
        let flink = try Self.events(["events.num": "2000", "nexmark.table": "bid", "bid.flink-bidder-offset": "true"])
        #expect(zip(plain.columns["bidder"]!, flink.columns["bidder"]!).allSatisfy { $1! == $0! + 1000 })
    }

    @Test func pacedSourceKeepsToTheRate() throws {
        // 400 events at 2000/s take 0.2 s of event time: the paced source must not finish earlier.
        let p = try Self.provider(["events.num": "400", "first-event.rate": "2000", "max-emit-speed": "false"])
        let start = DispatchTime.now().uptimeNanoseconds
        let rows = try Self.rows(p, projection: [0], options: Self.opts(workers: 2))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(rows.count == 400)
        #expect(seconds >= 0.19 && seconds < 5, "took \(seconds) s")
    }

    // MARK: - Options and columns

    @Test func optionErrorsNameTheOption() throws {
        let cases: [([String: String], String, String)] = [
            (["events.num": "x"], "events.num", "must be an integer"),
            (["events.num": "-1"], "events.num", "zero or more"),
            (["first-event.rate": "0"], "first-event.rate", "at least 1"),
            (["next-event.rate": "7"], "next-event.rate", "differs"),
            (["bid.proportion": "2000000"], "bid.proportion", "at most 1000000"),
            (["bid.avg-size": "big"], "bid.avg-size", "must be a size"),
            (["person.avg-size": "0b"], "person.avg-size", "must be a size"),
            (["auction.hot-ratio.sellers": "0"], "auction.hot-ratio.sellers", "at least 1"),
            (["max-emit-speed": "yes"], "max-emit-speed", "'true' or 'false'"),
            (["seed": "abc"], "seed", "must be an integer"),
            (["base-time": "2015-13-01"], "base-time", "epoch milliseconds"),
            (["nexmark.table": "bids"], "nexmark.table", "must be one of"),
            (["events.nums": "1"], "events.nums", "unknown option"),
            (["first-event.rate": "1", "events.num": "0"], "events.num", "past the year"),
        ]
        for (options, key, fragment) in cases {
            do {
                _ = try Self.provider(options)
                Issue.record("\(options) should fail")
            } catch let e as ConnectorError {
                #expect(e.option == key, "\(options): option \(String(describing: e.option))")
                #expect(e.message.contains(fragment), "\(options): \(e.message)")
            }
        }
        // Accepted spellings.
        #expect(try NexmarkConfig(options: ["bid.avg-size": "1kb"]).avgBidByteSize == 1024)
        #expect(try NexmarkConfig(options: ["bid.avg-size": "150b"]).avgBidByteSize == 150)
        #expect(try NexmarkConfig(options: ["seed": "-1"]).seed == UInt64.max)
        #expect(try NexmarkConfig(options: ["next-event.rate": "10000"]).nextEventRate == 10_000)
    }

    /// In SQL, the error's caret points at the option's line and column.
    @Test func sqlErrorPointsAtTheOption() throws {
        let sql = """
            CREATE TABLE b (WATERMARK FOR dateTime AS dateTime)
            WITH ('connector' = 'nexmark',
                  'first-event.rate' = 'fast')
            """
        do {
            try Session(options: Self.opts()).run(sql) { _, _ in CollectingWriter() }
            Issue.record("should fail")
        } catch let e as SpateError {
            #expect(e.line == 3 && e.column == 7, "\(e)")
            #expect(e.message.contains("'first-event.rate' must be an integer"))
        }
    }

    @Test func declaredColumnsAreASubsetInAnyOrder() throws {
        let declared = Schema([Field("price", .int64), Field("DATETIME", .timestamp(.millisecond)), Field("channel", .string)])
        let p = try Self.provider(["events.num": "500", "nexmark.table": "bid"], declared: declared)
        #expect(p.schema == declared)
        let full = try Self.provider(["events.num": "500", "nexmark.table": "bid"])
        let a = try Self.rows(p, options: Self.opts())
        let b = try Self.rows(full, options: Self.opts())
        #expect(a == b.map { [$0[2], $0[5], $0[3]] })
        // Whole schemas as documented.
        #expect(NexmarkTable.bid.schema.fields.map(\.name) == ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"])
        #expect(NexmarkTable.person.schema.fields.map(\.name)
                == ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"])
        #expect(NexmarkTable.auction.schema.fields.map(\.name)
                == ["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category", "extra"])
        #expect(NexmarkTable.events.schema.count == 1 + 8 + 10 + 7 + 1)
        #expect(NexmarkTable.events.schema.fields.first?.name == "event_type")
        #expect(NexmarkTable.events.schema.fields.last?.name == "dateTime")
        #expect(NexmarkTable.events.schema.index(of: "auction_itemName") != nil)
    }

    @Test func unboundedStreamKeepsGoing() throws {
        let p = try Self.provider(["nexmark.table": "bid"])
        #expect(p.generator.eventCount == 368_934_881_474_191)
        let source = try p.open(projection: [2], options: Self.opts(morsel: 100_000))
        var n = 0
        for _ in 0..<5 {
            let m = try source.claimMorsel()!
            try source.read(m) { n += $0.count }
        }
        #expect(n == 5 * 1000 * 46 / 50)
    }
}

/// The first error of several threads.
private final class FirstError: @unchecked Sendable {
    private let monitor = Monitor()
    private var first: Error?

    var error: Error? { monitor.locked { first } }

    func record(_ e: Error) { monitor.locked { if first == nil { first = e } } }
}
