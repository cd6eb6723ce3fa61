/// Left singular vectors read off the matrix: for A = U·Σ·Vᵀ, uᵢ = A·vᵢ/σᵢ. For many i at once
/// that is one GEMM, A·(V Σ⁻¹), where the Householder route applies the QR's (and the
/// bidiagonalization's) reflectors to each column: about twice the flops, at a lower rate.
///
/// The price is accuracy for small σᵢ. With v̂ᵢ, σ̂ᵢ, ûᵢ from a backward-stable SVD (of A, or of R
/// where A = QR), A·v̂ᵢ/σ̂ᵢ = ûᵢ + (A·v̂ᵢ − σ̂ᵢ·ûᵢ)/σ̂ᵢ: the SVD's residual over σᵢ, roundoff times
/// σ₁/σᵢ. So only the strong directions, σᵢ ≥ σ₁/128, are formed from A; the others keep the
/// reflectors. Used by the polar factor of tall and wide matrices and by the truncated SVD.
///
/// The cut trades speed for accuracy and was chosen by measurement on merges (docs/PERFORMANCE.md):
/// a vector formed from A carries roundoff up to 128 times that of the reflector route.
enum DirectLeftVectors {
    /// σᵢ is strong when σᵢ ≥ σ₁/strongRatio.
    static let strongRatio = 128

    /// How many of the first `count` singular values (descending, σ₁ first) are strong.
    static func strongCount<T: LinalgScalar>(_ sigma: [T], among count: Int) -> Int {
        sigma.prefix(count).prefix { $0 >= sigma[0] / T(strongRatio) }.count
    }

    /// Whether, among the `leading` largest singular values of a bidiagonal, some may be kept
    /// (σᵢ > relativeThreshold·σ₁) but weak (σᵢ < σ₁/strongRatio), judged from `spectrum`'s counts
    /// with the uncertainty of its σ₁ on the side of "yes". The values below the cut are the smallest ones;
    /// they include a weak one unless all of them are outside the leading ones or not kept.
    static func mayHaveWeakDirections(_ spectrum: BidiagonalSpectrum, among leading: Int, relativeThreshold: Double) -> Bool {
        let belowStrong = spectrum.count(below: spectrum.largest.upperBound / Double(strongRatio))
        let notKept = relativeThreshold > 0 ? spectrum.count(below: relativeThreshold * spectrum.largest.lowerBound) : 0
        return belowStrong > max(notKept, spectrum.valueCount - leading)
    }

    /// Σ⁻¹·Vᵀ over the first `count` directions: those rows of `vt`, each divided by its σ.
    static func inverseScaledRows<T: LinalgScalar>(_ vt: Matrix<T>, _ sigma: [T], count: Int) -> Matrix<T> {
        var rows = vt.selecting(rows: Array(0..<count))
        rows.withMutableView { x in
            for i in 0..<count { for j in 0..<x.columns { x[i, j] /= sigma[i] } }
        }
        return rows
    }
}
