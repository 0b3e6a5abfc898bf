import Foundation
import Testing

/// `spate sql --explain` shows where the workers run, and `SPATE_TOPOLOGY` fakes the
/// machine's NUMA nodes for it and for a real run.
@Suite struct PlacementCLITests {
    let cli = CLITests()

    /// Runs `spate ARGS` with SPATE_TOPOLOGY set to `topology` (nil: unset). The shared
    /// runner replaces every "SPATE" in a shell line with the binary's path, so the
    /// variable's name is written in two quoted halves that bash joins.
    /// `morsel` sets SPATE_MORSEL_SIZE, so a small input still spreads over the workers.
    func spate(topology: String?, morsel: Int? = nil, _ args: String) throws -> CLITests.Output {
        let name = "\"SPAT\"\"E_TOPOLOGY\""
        var env = topology.map { "env \(name)='\($0)'" } ?? "env -u \(name)"
        if let morsel { env += " \"SPAT\"\"E_MORSEL_SIZE\"=\(morsel)" }
        return try cli.spate([], shell: "\(env) SPATE \(args)")
    }

    @Test func explainShowsPlacementOverInjectedNodes() throws {
        let r = try spate(topology: "0:0-3;1:4-7", "sql --explain -f data/q_tumble.sql --workers 4")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\nPlacement: 4 workers over 2 NUMA nodes (topology from SPATE_TOPOLOGY), memory local to each node: w0 -> node 0 cpu 0, w1 -> node 1 cpu 4, w2 -> node 0 cpu 1, w3 -> node 1 cpu 5\n"),
                "\(r.stdout)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")

        let four = try spate(topology: "0:0,1;1:2,3;2:4,5;3:6,7", "sql --explain -f data/q_tumble.sql --workers 6")
        #expect(four.stdout.contains("Placement: 6 workers over 4 NUMA nodes (topology from SPATE_TOPOLOGY), memory local to each node: w0 -> node 0 cpu 0, w1 -> node 1 cpu 2, w2 -> node 2 cpu 4, w3 -> node 3 cpu 6, w4 -> node 0 cpu 1, w5 -> node 1 cpu 3"),
                "\(four.stdout)")
    }

    @Test func explainOnThisMachine() throws {
        let two = try spate(topology: nil, "sql --explain -f data/q_tumble.sql --workers 2")
        #expect(two.status == 0, "\(two.stderr)")
        let line = two.stdout.split(separator: "\n").first { $0.hasPrefix("Placement: ") }
        // The machine here has one node; a NUMA machine says "over N NUMA nodes".
        #expect(line?.contains("Placement: 2 workers, 1 node: w0 -> cpu ") == true
                || line?.contains("Placement: 2 workers over ") == true, "\(two.stdout)")
        let one = try spate(topology: nil, "sql --explain -f data/q_tumble.sql --workers 1")
        #expect(one.stdout.contains("Placement: 1 worker, not pinned (it runs on the calling thread)"), "\(one.stdout)")
    }

    @Test func malformedTopologyIsReportedAndIgnored() throws {
        let r = try spate(topology: "0:0-3;1:", "sql --explain -f data/q_tumble.sql --workers 2")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("spate: ignoring SPATE_TOPOLOGY, using the machine's CPU topology:"), "\(r.stderr)")
        #expect(r.stderr.contains("SPATE_TOPOLOGY:1:9: error: expected a CPU number"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: "), "\(r.stderr)")
        #expect(r.stdout.contains("Placement: 2 workers"), "\(r.stdout)")
        #expect(!r.stdout.contains("topology from SPATE_TOPOLOGY"), "\(r.stdout)")
    }

    @Test func queryUnderInjectedTopologyGivesTheSameResult() throws {
        let reference = try spate(topology: nil, "sql -f data/q_tumble.sql --workers 1")
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(reference.stdout.split(separator: "\n").count > 10)
        let placed = try spate(topology: "0:0;1:1", morsel: 4000, "sql -f data/q_tumble.sql --workers 3")
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(placed.stdout == reference.stdout)
        let filtered = try spate(topology: "0:0-3;1:4-7", morsel: 3000, "sql -f data/q_filter.sql --workers 4")
        let filteredOne = try spate(topology: nil, "sql -f data/q_filter.sql --workers 1")
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(filtered.stdout == filteredOne.stdout)
    }
}
