import CPlatform
import Columnar

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Topology

/// The machine's NUMA nodes, each with the CPUs of it that this process may run on.
///
/// Read from libnuma where it is usable; otherwise one node holding the CPUs of the
/// affinity mask (so `taskset` and container CPU limits are respected either way). The
/// environment variable `SPATE_TOPOLOGY` replaces what the machine says, e.g.
/// `0:0-3;1:4-7` for two nodes of four CPUs: placement over several nodes can then be
/// tried, and tested, on a machine that has one. Tests can also write a topology as a
/// literal: `let t: CPUTopology = [0: [0, 1], 1: [2, 3]]`.
public struct CPUTopology: Sendable, Equatable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    public struct Node: Sendable, Equatable {
        /// The node number (libnuma's; not necessarily dense).
        public var id: Int
        /// CPU numbers, in the order workers are given them.
        public var cpus: [Int]

        public init(id: Int, cpus: [Int]) {
            self.id = id
            self.cpus = cpus
        }
    }

    /// Where a topology came from (`--explain` says so when it is not the machine's).
    public enum Origin: Sendable, Equatable {
        case libnuma
        /// No usable libnuma: one node with the CPUs of the affinity mask.
        case affinity
        case environment
        /// Built by the caller (tests).
        case given
    }

    public private(set) var nodes: [Node]
    public private(set) var origin: Origin

    /// A topology from node descriptions; an error unless there is at least one node,
    /// every node has CPUs, and no node or CPU number is negative or repeated.
    public init(nodes: [Node], origin: Origin = .given) throws {
        if let problem = CPUTopology.problem(nodes) {
            throw SpateError(.usage, "invalid CPU topology: \(problem)",
                             hint: "give each node its own number and at least one CPU, and each CPU to one node")
        }
        self.nodes = nodes
        self.origin = origin
    }

    /// `[node: cpus]`, nodes in the order written. A malformed literal is a programming
    /// error and traps.
    public init(dictionaryLiteral elements: (Int, [Int])...) {
        let nodes = elements.map { Node(id: $0.0, cpus: $0.1) }
        if let problem = CPUTopology.problem(nodes) { preconditionFailure("invalid CPU topology literal: \(problem)") }
        self.nodes = nodes
        origin = .given
    }

    private init(checked nodes: [Node], origin: Origin) {
        self.nodes = nodes
        self.origin = origin
    }

    private static func problem(_ nodes: [Node]) -> String? {
        if nodes.isEmpty { return "no nodes" }
        var ids: Set<Int> = []
        var owner: [Int: Int] = [:]
        for n in nodes {
            if n.id < 0 { return "node number \(n.id) is negative" }
            if !ids.insert(n.id).inserted { return "node \(n.id) appears twice" }
            if n.cpus.isEmpty { return "node \(n.id) has no CPUs" }
            for c in n.cpus {
                if c < 0 { return "CPU number \(c) is negative" }
                if let other = owner.updateValue(n.id, forKey: c) {
                    return other == n.id ? "CPU \(c) appears twice in node \(n.id)" : "CPU \(c) is in node \(other) and node \(n.id)"
                }
            }
        }
        return nil
    }

    /// CPUs over all nodes.
    public var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }

    /// `0:0-3;1:4-7`, the syntax of `SPATE_TOPOLOGY` (consecutive CPUs as ranges).
    public var description: String {
        nodes.map { "\($0.id):" + CPUTopology.ranges($0.cpus) }.joined(separator: ";")
    }

    private static func ranges(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(j > i ? "\(cpus[i])-\(cpus[j])" : "\(cpus[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    // MARK: Reading the machine

    /// What this machine says: libnuma's nodes (those with CPUs this process may use),
    /// else one node with the affinity mask's CPUs. Read on the calling thread, so call
    /// it before pinning anything.
    public static func detect() -> CPUTopology {
        if spate_numa_available() != 0 {
            var nodes: [Node] = []
            for id in 0...Int(spate_numa_max_node()) {
                // Nodes with memory but no CPUs (or none we may use) take no workers.
                if let cpus = cpuList({ spate_numa_node_cpus(Int32(id), $0, $1) }), !cpus.isEmpty {
                    nodes.append(Node(id: id, cpus: cpus))
                }
            }
            if !nodes.isEmpty { return CPUTopology(checked: nodes, origin: .libnuma) }
        }
        var cpus = cpuList { spate_affinity_cpus($0, $1) } ?? []
        if cpus.isEmpty { cpus = Array(0..<Int(spate_available_cpus())) }
        return CPUTopology(checked: [Node(id: 0, cpus: cpus)], origin: .affinity)
    }

    /// Calls a C function that fills a CPU list and returns its full length (-1: none),
    /// growing the buffer until the list fits.
    private static func cpuList(_ fill: (UnsafeMutablePointer<Int32>?, Int32) -> Int32) -> [Int]? {
        var room = 0
        while true {
            var buffer = [Int32](repeating: 0, count: max(room, 1))
            let n = Int(buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress, Int32(room)) })
            if n < 0 { return nil }
            if n <= room { return buffer[0..<n].map(Int.init) }
            room = n
        }
    }

    // MARK: SPATE_TOPOLOGY

    /// The environment variable that replaces the machine's topology.
    public static let environmentVariable = "SPATE_TOPOLOGY"

    /// The topology `SPATE_TOPOLOGY` describes: nil when it is unset or empty, an error
    /// (naming the character) when it is malformed.
    public static func fromEnvironment() throws -> CPUTopology? {
        guard let raw = getenv(environmentVariable) else { return nil }
        let text = String(cString: raw)
        if text.allSatisfy({ $0 == " " }) { return nil }
        return try CPUTopology(parsing: text, origin: .environment)
    }

    /// Parses `NODE:CPUS;NODE:CPUS...`, CPUS being numbers and ranges separated by
    /// commas (`0:0-3,8-11;1:4-7,12-15`); spaces around items are allowed.
    public init(parsing text: String, origin: Origin = .given) throws {
        var p = TopologyParser(text: text)
        let nodes = try p.parse()
        if let problem = CPUTopology.problem(nodes) {
            throw p.error(problem, at: text.utf8.count, hint: "give each node its own number and each CPU to one node")
        }
        self.init(checked: nodes, origin: origin)
    }

    /// What a query places its workers on when not told otherwise: `SPATE_TOPOLOGY` if
    /// it is set and valid, else the machine's topology. Read once per process; a
    /// malformed `SPATE_TOPOLOGY` is reported once on stderr and ignored (it is a tool
    /// for trying placements: the query still runs).
    public static var current: CPUTopology { cached }

    private static let cached: CPUTopology = {
        do {
            if let fromEnvironment = try fromEnvironment() { return fromEnvironment }
        } catch {
            let message = "spate: ignoring \(environmentVariable), using the machine's CPU topology:\n\(error)\n"
            message.withCString { _ = write(2, $0, strlen($0)) }
        }
        return detect()
    }()
}

