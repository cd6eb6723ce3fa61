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
        .executable(name: "isomerge", targets: ["isomerge"]),
        .executable(name: "linalg-bench", targets: ["LinalgBench"]),
        .executable(name: "merge-bench", targets: ["MergeBench"]),
    ],
    targets: [
        .target(name: "Linalg"),
        .target(name: "IsoMerge", dependencies: ["Linalg"]),
        .executableTarget(name: "isomerge", dependencies: ["IsoMerge", "Linalg"]),
        .executableTarget(name: "LinalgBench", dependencies: ["Linalg"], path: "Benchmarks/LinalgBench"),
        .executableTarget(name: "MergeBench", dependencies: ["IsoMerge"], path: "Benchmarks/MergeBench"),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg"]),
        .testTarget(name: "IsoMergeTests", dependencies: ["IsoMerge"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CommandLineTests", dependencies: ["isomerge", "IsoMerge"], resources: [.copy("Fixtures")]),
    ]
)
