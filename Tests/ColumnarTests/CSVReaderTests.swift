import CKernels
import Foundation
import Testing

@testable import Columnar

/// Reads `text` with the given typed columns (fieldIndex, type) and `fieldCount`.
private func read(
    _ text: String, fieldCount: Int, _ columns: [(Int, DataType)], header: Bool = false,
    batchCapacity: Int = 4096, morselSize: Int = 8 << 20, path: String = "t.csv", strictQuotes: Bool = false
) throws -> [[CSVCell]] {
    let file = CSVFile(contents: Array(text.utf8), path: path)
    let cols = columns.map { CSVColumn(fieldIndex: $0.0, name: "c\($0.0)", type: $0.1) }
    return try csvReadAll(
        file, fieldCount: fieldCount, columns: cols, options: CSVOptions(header: header, strictQuotes: strictQuotes),
        batchCapacity: batchCapacity, morselSize: morselSize)
}

/// The error reading `text` throws, checked against `path:line:column` and message.
private func expectError(
    _ text: String, fieldCount: Int, _ columns: [(Int, DataType)], header: Bool = false, strictQuotes: Bool = false,
    at line: Int, _ column: Int, message: String, hint: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for morsel in [3, 8 << 20] {
        let error = csvError {
            try read(text, fieldCount: fieldCount, columns, header: header, morselSize: morsel, path: "bids.csv",
                     strictQuotes: strictQuotes)
        }
        #expect(error?.kind == .data, sourceLocation: sourceLocation)
        #expect(error?.path == "bids.csv", sourceLocation: sourceLocation)
        #expect(error?.line == line, "line", sourceLocation: sourceLocation)
        #expect(error?.column == column, "column", sourceLocation: sourceLocation)
        #expect(error?.message == message, sourceLocation: sourceLocation)
        if let hint { #expect(error?.hint == hint, sourceLocation: sourceLocation) }
        if let e = error {
            #expect(e.description.hasPrefix("bids.csv:\(line):\(column): error: "), sourceLocation: sourceLocation)
        }
    }
}

@Suite struct CSVReaderTests {
    // MARK: - Records and quoting

    @Test func recordsFieldsAndLineEndings() throws {
        let lf = try csvStrings("a,b\n1,2\n3,4\n", fieldCount: 2)
        #expect(lf == [["1", "2"], ["3", "4"]])
        #expect(try csvStrings("a,b\r\n1,2\r\n3,4\r\n", fieldCount: 2) == lf)
        #expect(try csvStrings("a,b\n1,2\n3,4", fieldCount: 2) == lf, "no final newline")
        #expect(try csvStrings("a,b\r\n1,2\r\n3,4", fieldCount: 2) == lf)
        #expect(try csvStrings("a,b\n1,2\n3,4\r", fieldCount: 2) == lf, "a CR at EOF ends the record")
        #expect(try csvStrings("1,2\n3,4\n", fieldCount: 2, options: CSVOptions(header: false)) == lf)
        // A CR that is not before a LF is data.
        #expect(try csvStrings("a\nx\ry\n", fieldCount: 1) == [["x\ry"]])
    }

    @Test func quotedFields() throws {
        let text = "a,b,c\n\"x,y\",\"line1\nline2\",\"say \"\"hi\"\"\"\n\"\",\"\"\"\",\"a\r\nb\"\r\n"
        #expect(
            try csvStrings(text, fieldCount: 3) == [
                ["x,y", "line1\nline2", "say \"hi\""],
                ["", "\"", "a\r\nb"],
            ])
    }

    @Test func emptyFieldsAreNullButQuotedEmptyStringsAreNot() throws {
        #expect(try csvStrings("a,b,c\n,\"\",\n", fieldCount: 3) == [[nil, "", nil]])
        let typed = try read(
            "x,\"\",,\"\"\n", fieldCount: 4, [(1, .int64), (2, .float64), (3, .timestamp(.millisecond))])
        #expect(typed == [[nil, nil, nil]])
    }

    @Test func blankLines() throws {
        // Several fields: blank lines are skipped wherever they are.
        #expect(try csvStrings("a,b\n\n1,2\n\r\n3,4\n\n\n", fieldCount: 2) == [["1", "2"], ["3", "4"]])
        // One field: a blank line is a NULL record, except the blank last line.
        #expect(try csvStrings("a\n1\n\n2\n\n", fieldCount: 1) == [["1"], [nil], ["2"]])
        #expect(try csvStrings("a\n1\n\n", fieldCount: 1) == [["1"]])
        #expect(try csvStrings("a\n\"\"\n", fieldCount: 1) == [[""]])
    }

    @Test func emptyFilesAndHeaderOnly() throws {
        #expect(try csvStrings("", fieldCount: 2) == [])
        #expect(try csvStrings("a,b\n", fieldCount: 2) == [])
        #expect(try csvStrings("a,b", fieldCount: 2) == [])
        #expect(try CSVFile(contents: [], path: "e.csv").readHeader(options: CSVOptions()) == nil)
    }

    @Test func headerIsParsedWithQuotes() throws {
        let file = CSVFile(contents: Array("\"a,1\",\"b\"\"\",c\r\n1,2,3\r\n".utf8), path: "h.csv")
        #expect(try file.readHeader(options: CSVOptions()) == ["a,1", "b\"", "c"])
        let bad = CSVFile(contents: Array("a,\"b\nc,d\n".utf8), path: "h.csv")
        let error = csvError { try bad.readHeader(options: CSVOptions()) as Any }
        #expect(error?.line == 1 && error?.column == 3)
        #expect(error?.message.hasPrefix("unterminated quoted field") == true)
    }

    @Test func otherDelimiters() throws {
        let semi = CSVOptions(delimiter: UInt8(ascii: ";"))
        #expect(try csvStrings("a;b\n1,5;\"x;y\"\n", fieldCount: 2, options: semi) == [["1,5", "x;y"]])
        let tab = CSVOptions(delimiter: 9)
        #expect(try csvStrings("a\tb\n1\t2\n", fieldCount: 2, options: tab) == [["1", "2"]])
    }

    @Test func projectionSkipsAndReordersFields() throws {
        let text = "auction,bidder,price,channel\n1,2,3,Google\n4,5,6,\"Apple, Inc\"\n"
        let rows = try read(text, fieldCount: 4, [(3, .string), (0, .int64), (2, .int64)], header: true)
        #expect(rows == [["Google", "1", "3"], ["Apple, Inc", "4", "6"]])
        // Fields that are not read are not converted: 'x' in a BIGINT-declared field is fine.
        #expect(try read("1,x\n2,y\n", fieldCount: 2, [(0, .int64)]) == [["1"], ["2"]])
        // The same field twice.
        #expect(try read("7,x\n", fieldCount: 2, [(0, .int64), (0, .string)]) == [["7", "7"]])
    }

    @Test func zeroColumnScanCountsRows() throws {
        let file = CSVFile(contents: Array("a,b\n1,2\n3,4\n5,6\n".utf8), path: "c.csv")
        for capacity in [1, 2, 4096] {
            let scan = CSVScan(file: file, fieldCount: 2, columns: [], options: CSVOptions(), batchCapacity: capacity)
            var total = 0
            while let m = scan.claimMorsel() {
                try scan.parse(m) { batch in
                    #expect(batch.columns.isEmpty && batch.count <= capacity)
                    total += batch.count
                }
            }
            #expect(total == 3)
            #expect(scan.outputSchema.count == 0)
        }
    }

    @Test func batchesRespectCapacityAndAreFresh() throws {
        let text = (0..<10).map { "\($0),s\($0)" }.joined(separator: "\n")
        let file = CSVFile(contents: Array(text.utf8), path: "b.csv")
        let scan = CSVScan(
            file: file, fieldCount: 2,
            columns: [CSVColumn(fieldIndex: 0, name: "n", type: .int64), CSVColumn(fieldIndex: 1, name: "s", type: .string)],
            options: CSVOptions(header: false), batchCapacity: 3)
        var batches: [Batch] = []
        while let m = scan.claimMorsel() { try scan.parse(m) { batches.append($0) } }
        #expect(batches.map(\.count) == [3, 3, 3, 1])
        // Kept batches stay intact after later ones were produced.
        #expect(batches[0].columns[0].int64(at: 2) == 2)
        #expect(batches[1].columns[1].string(at: 0) == "s3")
        #expect(batches[0].schema == Schema([Field("n", .int64), Field("s", .string)]))
        #expect(batches[0].columns[0].validityWords == nil, "no bitmap when nothing is null")
    }

    // MARK: - Types

    @Test func integers() throws {
        let text = "0\n-0\n+17\n9223372036854775807\n-9223372036854775808\n00000000000000000000042\n\n"
        #expect(
            try read(text, fieldCount: 1, [(0, .int64)])
                == [["0"], ["0"], ["17"], ["9223372036854775807"], ["-9223372036854775808"], ["42"]])
        var v: Int64 = 0
        #expect(ck_parse_i64(Array("9223372036854775808".utf8), 19, &v) == 2)
        #expect(ck_parse_i64(Array("-9223372036854775809".utf8), 20, &v) == 2)
        #expect(ck_parse_i64(Array("99999999999999999999".utf8), 20, &v) == 2)
        for bad in ["-", "+", "1.0", "1e3", "0x10", " 1", "1 ", "١"] {
            let b = Array(bad.utf8)
            #expect(ck_parse_i64(b, b.count, &v) == 1, "\(bad)")
        }
    }

    @Test func doubles() throws {
        let cases: [(String, Double)] = [
            ("123.45", 123.45), ("-0.5", -0.5), (".5", 0.5), ("5.", 5), ("1e3", 1000), ("1E-2", 0.01),
            ("+2.5e+2", 250), ("0.1", 0.1), ("3.141592653589793", 3.141592653589793),
            ("123456789012345678901234567890", 123456789012345678901234567890.0),
            ("2.2250738585072014e-308", 2.2250738585072014e-308), ("4.9406564584124654e-324", .leastNonzeroMagnitude),
            ("1.7976931348623157e308", 1.7976931348623157e308), ("9007199254740993", 9007199254740992),
            ("0.30000000000000004", 0.30000000000000004), ("inf", .infinity), ("-Infinity", -.infinity),
            ("INF", .infinity),
        ]
        for (text, want) in cases {
            var d = 0.0
            let b = Array(text.utf8)
            #expect(ck_parse_f64(b, b.count, &d) == 0, "\(text)")
            #expect(d == want && d.sign == want.sign, "\(text) -> \(d)")
            // Same value through the Swift standard library's correctly rounded parser.
            if let swift = Double(text) { #expect(d == swift, "\(text)") }
        }
        var d = 0.0
        #expect(ck_parse_f64(Array("NaN".utf8), 3, &d) == 0 && d.isNaN)
        #expect(ck_parse_f64(Array("1e400".utf8), 5, &d) == 2)
        for bad in ["", ".", "e5", "1e", "1.2.3", "0x1p3", " 1", "nan(1)", "1,5", "--1", "in"] {
            let b = Array(bad.utf8)
            #expect(ck_parse_f64(b, b.count, &d) == 1, "\(bad)")
        }
        #expect(try read("1.5\n-2\n\n", fieldCount: 1, [(0, .float64)]) == [["1.5"], ["-2.0"]])
    }

    @Test func randomDoublesRoundTrip() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let x = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            for text in [x.description, String(format: "%.17g", x), String(format: "%.6f", Double(Int32.random(in: .min ... .max, using: &rng)) / 977)] {
                var d = 0.0
                let b = Array(text.utf8)
                #expect(ck_parse_f64(b, b.count, &d) == 0)
                #expect(d == Double(text)!, "\(text)")
            }
        }
    }

    @Test func booleans() throws {
        let text = "true\nFALSE\nt\nF\n1\n0\nyes\nNo\n\n"
        #expect(
            try read(text, fieldCount: 1, [(0, .bool)])
                == [["true"], ["false"], ["true"], ["false"], ["true"], ["false"], ["true"], ["false"]])
        var b = false
        for bad in ["2", "tru", "y", "on", " true"] {
            let x = Array(bad.utf8)
            #expect(ck_parse_bool(x, x.count, &b) == 1, "\(bad)")
        }
    }

    @Test func timestamps() throws {
        let ts: [(String, Int64)] = [
            ("2015-07-15", 1_436_918_400_000),
            ("2015-07-15 00:00:10", 1_436_918_410_000),
            ("2015-07-15T00:00:10.123", 1_436_918_410_123),
            ("2015-07-15t00:00:10.1Z", 1_436_918_410_100),
            ("2015-07-15 00:00:10.123456789", 1_436_918_410_123),
            ("2015-07-15 01:02", 1_436_922_120_000),
            ("2015-07-15T02:00:10+02:00", 1_436_918_410_000),
            ("2015-07-14T19:00:10-0500", 1_436_918_410_000),
            ("2015-07-15T02:00+02", 1_436_918_400_000),
            ("1436918400123", 1_436_918_400_123),
            ("-1000", -1000),
            ("0", 0),
            ("1969-12-31 23:59:59.999", -1),
            ("2000-02-29", 951_782_400_000),
            ("0001-01-01", -62_135_596_800_000),
        ]
        for (text, want) in ts {
            var v: Int64 = 0
            let b = Array(text.utf8)
            #expect(ck_parse_timestamp_ms(b, b.count, &v) == 0, "\(text)")
            #expect(v == want, "\(text)")
            if text.count >= 10, text.contains("-"), !text.contains("t"), !text.hasPrefix("-"), !text.dropFirst(10).contains(where: { "+-".contains($0) }) {
                #expect(Timestamp.parseMillis(Substring(text)) == want, "agrees with Timestamp.parseMillis: \(text)")
            }
        }
        let invalid: [(String, Int32)] = [
            ("2023-02-29", 3), ("2023-02-30", 3), ("2023-13-01", 3), ("2023-00-10", 3), ("2023-04-31", 3),
            ("1900-02-29", 3), ("2023-01-01 24:00", 2), ("2023-01-01 10:60", 2), ("2023-01-01 10:00:60", 2),
            ("2023-01-01T10:00+24:00", 2), ("2023-1-01", 1), ("2023/01/01", 1), ("2023-01-01 10", 1),
            ("2023-01-01 10:00:", 1), ("2023-01-01 10:00:00.", 1), ("2023-01-01Z", 1),
            ("2023-01-01 10:00 Z", 1), ("2023-01-01T10:00:00+02:", 1), ("12a", 1), ("", 1),
            ("99999999999999999999", 2),
        ]
        for (text, code) in invalid {
            var v: Int64 = 0
            let b = Array(text.utf8)
            #expect(ck_parse_timestamp_ms(b, b.count, &v) == code, "\(text)")
        }
        let rows = try read(
            "2015-07-15 00:00:10,1436918400123\n,\n", fieldCount: 2,
            [(0, .timestamp(.millisecond)), (1, .timestamp(.millisecond)), (1, .timestamp(.second))])
        #expect(rows == [["1436918410000", "1436918400123", "1436918400"], [nil, nil, nil]])
    }

    @Test func stringsKeepSpacesAndBytes() throws {
        let rows = try read(" a , b \n\"ʤ\",é\n", fieldCount: 2, [(0, .string), (1, .string)])
        #expect(rows == [[" a ", " b "], ["ʤ", "é"]])
    }

    // MARK: - Errors

    @Test func badIntegerNamesLineColumnAndHint() {
        expectError(
            "auction,price,channel\n17,4,Google\n17,abc,Google\n", fieldCount: 3, [(1, .int64)], header: true,
            at: 3, 4, message: "'abc' is not a valid BIGINT for column 'c1'",
            hint: "declare the column as VARCHAR or DOUBLE, or fix the value")
        expectError(
            "1.5\n", fieldCount: 1, [(0, .int64)], at: 1, 1, message: "'1.5' is not a valid BIGINT for column 'c0'",
            hint: "declare the column as DOUBLE, or fix the value")
        expectError(
            "x,99999999999999999999\n", fieldCount: 2, [(1, .int64)], at: 1, 3,
            message: "'99999999999999999999' is out of range for BIGINT for column 'c1'")
        expectError(
            "x, 12\n", fieldCount: 2, [(1, .int64)], at: 1, 3,
            message: "' 12' is not a valid BIGINT for column 'c1': it has spaces around the value",
            hint: "remove the spaces (values are not trimmed), or declare the column as VARCHAR")
        expectError(
            "\"ab\"\n", fieldCount: 1, [(0, .float64)], at: 1, 1, message: "'ab' is not a valid DOUBLE for column 'c0'")
        expectError("maybe\n", fieldCount: 1, [(0, .bool)], at: 1, 1, message: "'maybe' is not a valid BOOLEAN for column 'c0'")
        expectError(
            "ʤé,2023-02-30\n", fieldCount: 2, [(1, .timestamp(.millisecond))], at: 1, 4,
            message: "'2023-02-30' is not a valid date for column 'c1': that day does not exist")
        expectError(
            "2023-02-03 1:00\n", fieldCount: 1, [(0, .timestamp(.millisecond))], at: 1, 1,
            message: "'2023-02-03 1:00' is not a valid TIMESTAMP(3) for column 'c0'")
    }

    @Test func theEarliestBadValueWins() {
        // Two bad values in one batch: the earlier record, then the earlier field.
        expectError(
            "1,2\n3,x\ny,5\n", fieldCount: 2, [(0, .int64), (1, .int64)], at: 2, 3,
            message: "'x' is not a valid BIGINT for column 'c1'")
        expectError(
            "1,2\nx,y\n", fieldCount: 2, [(1, .int64), (0, .int64)], at: 2, 1,
            message: "'x' is not a valid BIGINT for column 'c0'")
    }

    @Test func lineNumbersCountLineBreaksInsideQuotes() {
        let text = "id,note,price\n1,\"multi\nline\r\nnote\",5\n2,ok,abc\n"
        expectError(
            text, fieldCount: 3, [(2, .int64)], header: true, at: 5, 6,
            message: "'abc' is not a valid BIGINT for column 'c2'")
        let error = csvError { try read(text, fieldCount: 3, [(2, .int64)], header: true) }
        #expect(error?.sourceLine == "2,ok,abc")
    }

    @Test func wrongFieldCounts() {
        expectError(
            "a,b,c\n1,2,3\n4,5\n", fieldCount: 3, [(0, .string)], header: true, at: 3, 4,
            message: "expected 3 fields, found 2",
            hint: "check that the delimiter is ',' and that fields containing it or line breaks are quoted")
        expectError(
            "a,b,c\n1,2,3\n4,5,6,7\n", fieldCount: 3, [(0, .string)], header: true, at: 3, 7,
            message: "expected 3 fields, found 4")
        expectError(
            "1;2;3\n", fieldCount: 3, [(0, .string)], at: 1, 6, message: "expected 3 fields, found 1",
            hint: "the line contains ';': if that separates the fields, set the delimiter to ';'")
        // Unused fields are still counted.
        expectError("1,2\n3\n", fieldCount: 2, [], at: 2, 2, message: "expected 2 fields, found 1")
        // After a quoted multi-line field.
        expectError(
            "\"a\nb\",1\n2,3,4\r\n", fieldCount: 2, [(1, .int64)], at: 3, 5, message: "expected 2 fields, found 3")
    }

    @Test func quotingErrors() {
        expectError(
            "a,b\n1,ab\"c\n", fieldCount: 2, [(0, .string)], header: true, strictQuotes: true, at: 2, 3,
            message: "quote character inside unquoted field 2")
        expectError(
            "a,b\n1,\"ab\"c,\n", fieldCount: 2, [(1, .string)], header: true, at: 2, 3,
            message: "unexpected text after the closing quote of field 2 ('c1')")
        expectError(
            "a,b\n1,\"ab\"\r2\n", fieldCount: 2, [], header: true, at: 2, 3,
            message: "unexpected text after the closing quote of field 2")
        expectError(
            "a,b\n1,2\n3,\"open\n4,5\n6,7\n", fieldCount: 2, [(0, .int64)], header: true, at: 3, 3,
            message: "unterminated quoted field: the quote that opens field 2 is never closed",
            hint: "close the quote, or double each quote that is part of the value (\"\")")
        // Past a quoted multi-line field, on a line that is not data of any read column.
        expectError(
            "a,b\n\"x\ny\nz\",1\n2,\"q\"q\n", fieldCount: 2, [(0, .string)], header: true, at: 5, 3,
            message: "unexpected text after the closing quote of field 2")
        // An error in a field nobody reads still stops the scan.
        expectError(
            "1,x\"y\n", fieldCount: 2, [(0, .int64)], strictQuotes: true, at: 1, 3,
            message: "quote character inside unquoted field 2")
    }

    @Test func fileErrorsNameThePath() {
        let error = csvError { try CSVFile(path: "/nonexistent/bids.csv") }
        #expect(error?.kind == .io)
        #expect(error?.message == "cannot open '/nonexistent/bids.csv': No such file or directory")
        let dir = csvError { try CSVFile(path: "/tmp") }
        #expect(dir?.kind == .io)
    }

    @Test func hugeRecordsGrowTheBuffers() throws {
        // 100,000 fields in one record: more separators than the initial buffer.
        let wide = (0..<100_000).map(String.init).joined(separator: ",")
        let file = CSVFile(contents: Array((wide + "\n" + wide).utf8), path: "wide.csv")
        let cols = [CSVColumn(fieldIndex: 99_999, name: "last", type: .int64), CSVColumn(fieldIndex: 5, name: "f5", type: .int64)]
        #expect(try csvReadAll(file, fieldCount: 100_000, columns: cols, options: CSVOptions(header: false)) == [["99999", "5"], ["99999", "5"]])
        // A quoted field of 1 MiB with line breaks and doubled quotes, across many scan chunks.
        let chunk = String(repeating: "ab\"\"c,\n", count: 150_000)
        let big = "h1,h2\n1,\"" + chunk + "\"\n2,x\n"
        let rows = try csvStrings(big, fieldCount: 2, morselSize: 100_000, threads: 2)
        #expect(rows.count == 2)
        #expect(rows[0][1] == String(repeating: "ab\"c,\n", count: 150_000))
        #expect(rows[1] == ["2", "x"])
        // Unterminated after a long stretch: reported where the quote opened.
        let open = "h1,h2\n1,2\n3,\"" + String(repeating: "z\n", count: 400_000)
        for morsel in [4096, 8 << 20] {
            let error = csvError { try csvStrings(open, fieldCount: 2, morselSize: morsel) }
            #expect(error?.line == 3 && error?.column == 3)
            #expect(error?.message.hasPrefix("unterminated") == true)
        }
    }

    @Test func readsFromAPipe() throws {
        let path = NSTemporaryDirectory() + "spate-csv-fifo-\(UUID().uuidString)"
        #expect(mkfifo(path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = "a,b\n" + (0..<20_000).map { "\($0),\"v\n\($0)\"" }.joined(separator: "\n")
        let writer = Thread {
            let fd = open(path, O_WRONLY)
            Array(text.utf8).withUnsafeBytes { b in
                var off = 0
                while off < b.count { off += write(fd, b.baseAddress! + off, b.count - off) }
            }
            close(fd)
        }
        writer.start()
        let file = try CSVFile(path: path)
        #expect(file.size == text.utf8.count)
        let rows = try csvReadAll(file, fieldCount: 2, columns: [CSVColumn(fieldIndex: 1, name: "b", type: .string)])
        #expect(rows.count == 20_000 && rows[19_999] == ["v\n19999"])
    }

    @Test func mappedFileMatchesInMemory() throws {
        let text = "a,b\n1,\"x\ny\"\n2,z"
        let path = try csvTempFile(Array(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try CSVFile(path: path)
        #expect(file.size == text.utf8.count && file.path == path)
        let cols = [CSVColumn(fieldIndex: 0, name: "a", type: .int64), CSVColumn(fieldIndex: 1, name: "b", type: .string)]
        #expect(try csvReadAll(file, fieldCount: 2, columns: cols) == [["1", "x\ny"], ["2", "z"]])
    }
}
