/// Which algorithm an SVD runs (see ``SVD`` for both paths).
public enum SVDAlgorithm: String, CaseIterable, Sendable {
    /// One-sided Jacobi for r ≤ 16, the bidiagonal path otherwise.
    case auto
    /// Householder bidiagonalization, divide and conquer, back-transformation.
    case bidiagonal
    /// QR, then one-sided Jacobi on R.
    case jacobi

    /// Whether a matrix of rank bound r = min(m, n) takes the Jacobi path under this choice.
    func usesJacobi(rank r: Int) -> Bool { self == .jacobi || (self == .auto && r <= 16) }
}

/// The thin singular value decomposition A = U·diag(σ)·Vᵀ of an m×n matrix: U is m×r, σ has r
/// values in descending order (all ≥ 0), Vᵀ is r×n, r = min(m, n).
///
/// Two algorithms, both to LAPACK's standards (‖A − UΣVᵀ‖ and ‖UᵀU − I‖, ‖VVᵀ − I‖ of order
/// max(m, n)·ε):
/// - `.bidiagonal`: Householder bidiagonalization (after a QR factorization when m ≥ 11n/6),
///   divide and conquer on the bidiagonal, then the reflectors applied to its vectors with GEMM.
///   About 4mn² + 8n³ flops, most of them in GEMM. The fast general-purpose choice.
/// - `.jacobi`: QR factorization, then one-sided Jacobi on the rows of R until they are orthogonal
///   (parallel sweeps; on larger matrices blocks of rows through their Gram matrices and GEMM).
///   Slower on large matrices, but accurate for small singular values of graded matrices, and
///   competitive for tiny ones.
/// - `.auto` (the default): Jacobi for r ≤ 16, where it needs no reduction, bidiagonal otherwise.
///
/// Wide matrices are handled through the transpose. The input is scaled by a power of two (an
/// exact operation) so that nothing overflows or underflows inside, and the scale is put back on σ.
/// NaN or ±∞ in the input is an error. Results are deterministic for a given input and thread
/// count (and in fact do not depend on the thread count).
public struct SVD<T: LinalgScalar>: Sendable {
    /// The left singular vectors, as the columns of an m × r matrix.
    public let u: Matrix<T>
    /// The r singular values, descending.
    public let singularValues: [T]
    /// The right singular vectors, as the rows of an r × n matrix.
    public let vt: Matrix<T>

    /// The thin SVD of `a` with `algorithm`, on `threads` threads (nil: ``Parallelism/maximumThreads``).
    /// Throws for NaN or ±∞ in `a`, or if an iteration does not converge.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) {
        let factors = try computeSVD(a, algorithm: algorithm, vectors: true, threads: threads ?? Parallelism.maximumThreads)
        (u, singularValues, vt) = (factors.u!, factors.sigma, factors.vt!)
    }

    /// Singular values only (descending), at a fraction of the cost: no vectors are formed.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public static func singularValues(of a: Matrix<T>, algorithm: SVDAlgorithm = .auto, threads: Int? = nil) throws(LinalgError) -> [T] {
        try computeSVD(a, algorithm: algorithm, vectors: false, threads: threads ?? Parallelism.maximumThreads).sigma
    }
}

/// The shared driver: checks, scaling, orientation, algorithm. With `leading` = k, U and Vᵀ hold
/// only the vectors of the k largest singular values (σ has all r).
func computeSVD<T: LinalgScalar>(_ a: Matrix<T>, algorithm: SVDAlgorithm, vectors: Bool, leading: Int? = nil,
                                 threads: Int) throws(LinalgError)
    -> (u: Matrix<T>?, sigma: [T], vt: Matrix<T>?) {
    let (m, n) = (a.rows, a.columns)
    let largest = try largestMagnitude(a)
    if m < n {
        let transposed = try computeSVD(a.transposed, algorithm: algorithm, vectors: vectors, leading: leading, threads: threads)
        return (transposed.vt?.transposed, transposed.sigma, transposed.u?.transposed)
    }
    let r = n, k = min(max(0, leading ?? r), r)
    if r == 0 || largest == 0 {
        return (vectors ? Matrix(rows: m, columns: k) { i, j in i == j ? 1 : 0 } : nil,
                [T](repeating: 0, count: r),
                vectors ? Matrix(rows: k, columns: n) { i, j in i == j ? 1 : 0 } : nil)
    }
    let (scaled, scale) = UnitScaling.apply(to: a, largest: largest)
    let useJacobi = algorithm.usesJacobi(rank: r)
    var result = useJacobi ? try jacobiSVD(scaled, vectors: vectors, threads: threads)
                           : try bidiagonalSVD(scaled, vectors: vectors, leading: k, threads: threads)
    result.sigma = result.sigma.map(scale.undo)
    if useJacobi && k < r {
        result.u = result.u?.selecting(columns: Array(0..<k))
        result.vt = result.vt?.selecting(rows: Array(0..<k))
    }
    return result
}

