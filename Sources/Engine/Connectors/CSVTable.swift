import Columnar

#if canImport(Glibc)
import Glibc
#endif

/// `'format' = 'csv'`: CSV read by morsel-parallel `CSVScan`s.
///
/// `'path'` is a file, a glob (`data/*.csv`), a directory (its regular files, sorted by
/// name, hidden ones left out) or `-` for standard input (read as it arrives). Several
/// files are one source whose morsels run over the files in order; they must have the
/// same header. Without declared columns the schema is inferred from the first rows
/// of the (first) file.
struct CSVTableProvider: TableProvider {
    let path: String
    let schema: Schema
    let csv: CSVOptions

    var isStdin: Bool { path == "-" }

    var summary: String { isStdin ? "CSV <stdin>" : "CSV '\(path)'" }

    static let optionKeys: Set<String> = [
        "connector", "path", "format", "csv.header", "csv.field-delimiter", "csv.quote-character",
        "csv.escape-character", "csv.null-literal", "csv.allow-comments", "csv.ignore-parse-errors",
        "csv.bad-rows", "csv.dead-letter-path", "csv.strict-quotes",
    ]

    static func make(_ context: ConnectorContext) throws -> TableProvider {
        try context.rejectUnknown(optionKeys, supported: optionKeys.sorted().joined(separator: ", "))
        let path = context.options["path"]!
        let csv = try options(context)
        var schema = context.declared
        if schema.count == 0 {
            // Inferred from the first rows of the (first) file, when the table is declared.
            if path == "-" {
                let sample = try CSVStream.standardInput(options: csv).peek(records: CSVInference.defaultSampleRows + 1)
                schema = CSVInference.infer(file: CSVFile(copying: sample, path: "<stdin>"), options: csv)
            } else {
                schema = CSVInference.infer(file: try CSVFile(path: try expand(path)[0]), options: csv)
            }
            guard schema.count > 0 else {
                throw ConnectorError(
                    "cannot infer the columns of table '\(context.tableName)': '\(path)' has no records", option: "path",
                    hint: "declare them: CREATE TABLE \(context.tableName) (a BIGINT, b VARCHAR, ...)")
            }
        }
        return CSVTableProvider(path: path, schema: schema, csv: csv)
    }

    /// The CSV options of a table's WITH clause (Flink's names where Flink has one).
    static func options(_ context: ConnectorContext) throws -> CSVOptions {
        let path = context.options["path"] ?? ""
        var csv = CSVOptions()
        if path.lowercased().hasSuffix(".tsv") { csv.delimiter = UInt8(ascii: "\t") }
        if let h = try context.bool("csv.header") { csv.header = h }
        if let d = context.options["csv.field-delimiter"] { csv.delimiter = try singleByte(d, "csv.field-delimiter") }
        if let q = context.options["csv.quote-character"] { csv.quote = try singleByte(q, "csv.quote-character") }
        if let e = context.options["csv.escape-character"] { csv.escape = try singleByte(e, "csv.escape-character") }
        if let n = context.options["csv.null-literal"] { csv.nullLiteral = n }
        if try context.bool("csv.allow-comments") == true { csv.comment = UInt8(ascii: "#") }
        if let s = try context.bool("csv.strict-quotes") { csv.strictQuotes = s }
        let ignore = try context.bool("csv.ignore-parse-errors")
        let deadLetter = context.options["csv.dead-letter-path"]
        switch context.options["csv.bad-rows"]?.lowercased() {
        case nil:
            if ignore == true { csv.badRows = .skip }
            if let deadLetter { csv.badRows = .deadLetter(path: deadLetter) }
        case "fail":
            if ignore == true {
                throw ConnectorError("'csv.ignore-parse-errors' = 'true' contradicts 'csv.bad-rows' = 'fail'",
                                     option: "csv.ignore-parse-errors", hint: "keep one of the two")
            }
        case "skip": csv.badRows = .skip
        case "dead-letter":
            guard let deadLetter, !deadLetter.isEmpty else {
                throw ConnectorError("'csv.bad-rows' = 'dead-letter' needs 'csv.dead-letter-path'", option: "csv.bad-rows",
                                     hint: "add 'csv.dead-letter-path' = 'bad-rows.csv'")
            }
            csv.badRows = .deadLetter(path: deadLetter)
        case let other?:
            throw ConnectorError("'csv.bad-rows' must be 'fail', 'skip' or 'dead-letter', not '\(other)'",
                                 option: "csv.bad-rows")
        }
        if deadLetter != nil, case .skip = csv.badRows, context.options["csv.bad-rows"] != nil {
            throw ConnectorError("'csv.dead-letter-path' is only used with 'csv.bad-rows' = 'dead-letter'",
                                 option: "csv.dead-letter-path", hint: "set 'csv.bad-rows' = 'dead-letter'")
        }
        do {
            try csv.validate()
        } catch let e as SpateError {
            let key: String
            if e.message.contains("escape") { key = "csv.escape-character" }
            else if e.message.contains("null literal") { key = "csv.null-literal" }
            else if e.message.contains("dead-letter") { key = "csv.dead-letter-path" }
            else if e.message.contains("comment") { key = "csv.allow-comments" }
            else { key = context.options["csv.field-delimiter"] != nil ? "csv.field-delimiter" : "csv.quote-character" }
            throw ConnectorError(e.message, option: key, hint: e.hint)
        }
        return csv
    }

