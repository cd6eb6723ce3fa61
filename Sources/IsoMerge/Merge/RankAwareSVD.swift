import Linalg

/// The deterministic treatment of rank deficiency that ALGORITHMS.md prescribes: singular values
/// σᵢ ≤ √max(m, n)·ε₃₂·σ_ref count as zero and their (arbitrary) directions are dropped, with
/// ε₃₂ = 2⁻²³ whatever the working precision and σ_ref the largest singular value of the matrix
/// the step started from. On full-rank input nothing changes.
struct RankAwareSVD<T: LinalgScalar> {
    /// The SVD's U before the rank rule (m × r, orthonormal columns): for m ≤ n a basis of ℝᵐ.
    var basis: Matrix<T>
    /// r values, descending; dropped ones are 0.
    var sigma: [T]
    /// r × n, rows of dropped directions zeroed.
    var vt: Matrix<T>
    /// How many leading directions are kept.
    var rank: Int

    /// m × r: `basis` with the columns of dropped directions zeroed.
    var u: Matrix<T> {
        var u = basis
        let r = sigma.count
        if rank < r {
            u.withMutableView { u in
                for i in 0..<u.rows { for j in rank..<r { u[i, j] = 0 } }
            }
        }
        return u
    }

    /// σ ≤ tolerance(…) counts as zero.
    static func tolerance(rows m: Int, columns n: Int, reference: T) -> T {
        T(Double(max(m, n)).squareRoot()) * T(Float.ulpOfOne) * reference
    }

    /// The SVD of `a` with the rank rule relative to `reference` (default: σ₁(a)).
    init(_ a: Matrix<T>, reference: T? = nil, threads: Int?) throws(LinalgError) {
        let svd = try SVD(a, threads: threads)
        let tolerance = Self.tolerance(rows: a.rows, columns: a.columns, reference: reference ?? svd.singularValues.first ?? 0)
        let rank = svd.singularValues.prefix { $0 > tolerance }.count
        var vt = svd.vt
        let r = svd.singularValues.count
        if rank < r {
            vt.withMutableView { vt in
                for i in rank..<r { for j in 0..<vt.columns { vt[i, j] = 0 } }
            }
        }
        self.basis = svd.u
        self.vt = vt
        self.sigma = svd.singularValues.enumerated().map { $0.offset < rank ? $0.element : 0 }
        self.rank = rank
    }
}

/// polar(a) = U·Vᵀ over the directions the rank rule keeps (relative to σ₁(a)): a partial isometry.
func rankAwarePolar<T: LinalgScalar>(_ a: Matrix<T>, threads: Int?) throws(LinalgError) -> Matrix<T> {
    let relative = RankAwareSVD<T>.tolerance(rows: a.rows, columns: a.columns, reference: 1)
    return try PolarDecomposition(a, relativeThreshold: relative, threads: threads).factor
}