/// max |aᵢⱼ|, or an error naming the first NaN or ±∞.
func largestMagnitude<T: LinalgScalar>(_ a: Matrix<T>) throws(LinalgError) -> T {
    let (largest, allFinite) = magnitudeScan(a.elements)
    if !allFinite { try requireFinite(a) }
    return largest
}

/// An error naming the first NaN or ±∞ of `a`, if it has one.
func requireFinite<T: LinalgScalar>(_ a: Matrix<T>) throws(LinalgError) {
    if let index = firstNonFiniteIndex(a.elements) {
        throw LinalgError.nonFiniteInput(row: index / a.columns, column: index % a.columns)
    }
}

/// m ≥ n: [QR] → bidiagonalization → divide and conquer → back-transformation, the last two
/// for the vectors of the `leading` largest values only (cost ∝ leading; strong leading vectors
/// by one GEMM, below).
func bidiagonalSVD<T: LinalgScalar>(_ a: Matrix<T>, vectors: Bool, leading: Int, threads: Int) throws(LinalgError)
    -> (u: Matrix<T>?, sigma: [T], vt: Matrix<T>?) {
    let (m, n) = (a.rows, a.columns)
    guard vectors else { return (nil, try BidiagonalPathSVD.singularValues(of: a, threads: threads), nil) }
    // A truncated SVD forms its strong leading vectors as A·vᵢ/σᵢ, one GEMM (`DirectLeftVectors`),
    // and only the others through the reflectors; the full SVD keeps U orthonormal to roundoff
    // whatever its conditioning.
    let truncated = leading < n
    let svd = try BidiagonalPathSVD(a, leading: leading, threads: threads, mayWantLeft: truncated ? {
        DirectLeftVectors.mayHaveWeakDirections($0, among: leading, relativeThreshold: 0)
    } : nil)
    let (sigma, vt) = (svd.sigma, svd.vt)
    let direct = truncated ? DirectLeftVectors.strongCount(sigma, among: leading) : 0
    guard direct > 0 else { return (try svd.leftVectors(0..<leading, threads: threads), sigma, vt) }
    var u = Matrix<T>(rows: m, columns: leading)
    let scaledVt = DirectLeftVectors.inverseScaledRows(vt, sigma, count: direct)
    a.withView { a in
        scaledVt.withView { s in
            u.withMutableView { u in
                gemm(a, s.transposed, into: u.submatrix(row: 0, column: 0, rows: m, columns: direct), threads: threads)
            }
        }
    }
    if direct < leading { u.place(try svd.leftVectors(direct..<leading, threads: threads), row: 0, column: direct) }
    return (u, sigma, vt)
}

