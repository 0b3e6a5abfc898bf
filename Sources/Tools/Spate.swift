import ArgumentParser
import Engine

@main
struct Spate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spate",
        abstract: "Streaming SQL over CSV files and event logs, on one machine.",
        version: SpateVersion.string
    )
}
