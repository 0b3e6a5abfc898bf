import Columnar

/// Text forms of values, shared by the CSV output and casts to VARCHAR.
enum ValueFormat {
    /// The text of row `r` of `c` (which must be valid there).
    static func text(_ c: Column, _ r: Int) -> String {
        switch c.type {
        case .int64: return String(c.int64s[r])
        case .float64: return double(c.float64s[r])
        case .bool: return c.bools[r] != 0 ? "true" : "false"
        case .timestamp: return Timestamp.formatMillis(c.int64s[r])
        case .string: return c.string(at: r)
        }
    }

    /// Shortest round-tripping form; integral values keep a ".0" (as Flink and DuckDB
    /// print DOUBLE) and the specials are `inf`, `-inf` and `nan`.
    static func double(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        return v.description
    }

    /// Parses text as a value of `type` (for CAST from VARCHAR), or nil.
    static func parse(_ text: String, as type: DataType) -> Scalar? {
        switch type {
        case .int64: return Int64(text).map { .int($0) }
        case .float64: return Double(text).map { .double($0) }
        case .bool:
            switch text.lowercased() {
            case "true", "t", "1", "yes": return .bool(true)
            case "false", "f", "0", "no": return .bool(false)
            default: return nil
            }
        case .timestamp:
            if let ms = Timestamp.parseMillis(Substring(text)) { return .int(ms) }
            return Int64(text).map { .int($0) }
        case .string: return .string(text)
        }
    }
}

/// `value` with `digits` decimals, without Foundation.
public func fixedDecimal(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    var text = String(whole)
    if digits > 0 {
        var frac = String(Int64(scaled - Double(whole) * scale))
        while frac.count < digits { frac = "0" + frac }
        text += "." + frac
    }
    return negative && scaled != 0 ? "-" + text : text
}
