import CKernels
import Foundation
import Testing

@testable import Columnar

/// A cell as the tests compare it: nil for NULL, otherwise a canonical text.
typealias CSVCell = String?

/// Reads every morsel of a scan (on `threads` threads, claiming morsels as the
/// engine will) and returns the rows in file order, each cell rendered canonically.
/// Also checks the batch invariants: no batch over capacity or empty, schema as
/// projected.
func csvReadAll(
    _ file: CSVFile, fieldCount: Int, columns: [CSVColumn], options: CSVOptions = CSVOptions(),
    batchCapacity: Int = CSVScan.defaultBatchCapacity, morselSize: Int = 8 << 20, threads: Int = 1,
    badRows: CSVBadRows? = nil
) throws -> [[CSVCell]] {
    let scan = CSVScan(
        file: file, fieldCount: fieldCount, columns: columns, options: options,
        batchCapacity: batchCapacity, morselSize: morselSize, badRows: badRows)
    let collector = CSVCollector()
    let work: @Sendable () -> Void = {
        while let morsel = scan.claimMorsel() {
            do {
                try scan.parse(morsel) { batch in
                    collector.add(morsel.index, csvRows(of: batch, capacity: batchCapacity, schema: scan.outputSchema))
                }
            } catch {
                collector.fail(morsel.index, error)
                return
            }
        }
    }
    if threads == 1 {
        work()
    } else {
        DispatchQueue.concurrentPerform(iterations: threads) { _ in work() }
    }
    return try collector.rows()
}

/// The rows of one batch, rendered.
func csvRows(of batch: Batch, capacity: Int, schema: Schema) -> [[CSVCell]] {
    precondition(batch.count >= 1 && batch.count <= capacity, "batch of \(batch.count) rows, capacity \(capacity)")
    precondition(batch.schema == schema)
    var rows = [[CSVCell]](repeating: [], count: batch.count)
    for column in batch.columns {
        precondition(column.count == batch.count)
        for r in 0..<batch.count {
            guard column.isValid(r) else { rows[r].append(nil); continue }
            switch column.type {
            case .string: rows[r].append(column.string(at: r))
            case .int64, .timestamp: rows[r].append(String(column.int64(at: r)))
            case .float64:
                let d = column.float64(at: r)
                rows[r].append(d.isNaN ? "nan" : "\(d)")
            case .bool: rows[r].append(column.bool(at: r) ? "true" : "false")
            }
        }
    }
    return rows
}

/// Gathers batches from several threads; rows come back in morsel order. The error
/// of the first failing morsel (in file order) wins, as the engine will report it.
final class CSVCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var byMorsel: [Int: [[CSVCell]]] = [:]
    private var errors: [Int: Error] = [:]

    func add(_ morsel: Int, _ rows: [[CSVCell]]) {
        lock.lock()
        byMorsel[morsel, default: []].append(contentsOf: rows)
        lock.unlock()
    }

    func fail(_ morsel: Int, _ error: Error) {
        lock.lock()
        errors[morsel] = error
        lock.unlock()
    }

    func rows() throws -> [[CSVCell]] {
        if let first = errors.keys.min() { throw errors[first]! }
        return byMorsel.keys.sorted().flatMap { byMorsel[$0]! }
    }
}

/// Reads a whole in-memory CSV with every field as VARCHAR.
func csvStrings(
    _ text: String, fieldCount: Int, options: CSVOptions = CSVOptions(), batchCapacity: Int = 4096,
    morselSize: Int = 8 << 20, threads: Int = 1
) throws -> [[CSVCell]] {
    let file = CSVFile(contents: Array(text.utf8), path: "test.csv")
    let columns = (0..<fieldCount).map { CSVColumn(fieldIndex: $0, name: "c\($0)", type: .string) }
    return try csvReadAll(
        file, fieldCount: fieldCount, columns: columns, options: options, batchCapacity: batchCapacity,
        morselSize: morselSize, threads: threads)
}

