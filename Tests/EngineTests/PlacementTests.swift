import CPlatform
import Columnar
import Foundation
import Testing

@testable import Engine

/// Worker placement over NUMA nodes: the spread over injected topologies, the
/// `SPATE_TOPOLOGY` syntax, the machine's own topology, and queries under placements.
@Suite struct PlacementTests {
    typealias Slot = WorkerPlacement.Slot

    /// (node, cpu) of each worker.
    func spread(_ workers: Int, _ topology: CPUTopology) -> [[Int]] {
        WorkerPlacement(workers: workers, topology: topology).slots.map { [$0.node, $0.cpu] }
    }

    // MARK: - Spread

    @Test(arguments: 1...8)
    func twoNodesAlternate(_ workers: Int) {
        let t: CPUTopology = [0: [0, 1, 2, 3], 1: [4, 5, 6, 7]]
        let all = [[0, 0], [1, 4], [0, 1], [1, 5], [0, 2], [1, 6], [0, 3], [1, 7]]
        #expect(spread(workers, t) == Array(all.prefix(workers)))
        let p = WorkerPlacement(workers: workers, topology: t)
        // As even as it can be, and never two workers on one CPU while CPUs are free.
        let onNode0 = p.slots.filter { $0.node == 0 }.count
        #expect(abs(onNode0 - (workers - onNode0)) <= 1)
        #expect(Set(p.slots.map(\.cpu)).count == workers)
        #expect(p.nodesUsed == min(workers, 2))
    }

    @Test(arguments: 1...8)
    func fourNodesRoundRobin(_ workers: Int) {
        let t: CPUTopology = [0: [0, 1], 1: [2, 3], 2: [4, 5], 3: [6, 7]]
        let all = [[0, 0], [1, 2], [2, 4], [3, 6], [0, 1], [1, 3], [2, 5], [3, 7]]
        #expect(spread(workers, t) == Array(all.prefix(workers)))
        #expect(WorkerPlacement(workers: workers, topology: t).nodesUsed == min(workers, 4))
    }

    @Test func moreWorkersThanCPUsStartAnotherRound() {
        let t: CPUTopology = [0: [0, 1], 1: [2, 3]]
        #expect(spread(6, t) == [[0, 0], [1, 2], [0, 1], [1, 3], [0, 0], [1, 2]])
    }

    @Test func unevenNodesFillTheLargerOneOnceTheSmallerIsFull() {
        let t: CPUTopology = [0: [0, 1, 2, 3, 4, 5], 1: [6, 7]]
        #expect(spread(8, t) == [[0, 0], [1, 6], [0, 1], [1, 7], [0, 2], [0, 3], [0, 4], [0, 5]])
        #expect(spread(3, t) == [[0, 0], [1, 6], [0, 1]])
        // Node numbers need not be dense, and the literal's node order is kept.
        let sparse: CPUTopology = [2: [8, 9, 10], 0: [1]]
        #expect(spread(5, sparse) == [[2, 8], [0, 1], [2, 9], [2, 10], [2, 8]])
    }

    @Test func oneNodeIsPlainPinning() {
        let t: CPUTopology = [0: [2, 3, 5]]
        #expect(WorkerPlacement(workers: 5, topology: t).slots.map(\.cpu) == [2, 3, 5, 2, 3])
        let p = WorkerPlacement(workers: 2, topology: t)
        #expect(p.pinned)
        #expect(p.summary == "Placement: 2 workers, 1 node: w0 -> cpu 2, w1 -> cpu 3")
    }

    @Test func oneWorkerOrPinningOffIsNotPinned() {
        let t: CPUTopology = [0: [0, 1], 1: [2, 3]]
        let one = WorkerPlacement(workers: 1, topology: t)
        #expect(!one.pinned)
        #expect(one.summary == "Placement: 1 worker, not pinned (it runs on the calling thread)")
        let off = WorkerPlacement(workers: 3, topology: t, pinned: false)
        #expect(!off.pinned)
        #expect(off.summary == "Placement: 3 workers, not pinned")
        // What a query sees through its options.
        let options = ExecutionOptions(workers: 3, pinWorkers: false, topology: t)
        #expect(options.placement == off)
    }

