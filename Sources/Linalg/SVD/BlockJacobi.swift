/// Block one-sided Jacobi: the rows of X are split into blocks of b, and each pair of blocks is
/// orthogonalized at once. For a pair P (p ≤ 2b rows) the Gram matrix G = X_P·X_Pᵀ is formed with
/// one GEMM, diagonalized by one sweep of cyclic Jacobi (G ≈ W·Λ·Wᵀ: one-sided on G's Cholesky
/// factor, `choleskyJacobiRotations`, or two-sided on G itself, `diagonalizingRotations`, when
/// the pair's rows are dependent to working precision and G has no Cholesky factor), and X_P ← Wᵀ·X_P
/// (and the accumulator's rows alike) with another GEMM: the rows of Wᵀ·X_P are nearly
/// orthogonal, since their Gram matrix is nearly Λ. A sweep takes every pair of blocks once in
/// round-robin order, pairs of a round in parallel (disjoint rows, so results do not depend on
/// the thread count); pairs whose rows are already orthogonal to tol = √n·ε (relative cosine) are
/// skipped, and a sweep that transforms nothing ends the iteration. Turning the plain
/// algorithm's ~r²/2 vector rotations per sweep into ~(r/b)²/2 pairs of GEMMs is what makes
/// Jacobi competitive on large matrices.
///
/// Relative accuracy (why the block form keeps it): each transformation is orthogonal (W from
/// Double rotations) and leaves every row a combination x_i ← Σ_k w_ki·x_k whose terms are at most
/// of the size of x_i itself, |w_ki|·‖x_k‖ ≲ ‖x_i‖: a Jacobi rotation of a small row against a
/// large one turns by an angle of order cos∠(x_i, x_k)·‖x_i‖/‖x_k‖, because G's entries are the
/// rows' inner products, each formed to error γ_c·‖x_i‖‖x_k‖ however different the norms are. So
/// each row is changed by a small multiple of its own norm, the perturbation one-sided Jacobi's
/// relative perturbation theory allows (Demmel–Veselić): rows that are D·X̃ with X̃ well conditioned
/// keep every singular value to O(ε·κ(X̃)). The accuracy of the angle itself only decides how fast
/// the iteration converges.
///
/// Precision of G: the early sweeps only need rotations that reduce cosines of order 10⁻²…10⁻⁴,
/// which a Float G (cosines to ~√n·ε_Float) gives at half the cost and without widening the rows:
/// Float input forms G in Float until a sweep's largest cosine falls below 2·10⁻³, and every later
/// sweep forms it in Double, where no row's squared norm underflows. The switch comes as soon as
/// the next sweep can be the last: converging quadratically, a sweep entered with largest cosine c
/// leaves about 3c² (measured 1.6c²–3.6c² on 768² to 1024² random matrices), at or below what a
/// Float G can still resolve (~√n·ε_Float), so a Float sweep after it would only find nothing to do
/// and leave the proof to one more, Double, sweep. A Double sweep widens X to Double once and keeps
/// the widened rows current as pairs are transformed, so each pair's Gram blocks are views of it.
/// Stopping rule: the iteration
/// ends with the first sweep in which every pair of rows of squared norm above `negligible` has
/// |x_iᵀx_j| ≤ tol·‖x_i‖‖x_j‖, tol = √n·ε, inner products and norms taken from that sweep's Double
/// G (de Rijk's and Hari–Veselić's scaled test: it does not depend on the rows' norms). Rows of
/// squared norm ≤ `negligible` are left alone, as in `orthogonalizeRows`.
///
/// Late sweeps (the previous sweep's largest cosine below 10⁻², so that the next one, converging
/// quadratically, leaves most pairs alone) form each pair's Gram matrix by blocks, cross block
/// first (`orthogonalizeBlockPair`), until more than three quarters of the pairs seen in the sweep
/// have had to be transformed (clustered singular values converge late: a 2304×768 matrix still
/// transformed 256 of 276 pairs in such a sweep, and the blocks then cost more than one Gram
/// matrix); every pair of rows is still tested in every sweep — rows of
/// two blocks in their pair's cross block, rows of one block in its own Gram block, formed once per
/// sweep and again after each transformation of the block — and the blocks hold the same inner
/// products G does, so the stopping rule and the accuracy argument above are unchanged.
///
/// Each sweep first orders the rows by decreasing norm (de Rijk's pivoting, blockwise), so that
/// each block holds rows of similar size, which saves sweeps.
@discardableResult
func orthogonalizeRowsBlocked<T: LinalgScalar>(_ x: MutableMatrixView<T>, accumulator: MutableMatrixView<T>?, negligible: Double,
                                               threads: Int = 1, blockSize b: Int = 32,
                                               maximumSweeps: Int = 60) throws(LinalgError) -> Int {
    let r = x.rows
    if r <= 2 * b {
        return try orthogonalizeRows(x, accumulator: accumulator, negligible: negligible, threads: threads, maximumSweeps: maximumSweeps)
    }
    let tolerance = Double(max(1, x.columns)).squareRoot() * Double(T.ulpOfOne)
    let blocks = stride(from: 0, to: r, by: b).map { $0..<min(r, $0 + b) }
    let rounds = roundRobinRounds(blocks.count)
    let work = 8.0 * Double(b * b) * Double(x.columns)
    let parts = Parallelism.threads(requested: threads, flops: work * Double(blocks.count) / 2)
    var gramInWorkingPrecision = T.self == Float.self
    var previousCosine = Double.infinity
    for sweep in 1...maximumSweeps {
        sortRowsByNorm(x, accumulator: accumulator)
        let largestCosine = SendableMaximum()
        let verified = SendableFlags(blocks.count)
        var crossFirst = previousCosine < 1e-2
        var widened = T.self == Double.self || gramInWorkingPrecision ? Matrix<Double>(rows: 0, columns: 0) : gatherRows(x, Array(0..<r)).converted()
        var (transformed, visited) = (0, 0)
        widened.withMutableView { widened in
            for round in rounds {
                transformed += sweepRoundRobin([round], parts: parts) { [gramInWorkingPrecision, crossFirst] i, j in
                    orthogonalizeBlockPair(x, blocks: (i, j), of: blocks, accumulator: accumulator,
                                           tolerance: tolerance, negligible: negligible, gramInWorkingPrecision: gramInWorkingPrecision,
                                           widened: widened.rows == 0 ? nil : widened,
                                           crossFirst: crossFirst, verified: verified, largestCosine: largestCosine)
                }
                visited += round.count
                if crossFirst && 4 * transformed > 3 * visited { crossFirst = false }
            }
        }
        previousCosine = largestCosine.value
        if gramInWorkingPrecision {
            if largestCosine.value < 2e-3 { gramInWorkingPrecision = false }
        } else if transformed == 0 {
            return sweep
        }
    }
    throw LinalgError.noConvergence(algorithm: "block one-sided Jacobi", iterations: maximumSweeps)
}