/// The SpateError a read throws (or nil).
func csvError(_ body: () throws -> Any) -> SpateError? {
    do {
        _ = try body()
        return nil
    } catch let e as SpateError {
        return e
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

// MARK: - Reference parser

/// A deliberately simple CSV parser: one byte at a time, one explicit state, no
/// cleverness. The reader must agree with it on every input.
struct CSVReference {
    struct Failure: Error, Equatable {
        var line: Int
        var column: Int
        var kind: String
    }

    var delimiter: UInt8 = UInt8(ascii: ",")
    var quote: UInt8 = UInt8(ascii: "\"")
    var header = true
    var escape: UInt8? = nil
    var comment: UInt8? = nil
    var nullLiteral: [UInt8]? = nil
    var strictQuotes = false
    /// Leave bad records out (their first lines go to `badLines`) instead of failing.
    var skipBadRows = false

    init(delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), header: Bool = true) {
        self.delimiter = delimiter
        self.quote = quote
        self.header = header
    }

    init(_ o: CSVOptions) {
        delimiter = o.delimiter
        quote = o.quote
        header = o.header
        escape = o.escape
        comment = o.comment
        nullLiteral = o.nullLiteral.map { Array($0.utf8) }
        strictQuotes = o.strictQuotes
        skipBadRows = o.badRows != .fail
    }

    /// Records of raw fields: nil = empty unquoted field or the null literal (NULL),
    /// else the unescaped text.
    func parse(_ b: [UInt8], fieldCount: Int) throws -> [[[UInt8]?]] {
        try parseReportingBadRows(b, fieldCount: fieldCount).records
    }

    func parseReportingBadRows(_ b: [UInt8], fieldCount: Int) throws -> (records: [[[UInt8]?]], badLines: [Int]) {
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let bom = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
        func lineOf(_ pos: Int) -> (line: Int, start: Int) {
            var line = 1, lineStart = 0
            for i in 0..<pos where b[i] == lf {
                line += 1
                lineStart = i + 1
            }
            return (line, lineStart)
        }
        func failure(_ pos: Int, _ kind: String) -> Failure {
            let (line, lineStart) = lineOf(pos)
            let from = lineStart == 0 ? min(bom, pos) : lineStart
            let column = 1 + b[from..<pos].filter { $0 & 0xC0 != 0x80 }.count
            return Failure(line: line, column: column, kind: kind)
        }
        /// Where a bad record ends, read tolerantly (quotes in fields and text after a
        /// closing quote are data).
        func tolerantEnd(_ start: Int) -> Int {
            var i = start
            var atFieldStart = true
            var inQuote = false
            while i < b.count {
                let c = b[i]
                if inQuote {
                    if let escape, c == escape { i += 2; continue }
                    if c == quote {
                        if i + 1 < b.count && b[i + 1] == quote { i += 2; continue }
                        inQuote = false
                    }
                    i += 1
                    continue
                }
                if atFieldStart && c == quote {
                    inQuote = true
                    atFieldStart = false
                    i += 1
                    continue
                }
                atFieldStart = c == delimiter
                if c == lf { return i + 1 }
                i += 1
            }
            return b.count
        }
        var records: [[[UInt8]?]] = []
        var badLines: [Int] = []
        var i = bom
        var first = true
        while i < b.count {
            let recordStart = i
            if let comment, b[i] == comment {
                while i < b.count && b[i] != lf { i += 1 }
                if i < b.count { i += 1 }
                continue
            }
            let isHeader = first && header
            do {
                let (fields, blank) = try record(
                    b, &i, recordStart: recordStart, fieldCount: fieldCount, isHeader: isHeader, failure: failure)
                if isHeader {
                    first = false
                    continue
                }
                first = false
                if blank && (fieldCount > 1 || i >= b.count) {
                    // Blank lines: skipped in multi-field tables; in one-field tables the
                    // blank last line is not a record.
                    continue
                }
                records.append(fields)
            } catch let f as Failure {
                guard skipBadRows else { throw f }
                first = false
                badLines.append(lineOf(recordStart).line)
                i = tolerantEnd(recordStart)
            }
        }
        return (records, badLines)
    }

    /// One record from `i` (advanced past its line break).
    private func record(
        _ b: [UInt8], _ i: inout Int, recordStart: Int, fieldCount: Int, isHeader: Bool,
        failure: (Int, String) -> Failure
    ) throws -> (fields: [[UInt8]?], blank: Bool) {
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var fields: [[UInt8]?] = []
        var fieldStarts: [Int] = []
        var lineEnd = b.count
        recordLoop: while true {
            let fs = i
            fieldStarts.append(fs)
            if i < b.count && b[i] == quote {
                var text: [UInt8] = []
                i += 1
                while true {
                    if i >= b.count {
                        if fields.count >= fieldCount && !isHeader { throw failure(fieldStarts[fieldCount], "count") }
                        throw failure(fs, "unterminated")
                    }
                    if let escape, b[i] == escape {
                        if i + 1 >= b.count { i += 1; continue }
                        text.append(b[i + 1])
                        i += 2
                        continue
                    }
                    if b[i] == quote {
                        if i + 1 < b.count && b[i + 1] == quote {
                            text.append(quote)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    text.append(b[i])
                    i += 1
                }
                fields.append(text)
                if i == b.count { lineEnd = i; break recordLoop }
                if b[i] == delimiter { i += 1; continue recordLoop }
                if b[i] == lf { lineEnd = i; i += 1; break recordLoop }
                if b[i] == cr && (i + 1 == b.count || b[i + 1] == lf) {
                    lineEnd = i
                    i += i + 1 == b.count ? 1 : 2
                    break recordLoop
                }
                if fields.count > fieldCount && !isHeader { throw failure(fieldStarts[fieldCount], "count") }
                throw failure(fs, "after-quote")
            }
            var text: [UInt8] = []
            while i < b.count && b[i] != delimiter && b[i] != lf {
                if b[i] == quote && strictQuotes {
                    if fields.count >= fieldCount && !isHeader { throw failure(fieldStarts[fieldCount], "count") }
                    throw failure(fs, "stray")
                }
                text.append(b[i])
                i += 1
            }
            if i < b.count && b[i] == delimiter {
                fields.append(unquoted(text))
                i += 1
                continue recordLoop
            }
            if text.last == cr { text.removeLast() }
            fields.append(unquoted(text))
            lineEnd = i
            if i < b.count { i += 1 }
            break recordLoop
        }
        // Blank: nothing, or a lone CR, before the line break.
        let blank = fields.count == 1 && b[recordStart..<lineEnd].allSatisfy { $0 == cr } && lineEnd - recordStart <= 1
        if isHeader || blank { return (fields, blank) }
        if fields.count != fieldCount {
            let pos = fields.count > fieldCount
                ? fieldStarts[fieldCount] : csvLastFieldEnd(b, recordStart, lineEnd, cr)
            throw failure(pos, "count")
        }
        return (fields, false)
    }

    private func unquoted(_ text: [UInt8]) -> [UInt8]? {
        if text.isEmpty { return nil }
        if let nullLiteral, text == nullLiteral { return nil }
        return text
    }
}

/// Where the last field of a record that ends at `lineEnd` (its LF, or EOF) ends:
/// before a CR that belongs to the line break.
func csvLastFieldEnd(_ b: [UInt8], _ recordStart: Int, _ lineEnd: Int, _ cr: UInt8) -> Int {
    if lineEnd > recordStart && lineEnd <= b.count && b[lineEnd - 1] == cr
        && (lineEnd == b.count || b[lineEnd] == UInt8(ascii: "\n"))
    {
        return lineEnd - 1
    }
    return lineEnd
}

/// Paths of the shared conformance data, found from this file (no resources needed).
enum CSVPaths {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let spectrum = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/csv-spectrum")
}

/// A temporary file holding `bytes`, removed by the caller.
func csvTempFile(_ bytes: [UInt8], name: String = "spate-csv-test") throws -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString).csv"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
