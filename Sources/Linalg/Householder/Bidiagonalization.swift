/// Householder bidiagonalization A = Q·B·Pᵀ of an m×n matrix with m ≥ n, B upper bidiagonal
/// (LAPACK's gebrd with labrd panels).
///
/// Each panel of `blockSize` rows/columns is reduced with level-2 operations while the updates it
/// implies for the rest of the matrix are kept as A − V·Yᵀ − X·Uᵀ (V, U the reflector vectors);
/// the trailing matrix is then updated with two GEMMs. Half of the 4mn² − 4n³/3 flops remain
/// matrix–vector products, bound by memory traffic; they are vectorized and fused so that each
/// column costs one pass over the trailing matrix instead of two (see `reducePanel`), and that
/// pass is split over threads for large trailing matrices (`FusedProductPass`).
public struct Bidiagonalization<T: LinalgScalar> {
    /// Left reflector vectors below the diagonal, right reflector vectors right of the
    /// superdiagonal (diagonal and superdiagonal hold B).
    public private(set) var factors: Matrix<T>
    /// B's diagonal, n values.
    public private(set) var diagonal: [T]
    /// B's superdiagonal, n − 1 values.
    public private(set) var superdiagonal: [T]
    /// The scalars τ of the left reflectors (Q), n values.
    public private(set) var tauQ: [T]
    /// The scalars τ of the right reflectors (P), n − 1 values.
    public private(set) var tauP: [T]

