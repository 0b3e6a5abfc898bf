import CKernels
import Columnar

/// Vectorised evaluation of bound expressions over a batch.
///
/// Values are computed for every physical slot of the batch (cheaper than honouring a
/// sparse selection for the arithmetic kernels, as DuckDB and arrow do) and the
/// validity bitmaps are ANDed; predicates used as filters go straight to the selection
/// kernels and never build a boolean column.
enum Evaluator {
    // MARK: - Values

    /// The value of `expr` for each row of `batch` (a column of `batch.count` rows; may
    /// be one of the batch's own columns, which must not be modified).
    static func evaluate(_ expr: BoundExpr, _ batch: Batch) throws -> Column {
        let n = batch.count
        switch expr {
        case .column(let i, _, _):
            return batch.columns[i]
        case .literal(let value, let type):
            return constantColumn(value, type, n)
        case .cast(let inner, let type):
            return try cast(try evaluate(inner, batch), to: type, n)
        case .negate(let inner):
            let c = try evaluate(inner, batch)
            let out = Column(c.type, capacity: n)
            if c.type == .float64 {
                ck_const_sub_f64(0, c.float64s, n, out.float64s)
            } else if ck_const_sub_i64(0, c.int64s, n, out.int64s) != 0 {
                for r in 0..<n where c.isValid(r) && c.int64s[r] == Int64.min {
                    throw SpateError(.runtime, "BIGINT overflow negating \(inner)",
                                     hint: "cast the value to DOUBLE first")
                }
            }
            copyValidity(from: [c], to: out, n)
            return out
        case .arithmetic(let op, let a, let b, let type):
            return try arithmetic(op, try evaluate(a, batch), try evaluate(b, batch), type, n, expr)
        case .compare, .and, .or, .not:
            return try booleanColumn(expr, batch)
        case .isNull(let inner, let negated):
            let c = try evaluate(inner, batch)
            let out = Column(.bool, capacity: n)
            for r in 0..<n { out.bools[r] = (c.isValid(r) == negated) ? 1 : 0 }
            out.setCount(n, nullCount: 0)
            return out
        }
    }

    static func constantColumn(_ value: Scalar, _ type: DataType, _ n: Int) -> Column {
        let out = Column(type, capacity: n)
        switch value {
        case .null:
            for _ in 0..<n { out.appendNull() }
        case .int(let v):
            for r in 0..<n { out.int64s[r] = v }
            out.setCount(n, nullCount: 0)
        case .double(let v):
            for r in 0..<n { out.float64s[r] = v }
            out.setCount(n, nullCount: 0)
        case .bool(let v):
            for r in 0..<n { out.bools[r] = v ? 1 : 0 }
            out.setCount(n, nullCount: 0)
        case .string(let s):
            for _ in 0..<n { out.append(s) }
        }
        return out
    }

    /// Sets `out`'s bitmap to the AND of the inputs' bitmaps.
    static func copyValidity(from inputs: [Column], to out: Column, _ n: Int) {
        let maps = inputs.compactMap { $0.validityWords }
        guard !maps.isEmpty else { return }
        let words = (n + 63) / 64
        let dst = out.ensureValidity()
        dst.update(from: maps[0], count: words)
        for m in maps.dropFirst() { ck_validity_and(dst, m, words, dst) }
        out.recountNulls()
    }

