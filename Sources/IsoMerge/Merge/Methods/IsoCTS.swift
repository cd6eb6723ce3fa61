import Linalg

/// Iso-CTS, isotropic merging in common and task-specific subspaces (ALGORITHMS.md).
///
/// The top k directions of M = Σ_t τ_t form the common subspace; each task then contributes its
/// top s directions outside it (SVD of τ̄_t = τ_t − U_c·U_cᵀ·τ_t). All r = k + s·T directions are
/// orthogonalized and given one common singular value: τ_M = σ̄·polar(U*)·polar(V*)ᵀ with σ̄ the
/// mean of all kept singular values. Sizes: k₀ = ⌊r·f⌋, s = round_half_even((r − k₀)/T),
/// k = r − s·T (s = ⌊r/T⌋ if that made k negative). Rank rule for τ̄_t relative to σ₁(τ_t).
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
        var uStar = Matrix<T>(rows: m, columns: r), vtStar = Matrix<T>(rows: r, columns: n)
        var sigmaStar = [T](repeating: 0, count: r)
        if s > 0 {
            for (t, tau) in taskVectors.enumerated() {
                // τ̄ = τ − U_c·(U_cᵀ·τ)
                var projected = tau
                let coefficients = product(uc, tau, transposeA: true, threads: threads)
                uc.withView { ucView in
                    coefficients.withView { cView in
                        projected.withMutableView { p in gemm(ucView, cView, into: p, alpha: -1, beta: 1, threads: threads) }
                    }
                }
                let reference = try SVD<T>.singularValues(of: tau, threads: threads).first ?? 0
                let svd = try RankAwareSVD(projected, reference: reference, threads: threads)
                uStar.place(svd.u.selecting(columns: Array(0..<s)), row: 0, column: t * s)
                vtStar.place(svd.vt.selecting(rows: Array(0..<s)), row: t * s, column: 0)
                for i in 0..<s { sigmaStar[t * s + i] = svd.sigma[i] }
            }
        }
        uStar.place(uc, row: 0, column: tasks * s)
        vtStar.place(common.vt.selecting(rows: Array(0..<k)), row: tasks * s, column: 0)
        for i in 0..<k { sigmaStar[tasks * s + i] = common.sigma[i] }
        let mean = r == 0 ? 0 : sigmaStar.reduce(0, +) / T(r)
        let left = try rankAwarePolar(uStar, threads: threads)
        let right = try rankAwarePolar(vtStar, threads: threads)
        return product(left, right, alpha: mean, threads: threads)
    }
}
