/// The k largest singular triplets of an m×n matrix, A·vᵢ = σᵢ·uᵢ for i < k: the full reduction
/// (QR when tall, bidiagonalization, divide and conquer) with the vectors formed for the k leading
/// values only. The top divide-and-conquer merge and the back-transformations then cost ∝ k
/// instead of r = min(m, n). σ and Vᵀ are bit for bit the leading part of `SVD` (of U for a wide
/// matrix), and so are the other vectors on the Jacobi path (r ≤ 16); on the bidiagonal path
/// those with σᵢ ≥ σ₁/128 are A·vᵢ/σᵢ, one GEMM instead of applying the reflectors (and divide and
/// conquer skips U_B when all k are strong: a 768² problem at k = r/8, 52 → 47 ms), equal to
/// `SVD`'s up to roundoff times σ₁/σᵢ.
///
/// Why not subspace iteration or Krylov methods: merge inputs have flat spectral tails
/// (σ₉₆/σ₉₇ ≈ 0.996 in a ViT task vector), where they need hundreds of iterations to reach
/// full-SVD accuracy; an earlier verified subspace iteration here lost to the full SVD there.
public struct TruncatedSVD<T: LinalgScalar>: Sendable {
    /// m × k.
    public let u: Matrix<T>
    /// k values, descending.
    public let singularValues: [T]
    /// k × n.
    public let vt: Matrix<T>
    /// σ_{k+1}, the largest value left out (0 when k = min(m, n)): the leading k-dimensional subspaces
    /// are determined to an angle of about ε·σ₁/(σ_k − σ_{k+1}).
    public let nextSingularValue: T

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
