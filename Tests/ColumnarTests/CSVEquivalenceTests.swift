import CKernels
import Foundation
import Testing

@testable import Columnar
import SpateTestSupport

/// Deterministic PRNG so a failing seed can be replayed.
typealias CSVSplitMix = SplitMix64

/// A nasty but valid CSV: quotes, doubled quotes, embedded delimiters and line
/// breaks, CRLF and LF mixed, empty and quoted-empty fields, blank lines, long fields
/// that cross 64-byte blocks, multi-byte characters, with or without final newline.
struct CSVGenerated {
    var bytes: [UInt8]
    var fieldCount: Int
    var options: CSVOptions
}

func csvGenerate(seed: UInt64) -> CSVGenerated {
    var rng = CSVSplitMix(seed: seed)
    let fieldCount = Int.random(in: 1...5, using: &rng)
    let delimiter: UInt8 = [UInt8(ascii: ","), UInt8(ascii: ","), UInt8(ascii: ";"), 9, UInt8(ascii: "|")]
        .randomElement(using: &rng)!
    var options = CSVOptions(delimiter: delimiter, header: Bool.random(using: &rng))
    // Dialect features, each in about a third of the files.
    options.strictQuotes = Int.random(in: 0..<3, using: &rng) == 0
    if Int.random(in: 0..<3, using: &rng) == 0 { options.escape = UInt8(ascii: "\\") }
    if Int.random(in: 0..<3, using: &rng) == 0 { options.comment = UInt8(ascii: "#") }
    if Int.random(in: 0..<3, using: &rng) == 0 { options.nullLiteral = "NA" }
    let bom = Int.random(in: 0..<5, using: &rng) == 0
    let plain = Array("abcxyz0129 ._-".utf8) + [0xC3, 0xA9] /* é */
    func plainText(_ n: Int, _ rng: inout CSVSplitMix) -> [UInt8] {
        var out = [UInt8]()
        while out.count < n {
            let c = plain.randomElement(using: &rng)!
            if c == 0xC3 || c == 0xA9 { out += [0xC3, 0xA9] } else { out.append(c) }
        }
        return out
    }
    var out: [UInt8] = bom ? [0xEF, 0xBB, 0xBF] : []
    let rows = seed % 10 == 0 ? Int.random(in: 200...400, using: &rng) : Int.random(in: 0...40, using: &rng)
    for _ in 0..<rows {
        if fieldCount > 1 && Int.random(in: 0..<12, using: &rng) == 0 {
            out += Bool.random(using: &rng) ? [10] : [13, 10]  // a blank line
        }
        if options.comment != nil && Int.random(in: 0..<8, using: &rng) == 0 {
            // A comment line, with bytes that would mean something in a record.
            out += Array("# a \"quoted, \"\"".utf8) + plainText(Int.random(in: 0...70, using: &rng), &rng)
            out += Bool.random(using: &rng) ? [10] : [13, 10]
        }
        for f in 0..<fieldCount {
            if f > 0 { out.append(delimiter) }
            switch Int.random(in: 0..<12, using: &rng) {
            case 0:
                // Empty (NULL); one-field records get a value so the line is not blank.
                if fieldCount == 1 { out += plainText(1, &rng) }
            case 1...4:
                out += plainText(Int.random(in: 1...8, using: &rng), &rng)
            case 10:
                // A quote inside an unquoted field: data unless quotes are strict.
                out += plainText(Int.random(in: 1...4, using: &rng), &rng)
                if !options.strictQuotes { out.append(UInt8(ascii: "\"")) }
                out += plainText(Int.random(in: 0...70, using: &rng), &rng)
            case 11:
                if options.nullLiteral != nil { out += Array("NA".utf8) } else { out += plainText(2, &rng) }
            case 5:
                out += plainText(Int.random(in: 60...150, using: &rng), &rng)
            default:
                out.append(UInt8(ascii: "\""))
                for _ in 0..<Int.random(in: 0...6, using: &rng) {
                    switch Int.random(in: 0..<7, using: &rng) {
                    case 0:
                        if options.escape != nil && Bool.random(using: &rng) {
                            out += Bool.random(using: &rng) ? Array("\\\"".utf8) : Array("\\\\".utf8)
                        } else {
                            out += [UInt8(ascii: "\""), UInt8(ascii: "\"")]
                        }
                    case 1: out.append(delimiter)
                    case 2: out.append(10)
                    case 3: out += [13, 10]
                    case 4: out += plainText(Int.random(in: 40...90, using: &rng), &rng)
                    default: out += plainText(Int.random(in: 1...5, using: &rng), &rng)
                    }
                }
                out.append(UInt8(ascii: "\""))
            }
        }
        out += Bool.random(using: &rng) ? [10] : [13, 10]
    }
    if !out.isEmpty && Int.random(in: 0..<3, using: &rng) == 0 {
        // No final line break.
        out.removeLast()
        if out.last == 13 { out.removeLast() }
    }
    return CSVGenerated(bytes: out, fieldCount: fieldCount, options: options)
}

