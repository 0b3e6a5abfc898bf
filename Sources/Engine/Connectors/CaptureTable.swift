import Columnar

/// `'format' = 'spate'`: a capture file (docs/capture-format.md). The schema comes
/// from the file; a CREATE TABLE may declare no columns, or some of the file's columns
/// (matched by name, with the same types). Morsels are blocks, read in parallel;
/// only the queried columns' chunks are decompressed.
///
/// Options: `'spate.start-time'` (epoch milliseconds or 'YYYY-MM-DD hh:mm:ss[.fff]'):
/// start at the first block holding an event time at or after it (blocks whose
/// largest event time is earlier are skipped; rows of a kept block are all read).
struct CaptureTableProvider: TableProvider {
    let path: String
    let reader: CaptureReader
    let schema: Schema
    /// File column of each table column.
    let fileColumns: [Int]
    let startTime: Int64?

    var summary: String {
        "capture '\(path)' (\(reader.blocks.count) block\(reader.blocks.count == 1 ? "" : "s"), \(reader.rowCount) rows)"
            + (startTime.map { " from \(Timestamp.formatMillis($0))" } ?? "")
    }

    static let optionKeys: Set<String> = ["connector", "path", "format", "spate.start-time"]

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(optionKeys, supported: optionKeys.sorted().joined(separator: ", "))
        let path = context.options["path"]!
        var start: Int64?
        if let text = context.options["spate.start-time"] {
            guard let t = Int64(text) ?? Timestamp.parseMillis(Substring(text)) else {
                throw ConnectorError("'spate.start-time' must be epoch milliseconds or a timestamp such as '2015-07-15 00:00:10', not '\(text)'",
                                     option: "spate.start-time")
            }
            start = t
        }
        let reader: CaptureReader
        do {
            reader = try CaptureReader.open(path: path)
        } catch let e as SpateError {
            // The binder reports this at the table's name: keep the path in the text.
            throw SpateError(e.kind, "\(path): \(e.message)", hint: e.hint)
        }
        if start != nil && reader.eventTimeColumn == nil {
            throw ConnectorError("'spate.start-time' needs an event-time column, and '\(path)' has none",
                                 option: "spate.start-time",
                                 hint: "write the file with an event-time column (spate convert --time-column ts)")
        }
        let fileSchema = reader.schema
        guard context.declared.count > 0 else {
            return CaptureTableProvider(path: path, reader: reader, schema: fileSchema,
                                        fileColumns: Array(0..<fileSchema.count), startTime: start)
        }
        var columns: [Int] = []
        var fields: [Field] = []
        let listing = fileSchema.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
        for f in context.declared.fields {
            guard let k = fileSchema.index(of: f.name) else {
                throw ConnectorError("column '\(f.name)' is not in the capture file '\(path)'", option: "path",
                                     hint: "the file has: \(listing) (or declare no columns to take them all)")
            }
            guard fileSchema[k].type == f.type else {
                throw ConnectorError("column '\(f.name)' is \(f.type) in the table but \(fileSchema[k].type) in the capture file '\(path)'",
                                     option: "path", hint: "declare it as `\(f.name) \(fileSchema[k].type)`")
            }
            columns.append(k)
            fields.append(Field(f.name, f.type, nullable: fileSchema[k].nullable))
        }
        return CaptureTableProvider(path: path, reader: reader, schema: Schema(fields), fileColumns: columns, startTime: start)
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let blocks = startTime.map { reader.blocks(from: $0) } ?? Array(reader.blocks.indices)
        return CaptureBatchSource(reader: reader, columns: projection.map { fileColumns[$0] },
                                  outputSchema: Schema(projection.map { schema[$0] }), blocks: blocks,
                                  batchCapacity: options.batchCapacity)
    }
}

/// Reads a capture file's blocks in parallel: morsel k is the k-th selected block. A
/// file whose footer was missing ends with one more morsel that reports the damage
/// (after every intact block was read).
final class CaptureBatchSource: BatchSource, @unchecked Sendable {
    let reader: CaptureReader
    let columns: [Int]
    let outputSchema: Schema
    let blocks: [Int]
    let batchCapacity: Int
    private let monitor = Monitor()
    private var next = 0

    init(reader: CaptureReader, columns: [Int], outputSchema: Schema, blocks: [Int], batchCapacity: Int) {
        self.reader = reader
        self.columns = columns
        self.outputSchema = outputSchema
        self.blocks = blocks
        self.batchCapacity = batchCapacity
    }

    var byteCount: Int? { reader.fileSize }

    func claimMorsel() throws -> Morsel? {
        let morsels = blocks.count + (reader.damage != nil ? 1 : 0)
        return monitor.locked {
            guard next < morsels else { return nil }
            defer { next += 1 }
            if next == blocks.count { return Morsel(index: next, start: -1, end: -1) }
            let b = reader.blocks[blocks[next]]
            return Morsel(index: next, start: b.offset, end: b.offset + b.size)
        }
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        guard morsel.index < blocks.count else {
            throw reader.damageError ?? SpateError(.data, "damaged capture file", path: reader.path)
        }
        try reader.readBlock(blocks[morsel.index], columns: columns, batchCapacity: batchCapacity) { batch in
            try emit(Batch(schema: outputSchema, columns: batch.columns, count: batch.count))
        }
    }
}
