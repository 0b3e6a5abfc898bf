import Columnar

/// The tables of the `nexmark` connector (`'nexmark.table'`). Spate has no ROW type
/// yet, so Flink's nested schema is flattened:
///
/// - `person`: `id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
///   city VARCHAR, state VARCHAR, dateTime TIMESTAMP(3), extra VARCHAR`
/// - `auction`: `id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
///   reserve BIGINT, dateTime TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,
///   category BIGINT, extra VARCHAR`
/// - `bid`: `auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
///   dateTime TIMESTAMP(3), extra VARCHAR`
/// - `events` (Flink's `datagen` table): `event_type BIGINT` (0 person, 1 auction,
///   2 bid), then every field of the three entities prefixed with `person_`,
///   `auction_`, `bid_` (`person_id, ..., auction_itemName, ..., bid_price, ...`),
///   NULL where the row is of another kind, then `dateTime TIMESTAMP(3)` (the event's
///   time, Flink's computed rowtime column).
///
/// A Flink query over the views `person`/`auction`/`bid` runs as written over tables
/// declared with `'nexmark.table' = 'person'` etc.; one over `datagen` reads the
/// `events` table with `person.name` spelled `person_name`.
public enum NexmarkTable: String, CaseIterable, Sendable {
    case events, bid, auction, person

    /// The generated columns, in table order.
    public var columns: [NexmarkColumn] {
        switch self {
        case .events: return NexmarkColumn.allCases
        case .bid: return NexmarkColumn.allCases.filter { $0.entity == .bid }
        case .auction: return NexmarkColumn.allCases.filter { $0.entity == .auction }
        case .person: return NexmarkColumn.allCases.filter { $0.entity == .person }
        }
    }

    /// The kind of every row (nil for `events`, which has all kinds).
    public var kind: NexmarkGenerator.Kind? {
        switch self {
        case .events: return nil
        case .bid: return .bid
        case .auction: return .auction
        case .person: return .person
        }
    }

    public func name(of column: NexmarkColumn) -> String {
        self == .events ? column.eventsName : column.fieldName
    }

    public var schema: Schema {
        Schema(columns.map { c in
            Field(name(of: c), c.type, nullable: self == .events && c.entity != nil)
        })
    }
}

/// One generated column: a field of an entity, or `event_type` / `dateTime` of `events`.
public enum NexmarkColumn: Int, CaseIterable, Sendable {
    case eventType
    case personId, personName, personEmailAddress, personCreditCard, personCity, personState, personDateTime,
         personExtra
    case auctionId, auctionItemName, auctionDescription, auctionInitialBid, auctionReserve, auctionDateTime,
         auctionExpires, auctionSeller, auctionCategory, auctionExtra
    case bidAuction, bidBidder, bidPrice, bidChannel, bidUrl, bidDateTime, bidExtra
    case dateTime

    public var entity: NexmarkGenerator.Kind? {
        switch self {
        case .eventType, .dateTime: return nil
        case .personId, .personName, .personEmailAddress, .personCreditCard, .personCity, .personState,
             .personDateTime, .personExtra: return .person
        case .auctionId, .auctionItemName, .auctionDescription, .auctionInitialBid, .auctionReserve,
             .auctionDateTime, .auctionExpires, .auctionSeller, .auctionCategory, .auctionExtra: return .auction
        default: return .bid
        }
    }

    /// Flink's field name inside its entity.
    public var fieldName: String {
        switch self {
        case .eventType: return "event_type"
        case .dateTime, .personDateTime, .auctionDateTime, .bidDateTime: return "dateTime"
        case .personId, .auctionId: return "id"
        case .personName: return "name"
        case .personEmailAddress: return "emailAddress"
        case .personCreditCard: return "creditCard"
        case .personCity: return "city"
        case .personState: return "state"
        case .personExtra, .auctionExtra, .bidExtra: return "extra"
        case .auctionItemName: return "itemName"
        case .auctionDescription: return "description"
        case .auctionInitialBid: return "initialBid"
        case .auctionReserve: return "reserve"
        case .auctionExpires: return "expires"
        case .auctionSeller: return "seller"
        case .auctionCategory: return "category"
        case .bidAuction: return "auction"
        case .bidBidder: return "bidder"
        case .bidPrice: return "price"
        case .bidChannel: return "channel"
        case .bidUrl: return "url"
        }
    }

    /// The name in the flattened `events` table.
    public var eventsName: String {
        switch entity {
        case nil: return fieldName
        case .person: return "person_" + fieldName
        case .auction: return "auction_" + fieldName
        case .bid: return "bid_" + fieldName
        }
    }

    public var type: DataType {
        switch self {
        case .personName, .personEmailAddress, .personCreditCard, .personCity, .personState, .personExtra,
             .auctionItemName, .auctionDescription, .auctionExtra, .bidChannel, .bidUrl, .bidExtra:
            return .string
        case .dateTime, .personDateTime, .auctionDateTime, .auctionExpires, .bidDateTime:
            return .timestamp(.millisecond)
        default:
            return .int64
        }
    }
}