/// One pair of blocks (row ranges `ranges[blocks.0]` and `ranges[blocks.1]` of X, p rows): the
/// rows' Gram matrix G in Double (for Float rows formed in Float when `gramInWorkingPrecision`,
/// else from `widened`, X in Double, whose rows of the pair are brought up to date when they are
/// transformed), its approximate eigenvectors, and the rotation of the rows (and of the
/// accumulator's rows). Reports the largest relative cosine seen; returns false when the rows were
/// already orthogonal.
///
/// With `crossFirst` (late sweeps, where most pairs are already orthogonal) only the b×b cross
/// block of G is formed first (2b²n flops, against 2p²n for G): the pair is done when its cosines
/// are within tolerance and both blocks are `verified`, i.e. their own rows were found orthogonal
/// in this sweep and not transformed since; a block not yet verified has its own Gram block formed
/// and checked once. Only a pair that must be transformed forms the whole G. Otherwise G is formed
/// at once, one GEMM being faster than three smaller ones when nearly every pair is transformed.
/// Cosines are measured against squared norms summed in the same precision as G.
func orthogonalizeBlockPair<T: LinalgScalar>(_ x: MutableMatrixView<T>, blocks: (Int, Int), of ranges: [Range<Int>],
                                             accumulator: MutableMatrixView<T>?, tolerance: Double, negligible: Double,
                                             gramInWorkingPrecision: Bool, widened: MutableMatrixView<Double>?,
                                             crossFirst: Bool, verified: SendableFlags, largestCosine: SendableMaximum) -> Bool {
    let (first, second) = (ranges[blocks.0], ranges[blocks.1])
    let rows = Array(first) + Array(second)
    let (b0, p) = (first.count, rows.count)
    /// The pair's rows of X, gathered once for the whole Gram matrix and the rotation.
    var gathered: Matrix<T>? = nil
    func pairRows() -> Matrix<T> {
        if let gathered { return gathered }
        let rowsOfPair = gatherRows(x, rows)
        gathered = rowsOfPair
        return rowsOfPair
    }
    /// G's rows `a` and columns `b` (ranges of the pair's rows, each within one block or the whole
    /// pair) from the rows of `m` (X, or X widened): views of `m` within a block, the pair's rows
    /// gathered (`whole`) for the whole pair.
    func gram<S: LinalgScalar>(_ m: MutableMatrixView<S>, _ whole: () -> Matrix<S>, _ a: Range<Int>, _ b: Range<Int>) -> Matrix<Double> {
        func rowsOf(_ local: Range<Int>) -> (view: MatrixView<S>, copy: Matrix<S>?) {
            if local.count == p {
                let copy = whole()
                return (copy.withView { $0 }, copy)
            }
            let start = local.lowerBound < b0 ? first.lowerBound + local.lowerBound : second.lowerBound + local.lowerBound - b0
            return (m.submatrix(row: start, column: 0, rows: local.count, columns: m.columns).view, nil)
        }
        let (left, right) = (rowsOf(a), a == b ? nil : rowsOf(b))
        var product = Matrix<S>(uninitializedRows: a.count, columns: b.count)
        withExtendedLifetime((left.copy, right?.copy)) {
            product.withMutableView { g in gemm(left.view, (right ?? left).view.transposed, into: g, threads: 1) }
        }
        return product.converted()
    }
    func gram(_ a: Range<Int>, _ b: Range<Int>) -> Matrix<Double> {
        if let widened { return gram(widened, { gatherRows(widened, rows) }, a, b) }
        return gram(x, pairRows, a, b)
    }
    let squaredNorms: [Double] = rows.map { row in
        if let widened {
            let wide = UnsafePointer(widened.base + row &* widened.leadingDimension)
            return dot(wide, wide, count: widened.columns)
        }
        let narrow = UnsafePointer(x.base + row &* x.leadingDimension)
        return Double(dot(narrow, narrow, count: x.columns))
    }
    // A Float G holds the squared norms of rows below √(least normal/ε) without their digits:
    // such rows wait for the Double sweeps.
    let floor = max(negligible, gramInWorkingPrecision ? Double(T.leastNormalMagnitude / T.ulpOfOne) : 0)
    /// The largest relative cosine in the block `g` = G[a, b] (above the diagonal when a == b).
    func maximumCosine(_ g: Matrix<Double>, _ a: Range<Int>, _ b: Range<Int>) -> Double {
        var cosine = 0.0
        for i in 0..<g.rows where squaredNorms[a.lowerBound + i] > floor {
            for j in (a == b ? i + 1 : 0)..<g.columns where squaredNorms[b.lowerBound + j] > floor {
                cosine = max(cosine, abs(g[i, j]) / (squaredNorms[a.lowerBound + i] * squaredNorms[b.lowerBound + j]).squareRoot())
            }
        }
        return cosine
    }
    let whole = 0..<p
    var g: Matrix<Double>
    if crossFirst {
        let (own0, own1) = (0..<b0, b0..<p)
        var cosine = maximumCosine(gram(own0, own1), own0, own1)
        for (block, own) in [(blocks.0, own0), (blocks.1, own1)] where !verified[block] {
            let ownCosine = maximumCosine(gram(own, own), own, own)
            cosine = max(cosine, ownCosine)
            verified[block] = ownCosine <= tolerance
        }
        largestCosine.report(cosine)
        if cosine <= tolerance { return false }
        g = gram(whole, whole)
    } else {
        g = gram(whole, whole)
        let cosine = maximumCosine(g, whole, whole)
        largestCosine.report(cosine)
        if cosine <= tolerance { return false }
    }
    verified[blocks.0] = false
    verified[blocks.1] = false
    // One sweep of rotations on G makes the rows nearly orthogonal; the outer sweeps finish the job
    // (measured with the rows sorted by norm, 2 threads: one inner sweep beat two by 25–35 %, and
    // b = 32 beat 16, 24, 40 and 48 by 6–40 % at 768² and 1024², and 24 also at the other shapes).
    let wt: Matrix<T> = (choleskyJacobiRotations(g, sweeps: 1) ?? diagonalizingRotations(&g, sweeps: 1)).converted()
    func rotate(_ m: MutableMatrixView<T>, rows source: Matrix<T>) {
        var result = Matrix<T>(uninitializedRows: p, columns: m.columns)
        wt.withView { a in source.withView { b in result.withMutableView { c in gemm(a, b, into: c, threads: 1) } } }
        scatterRows(result, into: m, rows)
    }
    rotate(x, rows: pairRows())
    if let widened {
        for row in rows {
            let (narrow, wide) = (x.base + row &* x.leadingDimension, widened.base + row &* widened.leadingDimension)
            for k in 0..<x.columns { wide[k] = Double(narrow[k]) }
        }
    }
    if let accumulator { rotate(accumulator, rows: gatherRows(accumulator, rows)) }
    return true
}

