/// The polar factor and nuclear norm of a matrix, from its thin SVD A = U·diag(σ)·Vᵀ.
///
/// polar(A) = U·Vᵀ is the orthogonal (partial isometry) factor of A = polar(A)·(VΣVᵀ), the
/// closest matrix with orthonormal rows or columns to A in every unitarily invariant norm; the
/// nuclear norm ‖A‖_* = Σσᵢ. With `threshold` > 0, directions with σᵢ ≤ threshold are left out
/// of the factor (deterministic on rank-deficient input). Cost: one SVD plus one m·r·n GEMM; for
/// a tall or wide matrix (`init(_:relativeThreshold:)`) the QR factor's polar is formed first,
/// polar(A) = Q·polar(R), saving the 2mn² product U·Vᵀ for 2n³.
public struct PolarDecomposition<T: LinalgScalar>: Sendable {
    /// U·Vᵀ over the kept directions (m × n).
    public let factor: Matrix<T>
    /// Σσᵢ over all singular values.
    public let nuclearNorm: T
    /// The singular values, descending.
    public let singularValues: [T]
    /// How many directions the factor keeps.
    public let rank: Int

    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, threshold: T = 0, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) {
        let svd = try SVD(a, algorithm: algorithm, threads: threads)
        self.init(svd: svd, threshold: threshold, threads: threads)
    }

    /// The factor with directions σᵢ ≤ relativeThreshold·σ₁ left out. Tall (m ≥ 11n/6) and wide
    /// matrices go through A = QR (or its transpose): polar(A) = Q·[polar(R); 0], so U is never formed.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, relativeThreshold: T, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) {
        let (m, n) = (a.rows, a.columns)
        guard algorithm != .jacobi, 6 * max(m, n) >= 11 * min(m, n), min(m, n) > 0 else {
            let svd = try SVD(a, algorithm: algorithm, threads: threads)
            self.init(svd: svd, threshold: relativeThreshold * (svd.singularValues.first ?? 0), threads: threads)
            return
        }
        try requireFinite(a)
        let tall = m >= n ? a : a.transposed
        let qr = QRFactorization(tall, threads: threads)
        let inner = try PolarDecomposition(qr.r, relativeThreshold: relativeThreshold, algorithm: algorithm, threads: threads)
        var factor = Matrix<T>(rows: tall.rows, columns: tall.columns)
        factor.place(inner.factor, row: 0, column: 0)
        qr.multiplyQ(&factor, transpose: false, threads: threads)
        self.init(factor: m >= n ? factor : factor.transposed, nuclearNorm: inner.nuclearNorm,
                  singularValues: inner.singularValues, rank: inner.rank)
    }

    private init(factor: Matrix<T>, nuclearNorm: T, singularValues: [T], rank: Int) {
        self.factor = factor
        self.nuclearNorm = nuclearNorm
        self.singularValues = singularValues
        self.rank = rank
    }

    /// The factor from an SVD already computed.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(svd: SVD<T>, threshold: T = 0, threads: Int? = nil) {
        let sigma = svd.singularValues
        let kept = sigma.prefix { $0 > threshold }.count
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
