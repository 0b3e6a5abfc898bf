import Columnar
import Engine

#if canImport(Glibc)
import Glibc
#endif

/// The progress line on stderr for long runs on a terminal: rows, MB/s, percent and ETA
/// when the input size is known, and the watermark. Off for pipes and with --quiet.
final class ProgressLine: @unchecked Sendable {
    private var drawn = false
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }

    /// A progress line, or nil when stderr is not a terminal, with `quiet`, or when the
    /// results themselves go to the same terminal (they would be garbled).
    static func make(quiet: Bool, resultsToTerminal: Bool) -> ProgressLine? {
        quiet || isatty(2) == 0 || resultsToTerminal ? nil : ProgressLine()
    }

    func update(_ p: Progress) {
        // Short runs show nothing.
        guard p.seconds >= 1 else { return }
        var line = "\(ProgressLine.count(p.rows)) rows"
        let mbps = Double(p.bytes) / 1e6 / max(p.seconds, 0.001)
        line += "  \(fixedDecimal(mbps, 0)) MB/s"
        if let total = p.totalBytes, total > 0 {
            let fraction = min(1, Double(p.bytes) / Double(total))
            line += "  \(fixedDecimal(fraction * 100, 0))%"
            if fraction > 0.01 {
                let eta = p.seconds * (1 - fraction) / fraction
                line += "  ETA \(fixedDecimal(eta, 0)) s"
            }
        }
        if let w = p.watermark { line += "  watermark \(Timestamp.formatMillis(w))" }
        pthread_mutex_lock(&lock)
        writeStderr("\r\u{1B}[2K" + line)
        drawn = true
        pthread_mutex_unlock(&lock)
    }

    /// Removes the line (before results or errors are printed).
    func clear() {
        pthread_mutex_lock(&lock)
        if drawn { writeStderr("\r\u{1B}[2K") }
        drawn = false
        pthread_mutex_unlock(&lock)
    }

    static func count(_ n: Int) -> String {
        if n >= 1_000_000 { return fixedDecimal(Double(n) / 1e6, 1) + "M" }
        if n >= 10_000 { return fixedDecimal(Double(n) / 1e3, 0) + "k" }
        return String(n)
    }
}
