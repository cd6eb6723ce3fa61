/// The polar factor and nuclear norm of a matrix, from its thin SVD A = U·diag(σ)·Vᵀ.
///
/// polar(A) = U·Vᵀ is the orthogonal (partial isometry) factor of A = polar(A)·(VΣVᵀ), the
/// closest matrix with orthonormal rows or columns to A in every unitarily invariant norm; the
/// nuclear norm ‖A‖_* = Σσᵢ. With `threshold` > 0, directions with σᵢ ≤ threshold are left out
/// of the factor (deterministic on rank-deficient input). Cost: one SVD plus one m·r·n GEMM.
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

    /// The factor from an SVD already computed.
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
