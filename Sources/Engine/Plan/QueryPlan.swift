import Columnar

/// Where a query's rows come from: a table, and the columns of it the query reads.
public struct ScanSpec: Sendable {
    public var provider: TableProvider
    /// Indexes into `provider.schema`, in the order of the scan's output.
    public var projection: [Int]
    /// The fields the scan emits.
    public var fields: [Field] { projection.map { provider.schema[$0] } }
}

/// Event time: which column of the scan output carries it and how far rows may be out
/// of order (`WATERMARK FOR ts AS ts - INTERVAL 'n' SECOND`).
public struct WatermarkSpec: Sendable {
    public var column: Int
    public var delayMillis: Int64
}

/// A tumbling window over a time column of the scan output. The executor appends
/// `window_start` and `window_end` (TIMESTAMP(3)) to every batch after the scan
/// columns, at positions `startColumn` and `startColumn + 1`.
public struct TumbleSpec: Sendable {
    public var timeColumn: Int
    public var sizeMillis: Int64
    public var offsetMillis: Int64
    public var startColumn: Int
}

/// Aggregation: group keys and aggregate calls over the input batches, then the output
/// expressions over the aggregate's result, whose columns are
/// `[window_start, window_end]` (windowed only) + keys + aggregates.
public struct AggregatePlan: Sendable {
    /// Windowed: state per window, emitted when the watermark passes the window's end.
    public var windowed: Bool
    public var keys: [BoundExpr]
    public var aggregates: [AggregateSpec]
    /// Inputs of the aggregates, evaluated per batch (AggregateSpec.input indexes these).
    public var inputs: [BoundExpr]
    public var having: BoundExpr?
    public var output: [BoundExpr]
}

public enum QueryShape: Sendable {
    /// Filter and project, row by row, in input order.
    case project([BoundExpr])
    case aggregate(AggregatePlan)
}

/// A bound, ready-to-run SELECT.
public struct QueryPlan: Sendable {
    public var scan: ScanSpec
    public var watermark: WatermarkSpec?
    public var tumble: TumbleSpec?
    public var filter: BoundExpr?
    public var shape: QueryShape
    public var outputSchema: Schema
}
