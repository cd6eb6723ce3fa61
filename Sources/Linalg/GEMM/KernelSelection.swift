import Dispatch

/// A GEMM register tile: its shape, its arithmetic, and the function that runs it.
///
/// Swift cannot ask at compile time whether the build targets a CPU with FMA and wide vectors
/// (there is no `#if` on CPU features), and guessing wrong is expensive: at the x86-64 baseline a
/// fused kernel runs ~200× slower than an unfused one, while with `-target-cpu native` on an
/// AVX-512 machine the 6×64 `SIMD16` fused tile is ~2× faster than any other. So, like FFTW's
/// planner, the process times each candidate once on a small packed problem (about a
/// millisecond) and keeps the fastest. The candidates are far apart on every target, so the
/// choice is stable from run to run.
public struct MicroKernel<Scalar: LinalgScalar>: Sendable {
    /// How many vectors of accumulators make one row of the tile.
    enum RowVectors: Int, Sendable { case two = 2, four = 4 }

    /// A readable description, e.g. "6x64 SIMD16 fused".
    public let name: String
    /// Rows of the register tile (the height of a packed Ã micro-panel).
    public let rows: Int
    /// Columns of the register tile (the width of a packed B̃ micro-panel).
    public let columns: Int
    let run: @Sendable (Int, UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>,
                        Int, Scalar, Scalar) -> Void

    init<V: SIMD, Arithmetic: MultiplyAdd>(name: String, vector: V.Type, rowVectors: RowVectors,
                                           arithmetic: Arithmetic.Type) where V.Scalar == Scalar, V: SendableMetatype {
        self.name = name
        self.rows = microRows
        self.columns = rowVectors.rawValue * V.scalarCount
        switch rowVectors {
        case .four:
            run = { kc, a, b, c, ldc, alpha, beta in
                microKernel6x4(V.self, Arithmetic.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
            }
        case .two:
            run = { kc, a, b, c, ldc, alpha, beta in
                microKernel6x2(V.self, Arithmetic.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
            }
        }
    }

    /// The candidate with the best measured rate; ties go to the earlier (wider) one.
    static func fastest(among candidates: [MicroKernel]) -> MicroKernel {
        let rates = candidates.map { $0.measuredFlopsPerNanosecond() }
        let best = rates.indices.max { rates[$0] < rates[$1] || (rates[$0] == rates[$1] && $0 < $1) }!
        return candidates[best]
    }

    /// Best-of-several rate on a kc = 128 problem held in L1/L2.
    func measuredFlopsPerNanosecond() -> Double {
        let kc = 128
        let a = AlignedBuffer<Scalar>(count: rows * kc)
        let b = AlignedBuffer<Scalar>(count: columns * kc)
        let c = AlignedBuffer<Scalar>(count: rows * columns)
        for i in 0..<a.count { a.pointer[i] = Scalar(i % 7) * 0.125 }
        for i in 0..<b.count { b.pointer[i] = Scalar(i % 5) * 0.25 }
        let repetitions = 8
        var best = UInt64.max
        for _ in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repetitions {
                run(kc, a.pointer, b.pointer, c.pointer, columns, 1, 1)
            }
            best = min(best, DispatchTime.now().uptimeNanoseconds - start)
        }
        let flops = Double(2 * rows * columns * kc * repetitions)
        return flops / Double(max(best, 1))
    }
}
