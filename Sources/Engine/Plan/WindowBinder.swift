import Columnar

/// A window TVF in FROM, resolved against its table: columns are indexes in the table's
/// schema.
struct InputWindow {
    var kind: WindowKind
    var timeColumn: Int
    var offset: Int64
    /// SESSION's `PARTITION BY` columns (sessions are per value of these).
    var partition: [Int]
}

extension Binder {
    /// The parameter names of each window TVF, in positional order (Flink's names, for
    /// `name => value` arguments).
    private static func windowParameters(_ name: String) -> [String]? {
        switch name {
        case "TUMBLE": return ["DATA", "TIMECOL", "SIZE", "OFFSET"]
        case "HOP": return ["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"]
        case "CUMULATE": return ["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"]
        case "SESSION": return ["DATA", "TIMECOL", "GAP"]
        default: return nil
        }
    }

    private static func windowUsage(_ name: String) -> String {
        switch name {
        case "HOP": return "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND) (slide, then size)"
        case "CUMULATE": return "CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND) (step, then maximum size)"
        case "SESSION": return "SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '30' SECOND) (gap)"
        default: return "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND)"
        }
    }

    /// The most windows one row may lie in: each pane is combined into every window
    /// that covers it when they fire, so a tiny slide under a long window would mean
    /// millions of combines per pane.
    static let maxWindowsPerRow: Int64 = 10_000

    static func checkWindowsPerRow(_ n: Int64, _ name: String, _ at: SourcePosition) throws(SQLSyntaxError) {
        guard n <= maxWindowsPerRow else {
            throw Binder.error("\(name) would put each row in \(n) windows (at most \(maxWindowsPerRow))", at: at,
                               hint: "use a larger slide (step) or a smaller size")
        }
    }

    /// Resolves `TABLE(TUMBLE|HOP|CUMULATE|SESSION(...))`.
    func windowFunction(_ f: TableReference.TableFunction) throws(SQLSyntaxError) -> Input {
        let name = f.name.last.name.uppercased()
        guard let parameters = Binder.windowParameters(name) else {
            throw Binder.error("unknown table function \(f.name.last.name)", at: f.position,
                               hint: "the window functions are TUMBLE, HOP, CUMULATE and SESSION")
        }
        let usage = Binder.windowUsage(name)
        // Put positional and named arguments in parameter order.
        var values: [String: TableReference.TableFunction.Argument] = [:]
        for (i, a) in f.arguments.enumerated() {
            let key: String
            if let n = a.name {
                key = n.name.uppercased()
                guard parameters.contains(key) else {
                    throw Binder.error("\(name) has no parameter \(n.name)", at: a.position,
                                       hint: "its parameters are " + parameters.joined(separator: ", "))
                }
            } else {
                guard i < parameters.count else {
                    throw Binder.error("too many arguments to \(name)", at: a.position, hint: usage)
                }
                key = parameters[i]
            }
            if values[key] != nil { throw Binder.error("\(key) is given twice", at: a.position) }
            values[key] = a
        }
        guard let data = values["DATA"], case .table(let tableName, let partitionBy) = data.value else {
            throw Binder.error("\(name) needs a table first: \(usage)", at: values["DATA"]?.position ?? f.position)
        }
        let table = try lookup(tableName)
        guard let timecol = values["TIMECOL"], case .descriptor(let descriptor) = timecol.value, descriptor.count == 1 else {
            throw Binder.error("\(name) needs one time column: DESCRIPTOR(ts)", at: values["TIMECOL"]?.position ?? f.position,
                               hint: usage)
        }
        guard let tcol = table.schema.index(of: descriptor[0].name) else {
            throw Binder.error("unknown column '\(descriptor[0].name)' in table '\(table.name)'",
                               at: descriptor[0].position, hint: Binder.suggestion(descriptor[0].name, table.schema.fields.map(\.name)))
        }
        guard case .timestamp = table.schema[tcol].type else {
            throw Binder.error("the window column '\(descriptor[0].name)' must be a TIMESTAMP(3)", at: descriptor[0].position)
        }
        func interval(_ key: String, required: Bool) throws(SQLSyntaxError) -> Int64? {
            guard let a = values[key] else {
                if required { throw Binder.error("\(name) needs its \(key.lowercased()): \(usage)", at: f.position) }
                return nil
            }
            guard case .expression(let e) = a.value, case .literal(.interval(let i)) = e.kind else {
                throw Binder.error("expected an INTERVAL for \(key.lowercased())", at: a.position, hint: "e.g. INTERVAL '10' SECOND")
            }
            if key != "OFFSET" && i.milliseconds <= 0 {
                throw Binder.error("\(name)'s \(key.lowercased()) must be positive", at: a.position)
            }
            return i.milliseconds
        }
        let offset = try interval("OFFSET", required: false) ?? 0
        var partition: [Int] = []
        if name != "SESSION", let p = partitionBy.first {
            throw Binder.error("\(name) takes no PARTITION BY (only SESSION does)", at: p.position)
        }
        for p in partitionBy {
            guard case .column(let n) = p.kind, let c = table.schema.index(of: n.last.name) else {
                throw Binder.error("PARTITION BY takes columns of '\(table.name)'", at: p.position,
                                   hint: "the columns are: " + table.schema.fields.map(\.name).joined(separator: ", "))
            }
            partition.append(c)
        }
        let kind: WindowKind
        switch name {
        case "TUMBLE":
            kind = .tumble(size: try interval("SIZE", required: true)!)
        case "HOP":
            let slide = try interval("SLIDE", required: true)!, size = try interval("SIZE", required: true)!
            guard size % slide == 0 else {
                throw Binder.error("HOP's size must be a whole multiple of its slide (\(size) ms is not a multiple of \(slide) ms)",
                                   at: values["SIZE"]!.position, hint: "e.g. slide INTERVAL '10' SECOND, size INTERVAL '60' SECOND")
            }
            try Binder.checkWindowsPerRow(size / slide, "HOP", values["SLIDE"]!.position)
            kind = .hop(slide: slide, size: size)
        case "CUMULATE":
            let step = try interval("STEP", required: true)!, size = try interval("SIZE", required: true)!
            guard size % step == 0 else {
                throw Binder.error("CUMULATE's maximum size must be a whole multiple of its step (\(size) ms is not a multiple of \(step) ms)",
                                   at: values["SIZE"]!.position)
            }
            try Binder.checkWindowsPerRow(size / step, "CUMULATE", values["STEP"]!.position)
            kind = .cumulate(step: step, maxSize: size)
        default:
            kind = .session(gap: try interval("GAP", required: true)!)
        }
        let fields = table.schema.fields + [
            Field("window_start", .timestamp(.millisecond), nullable: false),
            Field("window_end", .timestamp(.millisecond), nullable: false),
        ]
        return Input(table: table, alias: f.alias?.name.name,
                     window: InputWindow(kind: kind, timeColumn: tcol, offset: offset, partition: partition), fields: fields)
    }
}
