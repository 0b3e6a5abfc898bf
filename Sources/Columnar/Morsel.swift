/// A unit of input that one worker reads: morsels are numbered 0, 1, 2, ... in input
/// order (the engine relies on that order for event time) and cover the range
/// [start, end) of some unit: bytes of a CSV or JSON lines file, records of a binary
/// file, events of a generator, blocks of a capture file.
public struct Morsel: Sendable, Hashable {
    public let index: Int
    public let start: Int
    public let end: Int

    public init(index: Int, start: Int, end: Int) {
        self.index = index
        self.start = start
        self.end = end
    }
}

/// Hands out [0, total) in morsels of `perMorsel` units, in order, to any thread.
/// An empty input still has one (empty) morsel, so a scan always sees morsel 0.
public final class MorselRanges: @unchecked Sendable {
    public let total: Int
    public let perMorsel: Int
    public let count: Int
    private var claimed = 0
    private let monitor = Monitor()

    public init(total: Int, perMorsel: Int) {
        self.total = total
        self.perMorsel = max(1, perMorsel)
        count = total == 0 ? 1 : (total + self.perMorsel - 1) / self.perMorsel
    }

    /// The next morsel, nil when all are handed out.
    public func claim() -> Morsel? {
        monitor.locked {
            guard claimed < count else { return nil }
            let i = claimed
            claimed += 1
            let start = i * perMorsel
            return Morsel(index: i, start: start, end: min(total, start + perMorsel))
        }
    }
}
