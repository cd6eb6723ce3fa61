import Foundation
import Linalg

/// The SVD issue's shapes: ViT-B/32 matrices and squares.
let defaultSVDShapes = ["768x768", "2304x768", "3072x768", "768x3072", "1024x1024", "2048x2048"]

/// Thin SVD with vectors (`sgesdd_uv`), values only (`sgesdd_s`) and the polar factor, Float,
/// for each algorithm and thread count.
func runSVDBenchmark(_ options: BenchOptions, algorithms: [SVDAlgorithm]) {
    if !options.json {
        print("op          algorithm   shape       threads  milliseconds")
    }
    for shape in options.shapes ?? defaultSVDShapes {
        guard let a = uniformMatrix(shape) else { continue }
        for algorithm in algorithms {
            for threads in options.threads {
                let cases: [(String, () -> Void)] = [
                    ("sgesdd_uv", { _ = try! SVD(a, algorithm: algorithm, threads: threads) }),
                    ("sgesdd_s", { _ = try! SVD<Float>.singularValues(of: a, algorithm: algorithm, threads: threads) }),
                    ("polar", { _ = try! PolarDecomposition(a, relativeThreshold: 0, algorithm: algorithm, threads: threads) }),
                ]
                for (op, body) in cases {
                    let seconds = medianSeconds(repetitions: options.repetitions, body)
                    report([("op", op), ("algorithm", algorithm.rawValue), ("shape", shape), ("threads", threads),
                            ("seconds", seconds)], json: options.json,
                           row: [op, algorithm.rawValue, shape].map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
                               + String(format: "%7d %12.1f", threads, seconds * 1000))
                }
            }
        }
    }
}

/// A seeded uniform [−1, 1] Float matrix of shape "MxN", or nil for a malformed shape.
func uniformMatrix(_ shape: String) -> Matrix<Float>? {
    let dims = shape.split(separator: "x").compactMap { Int($0) }
    guard dims.count == 2 else { return nil }
    var generator = SplitMix64(seed: 7)
    return Matrix<Float>(rows: dims[0], columns: dims[1]) { _, _ in Float.random(in: -1...1, using: &generator) }
}
