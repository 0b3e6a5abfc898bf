import Columnar

/// Batches that workers read in parallel, morsel by morsel.
///
/// Thread safety: `claimMorsel` is called from every worker; `read` concurrently on
/// different morsels. A streaming source (stdin, a paced replay) may block in
/// `claimMorsel` until input arrives, and returns nil at the end of its input.
public protocol BatchSource: AnyObject, Sendable {
    /// The columns `read` emits, in order.
    var outputSchema: Schema { get }
    /// The next morsel in input order, or nil when the input is exhausted.
    func claimMorsel() throws -> Morsel?
    /// Reads a claimed morsel, calling `emit` with its batches in input order. The
    /// batches' columns are the caller's to keep.
    func read(_ morsel: Morsel, emit: (Batch) throws -> Void) throws
    /// The caller is done with a morsel (a mapped file drops its pages).
    func finished(_ morsel: Morsel)
    /// Total input size in bytes when known (statistics, progress).
    var byteCount: Int? { get }
    /// True for inputs that arrive over time (stdin, replays): results are flushed as
    /// soon as they are emitted.
    var isStreaming: Bool { get }
    /// Input records left out by a bad-row policy (CSV `'csv.bad-rows'`), so far.
    var badRowCount: Int { get }
    /// What to tell the user about them (where they went, or the first one).
    var badRowNote: String? { get }
    /// For paced inputs: when the morsel's last row was due (monotonic nanoseconds),
    /// and the pace's expected gap between morsels; event-to-output latency is measured
    /// from it. nil for inputs read as fast as possible.
    func due(_ morsel: Morsel) -> (nanos: UInt64, interval: UInt64)?
}

extension BatchSource {
    public func due(_ morsel: Morsel) -> (nanos: UInt64, interval: UInt64)? { nil }
    public func finished(_ morsel: Morsel) {}
    public var byteCount: Int? { nil }
    public var isStreaming: Bool { false }
    public var badRowCount: Int { 0 }
    public var badRowNote: String? { nil }
}

/// A table's data as its CREATE TABLE describes it: knows the schema (declared or
/// inferred) and opens sources over any subset of its columns.
public protocol TableProvider: Sendable {
    /// The table's columns (the declared ones, or those inferred from the data when the
    /// statement declared none).
    var schema: Schema { get }
    /// One line for `--explain`, e.g. `CSV 'data/bids.csv'`.
    var summary: String { get }
    /// Opens a source emitting the columns `projection` (indexes into `schema`), in that order.
    func open(projection: [Int], options: ExecutionOptions) throws -> BatchSource
}

/// What a connector sees of a CREATE TABLE: its name, declared columns and options.
public struct ConnectorContext: Sendable {
    public var tableName: String
    /// The declared columns; empty when the statement declared none (infer them).
    public var declared: Schema
    /// The WITH options, keys as written.
    public var options: [String: String]

    public init(tableName: String, declared: Schema, options: [String: String]) {
        self.tableName = tableName
        self.declared = declared
        self.options = options
    }

    /// Option keys this connector did not consume are an error (as in Flink).
    public func rejectUnknown(_ known: Set<String>, supported: String) throws {
        for key in options.keys.sorted() where !known.contains(key) {
            throw ConnectorError("unknown option '\(key)'", option: key, hint: "supported: " + supported)
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = options[key] else { return nil }
        switch v.lowercased() {
        case "true": return true
        case "false": return false
        default: throw ConnectorError("'\(key)' must be 'true' or 'false', not '\(v)'", option: key)
        }
    }

    public func int(_ key: String) throws -> Int64? {
        guard let v = options[key] else { return nil }
        guard let i = Int64(v) else { throw ConnectorError("'\(key)' must be an integer, not '\(v)'", option: key) }
        return i
    }
}

/// A problem with a table's options; the binder points at the offending option.
public struct ConnectorError: Error, Sendable, CustomStringConvertible {
    /// As a user-facing error (outside SQL, where there is no option to point at).
    public var spateError: SpateError {
        SpateError(.usage, option.map { "\(message) (option '\($0)')" } ?? message, hint: hint)
    }

    public var description: String { spateError.description }

    public var message: String
    /// The option key the error is about, if any.
    public var option: String?
    public var hint: String?

    public init(_ message: String, option: String? = nil, hint: String? = nil) {
        self.message = message
        self.option = option
        self.hint = hint
    }
}
