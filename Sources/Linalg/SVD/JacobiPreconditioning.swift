/// Drmač–Veselić preconditioning for one-sided Jacobi: P_r·A·P_c = Q·R with R n×n upper
/// triangular, for m×n A (m ≥ n): P_r sorts A's rows by decreasing norm and Q·R is the
/// column-pivoted Householder QR of the sorted rows (`PivotedQRFactorization`).
///
/// Why: Householder QR is backward stable column by column for any row order, and row by row
/// once the rows are sorted by decreasing norm (Powell–Reid, Cox–Higham), so R carries A's row
/// and column grading with small relative perturbations; column pivoting makes R graded by rows,
/// R = D·R̃ with R̃ well conditioned when A = D₁·B·D₂ with B well conditioned, which is what
/// one-sided Jacobi on R's rows needs to find every singular value of A to relative accuracy
/// O(ε·κ(R̃)). Pivoting A itself matters: an unpivoted QR first and the pivoted QR of its R₀ after
/// (the same R in exact arithmetic, at n×n cost) lost up to 10× in the smallest singular values
/// of 120×120 two-sided graded matrices, since R₀ has no graded structure for row-wise errors to
/// respect. The pivoting also makes R's rows nearly orthogonal already, so Jacobi needs fewer sweeps.
///
/// Precision: the Householder QR's own rounding, O(m·ε) relative to each column, is what limits
/// the smallest singular values of graded Float matrices (the exact singular values of the Float
/// R were off by up to 1.8·10⁻⁵ on 120×120 matrices graded over 8 decades, where the Jacobi that
/// follows adds next to nothing). So when the Float R's diagonal falls by more than 1/√ε
/// (|r₁₁/rₙₙ|, the spread of the singular values up to modest factors: a graded or ill-conditioned
/// matrix) the factorization is done again in Double and its R and reflectors rounded to Float:
/// R then carries only the rounding of its entries, and Q is orthogonal to O(n·ε). Other matrices,
/// whose singular values no Float method finds to better than O(ε·κ(A)), keep the Float QR.
///
/// Tall input (m ≥ 2n) whose row norms lie within a factor of 2 takes a cheaper route to the same
/// R: the blocked, unpivoted QR of the rows (`QRFactorization`, mostly GEMM), then the pivoted QR
/// of its n×n R₀ (equal to the pivoted QR of A in exact arithmetic; Q = Q₀·Q₁). Its rounding errors
/// are normwise, O(ε·‖A‖), harmless for input graded neither by rows (the norms' spread) nor
/// otherwise (R's diagonal, as above: then A itself is pivoted, in Double). Row-graded tall
/// matrices whose R's diagonal does not look graded lost 2× in their smallest singular values on
/// this route, hence the test on the rows. When R₀ is well conditioned — κ₁(R₀), estimated in
/// O(n²) (`estimatedConditionNumber`), at most 1/(8√ε) — R₀ is R itself and no column is pivoted:
/// such input is graded neither by rows (the test above) nor by columns or otherwise beyond what
/// that κ allows, and its rank is full (R₀'s diagonal lies within [σₙ, σ₁]; `jacobiSVD` reads rank
/// and grading off it as off any R); the one-sided Jacobi on R₀'s rows keeps R₀'s columnwise rounding as
/// relative perturbations (orthogonal row rotations act on each column separately); and ordering R's
/// rows, all the pivoting would add, is what the block Jacobi's sort by row norm does each sweep
/// (measured: the same sweeps and time on uniform 2304×768 and 3072×768 as with the pivoted R).
/// Cost: mn (sort) + 4mn² − 4n³/3 (pivoted QR) flops, twice that and in Double for graded input;
/// on the tall route 2mn² − 2n³/3 (blocked) + 11n² (estimate) + 8n³/3 (pivoted, n×n, when taken).
struct JacobiPreconditioning<T: LinalgScalar> {
    /// Row i of P_r·A is row `rowOrder[i]` of A.
    let rowOrder: [Int]
    /// On the tall route, the unpivoted QR of the sorted rows: its R₀ is R itself when `pivoted` is nil.
    let leading: QRFactorization<T>?
    /// The column-pivoted QR, of R₀ on the tall route or of the sorted rows otherwise; nil when R₀ is
    /// well enough conditioned to be R.
    let pivoted: PivotedQRFactorization<T>?

