import CKernels
import Columnar
import Foundation
import SpateTestSupport
import Testing

@Suite struct JSONReaderTests {
    let bids: [(String, DataType)] = [
        ("auction", .int64), ("price", .float64), ("channel", .string), ("ok", .bool), ("ts", .timestamp(.millisecond)),
    ]

    // MARK: - Values

    @Test func typedFieldsAnyOrderMissingNullUnknown() throws {
        let text = """
            {"auction": 1, "price": 10.5, "channel": "Google", "ok": true, "ts": "2024-01-02 03:04:05.678"}
            {"ts": 1704164645678, "channel": "Baidu", "auction": 2, "price": 3, "ok": false}
              {"auction": 3, "extra": {"a": [1, 2, {"b": null}], "c": "x"}, "list": [], "o": {}}
            {"auction": null, "price": null, "channel": null, "ok": null, "ts": null}
            {}
            """
        try jsonAtEveryISA { _ in
            let rows = try JSONRead(bids).rows(text)
            #expect(rows == [
                ["1", "10.5", "Google", "true", "2024-01-02 03:04:05.678"],
                ["2", "3.0", "Baidu", "false", "2024-01-02 03:04:05.678"],
                ["3", "NULL", "NULL", "NULL", "NULL"],
                ["NULL", "NULL", "NULL", "NULL", "NULL"],
                ["NULL", "NULL", "NULL", "NULL", "NULL"],
            ])
        }
    }

    @Test func whitespaceCRLFBlankLinesAndNoFinalNewline() throws {
        let text = "\r\n  \t\r\n{ \"auction\" :\t7 , \"channel\" : \"a b\" }\r\n\n   \n{\"auction\":8}\t \r\n{\"auction\":9}"
        let rows = try JSONRead([("auction", .int64), ("channel", .string)]).rows(text)
        #expect(rows == [["7", "a b"], ["8", "NULL"], ["9", "NULL"]])
        #expect(try JSONRead([("auction", .int64)]).rows("\u{FEFF}{\"auction\": 5}\n") == [["5"]])
        #expect(try JSONRead([("auction", .int64)], morsel: 2).rows("\u{FEFF}{\"auction\": 5}") == [["5"]])
        #expect(try JSONRead([("auction", .int64)]).rows("") == [])
        #expect(try JSONRead([("auction", .int64)]).rows("\n\n \r\n") == [])
    }

    @Test func stringEscapesAndUnicode() throws {
        let text = #"""
            {"s": "quote \" backslash \\ slash \/ b\b f\f n\n r\r t\t"}
            {"s": "\u00e9\u00E9 \u20ac \ud83d\ude00 \u0000end"}
            {"s": "héllo wörld €😀"}
            {"s": ""}
            {"k\u0065y": "escaped key", "s": "x"}
            """#
        try jsonAtEveryISA { _ in
            let rows = try JSONRead([("s", .string), ("key", .string)]).rows(text)
            #expect(rows.count == 5)
            #expect(rows[0][0] == "quote \" backslash \\ slash / b\u{8} f\u{c} n\n r\r t\t")
            #expect(rows[1][0] == "éé € 😀 \u{0}end")
            #expect(rows[2][0] == "héllo wörld €😀")
            #expect(rows[3][0] == "")
            #expect(rows[4] == ["x", "escaped key"])
        }
    }

    @Test func backslashRunsAcrossBlockBoundaries() throws {
        // Strings whose backslash runs end at every offset of a 64-byte block, so the
        // odd/even carry between blocks is exercised at every position.
        var lines: [String] = []
        var expected: [String] = []
        for pad in 0..<70 {
            for run in 1...5 {
                let value = String(repeating: "a", count: pad) + String(repeating: "\\\\", count: run) + "\\\"q"
                lines.append("{\"s\": \"\(value)\", \"n\": \(pad)}")
                expected.append(String(repeating: "a", count: pad) + String(repeating: "\\", count: run) + "\"q")
            }
        }
        try jsonAtEveryISA { _ in
            let rows = try JSONRead([("s", .string), ("n", .int64)]).rows(lines.joined(separator: "\n"))
            #expect(rows.map { $0[0] } == expected)
        }
    }

    @Test func numbersAtTheLimits() throws {
        let text = """
            {"i": 9223372036854775807, "d": 1.7976931348623157e308}
            {"i": -9223372036854775808, "d": 5e-324}
            {"i": 0, "d": -0.0}
            {"i": -0, "d": 1E+2}
            {"i": "42", "d": "2.5"}
            {"i": 12, "d": 123456789012345678901234567890}
            {"i": 1, "d": "NaN"}
            {"i": 1, "d": "-Infinity"}
            """
        let rows = try JSONRead([("i", .int64), ("d", .float64)]).rows(text)
        #expect(rows == [
            ["9223372036854775807", "1.7976931348623157e+308"],
            ["-9223372036854775808", "5e-324"],
            ["0", "-0.0"],
            ["0", "100.0"],
            ["42", "2.5"],
            ["12", "1.2345678901234568e+29"],
            ["1", "nan"],
            ["1", "-inf"],
        ])
    }

    @Test func booleansTimestampsAndTextFromScalars() throws {
        let text = """
            {"b": true, "t": "2024-02-29T23:59:59.999Z", "s": 12.50}
            {"b": "false", "t": "2024-02-29 00:00:00", "s": true}
            {"b": 1, "t": -1, "s": -3e2}
            {"b": 0, "t": "2024-02-29T01:00:00+01:00", "s": null}
            """
        let rows = try JSONRead([("b", .bool), ("t", .timestamp(.millisecond)), ("s", .string)]).rows(text)
        #expect(rows == [
            ["true", "2024-02-29 23:59:59.999", "12.50"],
            ["false", "2024-02-29 00:00:00.000", "true"],
            ["true", "1969-12-31 23:59:59.999", "-3e2"],
            ["false", "2024-02-29 00:00:00.000", "NULL"],
        ])
    }

    @Test func timestampStandards() throws {
        let sql = JSONRead([("t", .timestamp(.millisecond))], options: JSONOptions(timestampStandard: .sql))
        #expect(try sql.rows(#"{"t": "2024-01-02 03:04:05.006"}"#) == [["2024-01-02 03:04:05.006"]])
        let e1 = try #require(sql.error(#"{"t": "2024-01-02T03:04:05"}"#))
        #expect(e1.description.contains("'json.timestamp-format.standard' is 'SQL'"))
        #expect(e1.hint?.contains("'ISO-8601'") == true)
        let iso = JSONRead([("t", .timestamp(.millisecond))], options: JSONOptions(timestampStandard: .iso8601))
        #expect(try iso.rows(#"{"t": "2024-01-02T03:04:05.006"}"#) == [["2024-01-02 03:04:05.006"]])
        #expect(iso.error(#"{"t": "2024-01-02 03:04:05"}"#) != nil)
        // Epoch milliseconds are accepted under both.
        #expect(try iso.rows(#"{"t": 0}"#) == [["1970-01-01 00:00:00.000"]])
    }

    /// Duplicate keys: the last value wins (Jackson's, hence Flink's, behaviour),
    /// including a NULL replacing a value and the other way round.
    @Test func duplicateKeysLastWins() throws {
        let text = """
            {"s": "first", "i": 1, "s": "second", "i": 2}
            {"s": null, "s": "value", "i": 3, "i": null}
            {"s": "long value that is dropped", "s": "v", "i": 4}
            """
        for capacity in [1, 2, 4096] {
            let rows = try JSONRead([("s", .string), ("i", .int64)], capacity: capacity).rows(text)
            #expect(rows == [["second", "2"], ["value", "NULL"], ["v", "4"]])
        }
    }

    @Test func keysMatchExactlyThenIgnoringCase() throws {
        let rows = try JSONRead([("Price", .int64), ("name", .string)]).rows(#"{"price": 5, "NAME": "x"}"# + "\n" + #"{"Price": 6}"#)
        #expect(rows == [["5", "x"], ["6", "NULL"]])
    }

    @Test func longLinesGrowTheIndexAndArena() throws {
        let big = String(repeating: "xyz€", count: 60_000)  // 300 KB, several index windows
        let text = (0..<5).map { i in #"{"i": \#(i), "s": "\#(big)", "t": "\#(String(repeating: "q", count: i * 1000))"}"# }
            .joined(separator: "\n")
        for capacity in [1, 3, 4096] {
            let rows = try JSONRead([("i", .int64), ("s", .string), ("t", .string)], capacity: capacity, morsel: 100_000).rows(text)
            #expect(rows.count == 5)
            #expect(rows.allSatisfy { $0[1] == big })
            #expect(rows.map { $0[2].count } == [0, 1000, 2000, 3000, 4000])
        }
    }

    // MARK: - Errors

    /// (input, column set, message fragment, line, column)
    @Test(arguments: [
        (#"[1, 2]"#, "expected a JSON object ('{')", 1, 1),
        ("{\"auction\": 1}\n  x", "expected a JSON object", 2, 3),
        (#"{auction: 1}"#, "expected a field name in double quotes", 1, 2),
        (#"{"auction": 1,}"#, "expected a field name in double quotes, found '}'", 1, 15),
        (#"{"auction" 1}"#, "expected ':' after the field name 'auction'", 1, 12),
        (#"{"auction": }"#, "expected a value in column 'auction'", 1, 13),
        (#"{"auction": 1 "price": 2}"#, "expected ',' or '}'", 1, 15),
        (#"{"auction": 1} {"auction": 2}"#, "unexpected text after the end of the object", 1, 16),
        (#"{"channel": "abc}"#, "unterminated string in column 'channel'", 1, 13),
        ("{\"channel\": \"a\tb\"}", "control character U+0009 inside a string in column 'channel'", 1, 15),
        (#"{"channel": "a\qb"}"#, "invalid escape sequence '\\q", 1, 15),
        (#"{"channel": "\ud83d x"}"#, "half of a UTF-16 surrogate pair", 1, 14),
        (#"{"channel": "\udE00"}"#, "half of a UTF-16 surrogate pair", 1, 14),
        (#"{"channel": "\u12G4"}"#, "invalid escape sequence", 1, 14),
        (#"{"auction": tru}"#, "'tru' is not a JSON value in column 'auction'", 1, 13),
        (#"{"auction": 01}"#, "'01' is not a JSON value", 1, 13),
        (#"{"auction": 1.}"#, "'1.' is not a JSON value", 1, 13),
        (#"{"auction": +1}"#, "'+1' is not a JSON value", 1, 13),
        (#"{"auction": NaN}"#, "'NaN' is not a JSON value", 1, 13),
        (#"{"other": [1, }"#, "expected a value", 1, 15),
        (#"{"other": [1, 2}"#, "'}' does not close the bracket", 1, 16),
        (#"{"other": {"a" 1}}"#, "expected ':'", 1, 16),
        (#"{"other": {"a": bad}}"#, "'bad' is not a JSON value", 1, 17),
        (#"{"auction": {"a": 1}}"#, "column 'auction' holds an object", 1, 13),
        (#"{"channel": [1, 2]}"#, "column 'channel' holds an array", 1, 13),
        (#"{"auction": 1.5}"#, "1.5 is not a valid BIGINT for column 'auction': it has a fraction", 1, 13),
        (#"{"auction": 1e3}"#, "it has a fraction or an exponent", 1, 13),
        (#"{"auction": 9223372036854775808}"#, "9223372036854775808 is out of range for BIGINT for column 'auction'", 1, 13),
        (#"{"auction": -9223372036854775809}"#, "out of range for BIGINT", 1, 13),
        (#"{"auction": "12x"}"#, "\"12x\" is not a valid BIGINT for column 'auction'", 1, 13),
        (#"{"auction": true}"#, "true is not a valid BIGINT", 1, 13),
        (#"{"price": 1e400}"#, "1e400 is out of range for DOUBLE", 1, 11),
        (#"{"price": "abc"}"#, "\"abc\" is not a valid DOUBLE", 1, 11),
        (#"{"ok": "maybe"}"#, "\"maybe\" is not a valid BOOLEAN", 1, 8),
        (#"{"ok": 2}"#, "2 is not a valid BOOLEAN", 1, 8),
        (#"{"ts": "2024-01-01 noon"}"#, "is not a valid TIMESTAMP(3)", 1, 8),
        (#"{"ts": "2023-02-29 00:00:00"}"#, "that day does not exist", 1, 8),
        (#"{"ts": 1.5}"#, "epoch milliseconds must be an integer", 1, 8),
        ("{\"a\": 1}\n{\"a\": 2}\n{\"auction\": \"x\"}", "is not a valid BIGINT", 3, 13),
    ] as [(String, String, Int, Int)])
    func errorNamesLineAndColumn(_ input: String, _ fragment: String, _ line: Int, _ column: Int) throws {
        try jsonAtEveryISA { _ in
            for morsel in [1 << 20, 5] {
                let e = try #require(JSONRead(bids, morsel: morsel).error(input), "no error for \(input)")
                #expect(e.description.contains(fragment), "\(e.description)")
                #expect(e.path == "t.jsonl")
                #expect(e.line == line && e.column == column, "\(input): \(e.description)")
                #expect(e.hint != nil)
                #expect(e.kind == .data)
            }
        }
    }

    @Test func invalidUTF8InAStoredString() throws {
        var bytes = Array(#"{"channel": "ab"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}"#.utf8)
        let e = try #require(JSONRead(bids).error(bytes: bytes))
        #expect(e.message.contains("invalid UTF-8"))
        // Overlong encodings and surrogates encoded in UTF-8 are rejected too.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(ck_json_valid_utf8(bad, bad.count) == 0)
        }
        for good: [UInt8] in [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], []] {
            #expect(ck_json_valid_utf8(good, good.count) == 1)
        }
    }

    @Test func ignoreParseErrorsSkipsAndCountsBadLines() throws {
        let text = """
            {"auction": 1}
            {"auction": "bad"}
            {"auction": 2, "channel": "unterminated
            {"auction": 3, "channel": "x"}
            not json
            {"auction": 4}
            """
        for capacity in [1, 2, 4096] {
            for morsel in [1 << 20, 7] {
                let read = JSONRead([("auction", .int64), ("channel", .string)],
                                    options: JSONOptions(ignoreParseErrors: true), capacity: capacity, morsel: morsel)
                let s = read.scan(text)
                var rows: [[String]] = []
                while let m = s.claimMorsel() { try s.parse(m) { rows += jsonRenderRows($0) } }
                #expect(rows == [["1", "NULL"], ["3", "x"], ["4", "NULL"]])
                #expect(s.skippedLines == 3)
            }
        }
    }

    /// With morsels parsed out of order, the error reported is still the first one.
    @Test func firstErrorWinsWhateverTheOrder() throws {
        let lines = (0..<200).map { i in i == 50 || i == 150 ? #"{"auction": "x\#(i)"}"# : #"{"auction": \#(i)}"# }
        var read = JSONRead([("auction", .int64)], morsel: 64)
        read.reversed = true
        let e = try #require(read.error(lines.joined(separator: "\n")))
        #expect(e.line == 51, "\(e.description)")
    }

    // MARK: - Equivalence with a reference parser

    /// Random lines (escapes, unicode, nesting, whitespace, missing and unknown keys)
    /// read at every ISA, batch capacity and morsel size agree with Foundation's
    /// JSONSerialization.
    @Test func randomLinesMatchFoundation() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let keys = ["a", "b", "c", "d", "zz"]
        var lines: [String] = []
        for _ in 0..<1500 {
            var parts: [String] = []
            for k in keys.shuffled(using: &rng) where rng.next() % 4 != 0 {
                let v: String
                switch (k, rng.next() % 10) {
                case (_, 0): v = "null"
                case ("a", _): v = String(Int64(bitPattern: rng.next()) >> (rng.next() % 64))
                case ("b", _): v = ["0.5", "-1.25e-3", "3", "1e10", "-0.0", "123456.789"][Int(rng.next() % 6)]
                case ("c", _): v = randomJSONString(&rng)
                case ("d", _): v = rng.next() % 2 == 0 ? "true" : "false"
                default: v = ["[1, {\"x\": [\"]\"]}]", "{}", "\"\\\\\"", "{\"y\": {\"z\": null}}"][Int(rng.next() % 4)]
                }
                let ws = [" ", "", "\t", "  "][Int(rng.next() % 4)]
                parts.append("\"\(k)\"\(ws):\(ws)\(v)")
            }
            lines.append("{" + parts.joined(separator: ", ") + "}" + (rng.next() % 5 == 0 ? "\r" : ""))
        }
        let text = lines.joined(separator: "\n") + "\n"
        var expected: [[String]] = []
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            expected.append(["a", "b", "c", "d"].map { k in
                guard let v = obj[k], !(v is NSNull) else { return "NULL" }
                switch k {
                case "a": return String((v as! NSNumber).int64Value)
                case "b": return "\((v as! NSNumber).doubleValue)"
                case "c": return v as! String
                default: return (v as! NSNumber).boolValue ? "true" : "false"
                }
            })
        }
        let columns: [(String, DataType)] = [("a", .int64), ("b", .float64), ("c", .string), ("d", .bool)]
        try jsonAtEveryISA { _ in
            for (capacity, morsel) in [(4096, 1 << 20), (1, 97), (3, 1000), (2, 1)] {
                var read = JSONRead(columns, capacity: capacity, morsel: morsel)
                read.reversed = morsel == 97
                let rows = try read.rows(text)
                #expect(rows == expected, "capacity \(capacity) morsel \(morsel)")
            }
        }
    }

    /// Stage 1 gives the same structural index at every ISA as a byte-at-a-time
    /// reference, on random bytes dense in quotes and backslashes.
    @Test func structuralIndexMatchesReference() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [UInt8] = Array(#"\"\\{}[]:, ab\n"#.utf8) + [9, 1, 0xC3, 0xA9]
        for size in [0, 1, 3, 63, 64, 65, 127, 128, 129, 1000, 4099] {
            let bytes = (0..<size).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let want = referenceIndex(bytes)
            jsonAtEveryISA { level in
                var st = ck_json_index_state()
                var out = [UInt32](repeating: 0, count: size + 200)
                var n = 0
                let used = bytes.withUnsafeBufferPointer { b in
                    ck_json_index(b.baseAddress, size, true, 0, &st, &out, out.count, &n)
                }
                #expect(used == size)
                #expect(Array(out[0..<n]) == want, "size \(size) isa \(level.rawValue)")
            }
        }
    }

    func referenceIndex(_ b: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        var inString = false, escaped = false
        for (i, c) in b.enumerated() {
            // An escape only cancels a quote (or backslash); other escaped bytes stay
            // structural (outside strings a backslash is a syntax error for stage 2).
            if escaped {
                escaped = false
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { continue }
            }
            if c == UInt8(ascii: "\\") { escaped = true; continue }
            if c == UInt8(ascii: "\"") { inString.toggle(); out.append(UInt32(i)); continue }
            if c == 10 { out.append(UInt32(i)); continue }
            if inString {
                if c < 0x20 { out.append(UInt32(i)) }
            } else if "{}[]:,".utf8.contains(c) {
                out.append(UInt32(i))
            }
        }
        if b.last != 10 { out.append(UInt32(b.count)) }
        return out
    }
}

func randomJSONString(_ rng: inout SplitMix64) -> String {
    let pieces = ["a", "Z", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\ud83d\\ude00", "é", "€", "😀", ",", ":", "{", "]"]
    let n = Int(rng.next() % 12)
    return "\"" + (0..<n).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined() + "\""
}
