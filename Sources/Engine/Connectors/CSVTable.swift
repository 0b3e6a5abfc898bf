import Columnar

/// `'format' = 'csv'`: a CSV file read by morsel-parallel `CSVScan`.
struct CSVTableProvider: TableProvider {
    let path: String
    let schema: Schema
    let csv: CSVOptions

    var summary: String { "CSV '\(path)'" }

    static let optionKeys: Set<String> = [
        "connector", "path", "format", "csv.header", "csv.field-delimiter", "csv.quote-character",
    ]

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(optionKeys, supported: optionKeys.sorted().joined(separator: ", "))
        let path = context.options["path"]!
        var csv = CSVOptions()
        if path.lowercased().hasSuffix(".tsv") { csv.delimiter = UInt8(ascii: "\t") }
        if let h = try context.bool("csv.header") { csv.header = h }
        if let d = context.options["csv.field-delimiter"] { csv.delimiter = try singleByte(d, "csv.field-delimiter") }
        if let q = context.options["csv.quote-character"] { csv.quote = try singleByte(q, "csv.quote-character") }
        do {
            try csv.validate()
        } catch let e as SpateError {
            throw ConnectorError(e.message, option: "csv.field-delimiter", hint: e.hint)
        }
        guard context.declared.count > 0 else {
            throw ConnectorError("table '\(context.tableName)' declares no columns", option: nil,
                                 hint: "declare them: CREATE TABLE \(context.tableName) (a BIGINT, b VARCHAR, ...)")
        }
        return CSVTableProvider(path: path, schema: context.declared, csv: csv)
    }

    static func singleByte(_ v: String, _ key: String) throws -> UInt8 {
        let text = v == "\\t" ? "\t" : v
        guard text.utf8.count == 1, let b = text.utf8.first else {
            throw ConnectorError("'\(key)' must be a single character, not '\(v)'", option: key)
        }
        return b
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let file = try CSVFile(path: path)
        if csv.header, let header = try file.readHeader(options: csv), header.count != schema.count {
            throw SpateError(
                .data, "the header has \(header.count) field\(header.count == 1 ? "" : "s") but the table declares \(schema.count) column\(schema.count == 1 ? "" : "s")",
                path: path, line: 1, column: 1, sourceLine: header.joined(separator: String(UnicodeScalar(csv.delimiter))),
                hint: header.count == 1
                    ? "is the delimiter right? set 'csv.field-delimiter' (e.g. '\\t' or ';')"
                    : "declare one column per field, in file order (or 'csv.header' = 'false' if the first line is data)")
        }
        let columns = projection.map { CSVColumn(fieldIndex: $0, name: schema[$0].name, type: schema[$0].type) }
        let scan = CSVScan(file: file, fieldCount: schema.count, columns: columns, options: csv,
                           batchCapacity: options.batchCapacity, morselSize: options.morselSize)
        return CSVBatchSource(scan)
    }
}

/// Adapts the Columnar CSV scan to the engine's source protocol.
final class CSVBatchSource: BatchSource {
    let scan: CSVScan

    init(_ scan: CSVScan) { self.scan = scan }

    var outputSchema: Schema { scan.outputSchema }
    var byteCount: Int? { scan.file.size }

    func claimMorsel() throws -> Morsel? {
        scan.claimMorsel().map { Morsel(index: $0.index, start: $0.start, end: $0.end) }
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        try scan.parse(CSVMorsel(index: morsel.index, start: morsel.start, end: morsel.end), emit: emit)
    }

    func finished(_ morsel: Morsel) { scan.file.release(from: morsel.start, to: morsel.end) }
}