/// Reorders the rows of X (and the accumulator's alike) by decreasing norm (de Rijk), so that
/// blocks pair rows of similar size. Cost: one pass over X, and a copy of both when the order changes.
func sortRowsByNorm<T: LinalgScalar>(_ x: MutableMatrixView<T>, accumulator: MutableMatrixView<T>?) {
    let squaredNorms = (0..<x.rows).map { i in
        let row = UnsafePointer(x.base + i &* x.leadingDimension)
        return dot(row, row, count: x.columns)
    }
    let order = squaredNorms.indices.sorted { squaredNorms[$0] > squaredNorms[$1] || (squaredNorms[$0] == squaredNorms[$1] && $0 < $1) }
    if order.elementsEqual(squaredNorms.indices) { return }
    for m in [x] + (accumulator.map { [$0] } ?? []) {
        scatterRows(gatherRows(m, order), into: m, Array(0..<m.rows))
    }
}

/// The listed rows of `m`, in that order, as a matrix.
func gatherRows<T: LinalgScalar>(_ m: MutableMatrixView<T>, _ rows: [Int]) -> Matrix<T> {
    var gathered = Matrix<T>(uninitializedRows: rows.count, columns: m.columns)
    gathered.withMutableView { g in
        for (k, row) in rows.enumerated() {
            (g.base + k &* g.leadingDimension).update(from: m.base + row &* m.leadingDimension, count: m.columns)
        }
    }
    return gathered
}

/// Row k of `source` into row rows[k] of `m`: the inverse of `gatherRows`.
func scatterRows<T: LinalgScalar>(_ source: Matrix<T>, into m: MutableMatrixView<T>, _ rows: [Int]) {
    source.withView { s in
        for (k, row) in rows.enumerated() {
            (m.base + row &* m.leadingDimension).update(from: s.base + k &* s.rowStride, count: m.columns)
        }
    }
}
