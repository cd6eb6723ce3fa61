import Foundation

/// The k largest singular triplets of an m×n matrix, A·vᵢ = σᵢ·uᵢ for i < k, to full-SVD accuracy.
///
/// Two routes:
/// - For a handful of triplets (k ≤ 8 of r ≥ 128), block subspace iteration with Rayleigh–Ritz
///   (Halko, Martinsson & Tropp 2011, with power iterations): Q spans A·Ω for a seeded Gaussian Ω
///   (b = k + 16 columns), then Q ← orth(A·orth(Aᵀ·Q)) until the top k Ritz triplets from the SVD
///   of QᵀA have residuals ‖A·vᵢ − σᵢ·uᵢ‖ ≤ 4·√max(m,n)·ε·σ₁ — the accuracy of a full SVD.
///   (Aᵀuᵢ = σᵢvᵢ holds exactly by construction.) Each iteration costs 4mnb flops in GEMM plus
///   two thin QRs; it converges like (σ_{b+1}/σ_k)^{2q}, fast for the leading value of a
///   decaying spectrum, hopeless inside a flat one, which is why k is kept small.
/// - Otherwise, or when the iteration has not converged after `maximumIterations`, the full
///   reduction (QR, bidiagonalization, divide and conquer) with the vectors formed for the k
///   leading values only: the top divide-and-conquer merge and the back-transformations then
///   cost ∝ k instead of r, and the result is bit for bit the leading part of `SVD`.
/// Deterministic: Ω comes from a fixed seed.
public struct TruncatedSVD<T: LinalgScalar>: Sendable {
    /// m × k.
    public let u: Matrix<T>
    /// k values, descending.
    public let singularValues: [T]
    /// k × n.
    public let vt: Matrix<T>
    /// Whether the subspace iteration produced the result (false: the full reduction did).
    public let iterated: Bool

    /// Past this many iterations the full reduction is cheaper than going on.
    public static var maximumIterations: Int { 12 }

    /// The largest k that is tried by subspace iteration.
    public static var iterationRankLimit: Int { 8 }

    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, rank k: Int, threads: Int? = nil) throws(LinalgError) {
        let (m, n) = (a.rows, a.columns)
        let r = min(m, n)
        let k = min(max(0, k), r)
        let block = k + 16
        if r >= 128 && k <= Self.iterationRankLimit, let result = try Self.iterate(a, rank: k, block: block, threads: threads) {
            (u, singularValues, vt) = result
            iterated = true
            return
        }
        let full = try computeSVD(a, algorithm: .auto, vectors: true, leading: k, threads: threads ?? Parallelism.maximumThreads)
        u = full.u!
        singularValues = Array(full.sigma.prefix(k))
        vt = full.vt!
        iterated = false
    }

    static func iterate(_ a: Matrix<T>, rank k: Int, block b: Int, threads: Int?) throws(LinalgError)
        -> (Matrix<T>, [T], Matrix<T>)? {
        let (m, n) = (a.rows, a.columns)
        if let index = a.elements.firstIndex(where: { !$0.isFinite }) {
            throw LinalgError.nonFiniteInput(row: index / n, column: index % n)
        }
        var generator = SplitMix64(seed: 0x1503_2025)
        let omega = Matrix<T>(rows: n, columns: b) { _, _ in gaussian(&generator) }
        var q = orthonormalBasis(product(a, omega, threads: threads))
        let tolerance = 4 * T(Double(max(m, n)).squareRoot()) * T.ulpOfOne
        for iteration in 0..<maximumIterations {
            let z = orthonormalBasis(product(a, q, transposeA: true, threads: threads))
            q = orthonormalBasis(product(a, z, threads: threads))
            // Rayleigh–Ritz and the residual test cost as much as an iteration: test after the first
            // two (the leading triplet is often there already), then every third.
            if iteration >= 2 && iteration % 3 != 1 && iteration != maximumIterations - 1 { continue }
            // Rayleigh–Ritz: B = QᵀA (b × n) = Ũ Σ Vᵀ, U = Q Ũ.
            let small = try SVD(product(q, a, transposeA: true, threads: threads), threads: threads)
            let sigma = Array(small.singularValues.prefix(k))
            let vt = small.vt.selecting(rows: Array(0..<k))
            let u = product(q, small.u.selecting(columns: Array(0..<k)), threads: threads)
            // Residuals A·vᵢ − σᵢ·uᵢ.
            var residual = product(a, vt, transposeB: true, threads: threads)
            let largest = sigma.first ?? 0
            var converged = true
            residual.withMutableView { res in
                u.withView { u in
                    for j in 0..<k {
                        var sum: T = 0
                        for i in 0..<m {
                            let d = res[i, j] - sigma[j] * u[i, j]
                            sum += d * d
                        }
                        if sum.squareRoot() > tolerance * largest { converged = false }
                    }
                }
            }
            if converged { return (u, sigma, vt) }
        }
        return nil
    }

    /// An orthonormal basis of the columns of y (its thin Householder Q).
    static func orthonormalBasis(_ y: Matrix<T>) -> Matrix<T> {
        QRFactorization(y).q
    }

    static func gaussian(_ generator: inout SplitMix64) -> T {
        let u1 = (Double(generator.next() >> 11) + 0.5) / Double(1 << 53)
        let u2 = Double(generator.next() >> 11) / Double(1 << 53)
        return T((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}
