import Dispatch

/// The signature every register tile runs with: (kc, Ã, B̃, C, ldc, α, β) for
/// C[0..<rows, 0..<columns] ← α·Ã·B̃ + β·C, where Ã is a packed rows×kc micro-panel, B̃ a packed
/// kc×columns micro-panel and C a row-major tile with leading dimension ldc.
typealias MicroKernelFunction<T> = @Sendable (Int, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>,
                                              Int, T, T) -> Void

/// A GEMM micro-kernel: a register tile (its shape and the function that runs it) and the cache
/// blocking the five loops of `gemm` use around it.
///
/// Each tile file under `GEMM/MicroKernels/` declares its kernels with their blocking;
/// `KernelRegistry.swift` lists the candidates per scalar type, and the process keeps the fastest
/// (`LinalgScalar.microKernel`).
///
/// Selection is by measurement because Swift cannot ask at compile time whether the build targets
/// a CPU with FMA and wide vectors (there is no `#if` on CPU features), and the candidates' rates
/// differ by large factors from one target to another: at the x86-64 baseline a fused tile calls
/// libm per lane, while with `-target-cpu native` the widest fused tile that fits the register
/// file wins. So, like FFTW's planner, the process times each candidate once on a small packed
/// problem (about a millisecond in all) and keeps the fastest. The results of `gemm` do not depend
/// on the choice beyond roundoff, and the choice is stable from run to run because the rates are
/// far apart.
public struct MicroKernel<Scalar: LinalgScalar>: Sendable {
    /// A readable description, e.g. "6x64 SIMD16 fused".
    public let name: String
    /// Rows of the register tile (mr, the height of a packed Ã micro-panel).
    public let rows: Int
    /// Columns of the register tile (nr, the width of a packed B̃ micro-panel).
    public let columns: Int
    /// The cache block sizes the five loops use with this tile.
    public let blocking: CacheBlocking
    /// Runs one full tile.
    let run: MicroKernelFunction<Scalar>

    init(name: String, rows: Int, columns: Int, blocking: CacheBlocking, run: @escaping MicroKernelFunction<Scalar>) {
        self.name = name
        self.rows = rows
        self.columns = columns
        self.blocking = blocking
        self.run = run
    }

    /// The candidate with the best measured rate (among equal rates, the last one).
    static func fastest(among candidates: [MicroKernel]) -> MicroKernel {
        candidates[indexOfFastest(rates: candidates.map { $0.measuredFlopsPerNanosecond() })]
    }

    /// The position of the highest rate, the last one among equal rates.
    static func indexOfFastest(rates: [Double]) -> Int {
        rates.indices.max { rates[$0] < rates[$1] || (rates[$0] == rates[$1] && $0 < $1) }!
    }

    /// Best-of-four rate over 8 runs of a kc = 128 tile, operands held in L1/L2. Cost:
    /// 64·rows·columns·128 flops (3·10⁶ for a 6×64 tile).
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
