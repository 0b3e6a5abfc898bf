// swift-tools-version: 6.1
import PackageDescription

// C targets are compiled at -O2 even in debug builds: the kernel tests run every
// kernel at every ISA level over many sizes, and -O0 C makes them crawl.
let cOptimize: [CSetting] = [.unsafeFlags(["-O2"])]

// Release builds skip the dynamic exclusivity checks on class properties (every
// column access paid for one); debug builds and the tests keep them.
let swiftRelease: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Spate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "spate", targets: ["spate"]),
        .library(name: "SpateEngine", targets: ["Engine"]),
        .library(name: "SpateColumnar", targets: ["Columnar"]),
        .library(name: "CKernels", targets: ["CKernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // System libraries, reached through module maps (used for real by later issues:
        // zstd for spill/checkpoint/capture files, libnuma for worker placement).
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CNuma", path: "Sources/CNuma", pkgConfig: "numa",
            providers: [.apt(["libnuma-dev"])]),
        // What Swift cannot import from Glibc/libnuma: CPU affinity macros and the like.
        .target(
            name: "CPlatform", dependencies: ["CNuma"], path: "Sources/CPlatform",
            linkerSettings: [.linkedLibrary("numa")]),
        // Vectorized C kernels: scalar reference + AVX2 + AVX-512, dispatched at run time.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: cOptimize),
        .target(
            name: "Columnar", dependencies: ["CKernels", "CZstd"], path: "Sources/Columnar",
            swiftSettings: swiftRelease,
            linkerSettings: [.linkedLibrary("zstd")]),
        .target(
            name: "Engine",
            dependencies: [
                "Columnar", "CKernels", "CPlatform", "CZstd",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/Engine",
            swiftSettings: swiftRelease,
            linkerSettings: [.linkedLibrary("zstd")]),
        .executableTarget(
            name: "spate",
            dependencies: [
                "Engine", "Columnar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Tools"),
        // Helpers shared by the test targets (deterministic random numbers).
        .target(name: "SpateTestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "CKernelsTests", dependencies: ["CKernels", "SpateTestSupport"], path: "Tests/CKernelsTests"),
        .testTarget(
            name: "ColumnarTests", dependencies: ["Columnar", "CKernels", "SpateTestSupport"],
            path: "Tests/ColumnarTests"),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "Columnar", "SpateTestSupport"],
            path: "Tests/EngineTests",
            exclude: ["sql"]),
    ]
)
