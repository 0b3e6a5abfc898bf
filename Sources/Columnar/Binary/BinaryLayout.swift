/// The layout of a fixed-size binary record: little-endian fields, back to back, no
/// implicit padding (C structs are described with explicit `_:pad[N]` fields).
///
/// Syntax (the `'binary.layout'` option): comma-separated `name:type`, where type is
/// `int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64`, `char[N]`
/// (N bytes of text padded with NULs or spaces), `timestamp_s timestamp_ms
/// timestamp_us timestamp_ns` (a signed 64-bit count since the epoch), or `pad[N]`
/// (N bytes skipped). The name `_` skips a field of any type. Example:
///
///     auction:int64, bidder:int64, price:int32, flags:uint8, _:pad[3], name:char[16], ts:timestamp_ms
public struct BinaryLayout: Sendable, Hashable, CustomStringConvertible {
    public enum FieldType: Sendable, Hashable, CustomStringConvertible {
        case int(bytes: Int, signed: Bool)
        case float(bytes: Int)
        case char(Int)
        case timestamp(TimeUnit)
        case pad(Int)

        public var size: Int {
            switch self {
            case .int(let b, _), .float(let b): return b
            case .char(let n), .pad(let n): return n
            case .timestamp: return 8
            }
        }

        public var description: String {
            switch self {
            case .int(let b, let s): return "\(s ? "" : "u")int\(b * 8)"
            case .float(let b): return "float\(b * 8)"
            case .char(let n): return "char[\(n)]"
            case .pad(let n): return "pad[\(n)]"
            case .timestamp(let u):
                switch u {
                case .second: return "timestamp_s"
                case .millisecond: return "timestamp_ms"
                case .microsecond: return "timestamp_us"
                case .nanosecond: return "timestamp_ns"
                }
            }
        }
    }

    public struct Field: Sendable, Hashable {
        /// nil for skipped fields (`_` or padding).
        public var name: String?
        public var type: FieldType
        /// Byte offset in the record.
        public var offset: Int
    }

    public var fields: [Field]
    public var recordSize: Int

    public var description: String {
        fields.map { "\($0.name ?? "_"):\($0.type)" }.joined(separator: ", ")
    }

    /// The field named `name` (case-insensitive, as SQL names are).
    public func field(named name: String) -> Field? {
        let lower = name.lowercased()
        return fields.first { $0.name?.lowercased() == lower }
    }

    static let typeList = "int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, char[N], "
        + "timestamp_s, timestamp_ms, timestamp_us, timestamp_ns, pad[N]"

    /// Parses the layout syntax. Errors are `SpateError(.usage)` with a hint.
    public static func parse(_ text: String) throws -> BinaryLayout {
        var fields: [Field] = []
        var offset = 0
        var seen = Set<String>()
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        for (i, raw) in parts.enumerated() {
            let part = raw.layoutTrimmed
            guard !part.isEmpty else {
                throw SpateError(.usage, "field \(i + 1) of the layout is empty",
                                 hint: "write fields as name:type, separated by commas")
            }
            guard let colon = part.firstIndex(of: ":") else {
                throw SpateError(.usage, "layout field '\(part)' has no type",
                                 hint: "write it as name:type, e.g. price:int64 (types: \(typeList))")
            }
            let name = part[..<colon].layoutTrimmed
            let typeText = part[part.index(after: colon)...].layoutTrimmed.lowercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw SpateError(.usage, "layout field name '\(name)' is not a plain name",
                                 hint: "use the column's name (letters, digits, _), or _ to skip the field")
            }
            let type = try parseType(typeText, field: name)
            var fieldName: String? = name
            if name == "_" { fieldName = nil }
            if case .pad = type { fieldName = nil }
            if let n = fieldName {
                guard seen.insert(n.lowercased()).inserted else {
                    throw SpateError(.usage, "layout field '\(n)' appears twice", hint: "give each field its own name, or _ to skip one")
                }
            }
            fields.append(Field(name: fieldName, type: type, offset: offset))
            offset += type.size
        }
        guard offset > 0 else {
            throw SpateError(.usage, "the layout describes records of 0 bytes", hint: "describe at least one field")
        }
        return BinaryLayout(fields: fields, recordSize: offset)
    }

    static func parseType(_ t: String, field: String) throws -> FieldType {
        switch t {
        case "int8": return .int(bytes: 1, signed: true)
        case "int16": return .int(bytes: 2, signed: true)
        case "int32": return .int(bytes: 4, signed: true)
        case "int64": return .int(bytes: 8, signed: true)
        case "uint8": return .int(bytes: 1, signed: false)
        case "uint16": return .int(bytes: 2, signed: false)
        case "uint32": return .int(bytes: 4, signed: false)
        case "uint64": return .int(bytes: 8, signed: false)
        case "float32": return .float(bytes: 4)
        case "float64": return .float(bytes: 8)
        case "timestamp_s": return .timestamp(.second)
        case "timestamp_ms": return .timestamp(.millisecond)
        case "timestamp_us": return .timestamp(.microsecond)
        case "timestamp_ns": return .timestamp(.nanosecond)
        default: break
        }
        for (prefix, make) in [("char", FieldType.char), ("pad", FieldType.pad)] where t.hasPrefix(prefix + "[") {
            guard t.hasSuffix("]"), let n = Int(t.dropFirst(prefix.count + 1).dropLast()), n >= 1, n <= 1 << 20 else {
                throw SpateError(.usage, "layout field '\(field)': '\(t)' needs a length from 1 to 1048576",
                                 hint: "write \(prefix)[N], e.g. \(prefix)[16]")
            }
            return make(n)
        }
        throw SpateError(.usage, "layout field '\(field)' has an unknown type '\(t)'", hint: "types: \(typeList)")
    }
}

fileprivate extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var layoutTrimmed: String {
        let s = drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        return String(s.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
    }
}
