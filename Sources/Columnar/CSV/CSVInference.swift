import CKernels

/// A schema for a CSV file that declares none: names from the header (or `column1`,
/// `column2`, ...), types from the first rows.
///
/// A column is BOOLEAN when every sampled value is true/false, BIGINT when every one
/// is an integer, DOUBLE when every one is a number, TIMESTAMP(3) when every one is an
/// ISO date or date-time (`2024-05-01`, `2024-05-01T12:00:00.5Z`), and VARCHAR
/// otherwise or when the sample holds no value at all (NULLs don't count).
public enum CSVInference {
    /// Rows sampled by default.
    public static let defaultSampleRows = 1000

    public static func infer(file: CSVFile, options: CSVOptions, sampleRows: Int = defaultSampleRows) -> Schema {
        let records = file.sampleRecords(options: options, limit: sampleRows + 1)
        guard let first = records.first else { return Schema([]) }
        let count = first.count
        var names: [String]
        var data = records[...]
        if options.header {
            names = first.map { $0 ?? "" }
            data = records.dropFirst()
        } else {
            names = []
        }
        names = uniqueNames(names, count: count)
        var kinds = [Kind](repeating: .unknown, count: count)
        for record in data where record.count == count {
            for (i, value) in record.enumerated() {
                guard let value else { continue }
                kinds[i] = kinds[i].merged(with: Kind.of(value))
            }
        }
        return Schema(zip(names, kinds).map { Field($0.0, $0.1.type) })
    }

    /// Header names, blanks and duplicates replaced (`column3`, `name_2`).
    static func uniqueNames(_ header: [String], count: Int) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for i in 0..<count {
            var name = i < header.count ? header[i] : ""
            if name.isEmpty { name = "column\(i + 1)" }
            var candidate = name
            var k = 2
            while seen.contains(candidate.lowercased()) {
                candidate = "\(name)_\(k)"
                k += 1
            }
            seen.insert(candidate.lowercased())
            out.append(candidate)
        }
        return out
    }

    /// The narrowest type seen so far; merging widens.
    enum Kind {
        case unknown, bool, int, double, timestamp, string

        var type: DataType {
            switch self {
            case .unknown, .string: return .string
            case .bool: return .bool
            case .int: return .int64
            case .double: return .float64
            case .timestamp: return .timestamp(.millisecond)
            }
        }

        static func of(_ value: String) -> Kind {
            var bytes = Array(value.utf8)
            return bytes.withUnsafeMutableBufferPointer { b -> Kind in
                let p = UnsafePointer(b.baseAddress)
                var i: Int64 = 0, d: Double = 0
                let lower = value.lowercased()
                if lower == "true" || lower == "false" { return .bool }
                if ck_parse_i64(p, b.count, &i) == 0 { return .int }
                if ck_parse_f64(p, b.count, &d) == 0 { return .double }
                // ISO dates only (an integer would parse as epoch milliseconds).
                if b.count >= 10 && b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-")
                    && ck_parse_timestamp_ms(p, b.count, &i) == 0
                {
                    return .timestamp
                }
                return .string
            }
        }

        func merged(with other: Kind) -> Kind {
            switch (self, other) {
            case (.unknown, _): return other
            case (_, .unknown): return self
            case _ where self == other: return self
            case (.int, .double), (.double, .int): return .double
            default: return .string
            }
        }
    }
}
