/// The polar factor and nuclear norm of a matrix, from its thin SVD A = U·diag(σ)·Vᵀ.
///
/// polar(A) = U·Vᵀ is the orthogonal (partial isometry) factor of A = polar(A)·(VΣVᵀ), the
/// closest matrix with orthonormal rows or columns to A in every unitarily invariant norm; the
/// nuclear norm ‖A‖_* = Σσᵢ. With `threshold` > 0, directions with σᵢ ≤ threshold are left out
/// of the factor (deterministic on rank-deficient input). Cost: one SVD plus one m·r·n GEMM; with
/// a relative threshold (`init(_:relativeThreshold:)`) the bidiagonal path forms only the few
/// columns of U that cannot be read off A (see there).
public struct PolarDecomposition<T: LinalgScalar>: Sendable {
    /// U·Vᵀ over the kept directions (m × n).
    public let factor: Matrix<T>
    /// Σσᵢ over all singular values.
    public let nuclearNorm: T
    /// The singular values, descending.
    public let singularValues: [T]
    /// How many directions the factor keeps.
    public let rank: Int

    /// The factor of `a` with directions σᵢ ≤ `threshold` left out, from its full SVD.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, threshold: T = 0, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) {
        let svd = try SVD(a, algorithm: algorithm, threads: threads)
        self.init(svd: svd, threshold: threshold, threads: threads)
    }

    /// The factor with directions σᵢ ≤ relativeThreshold·σ₁ left out. On the bidiagonal path
    /// (which `.auto` picks for r > 16) A, or a wide matrix's transpose, m ≥ n, is reduced as
    /// A = [Q]·Q_B·B·P_Bᵀ (QR first when m ≥ 11n/6) and B = U_B·Σ·V_Bᵀ: then
    /// polar(A) = Σᵢ uᵢvᵢᵀ with uᵢ = [Q]·Q_B·[U_B eᵢ; 0] = A·vᵢ/σᵢ. The strong directions
    /// (`DirectLeftVectors`) take the second form, all of them at once as A·W with
    /// W = V_s Σ_s⁻¹ V_sᵀ: GEMMs of n²s flops (W is symmetric) and 2mn² for s strong directions.
    /// The weak ones take the first, and only their few columns of U_B are formed and sent
    /// through the reflectors (`BidiagonalPathSVD`); when there are none, divide and conquer
    /// skips U_B.
    ///
    /// The full SVD's route, U·Vᵀ, instead applies Q_B to all n columns of U_B (4mn² − 2n³ flops
    /// without the QR; with it, 2n³ for Q_B and 4mn² − 2n³ for Q), then multiplies U·Vᵀ (2mn²).
    /// Since 4mn² − 2n³ ≥ 2n³ ≥ n²s for m ≥ n, this route never takes more flops, and
    /// where the other applies reflectors (a rate well below GEMM's) it runs GEMMs: for a square
    /// matrix it replaces U's back-transformation, 2n³ flops, with W's n³, and U_B.
    ///
    /// Accuracy: a strong column A·v̂ᵢ/σ̂ᵢ differs from the reflector route's ûᵢ by the SVD's
    /// residual over σᵢ, at most 128 times its roundoff (`DirectLeftVectors`), so the factor is
    /// orthonormal to that many times the working precision; the weak directions, whose A·vᵢ/σᵢ
    /// would carry roundoff amplified by σ₁/σᵢ without bound, keep the reflectors.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, relativeThreshold: T, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) {
        let (m, n) = (a.rows, a.columns)
        let largest = try largestMagnitude(a)
        guard !algorithm.usesJacobi(rank: min(m, n)), largest > 0 else {
            let svd = try SVD(a, algorithm: algorithm, threads: threads)
            self.init(svd: svd, threshold: relativeThreshold * (svd.singularValues.first ?? 0), threads: threads)
            return
        }
        // At unit scale (the factor does not depend on it), so that dividing by σᵢ cannot overflow for tiny A.
        let (scaled, scale) = UnitScaling.apply(to: a, largest: largest)
        let tall = m >= n ? scaled : scaled.transposed
        let threads = threads ?? Parallelism.maximumThreads
        let svd = try BidiagonalPathSVD(tall, leading: tall.columns, threads: threads) {
            DirectLeftVectors.mayHaveWeakDirections($0, among: tall.columns, relativeThreshold: Double(relativeThreshold))
        }
        let sigma = svd.sigma
        let kept = sigma.prefix { $0 > relativeThreshold * sigma[0] }.count
        let strong = DirectLeftVectors.strongCount(sigma, among: kept)
        // Strong directions: A·W with W = V Σ⁻¹ Vᵀ over them; W is symmetric, so a wide matrix's
        // factor, the transpose of its transpose's, is W·A (no transposed copy of the result).
        let w = DirectLeftVectors.inverseWeightedGram(svd.vt, sigma, count: strong, threads: threads)
        var factor = m >= n ? product(scaled, w, threads: threads) : product(w, scaled, threads: threads)
        // Weak directions: their left vectors through the reflectors, times their rows of Vᵀ.
        if kept > strong {
            let weakU = try svd.leftVectors(strong..<kept, threads: threads)
            let weakVt = svd.vt.selecting(rows: Array(strong..<kept))
            weakU.withView { u in
                weakVt.withView { vt in
                    let (left, right) = m >= n ? (u, vt) : (vt.transposed, u.transposed)
                    factor.withMutableView { f in gemm(left, right, into: f, alpha: 1, beta: 1, threads: threads) }
                }
            }
        }
        let unscaled = sigma.map(scale.undo)
        self.init(factor: factor, nuclearNorm: unscaled.reduce(0, +), singularValues: unscaled, rank: kept)
    }

    private init(factor: Matrix<T>, nuclearNorm: T, singularValues: [T], rank: Int) {
        self.factor = factor
        self.nuclearNorm = nuclearNorm
        self.singularValues = singularValues
        self.rank = rank
    }

    /// The factor from an SVD already computed, over at most `maximumRank` leading directions (for
    /// a matrix whose rank is known to be at most that: its further computed values are rounding).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(svd: SVD<T>, threshold: T = 0, maximumRank: Int = .max, threads: Int? = nil) {
        let sigma = svd.singularValues
        let kept = sigma.prefix(maximumRank).prefix { $0 > threshold }.count
        var factor = Matrix<T>(rows: svd.u.rows, columns: svd.vt.columns)
        svd.u.withView { u in
            svd.vt.withView { vt in
                factor.withMutableView { f in
                    gemm(u.submatrix(row: 0, column: 0, rows: u.rows, columns: kept),
                         vt.submatrix(row: 0, column: 0, rows: kept, columns: vt.columns), into: f, threads: threads)
                }
            }
        }
        self.factor = factor
        self.nuclearNorm = sigma.reduce(0, +)
        self.singularValues = sigma
        self.rank = kept
    }
}