    static func singleByte(_ v: String, _ key: String) throws -> UInt8 {
        let text = v == "\\t" ? "\t" : v
        guard text.utf8.count == 1, let b = text.utf8.first else {
            throw ConnectorError("'\(key)' must be a single character, not '\(v)'", option: key)
        }
        return b
    }

    /// The files a path names: a glob's matches, a directory's regular files (sorted,
    /// hidden ones left out), or the path itself.
    static func expand(_ path: String) throws -> [String] {
        if path.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
            var g = glob_t()
            defer { globfree(&g) }
            let rc = glob(path, 0, nil, &g)
            guard rc == 0 else {
                throw SpateError(.io, "no file matches '\(path)'", path: path,
                                 hint: "check the pattern; it is matched from the current directory")
            }
            var out: [String] = []
            for i in 0..<Int(g.gl_pathc) {
                guard let p = g.gl_pathv[i] else { continue }
                let name = String(cString: p)
                if isRegularFile(name) { out.append(name) }
            }
            guard !out.isEmpty else {
                throw SpateError(.io, "no file matches '\(path)'", path: path, hint: "check the pattern")
            }
            return out.sorted()
        }
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            guard let dir = opendir(path) else {
                throw SpateError(.io, "cannot read the directory '\(path)': \(String(cString: strerror(errno)))", path: path,
                                 hint: "check its permissions")
            }
            defer { closedir(dir) }
            var out: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name.hasPrefix(".") { continue }
                let full = path.hasSuffix("/") ? path + name : path + "/" + name
                if isRegularFile(full) { out.append(full) }
            }
            guard !out.isEmpty else {
                throw SpateError(.io, "the directory '\(path)' holds no file", path: path,
                                 hint: "put CSV files in it, or name a file")
            }
            return out.sorted()
        }
        return [path]
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource {
        // With a bad-row policy every column is converted, so that a record with a bad
        // value is left out whatever the query reads (COUNT(*) included); the source
        // then keeps the projected ones.
        let converted = csv.badRows == .fail ? projection : Array(0..<schema.count)
        let columns = converted.map { CSVColumn(fieldIndex: $0, name: schema[$0].name, type: schema[$0].type) }
        let pick = csv.badRows == .fail ? nil : CSVProjection(projection, schema)
        let badRows = csv.badRows == .fail ? nil : CSVBadRows(policy: csv.badRows)
        if isStdin {
            return StdinCSVSource(
                stream: try CSVStream.standardInput(options: csv), fieldCount: schema.count, columns: columns,
                options: csv, batchCapacity: options.batchCapacity, chunkSize: options.morselSize, badRows: badRows,
                pick: pick)
        }
        var scans: [CSVScan] = []
        let files = try CSVTableProvider.expand(path)
        var header: [String]? = nil
        for path in files {
            let file = try CSVFile(path: path)
            try checkHeader(file, firstHeader: &header, firstPath: files[0])
            let scan = CSVScan(file: file, fieldCount: schema.count, columns: columns, options: csv,
                               batchCapacity: options.batchCapacity, morselSize: options.morselSize, badRows: badRows)
            scan.sequenceBase = scans.last.map { $0.sequenceBase + $0.morselCount } ?? 0
            scans.append(scan)
        }
        return CSVBatchSource(scans, badRows: badRows, pick: pick)
    }

    /// The first file's header must have one field per column; the others must have
    /// the first one's header.
    private func checkHeader(_ file: CSVFile, firstHeader: inout [String]?, firstPath: String) throws {
        guard csv.header, let found = try file.readHeader(options: csv) else { return }
        let shown = found.joined(separator: String(UnicodeScalar(csv.delimiter)))
        guard let header = firstHeader else {
            firstHeader = found
            guard found.count != schema.count else { return }
            throw SpateError(
                .data, "the header has \(found.count) field\(found.count == 1 ? "" : "s") but the table declares \(schema.count) column\(schema.count == 1 ? "" : "s")",
                path: file.path, line: 1, column: 1, sourceLine: shown,
                hint: found.count == 1
                    ? "is the delimiter right? set 'csv.field-delimiter' (e.g. '\\t' or ';')"
                    : "declare one column per field, in file order (or 'csv.header' = 'false' if the first line is data)")
        }
        guard found != header else { return }
        throw SpateError(
            .data, "the header differs from that of '\(firstPath)' (\(header.joined(separator: ", ")))",
            path: file.path, line: 1, column: 1, sourceLine: shown,
            hint: "every file of '\(path)' must have the same fields in the same order")
    }
}