    static func arithmetic(
        _ op: ArithmeticOp, _ a: Column, _ b: Column, _ type: DataType, _ n: Int, _ expr: BoundExpr
    ) throws -> Column {
        let out = Column(type, capacity: n)
        out.setCount(n, nullCount: 0)
        if type == .float64 {
            let x = try asDouble(a, n), y = try asDouble(b, n)
            switch op {
            case .add: ck_add_f64(x.float64s, y.float64s, n, out.float64s)
            case .sub: ck_sub_f64(x.float64s, y.float64s, n, out.float64s)
            case .mul: ck_mul_f64(x.float64s, y.float64s, n, out.float64s)
            case .div: ck_div_f64(x.float64s, y.float64s, n, out.float64s)
            case .mod:
                for r in 0..<n {
                    out.float64s[r] = x.float64s[r].truncatingRemainder(dividingBy: y.float64s[r])
                }
            }
            copyValidity(from: [a, b], to: out, n)
            return out
        }
        // Integer (BIGINT, or TIMESTAMP +/- INTERVAL milliseconds).
        let x = a.int64s, y = b.int64s, z = out.int64s
        switch op {
        case .add, .sub, .mul:
            let overflow: Int32
            switch op {
            case .add: overflow = ck_add_i64(x, y, n, z)
            case .sub: overflow = ck_sub_i64(x, y, n, z)
            default: overflow = ck_mul_i64(x, y, n, z)
            }
            copyValidity(from: [a, b], to: out, n)
            if overflow != 0 {
                // The kernel checked every slot; only valid rows matter.
                for r in 0..<n where out.isValid(r) {
                    let o: Bool
                    switch op {
                    case .add: o = x[r].addingReportingOverflow(y[r]).overflow
                    case .sub: o = x[r].subtractingReportingOverflow(y[r]).overflow
                    default: o = x[r].multipliedReportingOverflow(by: y[r]).overflow
                    }
                    if o {
                        throw SpateError(
                            .runtime, "BIGINT overflow in \(expr) (\(x[r]) \(op.rawValue) \(y[r]))",
                            hint: "cast an operand to DOUBLE, e.g. CAST(x AS DOUBLE)")
                    }
                }
            }
        case .div, .mod:
            copyValidity(from: [a, b], to: out, n)
            // Integer division truncates toward zero (as in Flink); dividing by zero gives NULL.
            for r in 0..<n {
                let d = y[r]
                if d == 0 || (d == -1 && x[r] == Int64.min) {
                    if d == 0 { out.setNull(r); z[r] = 0; continue }
                    z[r] = op == .div ? Int64.min : 0  // wraps like Java for MIN / -1
                    continue
                }
                z[r] = op == .div ? x[r] / d : x[r] % d
            }
        }
        return out
    }

    static func asDouble(_ c: Column, _ n: Int) throws -> Column {
        c.type == .float64 ? c : try cast(c, to: .float64, n)
    }

    // MARK: - Casts

    static func cast(_ c: Column, to type: DataType, _ n: Int) throws -> Column {
        if c.type == type { return c }
        let out = Column(type, capacity: n)
        switch (c.type, type) {
        case (.int64, .float64):
            ck_i64_to_f64(c.int64s, n, out.float64s)
            out.setCount(n, nullCount: 0)
        case (.float64, .int64):
            for r in 0..<n {
                let v = c.float64s[r]
                if c.isValid(r) && !(v > -9.3e18 && v < 9.3e18) {
                    throw SpateError(.runtime, "DOUBLE value \(v) does not fit in BIGINT")
                }
                out.int64s[r] = c.isValid(r) ? Int64(v) : 0
            }
            out.setCount(n, nullCount: 0)
        case (.int64, .timestamp), (.timestamp, .int64):
            out.int64s.update(from: c.int64s, count: n)
            out.setCount(n, nullCount: 0)
        case (.bool, .int64):
            for r in 0..<n { out.int64s[r] = Int64(c.bools[r]) }
            out.setCount(n, nullCount: 0)
        case (_, .string):
            for r in 0..<n {
                if c.isValid(r) { out.append(ValueFormat.text(c, r)) } else { out.appendNull() }
            }
            return out
        case (.string, _):
            for r in 0..<n {
                guard c.isValid(r) else { out.appendNull(); continue }
                let text = c.string(at: r)
                guard let v = ValueFormat.parse(text, as: type) else {
                    throw SpateError(.runtime, "cannot cast '\(text)' to \(type)",
                                     hint: "filter out such values first, or keep the column as VARCHAR")
                }
                switch v {
                case .int(let i): out.append(i)
                case .double(let d): out.append(d)
                case .bool(let b): out.append(b)
                default: out.appendNull()
                }
            }
            return out
        default:
            throw SpateError(.usage, "cannot cast \(c.type) to \(type)")
        }
        copyValidity(from: [c], to: out, n)
        return out
    }

