import CKernels
import CPlatform
import Columnar

/// The text of `spate sql --explain`: the pipeline and where its workers run.
enum PlanPrinter {
    static func describe(_ plan: QueryPlan, options: ExecutionOptions) -> String {
        if let join = plan.join { return describeJoin(plan, join, options: options) }
        var lines: [String] = []
        let cols = plan.scan.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
        lines.append("Sink: CSV [\(plan.outputSchema.fields.map(\.name).joined(separator: ", "))]")
        switch plan.shape {
        case .project(let exprs):
            lines.append("  Project: " + exprs.map(\.description).joined(separator: ", "))
        case .aggregate(let a):
            let aggs = a.aggregates.map { s in
                let call = s.kind == .countStar ? "COUNT(*)"
                    : "\(s.kind.rawValue)(\(s.distinct ? "DISTINCT " : "")\(a.inputs[s.input!]))"
                return call + (s.filter.map { " FILTER (WHERE \(a.inputs[$0]))" } ?? "")
            }
            if let t = a.topN {
                // The outer SELECT over the ranked rows, then the ranking.
                lines.append("  Project: " + t.output.map(\.description).joined(separator: ", "))
                lines.append("  " + topNText(t, windowed: a.windowed))
            }
            if a.rowsTopN, let t = a.topN {
                let scope = a.windowed && plan.window != nil ? "per \(windowText(plan.window!)) window" : "over the whole input, at its end"
                lines.append("  Candidates: the rows [\(a.inputs.map(\.description).joined(separator: ", "))], the best \(t.limit) per partition kept as they arrive, \(scope)")
                lines.append("  Exchange: per-worker candidates, merged when a window closes")
            } else {
            if let h = a.having { lines.append("  Having: \(h)") }
            lines.append("  Project: " + a.output.map(\.description).joined(separator: ", "))
            if let n = a.countWindow {
                lines.append("  CountWindowAggregate: every \(n) rows per key in input order, keys [\(a.keys.map(\.description).joined(separator: ", "))], \(aggs.joined(separator: ", ")); emits each window at its last row")
            } else if a.windowed, let t = plan.window {
                let when = plan.watermark != nil ? "when the watermark passes the window end" : "at end of input (no WATERMARK declared)"
                lines.append("  WindowAggregate: \(windowText(t)), keys [\(a.keys.map(\.description).joined(separator: ", "))], \(aggs.joined(separator: ", ")); emits \(when)")
            } else {
                lines.append("  Aggregate: keys [\(a.keys.map(\.description).joined(separator: ", "))], \(aggs.joined(separator: ", ")); emits at end of input")
            }
            lines.append("  Exchange: per-worker partial aggregates, combined when a window closes")
            }
        }
        if let f = plan.filter { lines.append("  Filter: \(f)") }
        if let t = plan.window { lines.append("  Window TVF: \(windowText(t)) over column #\(t.timeColumn)") }
        if let w = plan.watermark {
            let late: String
            switch plan.late.policy {
            case .drop: late = "late rows are counted and dropped"
            case .output(let path): late = "late rows are written to \(path)"
            case .update: late = "late rows update their window for \(plan.late.allowedLatenessMillis) ms, then are dropped"
            }
            lines.append("  Watermark: column #\(w.column) - \(w.delayMillis) ms (\(late))")
        }
        lines.append("  Scan: \(plan.scan.provider.summary) reading [\(cols)] of \(plan.scan.provider.schema.count) columns")
        lines.append("Workers: \(options.workers); kernels: \(String(cString: ck_isa_name(ck_isa_current()))); batch capacity \(options.batchCapacity)")
        return lines.joined(separator: "\n")
    }

    /// `TopN: RANK() OVER (PARTITION BY #0, #1 ORDER BY #4 DESC) <= 3`, over the
    /// ranked rows' columns.
    static func topNText(_ t: TopNPlan, windowed: Bool) -> String {
        let name = { (i: Int) in t.rowFields[i].name }
        let partition = t.partition.isEmpty ? "" : "PARTITION BY " + t.partition.map(name).joined(separator: ", ") + " "
        let order = t.order.map { name($0.column) + ($0.descending ? " DESC" : "") + ($0.nullsFirst ? " NULLS FIRST" : "") }
        return "TopN: \(t.function.rawValue)() OVER (\(partition)ORDER BY \(order.joined(separator: ", "))) <= \(t.limit)"
            + (windowed ? ", per window" : "")
    }

    static func windowText(_ w: WindowSpec) -> String {
        let offset = w.offsetMillis != 0 ? " offset \(w.offsetMillis) ms" : ""
        switch w.kind {
        case .tumble(let size): return "TUMBLE \(size) ms\(offset)"
        case .hop(let slide, let size): return "HOP \(size) ms every \(slide) ms\(offset) (panes of \(slide) ms)"
        case .cumulate(let step, let maxSize): return "CUMULATE up to \(maxSize) ms by \(step) ms\(offset) (panes of \(step) ms)"
        case .session(let gap): return "SESSION gap \(gap) ms"
        }
    }
}
