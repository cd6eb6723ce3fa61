/// Questions about the singular values of an upper bidiagonal B answered in O(n) without
/// computing them: how many lie below a bound, and roughly how large the largest is.
///
/// B's singular values are the nonnegative eigenvalues of its Golub–Kahan matrix T (2n × 2n, zero
/// diagonal, off-diagonal d₁, e₁, d₂, …, eₙ₋₁, dₙ), whose eigenvalues are ±σᵢ. By Sylvester's law
/// of inertia, the number of T's eigenvalues below x is the number of negative pivots of
/// T − x·I = LDLᵀ, a three-term recurrence (a Sturm count, as in LAPACK's stebz); for x > 0 the n
/// values −σᵢ are all below x, so #{σᵢ < x} = #{negative pivots} − n. The count is exact for a
/// matrix within a few ulps of B, so it can be wrong only about a σᵢ within rounding of x: it
/// serves decisions that the SVD itself confirms afterwards.
struct BidiagonalSpectrum {
    /// T's off-diagonal: d₁, e₁, d₂, e₂, …, dₙ.
    private let offDiagonal: [Double]
    /// The smallest pivot magnitude allowed (LAPACK's pivmin), so that a zero pivot cannot divide.
    private let smallestPivot: Double
    /// n, the number of singular values.
    let valueCount: Int
    /// σ₁ lies in this interval, of relative width ≤ 10⁻³.
    let largest: ClosedRange<Double>

    init(diagonal d: [Double], superdiagonal e: [Double]) {
        var offDiagonal: [Double] = []
        offDiagonal.reserveCapacity(2 * d.count)
        for i in d.indices {
            offDiagonal.append(d[i])
            if i < e.count { offDiagonal.append(e[i]) }
        }
        self.offDiagonal = offDiagonal
        valueCount = d.count
        let largestEntry = offDiagonal.lazy.map(abs).max() ?? 0
        smallestPivot = Double.leastNormalMagnitude * max(1, largestEntry * largestEntry)
        // Bisection on the count, from T's Gershgorin bound (≤ 2σ₁, as every |bᵢ| ≤ σ₁): ~11 steps.
        var (low, high) = (0.0, 0.0)
        for i in offDiagonal.indices {
            high = max(high, abs(offDiagonal[i]) + (i + 1 < offDiagonal.count ? abs(offDiagonal[i + 1]) : 0))
        }
        while high - low > 1e-3 * high {
            let middle = (low + high) / 2
            if Self.count(below: middle, offDiagonal, smallestPivot) == d.count { high = middle } else { low = middle }
        }
        largest = low...high
    }

    /// #{σᵢ < x} for x > 0.
    func count(below x: Double) -> Int { Self.count(below: x, offDiagonal, smallestPivot) }

    private static func count(below x: Double, _ offDiagonal: [Double], _ smallestPivot: Double) -> Int {
        var negatives = 0
        var pivot = -x
        if pivot < 0 { negatives += 1 }
        for b in offDiagonal {
            if abs(pivot) < smallestPivot { pivot = -smallestPivot }
            pivot = -x - b * b / pivot
            if pivot < 0 { negatives += 1 }
        }
        return negatives - (offDiagonal.count + 1) / 2
    }
}
