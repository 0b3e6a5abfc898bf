import Columnar

/// Output format `spate`: results written as a capture file (docs/capture-format.md),
/// compressed block by block on background threads, complete only once `finish`
/// has written the footer and renamed the temporary file.
///
/// The event-time column is `timeColumn` when set (a TIMESTAMP column's name; "" for
/// none), else the result's first TIMESTAMP column, if any.
public final class CaptureResultWriter: ResultWriter {
    public let path: String?
    public var timeColumn: String?
    public var options: CaptureWriterOptions
    private var writer: CaptureFileWriter?
    /// What `finish` wrote.
    public private(set) var summary: CaptureSummary?

    public init(path: String?, options: CaptureWriterOptions = CaptureWriterOptions()) throws {
        self.path = path
        self.options = options
    }

    public func begin(_ schema: Schema) throws {
        var event: Int?
        if let name = timeColumn {
            if !name.isEmpty {
                guard let k = schema.index(of: name) else {
                    throw SpateError(.usage, "unknown time column '\(name)'",
                                     hint: "the columns are: " + schema.fields.map(\.name).joined(separator: ", "))
                }
                guard case .timestamp = schema[k].type else {
                    throw SpateError(.usage, "the time column '\(name)' is \(schema[k].type), not a TIMESTAMP",
                                     hint: "name a TIMESTAMP column, or --time-column '' for none")
                }
                event = k
            }
        } else {
            event = schema.fields.firstIndex { if case .timestamp = $0.type { return true } else { return false } }
        }
        writer = try CaptureFileWriter(path: path, schema: schema, eventTimeColumn: event, options: options)
    }

    public func write(_ batch: Batch) throws {
        try writer!.append(batch)
    }

    public func finish() throws {
        guard let writer else { return }
        summary = try writer.finish()
    }

    public func abandon() {
        writer?.abandon()
    }
}