    /// Reduces `a` (m ≥ n) in panels of `blockSize` columns, the trailing updates on `threads`
    /// threads (nil: ``Parallelism/maximumThreads``).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, blockSize: Int = 32, threads: Int? = nil) {
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
                var vt = Matrix<T>(rows: nb, columns: m - start)
                xt.withMutableView { xt in
                yt.withMutableView { yt in
                vt.withMutableView { vt in
                    reducePanel(sub, steps: nb, xt: xt, yt: yt, vt: vt, start: start, d: &d, e: &e, tauQ: &tauQ, tauP: &tauP,
                                threads: threads)
                    let (mm, nn) = (sub.rows, sub.columns)
                    if nn > nb {
                        // A₂₂ −= V·Yᵀ + X·Uᵀ  (the unit entries of U are in place)
                        let trailing = sub.submatrix(row: nb, column: nb, rows: mm - nb, columns: nn - nb)
                        gemm(vt.view.submatrix(row: 0, column: nb, rows: nb, columns: mm - nb).transposed,
                             yt.view.submatrix(row: 0, column: nb, rows: nb, columns: nn - nb),
                             into: trailing, alpha: -1, beta: 1, threads: threads)
                        gemm(xt.view.submatrix(row: 0, column: nb, rows: nb, columns: mm - nb).transposed,
                             sub.view.submatrix(row: 0, column: nb, rows: nb, columns: nn - nb),
                             into: trailing, alpha: -1, beta: 1, threads: threads)
                    }
                    // The left reflectors go below the diagonal, row by row; B's entries go on the
                    // diagonal and superdiagonal (where the unit entries of U were).
                    for r in 1..<mm {
                        let row = sub.base + r * sub.leadingDimension
                        for j in 0..<min(r, nb) { row[j] = vt[j, r] }
                    }
                    for j in 0..<nb {
                        sub[j, j] = d[start + j]
                        if start + j < n - 1 { sub[j, j + 1] = e[start + j] }
                    }
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
    public func multiplyQ(_ c: inout Matrix<T>, threads: Int? = nil) {
        factors.withView { stored in
            c.withMutableView { c in applyReflectors(stored, tau: tauQ, to: c, transpose: false, threads: threads) }
        }
    }

    /// C ← P·C for C with n rows (P = G₀⋯G_{n−2}, the right reflectors, acting on rows 1…).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyP(_ c: inout Matrix<T>, threads: Int? = nil) {
        let n = factors.columns
        if n < 2 { return }
        factors.withView { stored in
            // Row i of A right of the superdiagonal is a column of this transposed view.
            let reflectors = stored.submatrix(row: 0, column: 1, rows: n - 1, columns: n - 1).transposed
            c.withMutableView { c in
                applyReflectors(reflectors, tau: tauP, to: c.submatrix(row: 1, column: 0, rows: n - 1, columns: c.columns),
                                transpose: false, threads: threads)
            }
        }
    }
}

/// One labrd panel on the trailing matrix `a` (mm × nn): `steps` left/right reflector pairs,
/// accumulating X (stored transposed in `xt`, steps × mm) and Y (in `yt`, steps × nn) so that the
/// not-yet-updated part of `a` equals A − V·Yᵀ − X·Uᵀ.
///
/// Each step needs two products with the trailing matrix: y = Âᵀv for the left reflector v and
/// x = Â·u for the right reflector u. Read separately they stream the trailing matrix twice per
/// step, and those passes are the memory-bound half of the reduction. Step i's x and step i+1's
/// y are fused into one pass over the rows (the "BLAS 2.5" idea of Howell, Demmel, Fulton,
/// Hammarling and Marmol, 2008): column i+1 of the updated matrix is c = ĉ − x with ĉ known
/// before the pass, so c's entry for row r is known as soon as row r's dot product with u is,
/// and the same pass, with the row still in L1, accumulates w = Âᵀc. The next reflector is
/// v = e₀ + s·(c − c₀e₀) with s = 1/(c₀ − β), so Âᵀv = s·w + (1 − s·c₀)·Â(0, :), where
/// 0 ≤ s·c₀ ≤ ½ (no cancellation). The fusion is skipped for the step whose reflector had to
/// be rescaled near underflow; that step takes the direct product.
///
/// The panel's left reflectors go to the rows of `vt` (steps × mm, V transposed, v_j from entry j
/// on), not below the diagonal of `a` (the caller moves them there once per panel): products with
/// V then stream contiguous rows instead of reading a few entries from every row of `a`, and
/// no step scatters a column.
func reducePanel<T: LinalgScalar>(_ a: MutableMatrixView<T>, steps nb: Int, xt: MutableMatrixView<T>,
                                  yt: MutableMatrixView<T>, vt: MutableMatrixView<T>, start: Int, d: inout [T], e: inout [T],
                                  tauQ: inout [T], tauP: inout [T], threads: Int?) {
    let (mm, nn) = (a.rows, a.columns)
    let safeMinimum = reflectorSafeMinimum(T.self)
    var column = [T](repeating: 0, count: mm)
    var work = [T](repeating: 0, count: max(mm, nn))
    var fused = [T](repeating: 0, count: nn)
    var partials = [T](repeating: 0, count: (FusedProductPass.maximumChunks - 1) * nn)
    column.withUnsafeMutableBufferPointer { columnBuffer in
    work.withUnsafeMutableBufferPointer { workBuffer in
    fused.withUnsafeMutableBufferPointer { fusedBuffer in
    partials.withUnsafeMutableBufferPointer { partialsBuffer in
        let panel = PanelReduction(a: a, xt: xt, yt: yt, vt: vt, column: columnBuffer.baseAddress!,
                                   work: workBuffer.baseAddress!, fusedProduct: fusedBuffer.baseAddress!,
                                   partialProducts: partialsBuffer.baseAddress!, threads: threads)
        // Set by step i's fused pass for step i + 1: column i + 1 is already updated in `column`,
        // and `fusedProduct` = A(i+1:, i+2:)ᵀ·(that column).
        var columnReady = false
        for i in 0..<nb {
            if !columnReady { panel.gatherColumn(i) }
            let haveProduct = columnReady
            columnReady = false
            let left = panel.makeLeftReflector(step: i)
            d[start + i] = left.alpha
            tauQ[start + i] = left.tau
            guard i < nn - 1 else { continue }
            panel.formYRow(step: i, left: left,
                           fromFusedProduct: haveProduct && left.tau != 0 && abs(left.alpha) >= safeMinimum)
            panel.updateRow(step: i)
            let right = panel.makeRightReflector(step: i)
            e[start + i] = right.beta
            tauP[start + i] = right.tau
            columnReady = panel.formXRow(step: i, tau: right.tau, fuseNextColumn: i + 1 < nb && i + 2 < nn)
        }
    }
    }
    }
    }
}

/// The state of one labrd panel (`reducePanel`): the trailing matrix `a` (mm × nn), the
/// accumulated Xᵀ, Yᵀ and Vᵀ, and three scratch vectors: `column` (the column being reduced, then
/// its reflector v), `work` (short products with the panel's earlier reflectors) and
/// `fusedProduct` (Âᵀc from the fused pass, with `partialProducts` for its row chunks). Each
/// step's methods run in the order `reducePanel` calls them; all products are level 2 (gemv) on
/// the panel's views, single-threaded except the fused pass over the trailing matrix, which runs
/// on `threads` threads.
struct PanelReduction<T: LinalgScalar> {
    let a: MutableMatrixView<T>
    let xt: MutableMatrixView<T>
    let yt: MutableMatrixView<T>
    let vt: MutableMatrixView<T>
    let column: UnsafeMutablePointer<T>
    let work: UnsafeMutablePointer<T>
    let fusedProduct: UnsafeMutablePointer<T>
    let partialProducts: UnsafeMutablePointer<T>
    let threads: Int?

    var mm: Int { a.rows }
    var nn: Int { a.columns }

    /// y ← β·y − V(c:, :left)·Y(c, :left)ᵀ − X(c:, :right)·A(:right, c): what the panel's earlier
    /// steps owe column c from row c on (the trailing matrix is updated only after the panel).
    func owedUpdate(column c: Int, left: Int, right: Int, into y: UnsafeMutablePointer<T>, beta: T) {
        for r in 0..<left { work[r] = yt[r, c] }
        gemv(vt.view.submatrix(row: 0, column: c, rows: left, columns: mm - c).transposed, work, into: y, alpha: -1, beta: beta)
        if right > 0 {
            for r in 0..<right { work[r] = a[r, c] }
            gemv(xt.view.submatrix(row: 0, column: c, rows: right, columns: mm - c).transposed, work, into: y, alpha: -1, beta: 1)
        }
    }

    /// Column i, gathered into `column` (a row-major column is strided by the matrix width; one
    /// pass in and one out instead of one per operation): A(i:, i) −= V(i:, :i)·Y(i, :i)ᵀ + X(i:, :i)·A(:i, i).
    func gatherColumn(_ i: Int) {
        for r in 0..<(mm - i) { column[r] = a[i + r, i] }
        if i > 0 { owedUpdate(column: i, left: i, right: i, into: column, beta: 1) }
    }

    /// The left reflector annihilating A(i+1:, i): B's diagonal entry α and τq; v = (1, A(i+1:, i))
    /// stays in `column` and goes to row i of Vᵀ. `c0` is the column's first entry before.
    func makeLeftReflector(step i: Int) -> (alpha: T, tau: T, c0: T) {
        let c0 = column[0]
        var alpha = c0
        let tau = makeReflector(alpha: &alpha, x: column + 1, count: mm - i - 1, stride: 1)
        column[0] = 1
        (vt.base + (i * vt.leadingDimension + i)).update(from: column, count: mm - i)
        return (alpha, tau, c0)
    }

    /// Y(i+1:, i) = τq·(A(i:, i+1:)ᵀ v − Y(i+1:, :i)·(V(i:, :i)ᵀ v) − A(:i, i+1:)ᵀ·(X(i:, :i)ᵀ v)).
    /// With `fromFusedProduct`, A(i:, i+1:)ᵀ v comes from the previous step's fused pass:
    /// v = e₀ + s·(c − c₀e₀) with s = 1/(c₀ − α), so Âᵀv = s·w + (1 − s·c₀)·Â(0, :), where
    /// 0 ≤ s·c₀ ≤ ½ (no cancellation); otherwise it is a direct product.
    func formYRow(step i: Int, left: (alpha: T, tau: T, c0: T), fromFusedProduct: Bool) {
        let view = a.view
        let yRow = yt.base + (i * yt.leadingDimension + i + 1)
        if fromFusedProduct {
            let s = 1 / (left.c0 - left.alpha)
            let rowCoefficient = 1 - s * left.c0
            let stored = a.base + (i * a.leadingDimension + i + 1)
            for c in 0..<(nn - i - 1) { yRow[c] = s * fusedProduct[c] + rowCoefficient * stored[c] }
        } else {
            gemv(view.submatrix(row: i, column: i + 1, rows: mm - i, columns: nn - i - 1).transposed, column, into: yRow)
        }
        if i > 0 {
            gemv(vt.view.submatrix(row: 0, column: i, rows: i, columns: mm - i), column, into: work)
            gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, work,
                 into: yRow, alpha: -1, beta: 1)
            gemv(xt.view.submatrix(row: 0, column: i, rows: i, columns: mm - i), column, into: work)
            gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, work,
                 into: yRow, alpha: -1, beta: 1)
        }
        for c in 0..<(nn - i - 1) { yRow[c] *= left.tau }
    }

