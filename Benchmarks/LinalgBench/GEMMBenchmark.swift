import Foundation
import Linalg

/// The shapes the GEMM issue asks for: square sizes, the ViT-B/32 MLP shapes, and 1024³ in Double.
let defaultGEMMShapes = ["256x256x256", "768x768x768", "1024x1024x1024", "2048x2048x2048",
                         "3072x768x768", "768x3072x768", "d1024x1024x1024"]

func runGEMMBenchmark(_ options: BenchOptions) {
    let peak = measurePeak()
    if !options.json {
        print("micro-kernels: Float \(Float.microKernel.name), Double \(Double.microKernel.name)")
        print(String(format: "peak (register-only multiply-add): %.1f GFLOP/s on 1 thread, %.1f on 2 (Float)",
                     peak[1] ?? 0, peak[2] ?? 0))
        print("op      shape              threads   seconds      GFLOP/s   % of peak")
    } else {
        for (threads, gflops) in peak.sorted(by: { $0.key < $1.key }) {
            report([("op", "peak_fma"), ("threads", threads), ("gflops", gflops)], json: true, row: "")
        }
    }
    for shape in options.shapes ?? defaultGEMMShapes {
        let double = shape.hasPrefix("d")
        let dims = shape.drop(while: { $0 == "d" }).split(separator: "x").compactMap { Int($0) }
        guard dims.count == 3 else { continue }
        for threads in options.threads {
            let seconds = double
                ? timeGEMM(Double.self, m: dims[0], n: dims[1], k: dims[2], threads: threads, reps: options.repetitions)
                : timeGEMM(Float.self, m: dims[0], n: dims[1], k: dims[2], threads: threads, reps: options.repetitions)
            let gflops = 2.0 * Double(dims[0]) * Double(dims[1]) * Double(dims[2]) / seconds / 1e9
            let name = double ? "dgemm" : "sgemm"
            let plain = "\(dims[0])x\(dims[1])x\(dims[2])"
            // Double peaks at half the Float rate.
            let percent = 100 * gflops / ((peak[threads] ?? .infinity) / (double ? 2 : 1))
            report([("op", name), ("shape", plain), ("threads", threads), ("seconds", seconds), ("gflops", gflops)],
                   json: options.json,
                   row: name + "   " + plain.padding(toLength: 18, withPad: " ", startingAt: 0)
                       + String(format: "%7d  %9.5f  %9.1f   %7.1f%%", threads, seconds, gflops, percent))
        }
    }
}

func timeGEMM<T: LinalgScalar>(_: T.Type, m: Int, n: Int, k: Int, threads: Int, reps: Int) -> Double {
    var generator = SplitMix64(seed: 42)
    let a = Matrix<T>(rows: m, columns: k) { _, _ in T(Float.random(in: -1...1, using: &generator)) }
    let b = Matrix<T>(rows: k, columns: n) { _, _ in T(Float.random(in: -1...1, using: &generator)) }
    var c = Matrix<T>(rows: m, columns: n)
    return a.withView { a in
        b.withView { b in
            c.withMutableView { c in
                medianSeconds(repetitions: reps) { gemm(a, b, into: c, threads: threads) }
            }
        }
    }
}