    @Test func summaryNamesNodesAndCPUs() throws {
        let t: CPUTopology = [0: [0, 1, 2, 3], 1: [4, 5, 6, 7]]
        #expect(WorkerPlacement(workers: 4, topology: t).summary
            == "Placement: 4 workers over 2 NUMA nodes, memory local to each node: w0 -> node 0 cpu 0, w1 -> node 1 cpu 4, w2 -> node 0 cpu 1, w3 -> node 1 cpu 5")
        let four: CPUTopology = [0: [0], 1: [1], 2: [2], 3: [3]]
        #expect(WorkerPlacement(workers: 2, topology: four).summary
            == "Placement: 2 workers over 2 of 4 NUMA nodes, memory local to each node: w0 -> node 0 cpu 0, w1 -> node 1 cpu 1")
        let small = try CPUTopology(parsing: "0:0;1:1", origin: .environment)
        #expect(WorkerPlacement(workers: 3, topology: small).summary
            == "Placement: 3 workers over 2 NUMA nodes (topology from SPATE_TOPOLOGY), memory local to each node (3 workers share 2 CPUs): w0 -> node 0 cpu 0, w1 -> node 1 cpu 1, w2 -> node 0 cpu 0")
    }

    // MARK: - SPATE_TOPOLOGY syntax

    @Test func parsesNodesRangesAndLists() throws {
        let t = try CPUTopology(parsing: "0:0-3;1:4-7")
        #expect(t == [0: [0, 1, 2, 3], 1: [4, 5, 6, 7]])
        #expect(t.cpuCount == 8)
        #expect(t.description == "0:0-3;1:4-7")
        let spaced = try CPUTopology(parsing: " 0 : 0, 2 ,4-5 ; 1:1,3 ;")
        #expect(spaced == [0: [0, 2, 4, 5], 1: [1, 3]])
        #expect(spaced.description == "0:0,2,4-5;1:1,3")
        #expect(try CPUTopology(parsing: spaced.description) == spaced)
    }

    @Test(arguments: [
        ("0:0-3;1:", 9, "expected a CPU number"),
        ("0 0-3", 3, "expected ':' after the node number"),
        ("x", 1, "expected a node number"),
        ("0:3-1", 5, "the CPU range 3-1 runs backwards"),
        ("0:0 1:1", 5, "expected ',' or ';' after the CPUs of node 0"),
        ("0:0-99999999", 5, "the last CPU of the range is larger than 65535"),
        ("0:0;0:1", 8, "node 0 appears twice"),
        ("0:0-2;1:2", 10, "CPU 2 is in node 0 and node 1"),
    ])
    func malformedTopologyIsAnErrorAtItsCharacter(_ text: String, _ column: Int, _ message: String) {
        do {
            _ = try CPUTopology(parsing: text)
            Issue.record("'\(text)' parsed")
        } catch let e as SpateError {
            #expect(e.message == message, "\(text)")
            #expect(e.column == column, "\(text)")
            #expect(e.path == "SPATE_TOPOLOGY")
            #expect(e.hint != nil)
            #expect(e.kind == .usage)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func nodesAreChecked() {
        #expect(throws: SpateError.self) { try CPUTopology(nodes: []) }
        #expect(throws: SpateError.self) { try CPUTopology(nodes: [.init(id: 0, cpus: [])]) }
        #expect(throws: SpateError.self) { try CPUTopology(nodes: [.init(id: 0, cpus: [1, 1])]) }
        #expect(throws: SpateError.self) { try CPUTopology(nodes: [.init(id: -1, cpus: [0])]) }
    }

    // MARK: - This machine

    @Test func detectedTopologyHasTheCPUsWeMayUse() throws {
        let t = CPUTopology.detect()
        #expect(!t.nodes.isEmpty)
        #expect(t.origin == (spate_numa_available() != 0 ? .libnuma : .affinity))
        // Every CPU of the affinity mask is on exactly one node (a malformed topology
        // could not have been built).
        let count = Int(spate_affinity_cpus(nil, 0))
        var affinity = [Int32](repeating: 0, count: count)
        #expect(Int(spate_affinity_cpus(&affinity, Int32(count))) == count)
        #expect(Set(t.nodes.flatMap(\.cpus)) == Set(affinity.map(Int.init)))
        #expect(t.cpuCount == Int(spate_available_cpus()))
        for node in t.nodes where t.origin == .libnuma {
            for cpu in node.cpus { #expect(Int(spate_numa_node_of_cpu(Int32(cpu))) == node.id) }
        }
        // The C side refuses nodes that do not exist.
        #expect(spate_numa_node_cpus(-1, nil, 0) == -1)
        #expect(spate_numa_node_cpus(1 << 20, nil, 0) == -1)
    }

    /// A worker thread ends up on the CPU its slot names.
    @Test func enterPinsTheThread() throws {
        let placement = WorkerPlacement(workers: 2, topology: CPUTopology.detect())
        let seen = PlacementCPUBox()
        guard let thread = startThread({
            placement.enter(worker: 1)
            seen.set(Int(spate_current_cpu()))
        }) else {
            Issue.record("no thread")
            return
        }
        pthread_join(thread, nil)
        #expect(seen.value == placement.slots[1].cpu)
    }

    // MARK: - Queries under a placement

    /// A table of `n` rows `i,k,v` (k: 7 groups) in a temporary directory.
    static func table(_ n: Int) throws -> (dir: URL, create: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spate-placement-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var csv = "i,k,v\n"
        for i in 0..<n { csv += "\(i),\(i % 7),\(i * 3 % 101)\n" }
        try Data(csv.utf8).write(to: dir.appendingPathComponent("t.csv"))
        return (dir, "CREATE TABLE t (i BIGINT, k BIGINT, v BIGINT) WITH ('path' = '\(dir.path)/t.csv')")
    }

    func rows(_ sql: String, _ options: ExecutionOptions) throws -> [[String]] {
        let writer = CollectingWriter()
        try Session(options: options).run(sql) { _, _ in writer }
        return writer.rows
    }

    @Test(arguments: [
        "SELECT i, v * 2 AS w FROM t WHERE k <> 3",
        "SELECT k, COUNT(*) AS n, SUM(v) AS s, MAX(i) AS m FROM t GROUP BY k",
    ])
    func queryUnderInjectedTwoNodeTopology(_ select: String) throws {
        let (dir, create) = try Self.table(2000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sql = create + "; " + select
        let reference = try rows(sql, ExecutionOptions(workers: 1, pinWorkers: false))
        #expect(reference.count > 6)
        // Real CPUs of this machine split into two pretend nodes, and a topology naming
        // CPUs it does not have (pinning fails, the workers run unpinned).
        let cpus = CPUTopology.detect().nodes.flatMap(\.cpus)
        let split = cpus.count > 1
            ? try CPUTopology(nodes: [.init(id: 0, cpus: Array(cpus.prefix(cpus.count / 2))),
                                      .init(id: 1, cpus: Array(cpus.dropFirst(cpus.count / 2)))])
            : [0: cpus, 1: [cpus[0] + 1]]
        let absent: CPUTopology = [0: [900, 901], 1: [902, 903]]
        for topology in [split, absent] {
            let options = ExecutionOptions(workers: 3, batchCapacity: 64, morselSize: 500, pinWorkers: true, topology: topology)
            #expect(try rows(sql, options) == reference, "\(topology)")
        }
    }
}

/// A value set by another thread.
final class PlacementCPUBox: @unchecked Sendable {
    private let monitor = Monitor()
    private var stored: Int?

    func set(_ v: Int) { monitor.locked { stored = v } }
    var value: Int? { monitor.locked { stored } }
}
