/// The first stage of the two-stage bidiagonalization: A = Q₁·B·P₁ᵀ for an m×n matrix (m ≥ n), with
/// B upper triangular of upper bandwidth b (B[i, j] ≠ 0 only for i ≤ j ≤ i + b), as in LAPACK's
/// gebrd_2stage and PLASMA.
///
/// Panel by panel of b columns: a Householder QR of the column panel A(k:, k:k+b) (level 2 on
/// the panel), its block reflector applied from the left to the columns right of it; then an LQ
/// factorization of the row panel A(k:k+b, k+b:) — a QR of its transpose — applied from the right
/// to the rows below. Unlike the one-stage reduction (`Bidiagonalization`), whose matrix–vector
/// products with the trailing matrix make half of its flops memory-bound, every trailing update
/// here is a block reflector: three GEMMs. Cost: 4mn² − 4n³/3 flops, all but O((m + n)·n·b) in
/// GEMM. The band then goes to `BulgeChase`.
///
/// Storage as in QR and gebrd: the column panels' reflector vectors below the diagonal of
/// `factors`, the row panels' right of the band (row k + j of a row panel holds its j-th vector
/// from column k + b + j + 1 on), and each panel's compact-WY triangle T for applying Q₁ and P₁.
struct BandReduction<T: LinalgScalar> {
    /// The band (on and above the diagonal, within `bandwidth`) and the reflector vectors.
    private(set) var factors: Matrix<T>
    /// The upper bandwidth b.
    let bandwidth: Int
    private var leftTriangles: [Matrix<T>] = []
    private var rightTriangles: [Matrix<T>] = []

    /// Reduces `a` (m ≥ n) to upper bandwidth `bandwidth` (≥ 1), the updates on `threads` threads.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    init(_ a: Matrix<T>, bandwidth b: Int, threads: Int?) {
        precondition(a.rows >= a.columns && b >= 1, "band reduction needs rows ≥ columns and a bandwidth ≥ 1")
        let (m, n) = (a.rows, a.columns)
        factors = a
        bandwidth = b
        var tauQ = [T](repeating: 0, count: n), tauP = [T](repeating: 0, count: n)
        var leftTriangles: [Matrix<T>] = [], rightTriangles: [Matrix<T>] = []
        factors.withMutableView { a in
            for k in stride(from: 0, to: n, by: b) {
                let w = min(b, n - k)
                // Column panel: QR, Qᵀ applied to the columns right of it.
                let panel = a.submatrix(row: k, column: k, rows: m - k, columns: w)
                factorPanel(panel, tau: &tauQ, offset: k)
                let left = BlockReflector(stored: panel.view, tau: tauQ[k..<(k + w)], threads: threads)
                leftTriangles.append(left.t)
                let right = n - k - w
                guard right > 0 else { continue }
                left.apply(to: a.submatrix(row: k, column: k + w, rows: m - k, columns: right), transpose: true, threads: threads)
                // Row panel: LQ as the QR of its transpose, then the rows below times its Q from the right.
                let count = min(w, right)
                var transposedPanel = Matrix<T>(uninitializedRows: right, columns: w)
                transposedPanel.withMutableView { p in
                    for j in 0..<w {
                        let row = a.base + ((k + j) * a.leadingDimension + k + w)
                        for t in 0..<right { p[t, j] = row[t] }
                    }
                    factorPanel(p.submatrix(row: 0, column: 0, rows: right, columns: count), tau: &tauP, offset: k)
                    if count < w {
                        BlockReflector(stored: p.view.submatrix(row: 0, column: 0, rows: right, columns: count),
                                       tau: tauP[k..<(k + count)], threads: threads)
                            .apply(to: p.submatrix(row: 0, column: count, rows: right, columns: w - count), transpose: true,
                                   threads: threads)
                    }
                    for j in 0..<w {
                        let row = a.base + ((k + j) * a.leadingDimension + k + w)
                        for t in 0..<right { row[t] = p[t, j] }
                    }
                }
                let rightBlock = transposedPanel.withView { p in
                    BlockReflector(stored: p.submatrix(row: 0, column: 0, rows: right, columns: count),
                                   tau: tauP[k..<(k + count)], threads: threads)
                }
                rightTriangles.append(rightBlock.t)
                if m > k + w {
                    rightBlock.applyFromRight(to: a.submatrix(row: k + w, column: k + w, rows: m - k - w, columns: right),
                                              transpose: false, threads: threads)
                }
            }
        }
        self.leftTriangles = leftTriangles
        self.rightTriangles = rightTriangles
    }

    /// B's entries in compact band storage (`BulgeChase`'s layout).
    var band: [T] { factors.withView { BulgeChase<T>.compactBand(of: $0, bandwidth: bandwidth) } }

    /// C ← Q₁·C for C with m rows: one block reflector per column panel, the last panel first.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func multiplyQ(_ c: MutableMatrixView<T>, threads: Int?) {
        factors.withView { stored in
            for (p, t) in leftTriangles.enumerated().reversed() {
                let k = p * bandwidth
                let block = BlockReflector(stored: stored.submatrix(row: k, column: k, rows: stored.rows - k, columns: t.rows), t: t)
                block.apply(to: c.submatrix(row: k, column: 0, rows: c.rows - k, columns: c.columns), transpose: false,
                            threads: threads)
            }
        }
    }

    /// C ← P₁·C for C with n rows: the row panels' reflectors act on rows k + b… of C.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func multiplyP(_ c: MutableMatrixView<T>, threads: Int?) {
        let n = factors.columns
        factors.withView { stored in
            for (p, t) in rightTriangles.enumerated().reversed() {
                let k = p * bandwidth, first = k + bandwidth
                // Row k + j of the row panel, from column k + b on, is the j-th reflector: a column of the transpose.
                let vectors = stored.submatrix(row: k, column: first, rows: t.rows, columns: n - first).transposed
                BlockReflector(stored: vectors, t: t)
                    .apply(to: c.submatrix(row: first, column: 0, rows: n - first, columns: c.columns), transpose: false,
                           threads: threads)
            }
        }
    }
}
