import ArgumentParser
import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run SQL statements (CREATE TABLE ...; SELECT ...) and print the results.",
        discussion: """
            Results are an aligned table on a terminal and CSV otherwise (or --format csv,
            tsv, jsonl, table, spate; or -o FILE with that extension). Tables are declared in
            Flink's dialect over CSV, JSON lines, capture files, binary records, the Nexmark
            generator ('connector' = 'nexmark') or a paced replay ('connector' = 'replay').
            A windowed query emits each window once the watermark passes its end, and every
            open window at the end of the input. Rows that arrive after their window was
            emitted are counted and reported on stderr.

            Examples:
              spate sql -f data/q_tumble.sql
              spate sql -f query.sql -o result.csv --workers 4
              spate sql --explain -f data/q_tumble.sql
              spate sql "CREATE TABLE t (a BIGINT, b VARCHAR) WITH ('connector'='filesystem', \\
                         'path'='data/t.csv', 'format'='csv'); SELECT b, SUM(a) FROM t GROUP BY b"
            """
    )

    @Argument(help: "The SQL statements, separated by ';'. Omit when using -f.")
    var statements: String?

    @Option(name: [.short, .customLong("file")], help: "Read the SQL from this file.")
    var file: String?

    @Option(name: [.short, .customLong("output")], help: "Write the result to this file (default: standard output).")
    var output: String?

    @Option(help: "Result format (default: from the -o file's extension, else csv).")
    var format: String?

    @Option(help: "Worker threads (default: one per CPU).")
    var workers: Int?

    @Option(help: ArgumentHelp("Rows per columnar batch.", visibility: .hidden))
    var batchCapacity: Int?

    @Option(name: .customLong("late-data"), help: ArgumentHelp(
        "What to do with rows that arrive after their window closed: drop (count them), update (re-emit the window; needs the table's 'allowed-lateness'), or a FILE to write them to.",
        valueName: "drop|update|FILE"))
    var lateData = "drop"

    @Flag(help: "Print the plan and the worker placement instead of running the query.")
    var explain = false

    @Flag(help: "Print run statistics (rows, MB/s, time) on stderr.")
    var stats = false

    @Flag(name: .shortAndLong, help: "Print nothing on stderr but errors.")
    var quiet = false

    func validate() throws {
        if statements == nil && file == nil {
            throw ValidationError("give the SQL as an argument or with -f FILE")
        }
        if statements != nil && file != nil {
            throw ValidationError("give the SQL either as an argument or with -f FILE, not both")
        }
        if let w = workers, w < 1 || w > 1024 { throw ValidationError("--workers must be between 1 and 1024") }
        if let b = batchCapacity, b < 1 { throw ValidationError("--batch-capacity must be at least 1") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            try execute()
        } catch {
            exitWithError(error)
        }
    }

    private func execute() throws {
        let sql: String
        let source: String
        if let file {
            sql = try readText(file)
            source = file
        } else {
            sql = statements!
            source = "<query>"
        }
        let session = Session(options: ExecutionOptions(workers: workers, batchCapacity: batchCapacity))
        switch lateData {
        case "drop": session.lateData = .drop
        case "update": session.lateData = .update
        default: session.lateData = .output(path: lateData)
        }
        let progress = ProgressLine.make(quiet: quiet || explain, resultsToTerminal: output == nil && isatty(1) != 0)
        if let progress { session.onProgress = { progress.update($0) } }
        defer { progress?.clear() }
        if explain {
            print(try session.explain(sql, sourceName: source))
            return
        }
        var writers: [ResultWriter] = []
        let results = try session.run(sql, sourceName: source) { index, _ in
            if index > 0 && output != nil {
                throw SpateError(.usage, "-o writes one result, but the script has more than one SELECT",
                                 hint: "run each SELECT separately, or leave out -o")
            }
            let w = try OutputFormats.writer(format: format, path: output)
            writers.append(w)
            return w
        }
        if writers.contains(where: \.isClosed) { return }
        guard !quiet else { return }
        for r in results {
            let s = r.statistics
            if s.rowsLateAccepted > 0 {
                writeStderr("spate: \(s.rowsLateAccepted) late row\(s.rowsLateAccepted == 1 ? "" : "s") updated windows already emitted (rows marked +U).\n")
            }
            if s.rowsLate > 0 {
                let rows = "\(s.rowsLate) late row\(s.rowsLate == 1 ? "" : "s")"
                if case .output(let path) = session.lateData {
                    writeStderr("spate: \(rows) written to \(path): they arrived after the watermark had passed the end of their window (or their join bound).\n")
                } else {
                    writeStderr("spate: \(rows) dropped: they arrived after the watermark had passed the end of their window (or their join bound)\(session.lateData == .update ? " and its allowed lateness" : ""). Declare a larger bound (WATERMARK FOR ts AS ts - INTERVAL 'n' SECOND), or keep them with --late-data FILE.\n")
                }
            }
            if s.rowsNullTime > 0 {
                writeStderr("spate: \(s.rowsNullTime) row\(s.rowsNullTime == 1 ? "" : "s") with a NULL event time dropped (they belong to no window).\n")
            }
            if s.badRows > 0 {
                writeStderr("spate: \(s.badRows) bad input row\(s.badRows == 1 ? "" : "s") skipped\(s.badRowNote.map { "; \($0)" } ?? "").\n")
            }
            if stats {
                let mb = Double(s.bytesRead) / 1e6
                let rate = s.seconds > 0 ? mb / s.seconds : 0
                writeStderr("spate: \(s.rowsRead) rows in, \(s.rowsOut) rows out, \(fixedDecimal(mb, 1)) MB in \(fixedDecimal(s.seconds, 3)) s (\(fixedDecimal(rate, 0)) MB/s)\n")
                if s.rowsOnTime + s.rowsLateAccepted + s.rowsLate > 0 {
                    writeStderr("spate: \(s.rowsOnTime) on time, \(s.rowsLateAccepted) late accepted, \(s.rowsLate) late rejected\n")
                }
            }
        }
    }
}

/// Reads a whole (small) text file, such as a SQL script.
func readText(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else {
        throw SpateError(.usage, "cannot read '\(path)': \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
