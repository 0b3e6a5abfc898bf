import Columnar

/// Every connector and file format a CREATE TABLE can name.
///
/// `'connector'` selects the connector (default `filesystem`); for `filesystem`,
/// `'format'` selects the format (default: from the path's extension, else csv).
public enum Connectors {
    public typealias Factory = @Sendable (ConnectorContext) throws -> TableProvider

    /// Connectors by their `'connector'` name.
    static let connectors: [String: Factory] = [
        "filesystem": { try fileSystem($0) },
        "nexmark": { try NexmarkTableProvider.make($0) },
        "replay": { try ReplayTableProvider.make($0) },
    ]

    /// File formats by their `'format'` name.
    static let formats: [String: Factory] = [
        "csv": { try CSVTableProvider.make($0) },
        "json": { try JSONTableProvider.make($0) },
        "binary": { try BinaryTableProvider.make($0) },
        "spate": { try CaptureTableProvider.make($0) },
    ]

    /// Extensions that imply a format when `'format'` is not given.
    static let extensions: [String: String] = [
        "csv": "csv", "tsv": "csv", "txt": "csv",
        "jsonl": "json", "ndjson": "json", "json": "json",
        "spate": "spate",
    ]

    public static func make(_ context: ConnectorContext) throws -> TableProvider {
        let name = context.options["connector"] ?? "filesystem"
        guard let factory = connectors[name] else {
            throw ConnectorError("connector '\(name)' is not supported", option: "connector",
                                 hint: "supported: " + connectors.keys.sorted().joined(separator: ", "))
        }
        return try factory(context)
    }

    static func fileSystem(_ context: ConnectorContext) throws -> TableProvider {
        guard let path = context.options["path"], !path.isEmpty else {
            throw ConnectorError(
                "table '\(context.tableName)' needs a 'path' option", option: nil,
                hint: "add WITH ('connector' = 'filesystem', 'path' = 'data/file.csv', 'format' = 'csv')")
        }
        let format = context.options["format"] ?? inferredFormat(path)
        guard let factory = formats[format] else {
            throw ConnectorError("format '\(format)' is not supported", option: "format",
                                 hint: "supported: " + formats.keys.sorted().joined(separator: ", "))
        }
        return try factory(context)
    }

    static func inferredFormat(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return "csv" }
        return extensions[name[name.index(after: dot)...].lowercased()] ?? "csv"
    }
}
