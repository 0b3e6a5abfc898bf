import CPlatform
import Columnar

/// What `spate inspect` prints about input files.
public enum Inspect {
    /// A CSV file: size, dialect, the schema inferred from the first rows, the number
    /// of records (a parallel structural scan, no conversion), and a few sample rows.
    public static func csv(path: String, options: CSVOptions, sampleRows: Int = 5) throws -> String {
        try options.validate()
        let file = try CSVFile(path: path)
        let schema = CSVInference.infer(file: file, options: options)
        var out = "file: \(path)\n"
        out += "size: \(humanBytes(file.size)) (\(file.size) bytes)\n"
        var dialect = "delimiter '\(options.delimiter == 9 ? "\\t" : String(UnicodeScalar(options.delimiter)))'"
        dialect += options.header ? ", header" : ", no header"
        if file.dataStart > 0 { dialect += ", UTF-8 BOM" }
        if let n = options.nullLiteral { dialect += ", null '\(n)'" }
        if options.comment != nil { dialect += ", # comments" }
        if let e = options.escape { dialect += ", escape '\(String(UnicodeScalar(e)))'" }
        out += "format: csv (\(dialect))\n"
        guard schema.count > 0 else {
            out += "rows: 0\n"
            return out
        }
        let (rows, bad) = try countRows(file, fieldCount: schema.count, options: options)
        out += "rows: \(rows)" + (bad > 0 ? " (and \(bad) malformed record\(bad == 1 ? "" : "s"))" : "") + "\n"
        out += "schema (inferred from the first \(CSVInference.defaultSampleRows) rows):\n"
        let width = schema.fields.map(\.name.count).max() ?? 0
        for f in schema.fields {
            out += "  " + f.name + String(repeating: " ", count: width - f.name.count + 2) + sqlName(f.type) + "\n"
        }
        let sample = file.sampleRecords(options: options, limit: sampleRows + (options.header ? 1 : 0))
        let data = options.header ? Array(sample.dropFirst()) : sample
        if !data.isEmpty {
            out += "sample:\n"
            var table = [schema.fields.map(\.name)]
            table += data.map { r in r.map { v in v.map { cell($0) } ?? "NULL" } }
            let cols = table.map(\.count).max() ?? 0
            var widths = [Int](repeating: 0, count: cols)
            for r in table { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
            for r in table {
                let line = r.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                out += "  " + line.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
            }
        }
        return out
    }

    /// Records (header, comments and blank lines left out) and malformed ones, counted
    /// by all CPUs.
    static func countRows(_ file: CSVFile, fieldCount: Int, options: CSVOptions) throws -> (Int, Int) {
        var o = options
        o.badRows = .skip
        let scan = CSVScan(file: file, fieldCount: fieldCount, columns: [], options: o,
                           batchCapacity: CSVScan.defaultBatchCapacity)
        let total = RowCounter()
        runThreads(max(1, min(Int(spate_available_cpus()), scan.morselCount))) { _ in
            var n = 0
            while let m = scan.claimMorsel() {
                do {
                    try scan.parse(m) { n += $0.count }
                } catch {
                    total.fail(error)
                    return
                }
            }
            total.add(n)
        }
        return (try total.value(), scan.badRows?.count ?? 0)
    }

    static func sqlName(_ t: DataType) -> String {
        switch t {
        case .int64: return "BIGINT"
        case .float64: return "DOUBLE"
        case .bool: return "BOOLEAN"
        case .timestamp: return "TIMESTAMP(3)"
        case .string: return "VARCHAR"
        }
    }

    static func cell(_ s: String) -> String {
        var t = s.replacingNewlines()
        if t.count > 40 { t = String(t.prefix(39)) + "…" }
        return t
    }

    static func humanBytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000 && u < units.count - 1 {
            v /= 1000
            u += 1
        }
        if u == 0 { return "\(n) B" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }
}

private final class RowCounter: @unchecked Sendable {
    private let monitor = Monitor()
    private var n = 0
    private var error: Error?
    func add(_ k: Int) { monitor.locked { n += k } }
    func fail(_ e: Error) { monitor.locked { if error == nil { error = e } } }
    func value() throws -> Int {
        try monitor.locked {
            if let error { throw error }
            return n
        }
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" ? "⏎" : $0 })
    }

    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