/// Builds the batches of one table's projected columns for ranges of events, column by
/// column (a column that is not projected is never computed).
struct NexmarkBatchBuilder: Sendable {
    let generator: NexmarkGenerator
    let table: NexmarkTable
    let columns: [NexmarkColumn]
    let schema: Schema
    /// Rows per batch: the batch capacity, lowered so one batch's strings stay well
    /// inside the Int32 offsets.
    let rowsPerBatch: Int

    init(generator: NexmarkGenerator, table: NexmarkTable, columns: [NexmarkColumn], schema: Schema, batchCapacity: Int) {
        self.generator = generator
        self.table = table
        self.columns = columns
        self.schema = schema
        let rowBytes = columns.reduce(1) { $0 + NexmarkBatchBuilder.maxLength($1, generator.config) }
        rowsPerBatch = max(1, min(batchCapacity, (1 << 30) / rowBytes))
    }

    /// The most bytes a string column's value can have (0 for other columns).
    static func maxLength(_ c: NexmarkColumn, _ config: NexmarkConfig) -> Int {
        switch c {
        case .personName: return 16
        case .personEmailAddress: return 16
        case .personCreditCard: return 19
        case .personCity: return 13
        case .personState: return 2
        case .personExtra: return NexmarkGenerator.maxExtra(config.avgPersonByteSize)
        case .auctionItemName: return 20
        case .auctionDescription: return 100
        case .auctionExtra: return NexmarkGenerator.maxExtra(config.avgAuctionByteSize)
        case .bidChannel: return 16
        case .bidUrl: return 96
        case .bidExtra: return NexmarkGenerator.maxExtra(config.avgBidByteSize)
        default: return 0
        }
    }

    /// Generates events `range` (0-based positions in the stream) and emits their rows of
    /// this table in batches of at most `rowsPerBatch`, each with the id of its last row's event.
    func generate(_ range: Range<Int64>, emit: (Batch, _ lastEventId: Int64) throws -> Void) throws {
        guard !range.isEmpty else { return }
        let g = generator
        let cap = rowsPerBatch
        let eids = UnsafeMutablePointer<Int64>.allocate(capacity: cap)
        let kinds = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        defer {
            eids.deallocate()
            kinds.deallocate()
        }
        let total = g.total, personP = g.personP, personAuctionP = g.personAuctionP
        var eid = g.eventId(range.lowerBound)
        let end = g.eventId(range.upperBound)
        var r = eid % total
        let want: UInt8? = table.kind?.rawValue
        while eid < end {
            var n = 0
            if let want {
                while eid < end && n < cap {
                    let k: UInt8 = r < personP ? 0 : (r < personAuctionP ? 1 : 2)
                    if k == want {
                        eids[n] = eid
                        n += 1
                    }
                    eid += 1
                    r += 1
                    if r == total { r = 0 }
                }
            } else {
                while eid < end && n < cap {
                    kinds[n] = r < personP ? 0 : (r < personAuctionP ? 1 : 2)
                    eids[n] = eid
                    n += 1
                    eid += 1
                    r += 1
                    if r == total { r = 0 }
                }
            }
            guard n > 0 else { continue }
            let cols = columns.map { fill($0, eids, want == nil ? UnsafePointer(kinds) : nil, n) }
            try emit(Batch(schema: schema, columns: cols, count: n), eids[n - 1])
        }
    }

