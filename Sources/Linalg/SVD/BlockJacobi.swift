/// Block one-sided Jacobi: the rows of X are split into blocks of b, and each pair of blocks is
/// orthogonalized at once. For a pair P (p ≤ 2b rows) the Gram matrix G = X_P·X_Pᵀ is formed in
/// Double with one GEMM, diagonalized by cyclic two-sided Jacobi (G = W·Λ·Wᵀ), and X_P ← Wᵀ·X_P
/// (and the accumulator's rows alike) with another GEMM: the rows of Wᵀ·X_P are orthogonal, since
/// their Gram matrix is Λ. A sweep takes every pair of blocks once in round-robin order, pairs of
/// a round in parallel (disjoint rows, so results do not depend on the thread count); pairs whose
/// rows are already orthogonal to tol = √n·ε (relative cosine) are skipped, and a sweep that
/// transforms nothing ends the iteration. Turning the plain algorithm's ~r²/2 vector rotations per
/// sweep into ~(r/b)²/2 pairs of GEMMs is what makes Jacobi competitive on large matrices.
/// Forming G in Double keeps every cosine accurate to 10⁻¹⁶ relative, so Float rows that differ in
/// norm by up to ~10⁸ still converge to Float orthogonality. Rows of norm ≤ ε·‖X‖_F are
/// numerically zero and left alone, as in `orthogonalizeRows`.
@discardableResult
func orthogonalizeRowsBlocked<T: LinalgScalar>(_ x: MutableMatrixView<T>, accumulator: MutableMatrixView<T>?,
                                               threads: Int = 1, blockSize b: Int = 24,
                                               maximumSweeps: Int = 60) throws(LinalgError) -> Int {
    let r = x.rows
    if r <= 2 * b { return try orthogonalizeRows(x, accumulator: accumulator, threads: threads, maximumSweeps: maximumSweeps) }
    let tolerance = Double(max(1, x.columns)).squareRoot() * Double(T.ulpOfOne)
    let negligible = Double(negligibleRowNormSquared(x.view))
    let blocks = stride(from: 0, to: r, by: b).map { $0..<min(r, $0 + b) }
    let rounds = roundRobinRounds(blocks.count)
    let work = 8.0 * Double(b * b) * Double(x.columns)
    let parts = Parallelism.threads(requested: threads, flops: work * Double(blocks.count) / 2)
    for sweep in 1...maximumSweeps {
        let transformed = sweepRoundRobin(rounds, parts: parts) { i, j in
            orthogonalizeBlockPair(x, rows: Array(blocks[i]) + Array(blocks[j]), accumulator: accumulator,
                                   tolerance: tolerance, negligible: negligible)
        }
        if transformed == 0 { return sweep }
    }
    throw LinalgError.noConvergence(algorithm: "block one-sided Jacobi", iterations: maximumSweeps)
}

/// One pair of blocks: Gram matrix, its eigenvectors, and the rotation of the rows (and of the
/// accumulator's rows). Returns false when the rows were already orthogonal.
func orthogonalizeBlockPair<T: LinalgScalar>(_ x: MutableMatrixView<T>, rows: [Int], accumulator: MutableMatrixView<T>?,
                                             tolerance: Double, negligible: Double) -> Bool {
    let p = rows.count, n = x.columns
    var block = Matrix<Double>(rows: p, columns: n)
    block.withMutableView { target in
        for (k, row) in rows.enumerated() {
            let source = x.base + row &* x.leadingDimension
            let out = target.base + k &* target.leadingDimension
            for j in 0..<n { out[j] = Double(source[j]) }
        }
    }
    var gram = Matrix<Double>(rows: p, columns: p)
    block.withView { v in gram.withMutableView { g in gemm(v, v.transposed, into: g, threads: 1) } }
    var needed = false
    for i in 0..<p where gram[i, i] > negligible {
        for j in (i + 1)..<p where gram[j, j] > negligible && abs(gram[i, j]) > tolerance * (gram[i, i] * gram[j, j]).squareRoot() {
            needed = true
            break
        }
        if needed { break }
    }
    if !needed { return false }
    // One sweep of rotations on G makes the rows nearly orthogonal; the outer sweeps finish the job
    // (measured at 768²: one inner sweep with b = 24 beat more sweeps and other block sizes).
    let wt: Matrix<T> = diagonalizingRotations(&gram, sweeps: 1).converted()
    func rotate(_ m: MutableMatrixView<T>) {
        var gathered = Matrix<T>(rows: p, columns: m.columns)
        gathered.withMutableView { g in
            for (k, row) in rows.enumerated() {
                (g.base + k &* g.leadingDimension).update(from: m.base + row &* m.leadingDimension, count: m.columns)
            }
        }
        var result = Matrix<T>(rows: p, columns: m.columns)
        wt.withView { a in gathered.withView { b in result.withMutableView { c in gemm(a, b, into: c, threads: 1) } } }
        result.withView { res in
            for (k, row) in rows.enumerated() {
                (m.base + row &* m.leadingDimension).update(from: res.base + k &* res.rowStride, count: m.columns)
            }
        }
    }
    rotate(x)
    if let accumulator { rotate(accumulator) }
    return true
}

/// Cyclic two-sided Jacobi on a symmetric A for at most `sweeps` sweeps (A ends nearly diagonal,
/// Wᵀ·A·W), returning Wᵀ: its rows are the rotated basis, so X ← Wᵀ·X has Gram matrix WᵀAW.
/// Rotations with |a_ij| ≤ ε·√(a_ii·a_jj) are skipped. Row updates are contiguous; W is kept
/// transposed for the same reason. Cost: ~3p³ flops per sweep.
func diagonalizingRotations(_ a: inout Matrix<Double>, sweeps: Int) -> Matrix<Double> {
    let p = a.rows
    var wt = Matrix<Double>.identity(p)
    a.withMutableView { a in
        wt.withMutableView { wt in
            for _ in 0..<sweeps {
                var rotated = false
                for i in 0..<(p - 1) {
                    for j in (i + 1)..<p {
                        let aij = a[i, j]
                        if aij == 0 || abs(aij) <= Double.ulpOfOne * (abs(a[i, i] * a[j, j])).squareRoot() { continue }
                        rotated = true
                        let theta = (a[j, j] - a[i, i]) / (2 * aij)
                        let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (1 + theta * theta).squareRoot())
                        let c = 1 / (1 + t * t).squareRoot(), s = t * c
                        // A ← Rᵀ·A·R on rows then columns i, j; Wᵀ ← Rᵀ·Wᵀ on rows i, j.
                        rotate(a.base + i &* a.leadingDimension, a.base + j &* a.leadingDimension, count: p, cosine: c, sine: s)
                        for k in 0..<p {
                            let row = a.base + k &* a.leadingDimension
                            let (aki, akj) = (row[i], row[j])
                            row[i] = c * aki - s * akj
                            row[j] = s * aki + c * akj
                        }
                        rotate(wt.base + i &* wt.leadingDimension, wt.base + j &* wt.leadingDimension, count: p, cosine: c, sine: s)
                    }
                }
                if !rotated { break }
            }
        }
    }
    return wt
}
