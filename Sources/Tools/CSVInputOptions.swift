import ArgumentParser
import Columnar

/// The CSV flags of commands that read an input file (`spate inspect`, `spate
/// convert`, `spate record`): the same settings as the SQL options `'csv.*'`.
///
/// ```swift
/// @OptionGroup var csv: CSVInputOptions
/// let options = try csv.options(forPath: input)
/// ```
struct CSVInputOptions: ParsableArguments {
    @Option(name: [.short, .customLong("delimiter")],
            help: "CSV field delimiter: one character, or \\t for a tab (default ',', tab for .tsv files).")
    var delimiter: String?

    @Flag(name: .customLong("no-header"), help: "The CSV's first line is data, not column names.")
    var noHeader = false

    @Option(name: .customLong("null"), help: "A CSV field equal to this text is NULL (e.g. NA or \\N).")
    var nullLiteral: String?

    @Flag(name: .customLong("comments"), help: "Skip CSV lines that start with '#'.")
    var comments = false

    @Option(name: .customLong("quote"), help: "CSV quote character (default '\"').")
    var quote: String?

    @Option(name: .customLong("escape"), help: "CSV escape character inside quoted fields (e.g. \\\\).")
    var escape: String?

    @Option(name: .customLong("bad-rows"), help: "What to do with malformed CSV records: fail, skip or dead-letter.")
    var badRows: String?

    @Option(name: .customLong("dead-letter"), help: "With --bad-rows dead-letter: the file that receives them.")
    var deadLetter: String?

    /// The options for reading `path` (a `.tsv` file is tab-separated unless -d says otherwise).
    func options(forPath path: String? = nil) throws -> CSVOptions {
        var o = CSVOptions()
        if let path, path.lowercased().hasSuffix(".tsv") { o.delimiter = 9 }
        if let d = delimiter { o.delimiter = try byte(d, "--delimiter") }
        if let q = quote { o.quote = try byte(q, "--quote") }
        if let e = escape { o.escape = try byte(e, "--escape") }
        o.header = !noHeader
        o.nullLiteral = nullLiteral
        if comments { o.comment = UInt8(ascii: "#") }
        switch badRows {
        case nil, "fail": o.badRows = .fail
        case "skip": o.badRows = .skip
        case "dead-letter":
            guard let deadLetter else { throw ValidationError("--bad-rows dead-letter needs --dead-letter FILE") }
            o.badRows = .deadLetter(path: deadLetter)
        case let other?: throw ValidationError("--bad-rows must be fail, skip or dead-letter, not '\(other)'")
        }
        do {
            try o.validate()
        } catch let e as SpateError {
            throw ValidationError(e.message + (e.hint.map { " (\($0))" } ?? ""))
        }
        return o
    }

    /// The flags given, as table options (`'csv.*'` keys) for the connector registry:
    /// only what the user set, so other formats are not handed CSV options.
    func tableOptions() throws -> [String: String] {
        var o: [String: String] = [:]
        if let d = delimiter { _ = try byte(d, "--delimiter"); o["csv.field-delimiter"] = d }
        if noHeader { o["csv.header"] = "false" }
        if let n = nullLiteral { o["csv.null-literal"] = n }
        if comments { o["csv.allow-comments"] = "true" }
        if let q = quote { _ = try byte(q, "--quote"); o["csv.quote-character"] = q }
        if let e = escape { _ = try byte(e, "--escape"); o["csv.escape-character"] = e }
        if let b = badRows {
            guard ["fail", "skip", "dead-letter"].contains(b) else {
                throw ValidationError("--bad-rows must be fail, skip or dead-letter, not '\(b)'")
            }
            o["csv.bad-rows"] = b
        }
        if let d = deadLetter { o["csv.dead-letter-path"] = d }
        return o
    }

    private func byte(_ v: String, _ flag: String) throws -> UInt8 {
        let text = v == "\\t" ? "\t" : v
        guard text.utf8.count == 1, let b = text.utf8.first else {
            throw ValidationError("\(flag) must be a single character, not '\(v)'")
        }
        return b
    }
}
