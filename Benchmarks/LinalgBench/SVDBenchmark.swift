import Foundation
import Linalg

/// The SVD issue's shapes: ViT-B/32 matrices and squares.
let defaultSVDShapes = ["768x768", "2304x768", "3072x768", "768x3072", "1024x1024", "2048x2048"]
/// `--shapes large`: LLM-sized matrices (a 7B model's square and MLP projections).
let largeSVDShapes = ["4096x4096", "11008x4096", "4096x11008"]

/// Thin SVD with vectors (`sgesdd_uv`), values only (`sgesdd_s`) and the polar factor, Float,
/// for each algorithm and thread count; once per shape and thread count, the truncated SVD of the
/// min(m, n)/4 leading triplets (`truncated`, TSV-M's share of four tasks; it takes the library's
/// choice of algorithm, `auto`) and two stages of the bidiagonal path alone: `reduction` ([QR →]
/// bidiagonalization) and `back_transformation` (forming U = [Q]·Q_B·[U_B; 0] and V = P_B·V_B
/// from the reflectors, for n×n U_B and V_B),
/// each for the one-stage reduction (`one_stage`) and the two-stage one (`two_stage_bB`, band
/// width B from `--bandwidth`, default the library's). So, where the library takes the reduction
/// timed, sgesdd_s − reduction is the bidiagonal solve without vectors, and sgesdd_uv − reduction −
/// back_transformation the divide and conquer with vectors. `--ops` picks some of these rows.
func runSVDBenchmark(_ options: BenchOptions, algorithms: [SVDAlgorithm]) {
    if !options.json {
        print("op                   algorithm       shape           threads  milliseconds")
    }
    let shapes = (options.shapes ?? defaultSVDShapes).flatMap { $0 == "large" ? largeSVDShapes : [$0] }
    for shape in shapes {
        guard let a = uniformMatrix(shape) else { continue }
        for algorithm in algorithms {
            for threads in options.threads {
                let cases: [(String, () -> Void)] = [
                    ("sgesdd_uv", { _ = try! SVD(a, algorithm: algorithm, threads: threads) }),
                    ("sgesdd_s", { _ = try! SVD<Float>.singularValues(of: a, algorithm: algorithm, threads: threads) }),
                    ("polar", { _ = try! PolarDecomposition(a, relativeThreshold: 0, algorithm: algorithm, threads: threads) }),
                ]
                for (op, body) in cases where options.times(op) {
                    reportSVDTime(op: op, algorithm: algorithm.rawValue, shape: shape, threads: threads,
                                  seconds: medianSeconds(repetitions: options.repetitions, body), json: options.json)
                }
            }
        }
        for threads in options.threads {
            if options.times("truncated") {
                reportSVDTime(op: "truncated", algorithm: "auto", shape: shape, threads: threads,
                              seconds: medianSeconds(repetitions: options.repetitions) {
                                  _ = try! TruncatedSVD(a, rank: min(a.rows, a.columns) / 4, threads: threads)
                              }, json: options.json)
            }
            timeStages(a, shape: shape, name: "one_stage", threads: threads, options: options) {
                Bidiagonalization($0, threads: threads)
            }
            for b in options.bandwidths ?? [TwoStageBidiagonalization<Float>.defaultBandwidth] {
                timeStages(a, shape: shape, name: "two_stage_b\(b)", threads: threads, options: options) {
                    TwoStageBidiagonalization($0, bandwidth: b, threads: threads)
                }
            }
        }
    }
}

/// The `reduction` and `back_transformation` rows of one reduction (`reduce`: one or two stages).
func timeStages<R: BidiagonalReduction<Float>>(_ a: Matrix<Float>, shape: String, name: String, threads: Int,
                                               options: BenchOptions, reduce: (Matrix<Float>) -> R) {
    if options.times("reduction") {
        reportSVDTime(op: "reduction", algorithm: name, shape: shape, threads: threads,
                      seconds: medianSeconds(repetitions: options.repetitions) {
                          _ = reduceToBidiagonal(a, threads: threads, reduce)
                      }, json: options.json)
    }
    guard options.times("back_transformation") else { return }
    let (qr, reduction) = reduceToBidiagonal(a, threads: threads, reduce)
    reportSVDTime(op: "back_transformation", algorithm: name, shape: shape, threads: threads,
                  seconds: medianSeconds(repetitions: options.repetitions) {
                      backTransform(qr, reduction, rows: max(a.rows, a.columns), threads: threads)
                  }, json: options.json)
}

/// The bidiagonal path's first stage on `a`: the transpose of a wide matrix, a QR factorization
/// first when rows ≥ 11/6 columns (the library's rule), then `reduce` (one or two stages).
func reduceToBidiagonal<R: BidiagonalReduction<Float>>(_ a: Matrix<Float>, threads: Int, _ reduce: (Matrix<Float>) -> R)
    -> (QRFactorization<Float>?, R) {
    let tall = a.rows >= a.columns ? a : a.transposed
    let qr = 6 * tall.rows >= 11 * tall.columns ? QRFactorization(tall, threads: threads) : nil
    return (qr, reduce(qr?.r ?? tall))
}

/// The bidiagonal path's back-transformation for all n vectors: U = [Q]·Q_B·[I; 0] (`rows` × n)
/// and V = P_B·I (the divide and conquer's U_B and V_B replaced by identities: the cost does not
/// depend on their entries).
func backTransform<R: BidiagonalReduction<Float>>(_ qr: QRFactorization<Float>?, _ reduction: R, rows: Int, threads: Int) {
    let n = reduction.diagonal.count
    var u = Matrix<Float>(rows: reduction.rows, columns: n) { i, j in i == j ? 1 : 0 }
    reduction.multiplyQ(&u, threads: threads)
    if let qr {
        var full = Matrix<Float>(rows: rows, columns: n)
        full.place(u, row: 0, column: 0)
        qr.multiplyQ(&full, transpose: false, threads: threads)
    }
    var v = Matrix<Float>.identity(n)
    reduction.multiplyP(&v, threads: threads)
}

/// One timing as a JSON line or a table row.
func reportSVDTime(op: String, algorithm: String, shape: String, threads: Int, seconds: Double, json: Bool) {
    report([("op", op), ("algorithm", algorithm), ("shape", shape), ("threads", threads), ("seconds", seconds)], json: json,
           row: op.padding(toLength: 21, withPad: " ", startingAt: 0)
               + [algorithm, shape].map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined()
               + String(format: "%7d %12.1f", threads, seconds * 1000))
}

/// A seeded uniform [−1, 1] Float matrix of shape "MxN", or nil for a malformed shape.
func uniformMatrix(_ shape: String) -> Matrix<Float>? {
    let dims = shape.split(separator: "x").compactMap { Int($0) }
    guard dims.count == 2 else { return nil }
    var generator = SplitMix64(seed: 7)
    return Matrix<Float>(rows: dims[0], columns: dims[1]) { _, _ in Float.random(in: -1...1, using: &generator) }
}
