import Columnar

/// A table declared with CREATE TABLE.
public struct TableDefinition: Sendable {
    public var name: String
    /// Declared, or inferred by the connector when the statement declared none.
    public var schema: Schema
    /// Event-time column (index into `schema`) and the allowed out-of-orderness.
    public var watermark: (column: Int, delayMillis: Int64)?
    /// Where the rows come from.
    public var provider: TableProvider
    /// The options as written, for `--explain`.
    public var options: [(String, String)]
}
