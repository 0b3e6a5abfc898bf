import Columnar
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer entry: the first bytes choose the dialect, bad-row policy, schema,
/// projection, morsel size and batch capacity; the rest is the file. Checks that the
/// reader never crashes and that the answer (rows, or the error) is the same for one
/// thread over one morsel and three threads over small morsels, and that batches
/// respect their capacity.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 6 else { return 0 }
    let c = Array(UnsafeBufferPointer(start: data, count: 6))
    let bytes = Array(UnsafeBufferPointer(start: data + 6, count: size - 6))
    var options = CSVOptions()
    options.delimiter = [UInt8(ascii: ","), UInt8(ascii: ";"), 9, UInt8(ascii: "|")][Int(c[0] & 3)]
    options.header = c[0] & 4 != 0
    options.strictQuotes = c[0] & 8 != 0
    if c[0] & 16 != 0 { options.escape = UInt8(ascii: "\\") }
    if c[0] & 32 != 0 { options.comment = UInt8(ascii: "#") }
    if c[0] & 64 != 0 { options.nullLiteral = "NA" }
    if c[0] & 128 != 0 { options.badRows = .skip }
    let fieldCount = Int(c[1] % 6) + 1
    let types: [DataType] = [.string, .int64, .float64, .bool, .timestamp(.millisecond)]
    var columns: [CSVColumn] = []
    for f in 0..<fieldCount where (c[2] >> UInt8(f)) & 1 == 1 {
        columns.append(CSVColumn(fieldIndex: f, name: "c\(f)", type: types[Int((c[3] >> UInt8(f % 4)) % 5)]))
    }
    let morsel = [1, 2, 3, 7, 64, 100, 4096, 1 << 20][Int(c[4] & 7)]
    let capacity = [1, 2, 3, 5, 64, 4096][Int(c[5] % 6)]

    let file = CSVFile(contents: bytes, path: "fuzz.csv")
    // Helpers used by inference and previews must not crash either.
    _ = try? file.readHeader(options: options)
    _ = file.sampleRecords(options: options, limit: 20)
    _ = CSVInference.infer(file: file, options: options)

    let one = run(file, fieldCount, columns, options, capacity: 4096, morsel: 1 << 30, threads: 1)
    let many = run(file, fieldCount, columns, options, capacity: capacity, morsel: morsel, threads: 3)
    if one != many {
        say("MISMATCH\n1 thread: \(one)\n3 threads, morsel \(morsel), capacity \(capacity): \(many)\n")
        abort()
    }
    return 0
}

private final class Results: @unchecked Sendable {
    let lock = NSLockish()
    var rows: [Int: [String]] = [:]
    var errors: [Int: String] = [:]
}

/// A tiny mutex (no Foundation).
private final class NSLockish: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return body()
    }
}

private func run(
    _ file: CSVFile, _ fieldCount: Int, _ columns: [CSVColumn], _ options: CSVOptions, capacity: Int, morsel: Int,
    threads: Int
) -> String {
    let scan = CSVScan(file: file, fieldCount: fieldCount, columns: columns, options: options,
                       batchCapacity: capacity, morselSize: morsel)
    let results = Results()
    let work: @Sendable () -> Void = {
        while let m = scan.claimMorsel() {
            var out: [String] = []
            do {
                try scan.parse(m) { batch in
                    if batch.count < 1 || batch.count > capacity { say("bad batch size \(batch.count)\n"); abort() }
                    for r in 0..<batch.count {
                        out.append(batch.columns.map { render($0, r) }.joined(separator: "|"))
                    }
                }
                results.lock.locked { results.rows[m.index] = out }
            } catch {
                results.lock.locked { results.errors[m.index] = "\(error)" }
                return
            }
        }
    }
    if threads == 1 { work() } else { DispatchQueue.concurrentPerform(iterations: threads) { _ in work() } }
    if let first = results.errors.keys.min() { return "error: " + results.errors[first]! }
    let rows = results.rows.keys.sorted().flatMap { results.rows[$0]! }
    return "\(rows.count) rows, \(scan.badRows?.count ?? 0) bad: " + rows.joined(separator: "\n")
}

private func render(_ column: Column, _ r: Int) -> String {
    guard column.isValid(r) else { return "NULL" }
    switch column.type {
    case .string: return column.string(at: r)
    case .int64, .timestamp: return String(column.int64(at: r))
    case .float64: let d = column.float64(at: r); return d.isNaN ? "nan" : "\(d)"
    case .bool: return column.bool(at: r) ? "t" : "f"
    }
}

private func say(_ text: String) {
    var t = text
    t.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

// SwiftPM links an executable's entry point as `<module>_main`: hand over to
// libFuzzer's driver, which parses the usual libFuzzer flags.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("CSVFuzz_main")
public func csvFuzzMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzCSV(data, size) }
}