/// The parser behind `SPATE_TOPOLOGY` (ASCII; errors point at a character).
private struct TopologyParser {
    let text: String
    let bytes: [UInt8]
    var i = 0
    /// CPU and node numbers are at most this (Linux's largest configurable NR_CPUS is
    /// 8192): a typo such as `0:0-99999999` must not build a list of a hundred million.
    static let largest = 65535

    init(text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    mutating func parse() throws -> [CPUTopology.Node] {
        var nodes: [CPUTopology.Node] = []
        repeat {
            skipSpaces()
            if i == bytes.count && !nodes.isEmpty { break }    // a trailing ';'
            let id = try number("a node number")
            skipSpaces()
            try expect(UInt8(ascii: ":"), "':' after the node number")
            var cpus: [Int] = []
            repeat {
                skipSpaces()
                let first = try number("a CPU number")
                skipSpaces()
                if peek(UInt8(ascii: "-")) {
                    i += 1
                    skipSpaces()
                    let at = i
                    let last = try number("the last CPU of the range")
                    if last < first {
                        throw error("the CPU range \(first)-\(last) runs backwards", at: at, hint: "write it as \(last)-\(first)")
                    }
                    cpus += Array(first...last)
                } else {
                    cpus.append(first)
                }
                skipSpaces()
            } while take(UInt8(ascii: ","))
            nodes.append(CPUTopology.Node(id: id, cpus: cpus))
            if i < bytes.count && !peek(UInt8(ascii: ";")) {
                throw error("expected ',' or ';' after the CPUs of node \(id)", at: i, hint: nil)
            }
        } while take(UInt8(ascii: ";"))
        return nodes
    }

    private mutating func skipSpaces() {
        while i < bytes.count && bytes[i] == UInt8(ascii: " ") { i += 1 }
    }

    private func peek(_ c: UInt8) -> Bool { i < bytes.count && bytes[i] == c }

    private mutating func take(_ c: UInt8) -> Bool {
        guard peek(c) else { return false }
        i += 1
        return true
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws {
        if !take(c) { throw error("expected \(what)", at: i, hint: nil) }
    }

    private mutating func number(_ what: String) throws -> Int {
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            if value > TopologyParser.largest {
                throw error("\(what) is larger than \(TopologyParser.largest)", at: start, hint: nil)
            }
            i += 1
        }
        if i == start { throw error("expected \(what)", at: i, hint: nil) }
        return value
    }

    func error(_ message: String, at offset: Int, hint: String?) -> SpateError {
        // Columns count characters; the text is ASCII when it is valid, so byte offsets
        // are close enough to point at the mistake otherwise.
        SpateError(.usage, message, path: CPUTopology.environmentVariable, line: 1, column: offset + 1,
                   sourceLine: text,
                   hint: hint ?? "write the nodes as NODE:CPUS separated by ';', e.g. 0:0-3;1:4-7 or 0:0,2;1:1,3")
    }
}

// MARK: - Placement

/// Which CPU (and node) each of a query's workers runs on.
///
/// With several nodes, workers go round-robin over the nodes (worker 0 on node 0,
/// worker 1 on node 1, ...), each node handing out its CPUs in order; a node whose CPUs
/// are all taken is skipped until every CPU has a worker, then the round starts again.
/// So a query with fewer workers than CPUs uses the memory bandwidth of every node,
/// and uneven nodes are filled without putting two workers on one CPU while another
/// is free. With one node it is plain pinning: worker i on CPU list[i mod count].
///
/// A pinned worker on a machine with several nodes also asks for local allocation, so
/// the hash tables and buffers it builds live on its own node.
public struct WorkerPlacement: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var node: Int
        public var cpu: Int

