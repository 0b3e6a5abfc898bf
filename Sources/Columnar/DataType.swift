/// The resolution of a timestamp. Spate's SQL TIMESTAMP(3) is milliseconds; the unit is
/// kept in the type so that micro- and nanosecond columns can follow without a new type.
public enum TimeUnit: String, Sendable, Hashable {
    case second, millisecond, microsecond, nanosecond

    /// How many units make one second.
    public var perSecond: Int64 {
        switch self {
        case .second: return 1
        case .millisecond: return 1_000
        case .microsecond: return 1_000_000
        case .nanosecond: return 1_000_000_000
        }
    }
}

/// A column's logical type.
public enum DataType: Sendable, Hashable, CustomStringConvertible {
    case int64
    case float64
    case bool
    /// Count of `unit`s since 1970-01-01T00:00:00Z, stored as Int64.
    case timestamp(TimeUnit)
    /// UTF-8 bytes, stored as Int32 offsets plus one byte arena.
    case string

    /// Bytes per value in the values buffer (string: bytes per offset).
    public var valueWidth: Int {
        switch self {
        case .int64, .float64, .timestamp: return 8
        case .bool: return 1
        case .string: return 4
        }
    }

    /// True for types stored as Int64 (int64 and timestamps).
    public var isInt64Backed: Bool {
        switch self {
        case .int64, .timestamp: return true
        default: return false
        }
    }

    public var isNumeric: Bool {
        switch self {
        case .int64, .float64: return true
        default: return false
        }
    }

    /// The SQL spelling, as `spate inspect` and error messages show it.
    public var description: String {
        switch self {
        case .int64: return "BIGINT"
        case .float64: return "DOUBLE"
        case .bool: return "BOOLEAN"
        case .string: return "VARCHAR"
        case .timestamp(let unit):
            switch unit {
            case .second: return "TIMESTAMP(0)"
            case .millisecond: return "TIMESTAMP(3)"
            case .microsecond: return "TIMESTAMP(6)"
            case .nanosecond: return "TIMESTAMP(9)"
            }
        }
    }
}

/// A named, typed column of a schema.
public struct Field: Sendable, Hashable {
    public var name: String
    public var type: DataType
    public var nullable: Bool

    public init(_ name: String, _ type: DataType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// An ordered list of fields.
public struct Schema: Sendable, Hashable, CustomStringConvertible {
    public var fields: [Field]

    public init(_ fields: [Field]) { self.fields = fields }

    public var count: Int { fields.count }

    public subscript(_ i: Int) -> Field { fields[i] }

    /// Index of the first field with this name, compared case-insensitively (as SQL does).
    public func index(of name: String) -> Int? {
        if let exact = fields.firstIndex(where: { $0.name == name }) { return exact }
        let lower = name.lowercased()
        return fields.firstIndex(where: { $0.name.lowercased() == lower })
    }

    public var description: String {
        fields.map { "\($0.name) \($0.type)\($0.nullable ? "" : " NOT NULL")" }.joined(separator: ", ")
    }
}