    // MARK: - Predicates

    /// Rows of `batch` among `sel` (all rows when nil) for which `predicate` is TRUE.
    static func select(_ predicate: BoundExpr, _ batch: Batch, _ sel: SelectionVector?) throws -> SelectionVector {
        let n = sel?.count ?? batch.count
        let out = SelectionVector(capacity: max(batch.count, 1))
        let inSel: UnsafePointer<UInt32>? = sel.map { UnsafePointer($0.ids) }

        switch predicate {
        case .and(let a, let b):
            let left = try select(a, batch, sel)
            return try select(b, batch, left)
        case .or(let a, let b):
            let left = try select(a, batch, sel)
            let right = try select(b, batch, sel)
            out.count = ck_sel_union(left.ids, left.count, right.ids, right.count, out.ids)
            return out
        case .literal(let v, _):
            if case .bool(true) = v {
                if let inSel { out.ids.update(from: inSel, count: n) } else { fillIdentity(out.ids, n) }
                out.count = n
            }
            return out
        case .compare(let op, let lhs, let rhs):
            if let fast = try compareFast(op, lhs, rhs, batch, inSel, n, out) { return fast }
        default:
            break
        }
        // General path: a boolean column, then keep the TRUE rows.
        let b = try evaluate(predicate, batch)
        out.count = ck_filter_bool(b.bools, b.validityWords, inSel, n, 1, out.ids)
        return out
    }

    static func fillIdentity(_ p: UnsafeMutablePointer<UInt32>, _ n: Int) {
        for i in 0..<n { p[i] = UInt32(i) }
    }

    static func ckCmp(_ op: ComparisonOp) -> ck_cmp {
        switch op {
        case .eq: return CK_CMP_EQ
        case .ne: return CK_CMP_NE
        case .lt: return CK_CMP_LT
        case .le: return CK_CMP_LE
        case .gt: return CK_CMP_GT
        case .ge: return CK_CMP_GE
        }
    }

    /// Comparisons the kernels do directly: column vs constant and column vs column of
    /// the same physical type. Returns nil when the general path must be taken.
    static func compareFast(
        _ op: ComparisonOp, _ lhs: BoundExpr, _ rhs: BoundExpr, _ batch: Batch,
        _ sel: UnsafePointer<UInt32>?, _ n: Int, _ out: SelectionVector
    ) throws -> SelectionVector? {
        // Constant on the left: flip.
        if case .literal = lhs, !isLiteral(rhs) {
            return try compareFast(op.flipped, rhs, lhs, batch, sel, n, out)
        }
        if case .literal(let value, _) = rhs {
            if case .null = value { out.count = 0; return out }  // comparison with NULL is never TRUE
            let c = try evaluate(lhs, batch)
            switch (c.type, value) {
            case (.int64, .int(let k)), (.timestamp, .int(let k)):
                out.count = ck_filter_i64_const(ckCmp(op), c.int64s, c.validityWords, sel, n, k, out.ids)
                return out
            case (.float64, .double(let k)):
                out.count = ck_filter_f64_const(ckCmp(op), c.float64s, c.validityWords, sel, n, k, out.ids)
                return out
            case (.string, .string(let s)) where op == .eq || op == .ne:
                var text = s
                out.count = text.withUTF8 { u in
                    ck_filter_str_eq_const(
                        c.offsets, c.bytes, c.validityWords, sel, n, u.baseAddress, u.count,
                        op == .ne ? 1 : 0, out.ids)
                }
                return out
            default:
                return nil
            }
        }
        let a = try evaluate(lhs, batch), b = try evaluate(rhs, batch)
        if a.type.isInt64Backed && b.type.isInt64Backed {
            out.count = ck_filter_i64_cols(ckCmp(op), a.int64s, a.validityWords, b.int64s, b.validityWords, sel, n, out.ids)
            return out
        }
        if a.type == .float64 && b.type == .float64 {
            out.count = ck_filter_f64_cols(ckCmp(op), a.float64s, a.validityWords, b.float64s, b.validityWords, sel, n, out.ids)
            return out
        }
        return nil
    }

