import Columnar

/// A table declared with CREATE TABLE.
public struct TableDefinition: Sendable {
    public var name: String
    public var schema: Schema
    /// Event-time column (index into `schema`) and the allowed out-of-orderness.
    public var watermark: (column: Int, delayMillis: Int64)?
    public var path: String
    public var csv: CSVOptions
    /// The options as written, for `--explain`.
    public var options: [(String, String)]
}
