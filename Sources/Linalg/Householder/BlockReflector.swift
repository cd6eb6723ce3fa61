/// Compact WY representation of a product of reflectors, H₀H₁⋯H_{b−1} = I − V·T·Vᵀ (Schreiber
/// and Van Loan), so that applying b reflectors to a matrix is three GEMMs instead of 2b
/// rank-1 passes.

/// A block of b reflectors: V (rows × b, unit lower trapezoidal, explicit ones and zeros) and the
/// upper triangular b×b factor T.
struct BlockReflector<T: LinalgScalar> {
    var v: Matrix<T>
    var t: Matrix<T>

    /// Builds the block from reflector vectors stored below the diagonal of `stored` (column j
    /// holds v_j from row j + 1 down; v_j[j] = 1 is implicit) with scalars τ.
    /// T is formed as in LAPACK's larft, T[j, j] = τ_j, T[0..<j, j] = −τ_j·T[0..<j, 0..<j]·(VᵀV)[0..<j, j],
    /// with the Gram matrix VᵀV from one GEMM. Cost: 2·rows·b² + b³/3 flops.
    init(stored: MatrixView<T>, tau: ArraySlice<T>, threads: Int? = nil) {
        let b = stored.columns
        precondition(tau.count == b && b <= stored.rows, "block reflector needs b ≤ rows and b scalars")
        let v = Self.explicitVectors(stored)
        var gram = Matrix<T>(rows: b, columns: b)
        v.withView { v in gram.withMutableView { g in gemm(v.transposed, v, into: g, threads: threads) } }
        var t = Matrix<T>(rows: b, columns: b)
        let taus = Array(tau)
        t.withMutableView { t in
            for j in 0..<b {
                t[j, j] = taus[j]
                if taus[j] == 0 { continue }
                for p in 0..<j {
                    var sum: T = 0
                    for q in p..<j { sum += t[p, q] * gram[q, j] }
                    t[p, j] = -taus[j] * sum
                }
            }
        }
        self.v = v
        self.t = t
    }

    /// The block with a triangular factor formed earlier for the same reflectors (by the
    /// factorization that made them): only V is copied out of `stored`.
    init(stored: MatrixView<T>, t: Matrix<T>) {
        precondition(t.rows == stored.columns && t.columns == stored.columns, "T must be b × b for b reflectors")
        self.v = Self.explicitVectors(stored)
        self.t = t
    }

    /// V with its unit diagonal and zeros above it written out, from vectors stored below the diagonal.
    private static func explicitVectors(_ stored: MatrixView<T>) -> Matrix<T> {
        let (rows, b) = (stored.rows, stored.columns)
        var v = Matrix<T>(rows: rows, columns: b)
        v.withMutableView { v in
            for i in 0..<rows {
                let row = v.base + i * v.leadingDimension
                for j in 0..<min(i, b) { row[j] = stored[i, j] }
                if i < b { row[i] = 1 }
            }
        }
        return v
    }

    /// C ← H·C = (I − V T Vᵀ)·C, or Hᵀ·C = (I − V Tᵀ Vᵀ)·C when `transpose`. C has V's row
    /// count. Cost: 4·rows·b·cols + b²·cols flops, almost all in GEMM.
    ///
    /// The columns of C are independent problems, so several threads take a band of columns each
    /// and run all three products on it: each thread reads and writes only its own part of C,
    /// which then stays in its core's cache between the products (splitting each GEMM on its own
    /// would hand C from one core to the other between them). Per column the arithmetic is the
    /// same for any banding, so the result does not depend on the thread count.
    func apply(to c: MutableMatrixView<T>, transpose: Bool, threads: Int? = nil) {
        let b = t.rows
        if b == 0 || c.columns == 0 { return }
        let split = inBands(c.columns, grain: T.microKernel.columns, flops: 4 * Double(c.rows) * Double(b) * Double(c.columns),
                            threads: threads) { band in
            apply(to: c.submatrix(row: 0, column: band.lowerBound, rows: c.rows, columns: band.count),
                  transpose: transpose, threads: 1)
        }
        if split { return }
        // Written in full by β = 0 GEMMs, which never read them.
        var w = Matrix<T>(uninitializedRows: b, columns: c.columns)
        var tw = Matrix<T>(uninitializedRows: b, columns: c.columns)
        v.withView { v in
            w.withMutableView { w in gemm(v.transposed, c.view, into: w, threads: threads) }
            t.withView { t in
                w.withView { w in
                    tw.withMutableView { tw in gemm(transpose ? t.transposed : t, w, into: tw, threads: threads) }
                }
            }
            tw.withView { tw in gemm(v, tw, into: c, alpha: -1, beta: 1, threads: threads) }
        }
    }
}

