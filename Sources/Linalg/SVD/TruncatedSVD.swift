/// The k largest singular triplets of an m×n matrix, A·vᵢ = σᵢ·uᵢ for i < k: the full reduction
/// (QR when tall, bidiagonalization, divide and conquer) with the vectors formed for the k leading
/// values only. The top divide-and-conquer merge and the back-transformations then cost ∝ k
/// instead of r = min(m, n). Below r = 1024, or for k above r/4 (r/2 from r = 2048), σ and Vᵀ
/// are bit for bit the leading part of `SVD` (of U for a wide matrix), and so are the other
/// vectors on the Jacobi path (r ≤ 16); on the bidiagonal path those with σᵢ ≥ σ₁/128 are
/// A·vᵢ/σᵢ, one GEMM instead of applying the reflectors (and divide and conquer skips U_B when all
/// k are strong), equal to `SVD`'s up to roundoff times σ₁/σᵢ. Fewer vectors of a larger matrix
/// go through the two-stage reduction (`TwoStageBidiagonalization`), whose σ and vectors agree
/// with `SVD`'s to roundoff, not bit for bit.
///
/// No subspace or Krylov iteration: on the flat spectral tails of merge inputs they need hundreds
/// of iterations to reach full-SVD accuracy (docs/PERFORMANCE.md).
public struct TruncatedSVD<T: LinalgScalar>: Sendable {
    /// The k leading left singular vectors, as the columns of an m × k matrix.
    public let u: Matrix<T>
    /// The k largest singular values, descending.
    public let singularValues: [T]
    /// The k leading right singular vectors, as the rows of a k × n matrix.
    public let vt: Matrix<T>
    /// σ_{k+1}, the largest value left out (0 when k = min(m, n)): the leading k-dimensional subspaces
    /// are determined to an angle of about ε·σ₁/(σ_k − σ_{k+1}).
    public let nextSingularValue: T

    /// The leading `k` triplets of `a` (k is clamped to 0...min(m, n)), on `threads` threads
    /// (nil: ``Parallelism/maximumThreads``). Throws for NaN or ±∞ in `a`.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, rank k: Int, threads: Int? = nil) throws(LinalgError) {
        let k = min(max(0, k), min(a.rows, a.columns))
        let full = try computeSVD(a, algorithm: .auto, vectors: true, leading: k, threads: threads ?? Parallelism.maximumThreads)
        u = full.u!
        singularValues = Array(full.sigma.prefix(k))
        nextSingularValue = k < full.sigma.count ? full.sigma[k] : 0
        vt = full.vt!
    }
}
