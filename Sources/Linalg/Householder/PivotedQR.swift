/// Householder QR with column pivoting (Businger–Golub, as LAPACK's geqp2): A·P = Q·R for an
/// m×n matrix (m ≥ n), where step k brings the remaining column of largest norm (orthogonal to
/// the columns chosen before) to position k. Then |r_kk| ≥ ‖R[k…j, j]‖ for every j > k, so the
/// diagonal of R decreases and R's rows are graded like the matrix: for A = B·D (D diagonal,
/// B well conditioned) R = D_r·R̃ with R̃ well conditioned (Drmač–Veselić), the structure one-sided
/// Jacobi on the rows of R needs for high relative accuracy.
///
/// The partial column norms are downdated after each step (‖a_j‖² −= r_kj²) and recomputed when
/// cancellation has eaten more than half of their digits, as in LAPACK (Drmač–Bujanović's test).
/// Level 2: the matrix is held transposed, so that each column — the reflector and each vector it
/// is applied to — is contiguous, and the update of the later columns is split over threads by
/// columns (each column's arithmetic does not depend on the split). Meant for square or nearly
/// square inputs (Jacobi pivots the n×n R of an unpivoted QR, which has A's column norms and
/// Gram matrix). Cost: 4mn² − 4n³/3 flops.
struct PivotedQRFactorization<T: LinalgScalar> {
    /// R in the upper triangle; reflector vectors below the diagonal (implicit unit diagonal).
    private(set) var factors: Matrix<T>
    /// The reflectors' scalars τ.
    private(set) var tau: [T]
    /// Column k of A·P is column `permutation[k]` of A.
    private(set) var permutation: [Int]

    init(_ a: Matrix<T>, threads: Int) {
        let (m, n) = (a.rows, a.columns)
        precondition(m >= n, "pivoted QR needs rows ≥ columns")
        var columns = a.transposed
        var tau = [T](repeating: 0, count: n)
        var permutation = Array(0..<n)
        columns.withMutableView { c in
            func column(_ j: Int) -> UnsafeMutablePointer<T> { c.base + j &* m }
            var partial = (0..<n).map { norm2(UnsafePointer(column($0)), count: m, stride: 1) }
            var reference = partial
            let recomputeBelow = T.ulpOfOne.squareRoot()
            for k in 0..<n {
                let pivot = (k..<n).max { partial[$0] < partial[$1] || (partial[$0] == partial[$1] && $0 > $1) }!
                if pivot != k {
                    swapRanges(column(k), column(pivot), count: m)
                    partial.swapAt(k, pivot)
                    reference.swapAt(k, pivot)
                    permutation.swapAt(k, pivot)
                }
                let head = column(k) + k
                var alpha = head[0]
                let t = makeReflector(alpha: &alpha, x: head + 1, count: m - k - 1, stride: 1)
                tau[k] = t
                if t != 0 {
                    head[0] = 1
                    let later = (k + 1)..<n
                    let flops = 4 * Double(m - k) * Double(later.count)
                    let bands = Parallelism.split(later.count, into: Parallelism.threads(requested: threads, flops: flops), grain: 16)
                    Parallelism.forEach(bands.count) { part in
                        let band = bands[part]
                        applyReflector(UnsafePointer(c.base + (k &* m &+ k)), tau: t, count: m - k, to: c.base + k, stride: m,
                                       vectors: (later.lowerBound + band.lowerBound)..<(later.lowerBound + band.upperBound))
                    }
                }
                head[0] = alpha
                for j in (k + 1)..<n where partial[j] != 0 {
                    let ratio = abs(column(j)[k]) / partial[j]
                    let remaining = max(0, (1 - ratio) * (1 + ratio))
                    let relative = partial[j] / reference[j]
                    if remaining * relative * relative <= recomputeBelow {
                        partial[j] = norm2(UnsafePointer(column(j) + k + 1), count: m - k - 1, stride: 1)
                        reference[j] = partial[j]
                    } else {
                        partial[j] *= remaining.squareRoot()
                    }
                }
            }
        }
        factors = columns.transposed
        self.tau = tau
        self.permutation = permutation
    }

    /// A factorization computed in another precision, its R, reflectors and τ rounded to T.
    init<Wider: LinalgScalar>(rounding wider: PivotedQRFactorization<Wider>) {
        factors = wider.factors.converted()
        tau = wider.tau.map { T(Double($0)) }
        permutation = wider.permutation
    }

    /// The n×n upper triangular factor R.
    var r: Matrix<T> {
        Matrix(rows: factors.columns, columns: factors.columns) { i, j in j >= i ? factors[i, j] : 0 }
    }

    /// C ← Q·C (or Qᵀ·C) for C with m rows, the reflectors applied in blocks (`applyReflectors`).
    func multiplyQ(_ c: inout Matrix<T>, transpose: Bool, threads: Int) {
        factors.withView { stored in
            c.withMutableView { c in applyReflectors(stored, tau: tau, to: c, transpose: transpose, threads: threads) }
        }
    }
}

/// Exchanges `count` contiguous elements of p and q.
private func swapRanges<T>(_ p: UnsafeMutablePointer<T>, _ q: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { swap(&p[i], &q[i]) }
}
