// swift-tools-version:6.0
import PackageDescription

// No dependencies and no unsafe flags: the package stays usable as a versioned dependency.
// Speed comes from the build command, not from this file:
//   swift build -c release -Xswiftc -target-cpu -Xswiftc native
let package = Package(
    name: "IsoMerge",
    products: [
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "IsoMerge", targets: ["IsoMerge"]),
        .library(name: "IsoMergePlot", targets: ["IsoMergePlot"]),
        .executable(name: "isomerge", targets: ["isomerge"]),
        .executable(name: "linalg-bench", targets: ["LinalgBench"]),
        .executable(name: "merge-bench", targets: ["MergeBench"]),
    ],
    targets: [
        .target(name: "Linalg"),
        .target(name: "IsoMerge", dependencies: ["Linalg"]),
        // SVG figures of analysis reports, and the demo's tiny multi-task world: outside the
        // library so that a package merging checkpoints does not compile them.
        .target(name: "IsoMergePlot", dependencies: ["IsoMerge"]),
        .target(name: "IsoMergeDemo", dependencies: ["IsoMerge", "Linalg"]),
        .executableTarget(name: "isomerge", dependencies: ["IsoMerge", "IsoMergePlot", "IsoMergeDemo", "Linalg"]),
        .executableTarget(name: "LinalgBench", dependencies: ["Linalg"], path: "Benchmarks/LinalgBench"),
        .executableTarget(name: "MergeBench", dependencies: ["IsoMerge"], path: "Benchmarks/MergeBench"),
        // Seeded random matrices and error measures shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Linalg"], path: "Tests/TestSupport"),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "IsoMergeTests", dependencies: ["IsoMerge", "IsoMergePlot", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CommandLineTests", dependencies: ["isomerge", "IsoMerge", "IsoMergePlot"], resources: [.copy("Fixtures")]),
    ]
)