    /// One column for the rows `eids[0..<n]`; with `kinds` (the `events` table) the rows
    /// of another entity are NULL.
    func fill(_ c: NexmarkColumn, _ eids: UnsafePointer<Int64>, _ kinds: UnsafePointer<UInt8>?, _ n: Int) -> Column {
        let g = generator
        let want = c.entity?.rawValue ?? 0
        let k = c.entity == nil ? nil : kinds
        switch c {
        case .eventType:
            let col = Column(.int64, capacity: n)
            let out = col.int64s
            if let kinds {
                for i in 0..<n { out[i] = Int64(kinds[i]) }
            } else {
                let v = Int64(table.kind!.rawValue)
                for i in 0..<n { out[i] = v }
            }
            col.setCount(n, nullCount: 0)
            return col
        case .dateTime, .personDateTime, .auctionDateTime, .bidDateTime:
            return Self.ints(c.type, eids, k, want, n) { g.dateTime($0) }
        case .personId: return Self.ints(.int64, eids, k, want, n) { g.personId($0) }
        case .auctionId: return Self.ints(.int64, eids, k, want, n) { g.auctionId($0) }
        case .auctionInitialBid: return Self.ints(.int64, eids, k, want, n) { g.auctionInitialBid($0) }
        case .auctionReserve: return Self.ints(.int64, eids, k, want, n) { g.auctionReserve($0) }
        case .auctionExpires: return Self.ints(c.type, eids, k, want, n) { g.auctionExpires($0) }
        case .auctionSeller: return Self.ints(.int64, eids, k, want, n) { g.auctionSeller($0) }
        case .auctionCategory: return Self.ints(.int64, eids, k, want, n) { g.auctionCategory($0) }
        case .bidAuction: return Self.ints(.int64, eids, k, want, n) { g.bidAuction($0) }
        case .bidBidder: return Self.ints(.int64, eids, k, want, n) { g.bidBidder($0) }
        case .bidPrice: return Self.ints(.int64, eids, k, want, n) { g.bidPrice($0) }
        case .personName: return strings(c, eids, k, want, n) { g.personName($0, into: $1) }
        case .personEmailAddress: return strings(c, eids, k, want, n) { g.personEmail($0, into: $1) }
        case .personCreditCard: return strings(c, eids, k, want, n) { g.personCreditCard($0, into: $1) }
        case .personCity: return strings(c, eids, k, want, n) { g.personCity($0, into: $1) }
        case .personState: return strings(c, eids, k, want, n) { g.personState($0, into: $1) }
        case .personExtra: return strings(c, eids, k, want, n) { g.personExtra($0, into: $1) }
        case .auctionItemName: return strings(c, eids, k, want, n) { g.auctionItemName($0, into: $1) }
        case .auctionDescription: return strings(c, eids, k, want, n) { g.auctionDescription($0, into: $1) }
        case .auctionExtra: return strings(c, eids, k, want, n) { g.auctionExtra($0, into: $1) }
        case .bidChannel: return strings(c, eids, k, want, n) { g.channelNames.copy(g.bidChannelIndex($0), to: $1) }
        case .bidUrl: return strings(c, eids, k, want, n) { g.channelURLs.copy(g.bidChannelIndex($0), to: $1) }
        case .bidExtra: return strings(c, eids, k, want, n) { g.bidExtra($0, into: $1) }
        }
    }

    /// An int64-backed column: `value(eid)` for the rows of kind `want` (all rows when
    /// `kinds` is nil), NULL for the others.
    @inline(__always)
    static func ints(_ type: DataType, _ eids: UnsafePointer<Int64>, _ kinds: UnsafePointer<UInt8>?, _ want: UInt8,
                     _ n: Int, _ value: (Int64) -> Int64) -> Column {
        let col = Column(type, capacity: n)
        let out = col.int64s
        guard let kinds else {
            for i in 0..<n { out[i] = value(eids[i]) }
            col.setCount(n, nullCount: 0)
            return col
        }
        let valid = col.ensureValidity()
        for w in 0..<(n + 63) / 64 { valid[w] = 0 }
        var nulls = 0
        for i in 0..<n {
            if kinds[i] == want {
                out[i] = value(eids[i])
                valid[i >> 6] |= 1 << UInt64(i & 63)
            } else {
                out[i] = 0
                nulls += 1
            }
        }
        col.setCount(n, nullCount: nulls)
        return col
    }

    /// A string column: `write(eid, p)` writes a row's bytes at `p` (at most
    /// `maxLength(c)` of them) and returns their count.
    @inline(__always)
    func strings(_ c: NexmarkColumn, _ eids: UnsafePointer<Int64>, _ kinds: UnsafePointer<UInt8>?, _ want: UInt8,
                 _ n: Int, _ write: (Int64, UnsafeMutablePointer<UInt8>) -> Int) -> Column {
        let maxLen = Self.maxLength(c, generator.config)
        let col = Column(.string, capacity: n)
        let rowsOfKind: Int
        if let kinds {
            var m = 0
            for i in 0..<n where kinds[i] == want { m += 1 }
            rowsOfKind = m
        } else {
            rowsOfKind = n
        }
        // Room for every row at its longest: no bounds checks in the loop.
        col.reserveArena(rowsOfKind * maxLen + nexmarkCopySlack)
        let base = col.bytes
        let offsets = col.offsets
        var pos = 0
        offsets[0] = 0
        if let kinds {
            let valid = col.ensureValidity()
            for w in 0..<(n + 63) / 64 { valid[w] = 0 }
            for i in 0..<n {
                if kinds[i] == want {
                    pos += write(eids[i], base + pos)
                    valid[i >> 6] |= 1 << UInt64(i & 63)
                }
                offsets[i + 1] = Int32(pos)
            }
            col.setArenaCount(pos)
            col.setCount(n, nullCount: n - rowsOfKind)
        } else {
            for i in 0..<n {
                pos += write(eids[i], base + pos)
                offsets[i + 1] = Int32(pos)
            }
            col.setArenaCount(pos)
            col.setCount(n, nullCount: 0)
        }
        return col
    }
}