/// Runs `body` concurrently on bands of `count` independent rows or columns (bounds multiples of
/// `grain`), one band per thread, when work of `flops` warrants more than one thread; returns
/// whether it did. A caller that gets false does the work itself, unsplit.
private func inBands(_ count: Int, grain: Int, flops: Double, threads: Int?, _ body: @Sendable (Range<Int>) -> Void) -> Bool {
    let bands = Parallelism.split(count, into: Parallelism.threads(requested: threads, flops: flops), grain: grain)
    guard bands.count > 1 else { return false }
    Parallelism.forEach(bands.count) { body(bands[$0]) }
    return true
}

/// The product Q = H₀H₁⋯H_{k−1} of reflectors stored below the diagonal of `stored` (rows × k),
/// applied from the left: C ← Q·C, or C ← Qᵀ·C when `transpose`. Blocks of `blockSize`
/// reflectors (default `reflectorBlockSize(rows:)`) go through `BlockReflector`; H_j touches rows j… only.
func applyReflectors<T: LinalgScalar>(_ stored: MatrixView<T>, tau: [T], to c: MutableMatrixView<T>,
                                      transpose: Bool, blockSize: Int? = nil, threads: Int? = nil) {
    let blockSize = blockSize ?? reflectorBlockSize(rows: stored.rows)
    let k = tau.count
    precondition(stored.rows == c.rows && stored.columns >= k, "reflectors and C disagree in rows")
    let starts = Array(stride(from: 0, to: k, by: blockSize))
    // Q·C applies H_{k−1} first; Qᵀ·C applies H₀ᵀ first.
    for start in transpose ? starts : starts.reversed() {
        let b = min(blockSize, k - start)
        let rows = stored.rows - start
        let block = BlockReflector(stored: stored.submatrix(row: start, column: start, rows: rows, columns: b),
                                   tau: tau[start..<(start + b)], threads: threads)
        block.apply(to: c.submatrix(row: start, column: 0, rows: rows, columns: c.columns), transpose: transpose, threads: threads)
    }
}

/// Reflectors per block when a product of reflectors is applied: each block reads and writes C
/// once (three GEMMs with inner dimension b), so larger blocks pass over C fewer times, while T's
/// b² and V's explicit zero triangle weigh more on a small C. Measured on the back-transformation
/// of the bidiagonal SVD (two threads): 128 reflectors took 0.91× the time of 64 at 4096², the same
/// at 2048² and 1.22× at 768²; hence 128 from 4096 rows.
func reflectorBlockSize(rows: Int) -> Int { rows >= 4096 ? 128 : 64 }

extension BlockReflector {
    /// C ← C·H = C − (C·V)·T·Vᵀ, or C·Hᵀ = C − (C·V)·Tᵀ·Vᵀ when `transpose`. C has as many columns
    /// as V has rows. Cost: 4·rows·b·cols + b²·rows flops, almost all in GEMM; the rows of C are
    /// independent, so threads take a band of rows each, as `apply(to:transpose:threads:)` takes
    /// columns.
    func applyFromRight(to c: MutableMatrixView<T>, transpose: Bool, threads: Int? = nil) {
        let b = t.rows
        if b == 0 || c.rows == 0 { return }
        let split = inBands(c.rows, grain: T.microKernel.rows, flops: 4 * Double(c.rows) * Double(b) * Double(c.columns),
                            threads: threads) { band in
            applyFromRight(to: c.submatrix(row: band.lowerBound, column: 0, rows: band.count, columns: c.columns),
                           transpose: transpose, threads: 1)
        }
        if split { return }
        var w = Matrix<T>(uninitializedRows: c.rows, columns: b)
        var wt = Matrix<T>(uninitializedRows: c.rows, columns: b)
        v.withView { v in
            w.withMutableView { w in gemm(c.view, v, into: w, threads: 1) }
            t.withView { t in
                w.withView { w in
                    wt.withMutableView { wt in gemm(w, transpose ? t.transposed : t, into: wt, threads: 1) }
                }
            }
            wt.withView { wt in gemm(wt, v.transposed, into: c, alpha: -1, beta: 1, threads: 1) }
        }
    }
}
