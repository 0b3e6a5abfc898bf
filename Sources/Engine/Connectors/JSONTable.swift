import Columnar

/// `'format' = 'json'`: a JSON lines file (one flat object per line) read by the
/// morsel-parallel `JSONScan`, typed by the declared columns.
///
/// Options (Flink's json format names): `'json.ignore-parse-errors'` ('false': a bad
/// line stops the query with its `path:line:column`; 'true': bad lines are skipped)
/// and `'json.timestamp-format.standard'` ('SQL': `2024-01-02 03:04:05.678`,
/// 'ISO-8601': `2024-01-02T03:04:05.678`; when not set both are accepted).
struct JSONTableProvider: TableProvider {
    let path: String
    let schema: Schema
    let json: JSONOptions

    var summary: String { "JSON lines '\(path)'" }

    static let optionKeys: Set<String> = [
        "connector", "path", "format", "json.ignore-parse-errors", "json.timestamp-format.standard",
        "json.fail-on-missing-field",
    ]

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(optionKeys, supported: optionKeys.sorted().joined(separator: ", "))
        var json = JSONOptions()
        if let ignore = try context.bool("json.ignore-parse-errors") { json.ignoreParseErrors = ignore }
        if let standard = context.options["json.timestamp-format.standard"] {
            switch standard.uppercased() {
            case "SQL": json.timestampStandard = .sql
            case "ISO-8601", "ISO_8601", "ISO8601": json.timestampStandard = .iso8601
            default:
                throw ConnectorError("'json.timestamp-format.standard' must be 'SQL' or 'ISO-8601', not '\(standard)'",
                                     option: "json.timestamp-format.standard")
            }
        }
        if try context.bool("json.fail-on-missing-field") == true {
            throw ConnectorError("'json.fail-on-missing-field' = 'true' is not supported: a missing field is NULL",
                                 option: "json.fail-on-missing-field",
                                 hint: "remove the option, and filter with WHERE col IS NOT NULL if needed")
        }
        guard context.declared.count > 0 else {
            throw ConnectorError("table '\(context.tableName)' declares no columns", option: nil,
                                 hint: "declare the fields to read: CREATE TABLE \(context.tableName) (a BIGINT, b VARCHAR, ...); keys are matched by name")
        }
        return JSONTableProvider(path: context.options["path"]!, schema: context.declared, json: json)
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        let file = try MappedInput(path: path, what: "a JSON lines file")
        let columns = projection.map { JSONColumn(name: schema[$0].name, type: schema[$0].type) }
        let scan = JSONScan(file: file, columns: columns, options: json,
                            batchCapacity: options.batchCapacity, morselSize: options.morselSize)
        return JSONBatchSource(scan)
    }
}

/// Adapts the Columnar JSON lines scan to the engine's source protocol.
final class JSONBatchSource: BatchSource {
    let scan: JSONScan

    init(_ scan: JSONScan) { self.scan = scan }

    var outputSchema: Schema { scan.outputSchema }
    var byteCount: Int? { scan.file.size }

    func claimMorsel() throws -> Morsel? {
        scan.claimMorsel()
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        try scan.parse(morsel, emit: emit)
    }

    func finished(_ morsel: Morsel) { scan.file.release(from: morsel.start, to: morsel.end) }
}