    /// Row i: A(i, i+1:) −= Y(i+1:, :i+1)·V(i, :i+1)ᵀ + A(:i, i+1:)ᵀ·X(i, :i)ᵀ.
    func updateRow(step i: Int) {
        let view = a.view
        let row = a.base + (i * a.leadingDimension + i + 1)
        for r in 0...i { work[r] = vt[r, i] }
        gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i + 1, columns: nn - i - 1).transposed,
             work, into: row, alpha: -1, beta: 1)
        if i > 0 {
            for r in 0..<i { work[r] = xt[r, i] }
            gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: nn - i - 1).transposed, work,
                 into: row, alpha: -1, beta: 1)
        }
    }

    /// The right reflector annihilating A(i, i+2:): B's superdiagonal entry β and τp; u stays in
    /// row i of `a` with its unit entry A(i, i+1) = 1 in place.
    func makeRightReflector(step i: Int) -> (beta: T, tau: T) {
        let row = a.base + (i * a.leadingDimension + i + 1)
        var beta = row[0]
        let tau = makeReflector(alpha: &beta, x: row + 1, count: nn - i - 2, stride: 1)
        row[0] = 1
        return (beta, tau)
    }

    /// X(i+1:, i) = τp·(A(i+1:, i+1:)·u − h), h = V(i+1:, :i+1)·(Y(i+1:, :i+1)ᵀ u) + X(i+1:, :i)·(A(:i, i+1:)·u),
    /// −h first. With `fuseNextColumn`, the product with the trailing matrix is the fused pass that
    /// also prepares column i + 1 and its product for the next step (returns true); otherwise a
    /// direct product (returns false).
    func formXRow(step i: Int, tau: T, fuseNextColumn: Bool) -> Bool {
        let view = a.view
        let (below, width) = (mm - i - 1, nn - i - 1)
        let xRow = xt.base + (i * xt.leadingDimension + i + 1)
        let u = UnsafePointer(a.base + (i * a.leadingDimension + i + 1))
        gemv(yt.view.submatrix(row: 0, column: i + 1, rows: i + 1, columns: width), u, into: work)
        gemv(vt.view.submatrix(row: 0, column: i + 1, rows: i + 1, columns: below).transposed, work, into: xRow, alpha: -1)
        if i > 0 {
            gemv(view.submatrix(row: 0, column: i + 1, rows: i, columns: width), u, into: work)
            gemv(xt.view.submatrix(row: 0, column: i + 1, rows: i, columns: below).transposed, work,
                 into: xRow, alpha: -1, beta: 1)
        }
        let trailing = view.submatrix(row: i + 1, column: i + 1, rows: below, columns: width)
        guard fuseNextColumn else {
            gemv(trailing, u, into: xRow, alpha: 1, beta: 1)
            for r in 0..<below { xRow[r] *= tau }
            return false
        }
        // ĉ = column i + 1 updated by everything but this step's x (whose U entry A(i, i+1) is 1):
        // the corrections go to `column`, the pass adds the stored column as it reads each row.
        owedUpdate(column: i + 1, left: i + 1, right: i, into: column, beta: 0)
        FusedProductPass.run(trailing, u, tau: tau, x: xRow, column: column, w: fusedProduct, partials: partialProducts,
                             threads: threads)
        return true
    }
}