/// The reference parser's rows, as the reader renders VARCHAR cells.
func csvReferenceRows(_ g: CSVGenerated, projection: [Int]) throws -> [[CSVCell]] {
    let reference = CSVReference(g.options)
    return try reference.parse(g.bytes, fieldCount: g.fieldCount).map { record in
        projection.map { record[$0].map { String(decoding: $0, as: UTF8.self) } }
    }
}

/// Runs `body` at every ISA level the CPU has, restoring the level after.
func csvForEachISA(_ body: (ck_isa) throws -> Void) rethrows {
    let saved = ck_isa_current()
    defer { _ = ck_isa_set(saved) }
    for level in [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512] where level.rawValue <= ck_isa_detected().rawValue {
        _ = ck_isa_set(level)
        try body(level)
    }
}

@Suite(.serialized) struct CSVEquivalenceTests {
    static let morselSizes = [1, 7, 64, 4096, 8 << 20]
    static let capacities = [1, 2, 3, 4096]

    @Test func randomFilesMatchTheReference() throws {
        var configurations = 0
        for seed in UInt64(1)...40 {
            let g = csvGenerate(seed: seed)
            let file = CSVFile(contents: g.bytes, path: "gen-\(seed).csv")
            let all = Array(0..<g.fieldCount)
            // All fields, and a reordered subset (fields skipped, one repeated).
            let subset = g.fieldCount == 1 ? [0, 0] : [g.fieldCount - 1, 0, g.fieldCount - 1]
            for projection in [all, subset] {
                let want = try csvReferenceRows(g, projection: projection)
                let columns = projection.map { CSVColumn(fieldIndex: $0, name: "f\($0)", type: .string) }
                try csvForEachISA { isa in
                    for morsel in CSVEquivalenceTests.morselSizes {
                        for capacity in CSVEquivalenceTests.capacities {
                            for threads in [1, 3] {
                                let got = try csvReadAll(
                                    file, fieldCount: g.fieldCount, columns: columns, options: g.options,
                                    batchCapacity: capacity, morselSize: morsel, threads: threads)
                                configurations += 1
                                #expect(
                                    got == want,
                                    "seed \(seed) isa \(String(cString: ck_isa_name(isa))) morsel \(morsel) capacity \(capacity) threads \(threads)"
                                )
                                if got != want { return }
                            }
                        }
                    }
                }
            }
            // COUNT(*): no columns, the same number of rows.
            let count = try csvReadAll(file, fieldCount: g.fieldCount, columns: [], options: g.options, morselSize: 7, threads: 3)
            #expect(count.count == (try csvReferenceRows(g, projection: [])).count)
        }
        #expect(configurations > 1000)
    }

    /// Corrupts valid files (a quote, delimiter or line break inserted or a byte
    /// removed) and checks the reader reports the reference's first error, at the
    /// same line and column, whatever the morsel size and thread count.
    @Test func corruptedFilesReportTheReferenceError() throws {
        var errors = 0
        for seed in UInt64(100)...400 {
            var rng = CSVSplitMix(seed: seed)
            var g = csvGenerate(seed: seed)
            guard !g.bytes.isEmpty else { continue }
            let at = Int.random(in: 0...g.bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: g.bytes.insert(UInt8(ascii: "\""), at: at)
            case 1: g.bytes.insert(g.options.delimiter, at: at)
            case 2: g.bytes.insert(10, at: at)
            default: g.bytes.remove(at: min(at, g.bytes.count - 1))
            }
            let projection = Array(0..<g.fieldCount)
            let expected: Result<[[CSVCell]], CSVReference.Failure>
            do { expected = .success(try csvReferenceRows(g, projection: projection)) } catch let f as CSVReference.Failure {
                expected = .failure(f)
            }
            let file = CSVFile(contents: g.bytes, path: "bad.csv")
            let columns = projection.map { CSVColumn(fieldIndex: $0, name: "f\($0)", type: .string) }
            for morsel in [1, 7, 4096, 8 << 20] {
                for threads in [1, 3] {
                    let context = "seed \(seed) morsel \(morsel) threads \(threads)"
                    do {
                        let rows = try csvReadAll(
                            file, fieldCount: g.fieldCount, columns: columns, options: g.options, batchCapacity: 3,
                            morselSize: morsel, threads: threads)
                        #expect(try expected.get() == rows, "\(context)")
                    } catch let e as SpateError {
                        guard case .failure(let f) = expected else {
                            Issue.record("\(context): unexpected \(e)")
                            continue
                        }
                        errors += 1
                        let kind: String
                        if e.message.hasPrefix("expected") { kind = "count" }
                        else if e.message.hasPrefix("quote character") { kind = "stray" }
                        else if e.message.hasPrefix("unexpected text") { kind = "after-quote" }
                        else if e.message.hasPrefix("unterminated") { kind = "unterminated" }
                        else { kind = e.message }
                        #expect(
                            CSVReference.Failure(line: e.line ?? 0, column: e.column ?? 0, kind: kind) == f,
                            "\(context): \(e)")
                    }
                }
            }
        }
        #expect(errors > 500)
    }

    /// The same corruptions read with the `skip` policy: the reader leaves out
    /// exactly the records the reference leaves out (recovering at the same place)
    /// and keeps every other, whatever the morsel size and thread count.
    @Test func corruptedFilesSkipTheReferenceBadRows() throws {
        var skipped = 0
        for seed in UInt64(100)...400 {
            var rng = CSVSplitMix(seed: seed)
            var g = csvGenerate(seed: seed)
            guard !g.bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0...g.bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: g.bytes.insert(UInt8(ascii: "\""), at: at)
                case 1: g.bytes.insert(g.options.delimiter, at: at)
                case 2: g.bytes.insert(10, at: at)
                default: g.bytes.remove(at: min(at, g.bytes.count - 1))
                }
            }
            g.options.badRows = .skip
            let projection = Array(0..<g.fieldCount)
            let reference = CSVReference(g.options)
            let (records, badLines) = try reference.parseReportingBadRows(g.bytes, fieldCount: g.fieldCount)
            let want = records.map { r in projection.map { r[$0].map { String(decoding: $0, as: UTF8.self) } } }
            let file = CSVFile(contents: g.bytes, path: "bad.csv")
            let columns = projection.map { CSVColumn(fieldIndex: $0, name: "f\($0)", type: .string) }
            for morsel in [1, 7, 4096, 8 << 20] {
                for threads in [1, 3] {
                    let bad = CSVBadRows(policy: .skip)
                    let rows = try csvReadAll(
                        file, fieldCount: g.fieldCount, columns: columns, options: g.options, batchCapacity: 3,
                        morselSize: morsel, threads: threads, badRows: bad)
                    #expect(rows == want, "seed \(seed) morsel \(morsel) threads \(threads)")
                    #expect(bad.count == badLines.count, "seed \(seed) morsel \(morsel) threads \(threads)")
                    if threads == 1 && morsel == 7 { skipped += badLines.count }
                }
            }
        }
        #expect(skipped > 200)
    }

    // MARK: - Kernels at every ISA against the scalar reference

    /// Random bytes rich in structure, indexed in random chunks with a small
    /// separator buffer (forcing early stops): every ISA gives the scalar result.
    @Test func indexKernelAgreesAcrossISAs() {
        var rng = CSVSplitMix(seed: 7)
        let alphabet: [UInt8] = Array("\",\n\r\"ab,\n".utf8)
        let sizes = [0, 1, 3, 7, 63, 64, 65, 127, 128, 129, 200, 511, 2047, 2048, 2049]
        for size in sizes {
            for _ in 0..<12 {
                // Mostly valid quoting, sometimes not.
                var bytes = (0..<size).map { _ in alphabet.randomElement(using: &rng)! }
                if Bool.random(using: &rng) { bytes = bytes.map { $0 == UInt8(ascii: "\"") ? UInt8(ascii: "x") : $0 } }
                let cuts = (0..<3).map { _ in Int.random(in: 0...max(1, size / 64), using: &rng) * 64 }.sorted()
                var results: [String] = []
                csvForEachISA { _ in results.append(csvIndexTrace(bytes, cuts: cuts, cap: 64 + Int.random(in: 0...100, using: &rng))) }
                #expect(Set(results).count == 1, "size \(size): \(results)")
                var counts: [Int] = [], starts: [Int] = []
                csvForEachISA { _ in
                    counts.append(ck_csv_count_byte(bytes, bytes.count, UInt8(ascii: "\"")))
                    starts.append(ck_csv_find_record_start(bytes, bytes.count, UInt8(ascii: "\""), 0))
                    starts.append(ck_csv_find_record_start(bytes, bytes.count, UInt8(ascii: "\""), 1))
                }
                #expect(Set(counts).count == 1 && counts[0] == bytes.filter { $0 == UInt8(ascii: "\"") }.count)
                #expect(Set(starts[0...].enumerated().filter { $0.offset % 2 == 0 }.map(\.element)).count == 1)
                #expect(Set(starts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)).count == 1)
            }
        }
    }
}

/// Everything `ck_csv_index` reports for `bytes`, fed in chunks ending at `cuts`.
func csvIndexTrace(_ bytes: [UInt8], cuts: [Int], cap: Int) -> String {
    var st = ck_csv_index_state()
    st.prev_sep = 1
    st.last_open = -1
    st.err_pos = -1
    var seps = [UInt32](repeating: 0, count: bytes.count + 1)
    var scratch = [UInt32](repeating: 0, count: cap)
    var total = 0
    var pos = 0
    var guardCount = 0
    return bytes.withUnsafeBufferPointer { b in
        while st.finished == 0 && st.error == 0 && guardCount < 10_000 {
            guardCount += 1
            let end = cuts.first(where: { $0 > pos && $0 < bytes.count }) ?? bytes.count
            var n = 0
            let consumed = ck_csv_index(
                b.baseAddress! + pos, end - pos, end == bytes.count, UInt8(ascii: ","), UInt8(ascii: "\""),
                UInt32(pos), &st, &scratch, cap, &n)
            for i in 0..<n { seps[total + i] = scratch[i] }
            total += n
            pos += consumed
        }
        return "\(seps[0..<total]) e\(st.error)@\(st.err_pos) q\(st.in_quote)"
    }
}
