/// Householder bidiagonalization A = Q·B·Pᵀ of an m×n matrix with m ≥ n, B upper bidiagonal
/// (LAPACK's gebrd with labrd panels).
///
/// Each panel of `blockSize` rows/columns is reduced with level-2 operations while the updates it
/// implies for the rest of the matrix are kept as A − V·Yᵀ − X·Uᵀ (V, U the reflector vectors);
/// the trailing matrix is then updated with two GEMMs. Half of the 4mn² − 4n³/3 flops remain
/// matrix–vector products (two passes over the trailing matrix per column), which is why they
/// are row-oriented, vectorized and split across cores.
public struct Bidiagonalization<T: LinalgScalar> {
    /// Left reflector vectors below the diagonal, right reflector vectors right of the
    /// superdiagonal (diagonal and superdiagonal hold B).
    public private(set) var factors: Matrix<T>
    /// B's diagonal (n) and superdiagonal (n − 1).
    public private(set) var diagonal: [T]
    public private(set) var superdiagonal: [T]
    /// Scalars of the left (n) and right (n − 1) reflectors.
    public private(set) var tauQ: [T]
    public private(set) var tauP: [T]

    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, blockSize: Int = 32) {
        precondition(a.rows >= a.columns, "bidiagonalization needs rows ≥ columns")
        let (m, n) = (a.rows, a.columns)
        factors = a
        var d = [T](repeating: 0, count: n), e = [T](repeating: 0, count: max(0, n - 1))
        var tauQ = [T](repeating: 0, count: n), tauP = [T](repeating: 0, count: max(0, n - 1))
        factors.withMutableView { a in
            var start = 0
            while start < n {
                let nb = min(blockSize, n - start)
                let sub = a.submatrix(row: start, column: start, rows: m - start, columns: n - start)
                var xt = Matrix<T>(rows: nb, columns: m - start)
                var yt = Matrix<T>(rows: nb, columns: n - start)
                xt.withMutableView { xt in
                    yt.withMutableView { yt in
                        reducePanel(sub, steps: nb, xt: xt, yt: yt, start: start, d: &d, e: &e, tauQ: &tauQ, tauP: &tauP)
                        let (mm, nn) = (sub.rows, sub.columns)
                        if nn > nb {
                            // A₂₂ −= V·Yᵀ + X·Uᵀ  (unit entries of V and U are in place)
                            let trailing = sub.submatrix(row: nb, column: nb, rows: mm - nb, columns: nn - nb)
                            gemm(sub.view.submatrix(row: nb, column: 0, rows: mm - nb, columns: nb),
                                 yt.view.submatrix(row: 0, column: nb, rows: nb, columns: nn - nb),
                                 into: trailing, alpha: -1, beta: 1)
                            gemm(xt.view.submatrix(row: 0, column: nb, rows: nb, columns: mm - nb).transposed,
                                 sub.view.submatrix(row: 0, column: nb, rows: nb, columns: nn - nb),
                                 into: trailing, alpha: -1, beta: 1)
                        }
                        // Put B's entries back where the unit entries of the reflectors were.
                        for j in 0..<nb {
                            sub[j, j] = d[start + j]
                            if start + j < n - 1 { sub[j, j + 1] = e[start + j] }
                        }
                    }
                }
                start += nb
            }
        }
        diagonal = d
        superdiagonal = e
        self.tauQ = tauQ
        self.tauP = tauP
    }

    /// C ← Q·C for C with m rows (Q = H₀⋯H_{n−1}, the left reflectors).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyQ(_ c: inout Matrix<T>) {
        factors.withView { stored in
            c.withMutableView { c in applyReflectors(stored, tau: tauQ, to: c, transpose: false) }
        }
    }

    /// C ← P·C for C with n rows (P = G₀⋯G_{n−2}, the right reflectors, acting on rows 1…).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyP(_ c: inout Matrix<T>) {
        let n = factors.columns
        if n < 2 { return }
        factors.withView { stored in
            // Row i of A right of the superdiagonal is a column of this transposed view.
            let reflectors = stored.submatrix(row: 0, column: 1, rows: n - 1, columns: n - 1).transposed
            c.withMutableView { c in
                applyReflectors(reflectors, tau: tauP, to: c.submatrix(row: 1, column: 0, rows: n - 1, columns: c.columns),
                                transpose: false)
            }
        }
    }
}

