#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A record the reader left out (`skip` and `dead-letter` policies).
public struct CSVBadRow: Sendable, Hashable {
    public var path: String
    /// 1-based line where the record starts.
    public var line: Int
    /// 1-based line and character column of the problem.
    public var errorLine: Int
    public var column: Int
    public var message: String
    public var hint: String?
    /// The record as it is in the file, without its line break.
    public var text: String

    /// `path:line:column: message`.
    public var errorDescription: String { "\(path):\(errorLine):\(column): \(message)" }
}

/// The bad records of one parse (a morsel), with the line of a known position so
/// that locating each one counts only the line feeds since the previous.
final class CSVBadRowLog {
    /// false: only recover (a boundary pass), record nothing.
    let keep: Bool
    var known: (pos: Int, line: Int)?
    var rows: [CSVBadRow] = []

    init(keep: Bool, known: (pos: Int, line: Int)?) {
        self.keep = keep
        self.known = known
    }

    func add(_ error: SpateError, file: CSVFile, recordStart: Int, recordEnd: Int) {
        guard keep else { return }
        let startLine = file.location(of: recordStart, known: known).line
        var end = min(recordEnd, file.size)
        if let bytes = file.bytes {
            if end > recordStart && bytes[end - 1] == 10 { end -= 1 }
            if end > recordStart && bytes[end - 1] == 13 { end -= 1 }
        }
        let text = file.bytes.map {
            String(decoding: UnsafeBufferPointer(start: $0 + recordStart, count: max(0, end - recordStart)), as: UTF8.self)
        } ?? ""
        rows.append(CSVBadRow(path: file.path, line: startLine, errorLine: error.line ?? startLine,
                              column: error.column ?? 1, message: error.message, hint: error.hint, text: text))
        // Later records are after this one: count their lines from its start.
        known = (recordStart, startLine)
    }
}

/// Left-out records of a whole source (every file, every chunk of standard input),
/// in input order: counted, and with `dead-letter` written to a CSV file
/// (`file,line,error,row`) under a temporary name, renamed into place when the
/// input is done.
///
/// Thread-safe. Each morsel submits its rows once, under its sequence number
/// (0, 1, 2, ... in input order); rows are written as soon as every earlier morsel
/// has submitted, so memory stays bounded.
public final class CSVBadRows: @unchecked Sendable {
    public let policy: CSVBadRowPolicy
    private let lock = Monitor()
    private var pending: [Int: [CSVBadRow]] = [:]
    private var next = 0
    private var total = 0
    private var firstRow: CSVBadRow?
    /// The dead-letter destination (a temporary file renamed on `finish`; devices and
    /// FIFOs written in place), opened with the first row.
    private var file: OutputFile?
    private var failure: SpateError?
    private var done = false

    public init(policy: CSVBadRowPolicy) {
        self.policy = policy
    }

    deinit {
        if !done { file?.discard() }
    }

    /// Rows left out so far (in the morsels submitted).
    public var count: Int { lock.locked { total + pending.values.reduce(0) { $0 + $1.count } } }

    /// The first left-out row in input order among those written out so far.
    public var first: CSVBadRow? { lock.locked { firstRow } }

    /// The dead-letter file's path, if any.
    public var deadLetterPath: String? {
        if case .deadLetter(let p) = policy { return p }
        return nil
    }

    /// Morsel `seq`'s left-out rows (possibly none).
    public func submit(_ seq: Int, _ rows: [CSVBadRow]) throws {
        try lock.locked {
            if let failure { throw failure }
            pending[seq] = rows
            while let ready = pending.removeValue(forKey: next) {
                next += 1
                total += ready.count
                if firstRow == nil { firstRow = ready.first }
                if !ready.isEmpty, case .deadLetter = policy { try write(ready) }
            }
        }
    }

    /// The input is done: the dead-letter file (possibly with only its header) gets
    /// its final name. Call once every morsel has submitted.
    public func finish() throws {
        try lock.locked {
            guard !done else { return }
            if let failure { throw failure }
            guard case .deadLetter = policy else {
                done = true
                return
            }
            if file == nil { try openFile() }
            try file!.commit()
            done = true
        }
    }

    private func openFile() throws {
        guard case .deadLetter(let path) = policy else { return }
        do {
            file = try OutputFile(path: path)
        } catch let e as SpateError {
            throw SpateError(.io, "cannot create the dead-letter file: " + e.message, path: path, hint: e.hint)
        }
        try writeAll("file,line,error,row\n")
    }

    private func write(_ rows: [CSVBadRow]) throws {
        if file == nil { try openFile() }
        var text = ""
        for r in rows {
            text += CSVBadRows.field(r.path) + "," + String(r.line) + ","
            text += CSVBadRows.field(r.errorDescription) + "," + CSVBadRows.field(r.text) + "\n"
        }
        try writeAll(text)
    }

    private func writeAll(_ text: String) throws {
        var copy = text
        do {
            try copy.withUTF8 { buf in try file!.write(buf.baseAddress!, buf.count) }
        } catch let e as SpateError {
            failure = e
            throw e
        }
    }

    /// A CSV field, quoted when it needs to be (RFC 4180).
    static func field(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { return s }
        return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