    static func isLiteral(_ e: BoundExpr) -> Bool {
        if case .literal = e { return true }
        return false
    }

    /// A BOOLEAN column (three-valued) for a predicate.
    static func booleanColumn(_ expr: BoundExpr, _ batch: Batch) throws -> Column {
        let n = batch.count
        let out = Column(.bool, capacity: n)
        switch expr {
        case .compare(let op, let lhs, let rhs):
            let a = try evaluate(lhs, batch), b = try evaluate(rhs, batch)
            // Rows where both sides are valid are decided by the comparison; others are NULL.
            if let fast = try compareFast(op, .column(index: 0, type: a.type, name: ""),
                                          .column(index: 1, type: b.type, name: ""),
                                          Batch(schema: Schema([Field("a", a.type), Field("b", b.type)]),
                                                columns: [a, b], count: n), nil, n,
                                          SelectionVector(capacity: max(n, 1))) {
                out.bools.initialize(repeating: 0, count: n)
                for i in 0..<fast.count { out.bools[Int(fast.ids[i])] = 1 }
            } else {
                for r in 0..<n { out.bools[r] = compareRow(op, a, b, r) ? 1 : 0 }
            }
            out.setCount(n, nullCount: 0)
            copyValidity(from: [a, b], to: out, n)
        case .and(let l, let r), .or(let l, let r):
            let isAnd: Bool
            if case .and = expr { isAnd = true } else { isAnd = false }
            let a = try evaluate(l, batch), b = try evaluate(r, batch)
            out.setCount(n, nullCount: 0)
            for row in 0..<n {
                let av = a.isValid(row), bv = b.isValid(row)
                let x = a.bools[row] != 0, y = b.bools[row] != 0
                // SQL three-valued logic.
                let decided: Bool? = isAnd
                    ? ((av && !x) || (bv && !y) ? false : (av && bv ? true : nil))
                    : ((av && x) || (bv && y) ? true : (av && bv ? false : nil))
                if let d = decided { out.bools[row] = d ? 1 : 0 } else { out.bools[row] = 0; out.setNull(row) }
            }
        case .not(let inner):
            let a = try evaluate(inner, batch)
            for r in 0..<n { out.bools[r] = a.bools[r] == 0 ? 1 : 0 }
            out.setCount(n, nullCount: 0)
            copyValidity(from: [a], to: out, n)
        default:
            throw SpateError(.runtime, "internal: \(expr) is not a predicate")
        }
        return out
    }

    /// Row comparison for the types the kernels do not cover (strings ordered by bytes,
    /// mixed numeric types). Only called for valid rows' values; nulls are masked after.
    static func compareRow(_ op: ComparisonOp, _ a: Column, _ b: Column, _ r: Int) -> Bool {
        let order: Int
        switch (a.type, b.type) {
        case (.string, .string):
            let x = a.stringBytes(at: r), y = b.stringBytes(at: r)
            order = x.lexicographicallyPrecedes(y) ? -1 : (x.elementsEqual(y) ? 0 : 1)
        case (.bool, .bool):
            order = Int(a.bools[r]) - Int(b.bools[r])
        default:
            let x = a.type == .float64 ? a.float64s[r] : Double(a.int64s[r])
            let y = b.type == .float64 ? b.float64s[r] : Double(b.int64s[r])
            order = x < y ? -1 : (x == y ? 0 : 1)
        }
        switch op {
        case .eq: return order == 0
        case .ne: return order != 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .gt: return order > 0
        case .ge: return order >= 0
        }
    }
}
