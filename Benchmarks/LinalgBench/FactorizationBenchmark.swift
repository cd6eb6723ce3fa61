import Foundation
import Linalg

/// The stages of an SVD, Float, to see where its time goes: blocked Householder QR (`qr`),
/// bidiagonalization (`bidiagonalization`, m ≥ n only), and the SVD with vectors for the leading
/// r/8 values only (`svd_leading`, the TSV-M step).
func runFactorizationBenchmark(_ options: BenchOptions) {
    if !options.json {
        print("op                 shape       threads  milliseconds")
    }
    for shape in options.shapes ?? defaultSVDShapes {
        guard let a = uniformMatrix(shape) else { continue }
        let leading = min(a.rows, a.columns) / 8
        for threads in options.threads {
            var cases: [(String, () -> Void)] = [
                ("svd_leading", { _ = try! TruncatedSVD(a, rank: leading, threads: threads) }),
            ]
            if a.rows >= a.columns {
                cases.append(("qr", { _ = QRFactorization(a, threads: threads) }))
                cases.append(("bidiagonalization", { _ = Bidiagonalization(a, threads: threads) }))
            }
            for (op, body) in cases {
                let seconds = medianSeconds(repetitions: options.repetitions, body)
                report([("op", op), ("shape", shape), ("threads", threads), ("seconds", seconds)], json: options.json,
                       row: op.padding(toLength: 19, withPad: " ", startingAt: 0) + shape.padding(toLength: 12, withPad: " ", startingAt: 0)
                           + String(format: "%7d %12.1f", threads, seconds * 1000))
            }
        }
    }
}
