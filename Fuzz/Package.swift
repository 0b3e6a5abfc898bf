// swift-tools-version: 6.1
// A libFuzzer target for Spate's CSV reader, in its own package so the main build
// never needs the fuzzer runtime. See README.md ("Fuzzing") for how to run it:
//
//   cd Fuzz && swift build -c debug --product CSVFuzz -Xswiftc -sanitize=fuzzer,address
//   .build/debug/CSVFuzz -max_total_time=600 -max_len=4096 Corpus/
import PackageDescription

let package = Package(
    name: "SpateFuzz",
    dependencies: [
        .package(name: "Spate", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "CSVFuzz",
            dependencies: [.product(name: "SpateColumnar", package: "Spate")],
            path: "Sources/CSVFuzz",
            // libFuzzer provides main().
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