/// m ≥ n: Drmač–Veselić preconditioning (`JacobiPreconditioning`: P_r·A·P_c = Q·R), then
/// one-sided Jacobi on the rows of R: Rot·R = X with X's rows orthogonal, so σᵢ = ‖xᵢ‖, Vᵀ's rows
/// are the normalized xᵢ (columns put back through P_c) and U = P_rᵀ·Q·U_R.
///
/// U_R, the left vectors of R, is Rotᵀ when the rotations are accumulated (a third of the work of
/// every sweep). Accumulated rotations give graded matrices vectors to relative accuracy, which is
/// what they are kept for: when the pivoted R's diagonal falls by more than 1/√ε (|r₁₁/rₙₙ| ≈ the
/// spread of the singular values up to modest factors, R's pivoting being rank revealing; it is
/// a lower bound of κ(R)), or R is rank deficient. Otherwise U_R is formed after the iteration
/// (`JacobiLeftVectors`: U_R = orth(R·V_R·Σ⁻¹), formed as orth(A·V·Σ⁻¹) = P_rᵀ·Q·U_R, or on the tall
/// route orth(R₀·V·Σ⁻¹) = Q₁·U_R, `JacobiPreconditioning.leftVectors(of:rightVectors:sigma:threads:)`),
/// backward stable and as accurate as the bidiagonal path's vectors, at the cost of about two
/// sweeps' worth of the accumulation.
///
/// Relative accuracy: only rows of R past its numerical rank (a drop by 1/ε along the pivoted diagonal)
/// or of norm below λ/ε (subnormal scale) are treated as zero (`JacobiPreconditioning` explains the grading, `orthogonalizeRowsBlocked`
/// why the rotations keep it); an absolute cut at ε·‖R‖ would freeze every row, and with it every
/// singular value, more than 1/ε below the largest. For A = D₁·B·D₂ with D₁, D₂ diagonal, every
/// σᵢ then has relative error O(n·ε·κ(B)); norms are summed in Double.
func jacobiSVD<T: LinalgScalar>(_ a: Matrix<T>, vectors: Bool, threads: Int) throws(LinalgError)
    -> (u: Matrix<T>?, sigma: [T], vt: Matrix<T>?) {
    let n = a.columns
    let preconditioning = JacobiPreconditioning(a, threads: threads)
    var r = preconditioning.r
    // Rows below λ/ε (λ the least normal number, LAPACK's SFMIN/EPSLN) have subnormal entries,
    // whose arithmetic has lost its relative precision; and the Double products that test and
    // rotate the rows keep theirs only while the squared norms stay above λ_Double/ε_Double.
    let small = Double(T.leastNormalMagnitude / T.ulpOfOne)
    let negligible = max(Double.leastNormalMagnitude / Double.ulpOfOne, small * small)
    // Numerical rank from the pivoted R's diagonal (sgejsv's JOBA = 'R'): a drop by more than 1/ε
    // from one pivot to the next, or a pivot below λ/ε, leaves only rounding noise from there on;
    // those rows are zeroed. Graded matrices decrease gently along the diagonal and keep every row.
    let diagonal = (0..<n).map { abs(Double(r[$0, $0])) }
    let rank = (1..<max(1, n)).first { diagonal[$0] < Double(T.ulpOfOne) * diagonal[$0 - 1] || diagonal[$0] < small } ?? n
    for i in rank..<n { for j in 0..<n { r[i, j] = 0 } }
    let conditionLimit = 1 / Double(T.ulpOfOne).squareRoot()
    let accumulate = vectors && (rank < n || diagonal[0] > conditionLimit * diagonal[n - 1])
    let (x, rotations) = try orthogonalizedRows(r, accumulate: accumulate, negligible: negligible, threads: threads)
    let norms = rowNorms(x)
    let order = (0..<n).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
    let sigma = order.map { T(norms[$0]) }
    guard vectors else { return (nil, sigma, nil) }
    // Vᵀ_R: the normalized rows of X in σ order, in R's column order.
    var vtOfR = Matrix<T>(rows: n, columns: n)
    var missing: [Int] = []
    for (row, i) in order.enumerated() {
        if norms[i] * norms[i] <= negligible { missing.append(row); continue }
        let inverse = 1 / norms[i]
        for j in 0..<n { vtOfR[row, j] = T(Double(x[i, j]) * inverse) }
    }
    vtOfR.withMutableView { completeOrthonormalRows($0, missing: missing) }
    let columnOrder = preconditioning.columnOrder
    var vt = Matrix<T>(rows: n, columns: n)
    for i in 0..<n { for j in 0..<n { vt[i, columnOrder[j]] = vtOfR[i, j] } }
    guard let rotations else {
        return (preconditioning.leftVectors(of: a, rightVectors: vt, sigma: order.map { norms[$0] }, threads: threads), sigma, vt)
    }
    let leftOfR = Matrix<T>(rows: n, columns: n) { i, j in rotations[order[j], i] }
    return (preconditioning.leftVectors(leftOfR, threads: threads), sigma, vt)
}

/// Block one-sided Jacobi on a copy of R's rows: X = Rot·R with X's rows orthogonal, and Rot when
/// `accumulate`.
private func orthogonalizedRows<T: LinalgScalar>(_ r: Matrix<T>, accumulate: Bool, negligible: Double,
                                                 threads: Int) throws(LinalgError) -> (x: Matrix<T>, rotations: Matrix<T>?) {
    var x = r
    var rotations = accumulate ? Matrix<T>.identity(r.rows) : Matrix<T>(rows: 0, columns: 0)
    var failure: LinalgError?
    x.withMutableView { x in
        rotations.withMutableView { rotations in
            do throws(LinalgError) {
                try orthogonalizeRowsBlocked(x, accumulator: accumulate ? rotations : nil, negligible: negligible, threads: threads)
            } catch { failure = error }
        }
    }
    if let failure { throw failure }
    return (x, accumulate ? rotations : nil)
}

/// ‖xᵢ‖ for each row, summed in Double.
private func rowNorms<T: LinalgScalar>(_ x: Matrix<T>) -> [Double] {
    x.withView { x in
        (0..<x.rows).map { i in (0..<x.columns).reduce(0.0) { $0 + Double(x[i, $1]) * Double(x[i, $1]) }.squareRoot() }
    }
}