        public init(node: Int, cpu: Int) {
            self.node = node
            self.cpu = cpu
        }
    }

    public let topology: CPUTopology
    public let workers: Int
    /// False when the workers are left to the OS: pinning is off, or there is a single
    /// worker (it runs on the caller's thread, which must not stay pinned afterwards).
    public let pinned: Bool
    /// One slot per worker.
    public let slots: [Slot]

    public init(workers: Int, topology: CPUTopology, pinned: Bool = true) {
        self.workers = max(1, workers)
        self.topology = topology
        self.pinned = pinned && self.workers > 1
        let order = WorkerPlacement.order(topology)
        slots = (0..<self.workers).map { order[$0 % order.count] }
    }

    /// Every CPU once, in the order workers take them: one CPU per node per round.
    static func order(_ topology: CPUTopology) -> [Slot] {
        var order: [Slot] = []
        let rounds = topology.nodes.map(\.cpus.count).max() ?? 0
        for k in 0..<rounds {
            for node in topology.nodes where k < node.cpus.count {
                order.append(Slot(node: node.id, cpu: node.cpus[k]))
            }
        }
        return order
    }

    /// Nodes that have at least one worker.
    public var nodesUsed: Int { Set(slots.map(\.node)).count }

    /// Pins the calling thread as worker `worker` and, on a machine with several nodes,
    /// makes its allocations local to its node. Does nothing when not `pinned`. A CPU
    /// the system refuses (an injected topology naming CPUs this machine lacks) leaves
    /// the thread unpinned: placement is an optimisation, never a reason to fail.
    public func enter(worker: Int) {
        guard pinned else { return }
        _ = spate_pin_current_thread(Int32(slots[worker % slots.count].cpu))
        if topology.nodes.count > 1 { _ = spate_numa_set_local_alloc() }
    }

    /// One line for `--explain`, e.g. `Placement: 4 workers over 2 NUMA nodes: w0 ->
    /// node 0 cpu 0, w1 -> node 1 cpu 4, ...` or `Placement: 2 workers, 1 node: w0 -> cpu
    /// 0, w1 -> cpu 1`.
    public var summary: String {
        let source = topology.origin == .environment ? " (topology from \(CPUTopology.environmentVariable))" : ""
        guard pinned else {
            let why = workers == 1 ? "1 worker, not pinned (it runs on the calling thread)" : "\(workers) workers, not pinned"
            return "Placement: \(why)"
        }
        let nodes = topology.nodes.count
        var head: String
        let list: String
        if nodes > 1 {
            let used = nodesUsed
            head = "\(workers) workers over \(used == nodes ? "" : "\(used) of ")\(nodes) NUMA nodes\(source), memory local to each node"
            list = slots.enumerated().map { "w\($0.offset) -> node \($0.element.node) cpu \($0.element.cpu)" }.joined(separator: ", ")
        } else {
            head = "\(workers) workers, 1 node\(source)"
            list = slots.enumerated().map { "w\($0.offset) -> cpu \($0.element.cpu)" }.joined(separator: ", ")
        }
        let cpus = topology.cpuCount
        if workers > cpus { head += " (\(workers) workers share \(cpus) CPU\(cpus == 1 ? "" : "s"))" }
        return "Placement: \(head): \(list)"
    }
}
