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

    /// W = V_s·Σ_s⁻¹·V_sᵀ over the first `count` directions (n × n, symmetric; `vt` has n
    /// columns): `inverseScaledRows`ᵀ times those rows of `vt`, one GEMM per block of
    /// `symmetricBlock` rows that stops at its diagonal block, then the strict upper triangle
    /// copied from the lower (in 32×32 tiles). About n²·count + n·symmetricBlock·count flops, half
    /// of the full product's 2n²·count; each entry of the lower triangle is the full product's, and
    /// W is exactly symmetric. On any thread count the same (the GEMM's guarantee).
    static func inverseWeightedGram<T: LinalgScalar>(_ vt: Matrix<T>, _ sigma: [T], count: Int, threads: Int) -> Matrix<T> {
        let n = vt.columns
        let scaled = inverseScaledRows(vt, sigma, count: count)
        var w = Matrix<T>(rows: n, columns: n)
        scaled.withView { s in
            vt.withView { v in
                w.withMutableView { w in
                    for start in stride(from: 0, to: n, by: symmetricBlock) {
                        let end = min(n, start + symmetricBlock)
                        gemm(s.submatrix(row: 0, column: start, rows: count, columns: end - start).transposed,
                             v.submatrix(row: 0, column: 0, rows: count, columns: end),
                             into: w.submatrix(row: start, column: 0, rows: end - start, columns: end), threads: threads)
                    }
                    let (base, ld, tile) = (w.base, w.leadingDimension, 32)
                    for i0 in stride(from: 0, to: n, by: tile) {
                        for j0 in stride(from: i0, to: n, by: tile) {
                            for i in i0..<min(i0 + tile, n) {
                                for j in stride(from: max(j0, i + 1), to: min(j0 + tile, n), by: 1) {
                                    base[i &* ld &+ j] = base[j &* ld &+ i]
                                }
                            }
                        }
                    }
                }
            }
        }
        return w
    }

    /// The block rows of `inverseWeightedGram`: wide enough for GEMM speed, narrow enough that
    /// the diagonal blocks' wasted upper halves stay a few per cent of the work at n in the thousands.
    static let symmetricBlock = 256
}
