import Columnar

/// `'format' = 'binary'`: a file of fixed-size little-endian records written by
/// another program, described by `'binary.layout'` (see BinaryLayout and
/// docs/binary-records.md) and optionally `'binary.header-bytes'`.
///
/// Every declared column names a layout field (case-insensitive); layout fields that
/// no column declares must be written `_:type` or `_:pad[N]`, so that a typo is an
/// error rather than a silently unread field.
struct BinaryTableProvider: TableProvider {
    let path: String
    let schema: Schema
    let layout: BinaryLayout
    let headerBytes: Int
    let fields: [BinaryLayout.Field]

    var summary: String { "binary records '\(path)' (\(layout.recordSize) bytes each)" }

    static let optionKeys: Set<String> = ["connector", "path", "format", "binary.layout", "binary.header-bytes"]

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(optionKeys, supported: optionKeys.sorted().joined(separator: ", "))
        guard let text = context.options["binary.layout"] else {
            throw ConnectorError(
                "a binary table needs a 'binary.layout' option", option: "format",
                hint: "describe the record, e.g. 'binary.layout' = 'id:int64, price:float64, name:char[16], ts:timestamp_ms'")
        }
        let layout: BinaryLayout
        do {
            layout = try BinaryLayout.parse(text)
        } catch let e as SpateError {
            throw ConnectorError("'binary.layout': " + e.message, option: "binary.layout", hint: e.hint)
        }
        let header = try context.int("binary.header-bytes") ?? 0
        guard header >= 0 else {
            throw ConnectorError("'binary.header-bytes' must be 0 or more, not \(header)", option: "binary.header-bytes")
        }
        guard context.declared.count > 0 else {
            throw ConnectorError("table '\(context.tableName)' declares no columns", option: nil,
                                 hint: "declare one column per named layout field: CREATE TABLE \(context.tableName) (id BIGINT, ...)")
        }
        var fields: [BinaryLayout.Field] = []
        for f in context.declared.fields {
            guard let field = layout.field(named: f.name) else {
                throw ConnectorError("column '\(f.name)' is not in 'binary.layout'", option: "binary.layout",
                                     hint: "add a field \(f.name):TYPE at its place in the record")
            }
            if let why = BinaryColumn.incompatibility(field.type, f.type) {
                throw ConnectorError("column '\(f.name)' is \(f.type), but \(why)", option: "binary.layout")
            }
            fields.append(field)
        }
        for field in layout.fields {
            if let name = field.name, context.declared.index(of: name) == nil {
                throw ConnectorError("layout field '\(name)' is not a column of '\(context.tableName)'", option: "binary.layout",
                                     hint: "declare a column \(name), or write the field as _:\(field.type) to skip it")
            }
        }
        return BinaryTableProvider(path: context.options["path"]!, schema: context.declared, layout: layout,
                                   headerBytes: Int(header), fields: fields)
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let file = try MappedInput(path: path, what: "a binary records file")
        let columns = projection.map { BinaryColumn(name: schema[$0].name, type: schema[$0].type, field: fields[$0]) }
        let scan = try BinaryScan(file: file, layout: layout, headerBytes: headerBytes, columns: columns,
                                  batchCapacity: options.batchCapacity, morselSize: options.morselSize)
        return BinaryBatchSource(scan)
    }
}

/// Adapts the Columnar binary record scan to the engine's source protocol (a
/// morsel's start/end are byte offsets of whole records).
final class BinaryBatchSource: BatchSource {
    let scan: BinaryScan

    init(_ scan: BinaryScan) { self.scan = scan }

    var outputSchema: Schema { scan.outputSchema }
    var byteCount: Int? { scan.file.size }

    /// The engine sees byte ranges (for releasing pages and progress); the scan, records.
    func claimMorsel() throws -> Morsel? {
        scan.claimMorsel().map { m in
            let r = scan.byteRange(m)
            return Morsel(index: m.index, start: r.lowerBound, end: r.upperBound)
        }
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let size = scan.layout.recordSize
        let first = (morsel.start - scan.headerBytes) / size
        let end = (morsel.end - scan.headerBytes) / size
        try scan.read(Morsel(index: morsel.index, start: first, end: end), emit: emit)
    }

    func finished(_ morsel: Morsel) { scan.file.release(from: morsel.start, to: morsel.end) }
}
