/// The left singular vectors of a square R from its singular values and right vectors, for a
/// one-sided Jacobi that did not accumulate its rotations: R = U·Σ·Vᵀ gives U = R·V·Σ⁻¹, one
/// GEMM, made orthonormal by a Householder QR (U ← Q·sign(diag T) for R·V·Σ⁻¹ = Q·T).
///
/// Accuracy: column i of R·V·Σ⁻¹ is off by O(ε·‖R‖/σᵢ) (V's rows orthonormal to O(√n·ε)), so the
/// columns lose orthogonality by O(ε·κ(R)), mostly in those of small σᵢ. The QR keeps each column's
/// direction up to that loss, taking the columns in σ order (largest first), so it moves uᵢ by
/// O(ε·‖R‖/σᵢ): the residual R − U·Σ·Vᵀ grows by σᵢ·O(ε·‖R‖/σᵢ) = O(ε·‖R‖) per column, the
/// backward error of any SVD, and U is orthonormal to O(n·ε). The vectors are then as accurate as
/// the bidiagonal path's (angles O(ε·‖R‖/gap)), not the relative accuracy accumulated rotations
/// give, which is why `jacobiSVD` still accumulates them for graded matrices.
/// Cost: 2n³ (GEMM) + 8n³/3 (QR and forming Q) flops.
enum JacobiLeftVectors {
    /// U for R (n×n), Vᵀ (n×n, rows orthonormal) and σ (descending; a zero σ leaves its column to the QR).
    static func reorthogonalized<T: LinalgScalar>(_ r: Matrix<T>, _ vt: Matrix<T>, _ sigma: [Double], threads: Int) -> Matrix<T> {
        var scaled = product(r, vt, transposeB: true, threads: threads)
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
