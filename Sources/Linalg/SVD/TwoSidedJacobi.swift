/// Cyclic two-sided Jacobi on a symmetric A for at most `sweeps` sweeps (A ends nearly diagonal,
/// Wᵀ·A·W), returning Wᵀ: its rows are the rotated basis, so X ← Wᵀ·X has Gram matrix WᵀAW; the
/// inner step of the block one-sided Jacobi (`orthogonalizeBlockPair`) for pairs of rows whose
/// Gram matrix has no Cholesky factor (`choleskyJacobiRotations` is the same sweep, one-sided and
/// vectorized, for the others). Rotations with
/// |a_ij| ≤ ε·√(a_ii·a_jj) are skipped; the others annihilate a_ij and set the 2×2 block to
/// diag(a_ii − t·a_ij, a_jj + t·a_ij) (Rutishauser's formulas; t = tan of the angle, |angle| ≤ π/4).
///
/// Order: the row-cyclic order (0,1), (0,2), …, (0,p−1), (1,2), … taken in wavefronts
/// τ = 2i + j = 1, 2, …, 3p − 5. Every rotation that shares an index with (i, j) and precedes it in
/// the row-cyclic order — (i, j′) for j′ < j, (i′, i) and (i′, j) for i′ < i — has a smaller τ, every
/// one that follows it a larger τ, and the rotations of one wavefront share no index. So the
/// wavefronts apply the row-cyclic sweep's rotations, each to the same 2×2 block, only with
/// commuting rotations (disjoint index pairs) reordered: the same sweep in exact arithmetic. What
/// this buys is independence: a wavefront's angles (two square roots and three divisions each, a
/// chain that in row-cyclic order waits on the previous rotation's a_ii and a_ij) are all computed
/// from its rotations' untouched 2×2 blocks before any of them is applied.
///
/// Only the upper triangle is kept current (as in LAPACK's symmetric Jacobi): a rotation (i, j)
/// updates the pairs (a_ki, a_kj) for k < i, (a_ik, a_kj) for i < k < j and (a_ik, a_jk) for k > j
/// — the last a vector operation on two rows — 2p entries per rotation where updating whole rows
/// and columns takes 4p. The lower triangle is restored at the end. Wᵀ ← Rᵀ·Wᵀ on rows i, j, over
/// the columns where either row can be nonzero: Wᵀ starts as the identity, and a row's nonzero
/// columns stay within the first `extent` (row r: r + 1 at first; a rotation gives both rows the
/// larger extent of the two), so the rest would rotate zeros into zeros.
/// Cost: ~3p³ flops per sweep (less in the first).
func diagonalizingRotations(_ a: inout Matrix<Double>, sweeps: Int) -> Matrix<Double> {
    let p = a.rows
    var wt = Matrix<Double>.identity(p)
    if p < 2 { return wt }
    var extent = (0..<p).map { $0 + 1 }
    var wavefront: [PlaneRotation] = []
    wavefront.reserveCapacity(p / 3 + 1)
    a.withMutableView { a in
        wt.withMutableView { wt in
            let ld = a.leadingDimension
            for _ in 0..<sweeps {
                var rotated = false
                for tau in 1...(3 * p - 5) {
                    wavefront.removeAll(keepingCapacity: true)
                    for i in stride(from: max(0, (tau - p + 2) / 2), through: tau / 3, by: 1) {
                        let j = tau - 2 * i
                        if j <= i || j >= p { continue }
                        let (aii, ajj, aij) = (a[i, i], a[j, j], a[i, j])
                        if aij == 0 || abs(aij) <= Double.ulpOfOne * (abs(aii * ajj)).squareRoot() { continue }
                        let theta = (ajj - aii) / (2 * aij)
                        let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (1 + theta * theta).squareRoot())
                        let c = 1 / (1 + t * t).squareRoot()
                        wavefront.append(PlaneRotation(i: i, j: j, c: c, s: t * c, t: t, aii: aii, ajj: ajj, aij: aij))
                    }
                    if !wavefront.isEmpty { rotated = true }
                    for rotation in wavefront {
                        let (i, j, c, s, t) = (rotation.i, rotation.j, rotation.c, rotation.s, rotation.t)
                        let (rowI, rowJ) = (a.base + i &* ld, a.base + j &* ld)
                        for k in 0..<i {
                            let (x, y) = (a.base[k &* ld &+ i], a.base[k &* ld &+ j])
                            a.base[k &* ld &+ i] = c * x - s * y
                            a.base[k &* ld &+ j] = s * x + c * y
                        }
                        for k in (i + 1)..<j {
                            let (x, y) = (rowI[k], a.base[k &* ld &+ j])
                            rowI[k] = c * x - s * y
                            a.base[k &* ld &+ j] = s * x + c * y
                        }
                        rotate(rowI + (j + 1), rowJ + (j + 1), count: p - j - 1, cosine: c, sine: s)
                        rowI[i] = rotation.aii - t * rotation.aij
                        rowJ[j] = rotation.ajj + t * rotation.aij
                        rowI[j] = 0
                        let columns = max(extent[i], extent[j])
                        (extent[i], extent[j]) = (columns, columns)
                        rotate(wt.base + i &* wt.leadingDimension, wt.base + j &* wt.leadingDimension, count: columns, cosine: c, sine: s)
                    }
                }
                if !rotated { break }
            }
            for i in 0..<p { for j in 0..<i { a[i, j] = a[j, i] } }
        }
    }
    return wt
}

/// A rotation of a wavefront: its pair, cosine, sine and tangent, and the 2×2 block it annihilates.
private struct PlaneRotation {
    let i: Int, j: Int
    let c: Double, s: Double, t: Double
    let aii: Double, ajj: Double, aij: Double
}
