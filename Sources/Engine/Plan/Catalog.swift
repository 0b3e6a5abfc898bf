import Columnar

/// A table declared with CREATE TABLE.
public struct TableDefinition: Sendable {
    public var name: String
    /// Declared, or inferred by the connector when the statement declared none.
    public var schema: Schema
    /// Event-time column (index into `schema`) and the allowed out-of-orderness.
    public var watermark: (column: Int, delayMillis: Int64)?
    /// How long after its end a window still accepts late rows (`'allowed-lateness'`),
    /// for queries with the update policy.
    public var allowedLatenessMillis: Int64 = 0
    /// `'scan.watermark.idle-timeout'` (see WatermarkSpec.idleTimeoutMillis).
    public var idleTimeoutMillis: Int64?
    /// The `PROCTIME()` column (the last of `schema`; the source does not have it).
    public var procTimeColumn: Int?
    /// Where the rows come from.
    public var provider: TableProvider
    /// The options as written, for `--explain`.
    public var options: [(String, String)]
}
