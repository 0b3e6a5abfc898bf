import CKernels
import CPlatform
import Columnar

/// The text of `spate sql --explain`: the pipeline and where its workers run.
enum PlanPrinter {
    static func describe(_ plan: QueryPlan, options: ExecutionOptions) -> String {
        var lines: [String] = []
        let cols = plan.scan.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
        lines.append("Sink: CSV [\(plan.outputSchema.fields.map(\.name).joined(separator: ", "))]")
        switch plan.shape {
        case .project(let exprs):
            lines.append("  Project: " + exprs.map(\.description).joined(separator: ", "))
        case .aggregate(let a):
            let aggs = a.aggregates.map { s in
                s.kind == .countStar ? "COUNT(*)" : "\(s.kind.rawValue)(\(a.inputs[s.input!]))"
            }
            if let h = a.having { lines.append("  Having: \(h)") }
            lines.append("  Project: " + a.output.map(\.description).joined(separator: ", "))
            if a.windowed, let t = plan.tumble {
                let when = plan.watermark != nil ? "when the watermark passes the window end" : "at end of input (no WATERMARK declared)"
                lines.append("  WindowAggregate: TUMBLE \(t.sizeMillis) ms\(t.offsetMillis != 0 ? " offset \(t.offsetMillis) ms" : ""), keys [\(a.keys.map(\.description).joined(separator: ", "))], \(aggs.joined(separator: ", ")); emits \(when)")
            } else {
                lines.append("  Aggregate: keys [\(a.keys.map(\.description).joined(separator: ", "))], \(aggs.joined(separator: ", ")); emits at end of input")
            }
            lines.append("  Exchange: per-worker partial aggregates, combined when a window closes")
        }
        if let f = plan.filter { lines.append("  Filter: \(f)") }
        if let t = plan.tumble { lines.append("  Window TVF: TUMBLE(\(t.sizeMillis) ms) over column #\(t.timeColumn)") }
        if let w = plan.watermark { lines.append("  Watermark: column #\(w.column) - \(w.delayMillis) ms (late rows are counted and dropped)") }
        lines.append("  Scan: \(plan.scan.provider.summary) reading [\(cols)] of \(plan.scan.provider.schema.count) columns")
        let cpus = Int(spate_available_cpus())
        let nodes = spate_numa_available() != 0 ? Int(spate_numa_max_node()) + 1 : 1
        let placement = (0..<options.workers).map { i in "worker \(i) -> cpu \(i % cpus)" }.joined(separator: ", ")
        lines.append("Workers: \(options.workers) (\(placement)); NUMA nodes: \(nodes); kernels: \(String(cString: ck_isa_name(ck_isa_current()))); batch capacity \(options.batchCapacity)")
        return lines.joined(separator: "\n")
    }
}
