import Columnar

/// A constant value in a bound expression.
public enum Scalar: Sendable, Hashable, CustomStringConvertible {
    case null
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return v ? "TRUE" : "FALSE"
        case .string(let s): return "'" + s + "'"
        }
    }
}

public enum ArithmeticOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
}

public enum ComparisonOp: String, Sendable {
    case eq = "=", ne = "<>", lt = "<", le = "<=", gt = ">", ge = ">="

    /// The operator with its operands swapped (`a < b` is `b > a`).
    public var flipped: ComparisonOp {
        switch self {
        case .eq, .ne: return self
        case .lt: return .gt
        case .le: return .ge
        case .gt: return .lt
        case .ge: return .le
        }
    }
}

/// An expression whose names are resolved to column positions of its input batch and
/// whose type is known. Built by the binder, evaluated a batch at a time.
public indirect enum BoundExpr: Sendable, CustomStringConvertible {
    case column(index: Int, type: DataType, name: String)
    case literal(Scalar, DataType)
    case arithmetic(ArithmeticOp, BoundExpr, BoundExpr, DataType)
    case negate(BoundExpr)
    case compare(ComparisonOp, BoundExpr, BoundExpr)
    case and(BoundExpr, BoundExpr)
    case or(BoundExpr, BoundExpr)
    case not(BoundExpr)
    case isNull(BoundExpr, negated: Bool)
    /// int64 -> float64 (the only implicit conversion; CAST adds more).
    case cast(BoundExpr, DataType)

    public var type: DataType {
        switch self {
        case .column(_, let t, _), .literal(_, let t), .arithmetic(_, _, _, let t), .cast(_, let t):
            return t
        case .negate(let e): return e.type
        case .compare, .and, .or, .not, .isNull: return .bool
        }
    }

    /// Column positions this expression reads.
    public var columnsUsed: Set<Int> {
        switch self {
        case .column(let i, _, _): return [i]
        case .literal: return []
        case .arithmetic(_, let a, let b, _), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b):
            return a.columnsUsed.union(b.columnsUsed)
        case .negate(let e), .not(let e), .isNull(let e, _), .cast(let e, _): return e.columnsUsed
        }
    }

    /// The same expression with column positions renumbered through `map`.
    public func remapped(_ map: [Int: Int]) -> BoundExpr {
        switch self {
        case .column(let i, let t, let n): return .column(index: map[i] ?? i, type: t, name: n)
        case .literal: return self
        case .arithmetic(let op, let a, let b, let t): return .arithmetic(op, a.remapped(map), b.remapped(map), t)
        case .negate(let e): return .negate(e.remapped(map))
        case .compare(let op, let a, let b): return .compare(op, a.remapped(map), b.remapped(map))
        case .and(let a, let b): return .and(a.remapped(map), b.remapped(map))
        case .or(let a, let b): return .or(a.remapped(map), b.remapped(map))
        case .not(let e): return .not(e.remapped(map))
        case .isNull(let e, let n): return .isNull(e.remapped(map), negated: n)
        case .cast(let e, let t): return .cast(e.remapped(map), t)
        }
    }

    public var description: String {
        switch self {
        case .column(let i, _, let n): return "\(n)#\(i)"
        case .literal(let v, _): return v.description
        case .arithmetic(let op, let a, let b, _): return "(\(a) \(op.rawValue) \(b))"
        case .negate(let e): return "-(\(e))"
        case .compare(let op, let a, let b): return "(\(a) \(op.rawValue) \(b))"
        case .and(let a, let b): return "(\(a) AND \(b))"
        case .or(let a, let b): return "(\(a) OR \(b))"
        case .not(let e): return "NOT \(e)"
        case .isNull(let e, let n): return "(\(e) IS \(n ? "NOT " : "")NULL)"
        case .cast(let e, let t): return "CAST(\(e) AS \(t))"
        }
    }
}
