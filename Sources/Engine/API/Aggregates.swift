/// One aggregate of `DataStream.aggregate`: an SQL aggregate call, its output column
/// name and an optional per-aggregate condition (SQL's `FILTER (WHERE ...)`).
///
/// ```swift
/// .aggregate(.count(as: "bids"), .sum("price", as: "total"),
///            .count(as: "big", where: col("price") > 1000))
/// ```
/// Without a name the column is called as SQL calls an unaliased call: `SUM(price)`.
public struct AggregateCall: Sendable {
    /// The SQL function name (`SUM`).
    var function: String
    /// nil for `COUNT(*)`.
    var argument: Expr?
    var distinct: Bool
    var name: String?
    var condition: Expr?

    /// Any aggregate function the SQL binder knows, by its SQL name, for those without a
    /// factory here: `.function("COUNT", "bidder", distinct: true)`. A nil argument is `*`.
    public static func function(
        _ name: String, _ argument: (any ColumnOrExpr)?, distinct: Bool = false,
        as outputName: String? = nil, where condition: Expr? = nil
    ) -> AggregateCall {
        AggregateCall(function: name.uppercased(), argument: argument?.columnOrExpr, distinct: distinct,
                      name: outputName, condition: condition)
    }

    /// `COUNT(*)`: rows.
    public static func count(as name: String? = nil, where condition: Expr? = nil) -> AggregateCall {
        AggregateCall(function: "COUNT", argument: nil, distinct: false, name: name, condition: condition)
    }

    /// `COUNT(x)`: rows where x is not NULL (`distinct`: distinct non-NULL values).
    public static func count(_ value: some ColumnOrExpr, distinct: Bool = false, as name: String? = nil,
                             where condition: Expr? = nil) -> AggregateCall {
        function("COUNT", value, distinct: distinct, as: name, where: condition)
    }

    /// `COUNT(DISTINCT x)`: distinct non-NULL values, exactly.
    public static func countDistinct(_ value: some ColumnOrExpr, as name: String? = nil,
                                     where condition: Expr? = nil) -> AggregateCall {
        function("COUNT", value, distinct: true, as: name, where: condition)
    }

    /// `APPROX_COUNT_DISTINCT(x)`: a HyperLogLog estimate of the distinct non-NULL values.
    public static func approxCountDistinct(_ value: some ColumnOrExpr, as name: String? = nil,
                                           where condition: Expr? = nil) -> AggregateCall {
        function("APPROX_COUNT_DISTINCT", value, as: name, where: condition)
    }

    /// `SUM(x)` (`distinct`: of the distinct values). A BIGINT overflow is an error.
    public static func sum(_ value: some ColumnOrExpr, distinct: Bool = false, as name: String? = nil,
                           where condition: Expr? = nil) -> AggregateCall {
        function("SUM", value, distinct: distinct, as: name, where: condition)
    }

    /// `AVG(x)`, a DOUBLE (`distinct`: of the distinct values).
    public static func avg(_ value: some ColumnOrExpr, distinct: Bool = false, as name: String? = nil,
                           where condition: Expr? = nil) -> AggregateCall {
        function("AVG", value, distinct: distinct, as: name, where: condition)
    }

    public static func min(_ value: some ColumnOrExpr, as name: String? = nil,
                           where condition: Expr? = nil) -> AggregateCall {
        function("MIN", value, as: name, where: condition)
    }

    public static func max(_ value: some ColumnOrExpr, as name: String? = nil,
                           where condition: Expr? = nil) -> AggregateCall {
        function("MAX", value, as: name, where: condition)
    }

    /// `FIRST_VALUE(x)`: the value of the first row in input order, NULLs skipped.
    public static func firstValue(_ value: some ColumnOrExpr, as name: String? = nil,
                                  where condition: Expr? = nil) -> AggregateCall {
        function("FIRST_VALUE", value, as: name, where: condition)
    }

    /// `LAST_VALUE(x)`: the value of the last row in input order, NULLs skipped.
    public static func lastValue(_ value: some ColumnOrExpr, as name: String? = nil,
                                 where condition: Expr? = nil) -> AggregateCall {
        function("LAST_VALUE", value, as: name, where: condition)
    }

    /// The same aggregate with its output column called `name`.
    public func `as`(_ name: String) -> AggregateCall {
        var c = self
        c.name = name
        return c
    }

    /// The same aggregate over only the rows where `condition` is TRUE.
    public func filter(_ condition: Expr) -> AggregateCall {
        var c = self
        c.condition = c.condition.map { $0 && condition } ?? condition
        return c
    }

    /// The SQL call, with its argument and condition as given (names not yet resolved).
    var ast: Expression {
        let call = Expression.FunctionCall(
            name: QualifiedName([Identifier(function)]), arguments: argument.map { [$0.ast] } ?? [],
            isDistinct: distinct, isStar: argument == nil, filter: condition?.ast)
        return Expression(.call(call))
    }

    var problem: String? { argument?.problem ?? condition?.problem }
}
