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
    /// `'scan.watermark.idle-timeout'`: an input of a join that has sent no rows for
    /// this long stops holding the other input's results back.
    public var idleTimeoutMillis: Int64? = nil
}

/// The kind of an event-time window, with its sizes in milliseconds (Flink's window
/// TVFs and legacy group windows).
public enum WindowKind: Sendable, Equatable {
    /// Fixed, non-overlapping windows of `size`.
    case tumble(size: Int64)
    /// Windows of `size` starting every `slide` (size a multiple of slide).
    case hop(slide: Int64, size: Int64)
    /// Windows that start every `maxSize` and grow by `step` up to `maxSize`.
    case cumulate(step: Int64, maxSize: Int64)
    /// Per key: rows at most `gap` apart form one window [first, last + gap).
    case session(gap: Int64)

    public var name: String {
        switch self {
        case .tumble: return "TUMBLE"
        case .hop: return "HOP"
        case .cumulate: return "CUMULATE"
        case .session: return "SESSION"
        }
    }
}

/// An event-time window over a time column of the scan output. For TUMBLE the executor
/// appends `window_start` and `window_end` (TIMESTAMP(3)) to every batch after the scan
/// columns, at positions `startColumn` and `startColumn + 1`; for HOP and CUMULATE a
/// row lies in several windows, so those columns exist only after aggregation (and for
/// a projection each row is repeated once per window); SESSION windows exist only
/// after aggregation.
public struct WindowSpec: Sendable {
    public var kind: WindowKind
    public var timeColumn: Int
    public var offsetMillis: Int64
    public var startColumn: Int

    public init(kind: WindowKind, timeColumn: Int, offsetMillis: Int64, startColumn: Int) {
        self.kind = kind
        self.timeColumn = timeColumn
        self.offsetMillis = offsetMillis
        self.startColumn = startColumn
    }
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
    /// Ranking after the aggregation (`ROW_NUMBER() OVER (...) <= N` over its rows, per
    /// window); or, with `rowsTopN`, instead of it: then there are no aggregates, `inputs`
    /// are the ranked rows' columns and each window (or the whole stream) keeps the
    /// candidate rows of its top N.
    public var topN: TopNPlan? = nil
    public var rowsTopN = false
    /// Count windows of this many rows per key, in input order, instead of time windows
    /// (the Swift API's `.window(.count(n))`; SQL has no syntax for them).
    public var countWindow: Int? = nil
}

/// The ranking functions of Top-N and deduplication queries.
public enum RankFunction: String, Sendable {
    case rowNumber = "ROW_NUMBER"
    case rank = "RANK"
    case denseRank = "DENSE_RANK"
}

/// One ORDER BY term of a ranking: a column of the ranked rows.
public struct RankOrder: Sendable {
    public var column: Int
    public var descending: Bool
    /// NULLs before the other values (default: last, either direction, as in DuckDB,
    /// so a missing value never ranks first).
    public var nullsFirst: Bool
}

/// `SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY p ORDER BY o) AS rn
/// FROM ...) WHERE rn <= N`: the rows ranked within their partition, the first N kept.
public struct TopNPlan: Sendable {
    public var function: RankFunction
    /// Columns of the ranked rows (`rowFields`).
    public var partition: [Int]
    public var order: [RankOrder]
    public var limit: Int
    public var rowFields: [Field]
    /// The outer SELECT over the ranked row + its rank (at index rowFields.count).
    public var output: [BoundExpr]
}

/// What happens to rows that arrive after the watermark has passed the end of their
/// window (per query; never silent: every late row is counted).
public enum LateDataPolicy: Sendable, Equatable {
    /// Counted in the run's statistics and reported, then dropped.
    case drop
    /// Written to a file (CSV, or the format its extension names) with the table's
    /// columns, the watermark the row met and by how much it was late.
    case output(path: String)
    /// Rows late by at most the table's allowed lateness are added to their windows and
    /// the windows emitted again, marked as updates (`op` column: +I first, +U after);
    /// later rows are dropped and counted.
    case update
}

/// Late data handling of one query.
public struct LatePlan: Sendable {
    public var policy: LateDataPolicy = .drop
    /// How long after its end a window still takes late rows (update policy).
    public var allowedLatenessMillis: Int64 = 0
    /// The columns a late-data output file gets from the scan (the whole table row).
    public var rowFields: [Field] = []
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
    public var window: WindowSpec?
    public var late = LatePlan()
    /// Where the executor appends the processing time of each row (`PROCTIME()`), just
    /// after the scanned columns; nil when the query does not read it.
    public var procTimeColumn: Int?
    public var filter: BoundExpr?
    public var shape: QueryShape
    public var outputSchema: Schema
    /// A join of two inputs (JoinBinder.swift): the plan is then a projection over the joined rows.
    public var join: JoinPlan? = nil
}
