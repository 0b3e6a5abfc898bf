import CKernels
import Columnar

/// Windows built from panes: time is cut into panes of one width (the slide of a HOP,
/// the step of a CUMULATE, the size of a TUMBLE), each row is aggregated once into its
/// pane, and a window is the combine of the panes it covers when it fires. A row is
/// never copied into every window that contains it, and state is proportional to the
/// open panes, not to the windows.
struct PaneGeometry: Sendable {
    let kind: WindowKind
    /// Pane width.
    let pane: Int64
    let offset: Int64

    init?(_ w: WindowSpec) {
        kind = w.kind
        offset = w.offsetMillis
        switch w.kind {
        case .tumble(let size): pane = size
        case .hop(let slide, _): pane = slide
        case .cumulate(let step, _): pane = step
        case .session: return nil
        }
    }

    /// The largest s <= t with (s - offset) a multiple of `size`.
    @inline(__always)
    func floor(_ t: Int64, _ size: Int64) -> Int64 {
        let r = (t &- offset) % size
        return t &- (r < 0 ? r &+ size : r)
    }

    /// The windows that contain the pane starting at `p`, by ascending end.
    func windows(containingPane p: Int64) -> [(start: Int64, end: Int64)] {
        switch kind {
        case .tumble(let size):
            return [(p, p &+ size)]
        case .hop(let slide, let size):
            let n = size / slide
            return (0..<n).map { k in
                let start = p &- (n - 1 - k) &* slide
                return (start, start &+ size)
            }
        case .cumulate(let step, let maxSize):
            let base = floor(p, maxSize)
            let first = (p &- base) / step + 1
            return (first...(maxSize / step)).map { k in (base, base &+ k &* step) }
        case .session:
            return []
        }
    }

    /// The last instant of the last window containing the pane starting at `p`: after
    /// the watermark passes it, nothing more can be added to the pane.
    func lastInstant(ofPane p: Int64) -> Int64 {
        switch kind {
        case .tumble(let size), .hop(_, let size): return p &+ size &- 1
        case .cumulate(_, let maxSize): return floor(p, maxSize) &+ maxSize &- 1
        case .session: return p
        }
    }

    /// The start and end of each row's pane (its window under TUMBLE), NULL where the
    /// time is NULL: the `window_start`/`window_end` columns a row gets.
    func paneColumns(_ ts: Column, _ n: Int) -> (start: Column, end: Column) {
        let start = Column(.timestamp(.millisecond), capacity: n)
        let end = Column(.timestamp(.millisecond), capacity: n)
        if n > 0 {
            ck_tumble_start(ts.int64s, ts.validityWords, nil, n, pane, offset, start.int64s)
            _ = ck_add_i64_const(start.int64s, pane, n, end.int64s)
        }
        start.setCount(n, nullCount: 0)
        end.setCount(n, nullCount: 0)
        if ts.validityWords != nil {
            Evaluator.copyValidity(from: [ts], to: start, n)
            Evaluator.copyValidity(from: [ts], to: end, n)
        }
        return (start, end)
    }

    /// Whether a pane lies in more than one window (HOP, CUMULATE): rows then need their
    /// tier (see `Worker.assignTiers`) and pane states are shared by several windows.
    var sharesPanes: Bool {
        if case .tumble = kind { return false }
        return true
    }

    /// `out[r]` = the last instant of the last window containing row r's pane, for the
    /// on-time filter: a row is late only once every window it belongs to has fired.
    func lastInstants(paneStarts: UnsafePointer<Int64>, _ n: Int, into out: UnsafeMutablePointer<Int64>) {
        switch kind {
        case .tumble(let size), .hop(_, let size):
            _ = ck_add_i64_const(paneStarts, size &- 1, n, out)
        case .cumulate(_, let maxSize):
            ck_tumble_start(paneStarts, nil, nil, n, maxSize, offset, out)
            _ = ck_add_i64_const(out, maxSize &- 1, n, out)
        case .session:
            break
        }
    }
}

/// A pane's state on one side of a firing: rows are split by the first window of their
/// pane that is still open when they arrive (`tier` 0 = all of them). A row that comes
/// after some windows of its pane have fired must count only in the later ones, so
/// it goes to a state of a higher tier, which only those windows read.
struct PaneKey: Hashable, Sendable {
    var start: Int64
    var tier: Int
}