/// One labrd panel on the trailing matrix `a` (mm × nn): `steps` left/right reflector pairs,
/// accumulating X (stored transposed in `xt`, steps × mm) and Y (in `yt`, steps × nn) so that the
/// not-yet-updated part of `a` equals A − V·Yᵀ − X·Uᵀ.
func reducePanel<T: LinalgScalar>(_ a: MutableMatrixView<T>, steps nb: Int, xt: MutableMatrixView<T>,
                                  yt: MutableMatrixView<T>, start: Int, d: inout [T], e: inout [T],
                                  tauQ: inout [T], tauP: inout [T]) {
    let (mm, nn) = (a.rows, a.columns)
    let lda = a.leadingDimension
    var v = [T](repeating: 0, count: mm)
    var work = [T](repeating: 0, count: max(mm, nn))
    v.withUnsafeMutableBufferPointer { vBuffer in
    work.withUnsafeMutableBufferPointer { workBuffer in
        let vp = vBuffer.baseAddress!, wp = workBuffer.baseAddress!
        let view = a.view
        for i in 0..<nb {
            // Column i, gathered into v (a row-major column is strided by the matrix width; one
            // pass in and one out instead of one per operation):
            // A(i:, i) −= A(i:, :i)·Y(i, :i)ᵀ + X(i:, :i)·A(:i, i).
            for r in 0..<(mm - i) { vp[r] = a[i + r, i] }
            if i > 0 {
                for r in 0..<i { wp[r] = yt[r, i] }
                gemv(view.submatrix(row: i, column: 0, rows: mm - i, columns: i), wp, into: vp, alpha: -1, beta: 1)
                for r in 0..<i { wp[r] = a[r, i] }
                gemv(xt.view.submatrix(row: 0, column: i, rows: i, columns: mm - i).transposed, wp, into: vp, alpha: -1, beta: 1)
            }
            // Left reflector annihilating A(i+1:, i); v = (1, A(i+1:, i)) stays in vp.
            var alpha = vp[0]
            let tq = makeReflector(alpha: &alpha, x: vp + 1, count: mm - i - 1, stride: 1)
            d[start + i] = alpha
            tauQ[start + i] = tq
            vp[0] = 1
            for r in 0..<(mm - i) { a[i + r, i] = vp[r] }
            guard i < nn - 1 else { continue }
            // Y(i+1:, i) = τq·(A(i:, i+1:)ᵀ v − Y(i+1:, :i)·(A(i:, :i)ᵀ v) − A(:i, i+1:)ᵀ·(X(i:, :i)ᵀ v))
            let yRow = yt.base + (i * yt.leadingDimension + i + 1)
            gemv(view.submatrix(row: i, column: i + 1, rows: mm - i, columns: nn - i - 1).transposed, vp, into: yRow)
            if i > 0 {
                gemv(view.submatrix(row: i, column: 0, rows: mm - i, columns: i).transposed, vp, into: wp)
                gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, wp,
                     into: yRow, alpha: -1, beta: 1)
                gemv(xt.view.submatrix(row: 0, column: i, rows: i, columns: mm - i), vp, into: wp)
                gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, wp,
                     into: yRow, alpha: -1, beta: 1)
            }
            for c in 0..<(nn - i - 1) { yRow[c] *= tq }
            // Row i: A(i, i+1:) −= Y(i+1:, :i+1)·A(i, :i+1)ᵀ + A(:i, i+1:)ᵀ·X(i, :i)ᵀ.
            let row = a.base + (i * lda + i + 1)
            gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i + 1, columns: nn - i - 1).transposed,
                 a.base + i * lda, into: row, alpha: -1, beta: 1)
            if i > 0 {
                for r in 0..<i { wp[r] = xt[r, i] }
                gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, wp,
                     into: row, alpha: -1, beta: 1)
            }
            // Right reflector annihilating A(i, i+2:).
            var beta = row[0]
            let tp = makeReflector(alpha: &beta, x: row + 1, count: nn - i - 2, stride: 1)
            e[start + i] = beta
            tauP[start + i] = tp
            row[0] = 1
            // X(i+1:, i) = τp·(A(i+1:, i+1:)·u − A(i+1:, :i+1)·(Y(i+1:, :i+1)ᵀ u) − X(i+1:, :i)·(A(:i, i+1:)·u))
            let xRow = xt.base + (i * xt.leadingDimension + i + 1)
            let u = UnsafePointer(row)
            gemv(view.submatrix(row: i + 1, column: i + 1, rows: mm - i - 1, columns: nn - i - 1), u, into: xRow)
            gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i + 1, columns: nn - i - 1), u, into: wp)
            gemv(view.submatrix(row: i + 1, column: 0, rows: mm - i - 1, columns: i + 1), wp, into: xRow, alpha: -1, beta: 1)
            if i > 0 {
                gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1), u, into: wp)
                gemv(xt.view.submatrix(row: 0, column: i + 1, rows: i, columns: mm - i - 1).transposed, wp,
                     into: xRow, alpha: -1, beta: 1)
            }
            for r in 0..<(mm - i - 1) { xRow[r] *= tp }
        }
    }
    }
}

