/// The left singular vectors of an m×n M (m ≥ n: the triangular R, or A itself) from its singular
/// values and right vectors, for a one-sided Jacobi that did not accumulate its rotations:
/// M = U·Σ·Vᵀ gives U = M·V·Σ⁻¹, one GEMM, made orthonormal by a Householder QR
/// (U ← Q·sign(diag T) for M·V·Σ⁻¹ = Q·T).
///
/// Accuracy: column i of M·V·Σ⁻¹ is off by O(ε·‖M‖/σᵢ) (V's rows orthonormal to O(√n·ε)), so the
/// columns lose orthogonality by O(ε·κ(M)), mostly in those of small σᵢ. The QR keeps each column's
/// direction up to that loss, taking the columns in σ order (largest first), so it moves uᵢ by
/// O(ε·‖M‖/σᵢ): the residual M − U·Σ·Vᵀ grows by σᵢ·O(ε·‖M‖/σᵢ) = O(ε·‖M‖) per column, the
/// backward error of any SVD, and U is orthonormal to O(n·ε). The vectors are then as accurate as
/// the bidiagonal path's (angles O(ε·‖M‖/gap)), not the relative accuracy accumulated rotations
/// give, which is why `jacobiSVD` still accumulates them for graded matrices.
/// Cost: 2mn² (GEMM) + 6mn² − 8n³/3 (QR, and Q formed by applying it to the first n columns of I) flops.
enum JacobiLeftVectors {
    /// U (m×n) for M (m×n), Vᵀ (n×n, rows orthonormal) and σ (descending; a zero σ leaves its column
    /// to the QR).
    static func reorthogonalized<T: LinalgScalar>(_ m: Matrix<T>, _ vt: Matrix<T>, _ sigma: [Double], threads: Int) -> Matrix<T> {
        var scaled = product(m, vt, transposeB: true, threads: threads)
        for j in 0..<scaled.columns {
            let inverse = sigma[j] > 0 ? T(1 / sigma[j]) : 0
            for i in 0..<scaled.rows { scaled[i, j] *= inverse }
        }
        let qr = QRFactorization(scaled, threads: threads)
        var u = qr.q
        for j in 0..<u.columns where qr.factors[j, j] < 0 {
            for i in 0..<u.rows { u[i, j] = -u[i, j] }
        }
        return u
    }
}
