// swift-tools-version: 6.1
// Spate's benchmarks live in their own package so that the main build and CI do not
// pay for package-benchmark (it triples a clean build; see shared TOOLCHAIN.md).
//
//   cd Benchmarks && swift package --disable-sandbox benchmark --no-progress
//   cd Benchmarks && swift package --disable-sandbox benchmark --target KernelBenchmarks --filter 'filter.*'
import PackageDescription

let package = Package(
    name: "SpateBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Spate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // C kernels at every ISA level the machine has (one benchmark per level).
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CKernels", package: "Spate"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
