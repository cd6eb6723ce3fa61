import Linalg

/// Iso-CTS, isotropic merging in common and task-specific subspaces (ALGORITHMS.md).
///
/// The top k directions of M = Σ_t τ_t form the common subspace; each task then contributes its
/// top s directions outside it (SVD of τ̄_t = τ_t − U_c·U_cᵀ·τ_t). All r = k + s·T directions are
/// orthogonalized and given one common singular value: τ_M = σ̄·polar(U*)·polar(V*)ᵀ with σ̄ the
/// mean of all kept singular values. Sizes: k₀ = ⌊r·f⌋, s = round_half_even((r − k₀)/T),
/// k = r − s·T (s = ⌊r/T⌋ if that made k negative). Rank rule for τ̄_t relative to σ₁(τ_t).
///
/// Cost: one full SVD of M, then per task the top s triplets of τ̄_t. When m ≤ n, M's U is a
/// basis of all of ℝᵐ, so τ̄_t = U_⊥·(U_⊥ᵀ·τ_t) with U_⊥ the m − k columns after U_c: the
/// SVD of the small (m − k) × n matrix U_⊥ᵀ·τ_t gives τ̄_t's (Ū = U_⊥·W, same σ and V) —
/// an exact identity, and a fifth of the work at f = 0.8. Tall matrices take the leading-vector
/// SVD of τ̄_t itself.
enum IsoCTS {
    /// (k, s) for rank r, T tasks and common fraction f.
    static func sizes(rank r: Int, tasks: Int, fraction: Double) -> (common: Int, perTask: Int) {
        let k0 = Int((Double(r) * fraction).rounded(.down))
        var s = Int((Double(r - k0) / Double(tasks)).rounded(.toNearestOrEven))
        var k = r - s * tasks
        if k < 0 {
            s = r / tasks
            k = r - s * tasks
        }
        return (k, s)
    }

    static func merge<T: LinalgScalar>(_ taskVectors: [Matrix<T>], fraction: Double, threads: Int?) throws(LinalgError) -> Matrix<T> {
        let (m, n) = (taskVectors[0].rows, taskVectors[0].columns)
        let r = min(m, n), tasks = taskVectors.count
        let (k, s) = sizes(rank: r, tasks: tasks, fraction: fraction)
        let total = Matrix(rows: m, columns: n, elements: VectorRules.sum(taskVectors.map(\.elements)))
        let common = try RankAwareSVD(total, threads: threads)
        let uc = common.u.selecting(columns: Array(0..<k))
        var uTasks = Matrix<T>(rows: m, columns: tasks * s), vtStar = Matrix<T>(rows: r, columns: n)
        var sigmaStar = [T](repeating: 0, count: r)
        // For m ≤ n: U_⊥, the columns of M's U after the live common ones.
        let complement = m <= n ? common.basis.selecting(columns: Array(min(k, common.rank)..<m)) : nil
        if s > 0 {
            for (t, tau) in taskVectors.enumerated() {
                // Only τ̄'s top s triplets are needed, and σ₁ of τ for the rank rule.
                let reference = try largestSingularValue(of: tau, threads: threads)
                let top: TruncatedSVD<T>, topU: Matrix<T>
                if let complement {
                    top = try TruncatedSVD(product(complement, tau, transposeA: true, threads: threads), rank: s, threads: threads)
                    topU = product(complement, top.u, threads: threads)
                } else {
                    // τ̄ = τ − U_c·(U_cᵀ·τ)
                    let coefficients = product(uc, tau, transposeA: true, threads: threads)
                    top = try TruncatedSVD(removing(uc, times: coefficients, from: tau, threads: threads), rank: s, threads: threads)
                    topU = top.u
                }
                let tolerance = RankAwareSVD<T>.tolerance(rows: m, columns: n, reference: reference)
                let live = top.singularValues.prefix { $0 > tolerance }.count
                uTasks.place(topU.selecting(columns: Array(0..<live)), row: 0, column: t * s)
                vtStar.place(top.vt.selecting(rows: Array(0..<live)), row: t * s, column: 0)
                for i in 0..<live { sigmaStar[t * s + i] = top.singularValues[i] }
            }
        }
        vtStar.place(common.vt.selecting(rows: Array(0..<k)), row: tasks * s, column: 0)
        for i in 0..<k { sigmaStar[tasks * s + i] = common.sigma[i] }
        let mean = r == 0 ? 0 : sigmaStar.reduce(0, +) / T(r)
        let left = try polarOfStackedBasis(tasks: uTasks, common: uc, commonRank: min(k, common.rank), threads: threads)
        let right = try rankAwarePolar(vtStar, threads: threads)
        return product(left, right, alpha: mean, threads: threads)
    }

    /// polar(U*) for U* = [Ū₁ … Ū_T U_c]. The task blocks come from τ_t projected off U_c, so in exact
    /// arithmetic they are orthogonal to U_c and U*ᵀU* is block diagonal: polar(U*) = [polar([Ū₁ … Ū_T]), U_c]
    /// (dead columns of U_c stay zero), an m × sT SVD instead of m × r. In floating point the blocks
    /// keep components of order ε·‖τ‖/σ̄ along U_c, which the polar factor of an ill-conditioned
    /// [Ū₁ … Ū_T] would amplify; they are projected off once more first (the reference, in float64,
    /// has them at 10⁻¹⁶). Should the blocks not be nearly orthogonal to U_c (cross products above
    /// 10⁻³: not from a projection), the full polar is taken.
    static func polarOfStackedBasis<T: LinalgScalar>(tasks: Matrix<T>, common: Matrix<T>, commonRank: Int,
                                                     threads: Int?) throws(LinalgError) -> Matrix<T> {
        let (m, taskColumns, k) = (tasks.rows, tasks.columns, common.columns)
        let cross = product(common, tasks, transposeA: true, threads: threads)
        guard taskColumns > 0, cross.elements.allSatisfy({ abs($0) <= 1e-3 }) else {
            var stacked = Matrix<T>(rows: m, columns: taskColumns + k)
            stacked.place(tasks, row: 0, column: 0)
            stacked.place(common, row: 0, column: taskColumns)
            return try rankAwarePolar(stacked, threads: threads)
        }
        let orthogonal = removing(common, times: cross, from: tasks, threads: threads)
        // σ(U*) = σ(task blocks) ∪ {1 for each live common column}: the rank rule's reference is the largest.
        let svd = try SVD(orthogonal, threads: threads)
        let reference = max(svd.singularValues.first ?? 0, commonRank > 0 ? 1 : 0)
        let tolerance = RankAwareSVD<T>.tolerance(rows: m, columns: taskColumns + k, reference: reference)
        var result = Matrix<T>(rows: m, columns: taskColumns + k)
        result.place(PolarDecomposition(svd: svd, threshold: tolerance, threads: threads).factor, row: 0, column: 0)
        if tolerance < 1 { result.place(common, row: 0, column: taskColumns) }
        return result
    }

    /// x − basis·coefficients (with coefficients = basisᵀ·x: x projected off the basis' columns).
    static func removing<T: LinalgScalar>(_ basis: Matrix<T>, times coefficients: Matrix<T>, from x: Matrix<T>,
                                          threads: Int?) -> Matrix<T> {
        var result = x
        basis.withView { b in
            coefficients.withView { c in
                result.withMutableView { r in gemm(b, c, into: r, alpha: -1, beta: 1, threads: threads) }
            }
        }
        return result
    }
}
