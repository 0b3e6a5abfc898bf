import Columnar

/// CSV from standard input (`'path' = '-'`), read as it arrives: each morsel is a
/// chunk of whole records that `CSVStream` cut as soon as it was complete, parsed by
/// a one-morsel `CSVScan` (errors keep the input's line numbers). Claiming blocks
/// until a chunk is there, so a query over an endless pipe emits its windows as the
/// watermark advances.
final class StdinCSVSource: BatchSource, @unchecked Sendable {
    let stream: CSVStream
    let fieldCount: Int
    let columns: [CSVColumn]
    let options: CSVOptions
    let batchCapacity: Int
    let chunkSize: Int
    let badRows: CSVBadRows?
    let outputSchema: Schema
    let pick: CSVProjection?
    private let lock = Monitor()
    private var scans: [Int: CSVScan] = [:]
    private var claimed = 0
    private var done = 0
    private var ended = false
    private var bytes = 0

    init(stream: CSVStream, fieldCount: Int, columns: [CSVColumn], options: CSVOptions, batchCapacity: Int,
         chunkSize: Int, badRows: CSVBadRows?, pick: CSVProjection? = nil) {
        self.pick = pick
        self.stream = stream
        self.fieldCount = fieldCount
        self.columns = columns
        self.options = options
        self.batchCapacity = batchCapacity
        self.chunkSize = chunkSize
        self.badRows = badRows
        outputSchema = pick?.schema ?? Schema(columns.map { Field($0.name, $0.type) })
    }

    var isStreaming: Bool { true }
    var byteCount: Int? { lock.locked { bytes } }
    var badRowCount: Int { badRows?.count ?? 0 }
    var badRowNote: String? { badRows.flatMap(CSVBatchSource.note) }

    /// Milliseconds a worker waits for input before it takes an empty morsel instead
    /// (so that every worker hands over its windows while the pipe is quiet).
    static let idleMillis: Int32 = 50

    func claimMorsel() throws -> Morsel? {
        try lock.locked {
            guard !ended, let chunk = try stream.nextChunk(maxBytes: chunkSize, idleAfter: StdinCSVSource.idleMillis)
            else {
                ended = true
                if done == claimed { try badRows?.finish() }
                return nil
            }
            let index = claimed
            claimed += 1
            if chunk.index < 0 {
                try badRows?.submit(index, [])
                return Morsel(index: index, start: 0, end: 0)
            }
            let file = CSVFile(copying: chunk.bytes, path: stream.name)
            file.lineOffset = chunk.linesBefore
            let scan = CSVScan(
                file: file, fieldCount: fieldCount, columns: columns, options: options, batchCapacity: batchCapacity,
                morselSize: max(1, chunk.bytes.count), header: chunk.index == 0 && options.header, badRows: badRows)
            scan.sequenceBase = index
            scans[index] = scan
            bytes += chunk.bytes.count
            return Morsel(index: index, start: 0, end: chunk.bytes.count)
        }
    }

    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws {
        if let scan = lock.locked({ scans[morsel.index] }), let m = scan.claimMorsel() {
            if let pick {
                try scan.parse(m) { try emit(pick.apply($0)) }
            } else {
                try scan.parse(m, emit: emit)
            }
        }
        let finish = lock.locked { () -> Bool in
            scans.removeValue(forKey: morsel.index)
            done += 1
            return ended && done == claimed
        }
        if finish { try badRows?.finish() }
    }
}