    init(_ a: Matrix<T>, threads: Int) {
        let (m, n) = (a.rows, a.columns)
        let squaredNorms = a.elements.withUnsafeBufferPointer { e in
            (0..<m).map { i in e[(i * n)..<(i * n + n)].reduce(0.0) { $0 + Double($1) * Double($1) } }
        }
        rowOrder = squaredNorms.indices.sorted { squaredNorms[$0] > squaredNorms[$1] || (squaredNorms[$0] == squaredNorms[$1] && $0 < $1) }
        let sorted = a.selecting(rows: rowOrder)
        let evenRows = m > 0 && squaredNorms[rowOrder[0]] <= 4 * squaredNorms[rowOrder[m - 1]]
        let tall = m >= 2 * n && evenRows ? QRFactorization(sorted, threads: threads) : nil
        if let tall, estimatedConditionNumber(upperTriangular: tall.r) <= Self.unpivotedConditionLimit {
            (leading, pivoted) = (tall, nil)
            return
        }
        let working = PivotedQRFactorization(tall?.r ?? sorted, threads: threads)
        let d = working.factors.withView { f in (0..<n).map { abs(Double(f[$0, $0])) } }
        let graded = n > 0 && d[0] > d[n - 1] / Double(T.ulpOfOne).squareRoot()
        if !graded {
            (leading, pivoted) = (tall, working)
        } else if T.self == Double.self {
            (leading, pivoted) = (nil, tall == nil ? working : PivotedQRFactorization(sorted, threads: threads))
        } else {
            leading = nil
            pivoted = PivotedQRFactorization(rounding: PivotedQRFactorization<Double>(sorted.converted(), threads: threads))
        }
    }

    /// The estimated κ₁(R₀) up to which the tall route takes R₀ itself as R: 1/(8√ε), 362 for
    /// Float (R₀ of an m×n Gaussian matrix has κ₂ ≈ (√m + √n)/(√m − √n), 5.8 at m = 2n).
    static var unpivotedConditionLimit: Double { 1 / (8 * Double(T.ulpOfOne).squareRoot()) }

    /// The triangular factor R.
    var r: Matrix<T> { pivoted?.r ?? leading!.r }

    /// Column k of A·P_c is column `columnOrder[k]` of A.
    var columnOrder: [Int] { pivoted?.permutation ?? Array(0..<(leading?.factors.columns ?? 0)) }

    /// P_rᵀ·Q·[Y; 0] for Y with n rows (Q = Q₀·Q₁ on the tall route): left vectors of R as left
    /// vectors of A.
    func leftVectors(_ y: Matrix<T>, threads: Int) -> Matrix<T> {
        var inner = y
        if let pivoted {
            inner = padded(y, rows: pivoted.factors.rows)
            pivoted.multiplyQ(&inner, transpose: false, threads: threads)
        }
        guard let leading else { return unsorted(inner) }
        return unsorted(leading, padding: inner, threads: threads)
    }

    /// A's left singular vectors from its right ones (Vᵀ, columns in A's order) and σ, for a Jacobi
    /// that did not accumulate its rotations: orth(M·V·Σ⁻¹) (`JacobiLeftVectors`) for a matrix M
    /// with A's right singular vectors, whose QR's sign rule makes the result unique. On the tall
    /// route M = R₀, the unpivoted QR's factor (R₀·V = Q₁·R·V_R, so orth(R₀·V·Σ⁻¹) = Q₁·U_R), then
    /// through Q₀ and P_r; otherwise M = A itself (A·V = P_rᵀ·Q·R·V_R, so orth(A·V·Σ⁻¹) = P_rᵀ·Q·U_R,
    /// a row permutation commuting with the QR). Either way the same accuracy argument holds (M has
    /// A's singular values) and neither Q₁ nor the pivoted QR's Q is ever applied: 2n³ flops
    /// fewer, at the reflectors' rate.
    func leftVectors(of a: Matrix<T>, rightVectors vt: Matrix<T>, sigma: [Double], threads: Int) -> Matrix<T> {
        guard let leading else { return JacobiLeftVectors.reorthogonalized(a, vt, sigma, threads: threads) }
        return unsorted(leading, padding: JacobiLeftVectors.reorthogonalized(leading.r, vt, sigma, threads: threads), threads: threads)
    }

    /// P_rᵀ·Q₀·[Y; 0].
    private func unsorted(_ leading: QRFactorization<T>, padding y: Matrix<T>, threads: Int) -> Matrix<T> {
        var u = padded(y, rows: leading.factors.rows)
        leading.multiplyQ(&u, transpose: false, threads: threads)
        return unsorted(u)
    }

    /// [Y; 0] with `rows` rows.
    private func padded(_ y: Matrix<T>, rows: Int) -> Matrix<T> {
        if rows == y.rows { return y }
        var u = Matrix<T>(rows: rows, columns: y.columns)
        u.place(y, row: 0, column: 0)
        return u
    }

    /// P_rᵀ·U: the rows of U back in A's row order.
    private func unsorted(_ u: Matrix<T>) -> Matrix<T> {
        var inverse = [Int](repeating: 0, count: u.rows)
        for (sorted, original) in rowOrder.enumerated() { inverse[original] = sorted }
        return u.selecting(rows: inverse)
    }
}