/// The projected columns of batches that hold every column.
struct CSVProjection: Sendable {
    let indexes: [Int]
    let schema: Schema

    init(_ indexes: [Int], _ table: Schema) {
        self.indexes = indexes
        schema = Schema(indexes.map { table[$0] })
    }

    func apply(_ b: Batch) -> Batch {
        Batch(schema: schema, columns: indexes.map { b.columns[$0] }, count: b.count, selection: b.selection)
    }
}

/// The morsels of one or more CSV files, in file order, as one source.
final class CSVBatchSource: BatchSource, @unchecked Sendable {
    let scans: [CSVScan]
    let badRows: CSVBadRows?
    private let lock = Monitor()
    private var current = 0
    private var done = 0
    private let total: Int

    let pick: CSVProjection?

    init(_ scans: [CSVScan], badRows: CSVBadRows? = nil, pick: CSVProjection? = nil) {
        self.scans = scans
        self.badRows = badRows
        self.pick = pick
        total = scans.reduce(0) { $0 + $1.morselCount }
    }

    var outputSchema: Schema { pick?.schema ?? scans[0].outputSchema }
    var byteCount: Int? { scans.reduce(0) { $0 + $1.file.size } }
    var badRowCount: Int { badRows?.count ?? 0 }
    var badRowNote: String? { badRows.flatMap(CSVBatchSource.note) }

    static func note(_ bad: CSVBadRows) -> String? {
        guard bad.count > 0 else { return nil }
        if let path = bad.deadLetterPath { return "written to '\(path)'" }
        return bad.first.map { "the first: \($0.errorDescription)" }
    }

    func claimMorsel() throws -> Morsel? {
        lock.locked {
            while current < scans.count {
                let scan = scans[current]
                if let m = scan.claimMorsel() {
                    return Morsel(index: scan.sequenceBase + m.index, start: m.start, end: m.end)
                }
                current += 1
            }
            return nil
        }
    }

    /// The scan and its own morsel for a source morsel.
    private func locate(_ morsel: Morsel) -> (CSVScan, Morsel) {
        var lo = 0, hi = scans.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if scans[mid].sequenceBase <= morsel.index { lo = mid } else { hi = mid - 1 }
        }
        let scan = scans[lo]
        return (scan, Morsel(index: morsel.index - scan.sequenceBase, start: morsel.start, end: morsel.end))
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        let (scan, m) = locate(morsel)
        if let pick {
            try scan.parse(m) { try emit(pick.apply($0)) }
        } else {
            try scan.parse(m, emit: emit)
        }
        let last = lock.locked { () -> Bool in
            done += 1
            return done == total
        }
        // Every morsel read: the dead-letter file gets its name.
        if last { try badRows?.finish() }
    }

    func finished(_ morsel: Morsel) {
        let (scan, m) = locate(morsel)
        scan.file.release(from: m.start, to: m.end)
    }
}
