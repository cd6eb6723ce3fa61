/// Divide and conquer SVD of an upper bidiagonal matrix (Gu & Eisenstat 1995; LAPACK's bdsdc).
///
/// An n×m upper bidiagonal B (m = n, or m = n + 1 with one extra column) is split at row k into
/// B₁ (k × (k+1)), the row (α at column k, β at column k+1) and B₂ ((n−k−1) × (m−k−1)). With the
/// children's SVDs Bᵢ = Uᵢ Σᵢ Wᵢᵀ, diag(U₁, 1, U₂)ᵀ · B · diag(W₁, W₂) is diagonal plus one dense
/// row z = (α·last row of W₁, β·first row of W₂). A rotation folds the two null columns together,
/// deflation removes tiny z and nearly equal d (rotating them away), and the rest is the
/// broken-arrow problem of `SecularEquation`. The parent's vectors are the children's times
/// the small problem's: two GEMMs per side, each touching only the rows where the children's
/// vectors are nonzero. Leaves (≤ `leafSize` rows) use one-sided Jacobi, accurate for
/// bidiagonals. Without vectors only the first and last rows of W are carried (they are all
/// z needs), making the whole computation O(n²).
///
/// Precision: B, the deflation decisions, the secular equation and the small problems' vectors are
/// Double (O(n²) work). The accumulated vectors — and the merges' GEMMs, most of the flops — are
/// in `V`, the working precision of the SVD that asked (as LAPACK's sbdsdc works in single): a
/// Float SVD's GEMMs then run at twice Double's rate and move half the bytes. Values-only calls
/// use V = Double, so that z (from W's first and last rows) and σ keep Double accuracy.
struct BidiagonalFactors<V: LinalgScalar> {
    /// Singular values (unordered below the top level).
    var sigma: [Double]
    /// Left vectors as columns, n × n (nil without vectors).
    var u: Matrix<V>?
    /// Right vectors as columns: all m rows with vectors, else only rows 0 and m − 1 (2 × m).
    var w: Matrix<V>
    /// The column of U and W holding the vectors of σᵢ, nil where they were not formed.
    var vectorColumn: [Int?]

    init(sigma: [Double], u: Matrix<V>?, w: Matrix<V>, vectorColumn: [Int?]? = nil) {
        self.sigma = sigma
        self.u = u
        self.w = w
        self.vectorColumn = vectorColumn ?? sigma.indices.map { $0 }
    }

    /// The same factors with vectors only for the `count` largest values (nil: all of them).
    func keepingVectors(ofLargest count: Int?) -> BidiagonalFactors {
        guard let count, count < sigma.count else { return self }
        let chosen = BidiagonalDivideAndConquer.largest(count, of: sigma)
        return BidiagonalFactors(sigma: sigma, u: u?.selecting(columns: chosen), w: w.selecting(columns: chosen),
                                 vectorColumn: BidiagonalDivideAndConquer.vectorColumns(of: chosen, among: sigma.count))
    }
}

enum BidiagonalDivideAndConquer {
    static let leafSize = 24

    /// The SVD of the square upper bidiagonal with diagonal `d` and superdiagonal `e`:
    /// σ descending, U and W (= V) with matching column order, the vectors in precision `V`. With
    /// `leading` = k, only the vectors of the k largest values are formed (σ still has all n
    /// values): the top merge — three quarters of the GEMM work — then multiplies by k columns
    /// instead of n. They are the same vectors, bit for bit, as the first k of the full result.
    /// With `left` false, U is not formed at all (u is nil), which saves about half the vector
    /// work; W and σ are bit for bit those of the call with U.
    static func svd<V: LinalgScalar>(d: [Double], e: [Double], vectors: Bool, left: Bool = true, leading: Int? = nil,
                                     threads: Int, precision: V.Type) throws(LinalgError)
        -> (sigma: [Double], u: Matrix<V>?, v: Matrix<V>?) {
        let n = d.count, left = vectors && left
        if n == 0 { return ([], left ? Matrix(rows: 0, columns: 0) : nil, vectors ? Matrix(rows: 0, columns: 0) : nil) }
        let factors: BidiagonalFactors<V> = try solve(d: d[...], e: e[...], extraColumn: false, vectors: vectors, left: left,
                                                      leading: vectors ? leading : nil, threads: threads)
        let order = descendingOrder(factors.sigma)
        let sigma = order.map { factors.sigma[$0] }
        guard vectors else { return (sigma, nil, nil) }
        let vectorOrder = order.filter { factors.vectorColumn[$0] != nil }.map { factors.vectorColumn[$0]! }
        return (sigma, factors.u?.selecting(columns: vectorOrder), factors.w.selecting(columns: vectorOrder))
    }

    /// Positions of the `count` largest values (ties by position), ascending; all with nil.
    static func largest(_ count: Int?, of values: [Double]) -> [Int] {
        guard let count else { return Array(values.indices) }
        return Array(descendingOrder(values).prefix(count)).sorted()
    }

    /// `vectorColumn` for vectors formed for the ascending positions `chosen`, in that order.
    static func vectorColumns(of chosen: [Int], among count: Int) -> [Int?] {
        var vectorColumn = [Int?](repeating: nil, count: count)
        for (column, position) in chosen.enumerated() { vectorColumn[position] = column }
        return vectorColumn
    }

    /// Positions of `values` sorted by value, descending; ties by position.
    static func descendingOrder(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    static func solve<V: LinalgScalar>(d: ArraySlice<Double>, e: ArraySlice<Double>, extraColumn: Bool, vectors: Bool,
                                       left: Bool, leading: Int? = nil, threads: Int) throws(LinalgError) -> BidiagonalFactors<V> {
        if d.count <= leafSize {
            return try leaf(d: d, e: e, extraColumn: extraColumn, vectors: vectors, left: left).keepingVectors(ofLargest: leading)
        }
        let n = d.count
        let k = n / 2
        let n2 = n - k - 1
        let lowerD = d[(d.startIndex + k + 1)...]
        let lowerE = e[(e.startIndex + k + 1)...]
        let upperD = d[d.startIndex..<(d.startIndex + k)]
        let upperE = e[e.startIndex..<(e.startIndex + k)]
        var children: [BidiagonalFactors<V>?] = [nil, nil]
        var failure: LinalgError?
        if threads > 1 && n >= 256 {
            let box = ChildBox<V>()
            Parallelism.forEach(2) { side in
                do {
                    let result: BidiagonalFactors<V> = side == 0
                        ? try solve(d: upperD, e: upperE, extraColumn: true, vectors: vectors, left: left, threads: threads / 2)
                        : try solve(d: lowerD, e: lowerE, extraColumn: extraColumn, vectors: vectors, left: left,
                                    threads: threads - threads / 2)
                    box.set(side, result)
                } catch {
                    box.fail(error as! LinalgError)
                }
            }
            children = box.results
            failure = box.failure
        } else {
            children[0] = try solve(d: upperD, e: upperE, extraColumn: true, vectors: vectors, left: left, threads: 1)
            children[1] = try solve(d: lowerD, e: lowerE, extraColumn: extraColumn, vectors: vectors, left: left, threads: 1)
        }
        if let failure { throw failure }
        return try merge(upper: children[0]!, lower: children[1]!, alpha: d[d.startIndex + k], beta: e[e.startIndex + k],
                         k: k, n2: n2, extraColumn: extraColumn, vectors: vectors, leading: leading, threads: threads)
    }

    /// Results of the two concurrently solved halves.
    final class ChildBox<V: LinalgScalar>: @unchecked Sendable {
        var results: [BidiagonalFactors<V>?] = [nil, nil]
        var failure: LinalgError?
        private let lock = Lock()
        func set(_ side: Int, _ value: BidiagonalFactors<V>) { lock.locked { results[side] = value } }
        func fail(_ error: LinalgError) { lock.locked { failure = error } }
    }

    /// A leaf: one-sided Jacobi on the dense n×m bidiagonal. B = Rᵀ·X with R the accumulated
    /// rotations and X's rows orthogonal, so U = Rᵀ, σᵢ = ‖xᵢ‖, and W's columns are the
    /// normalized rows (completed to an orthonormal basis of ℝᵐ). Computed in Double, then
    /// rounded to `V`; U only when `left` (which `svd` allows only with `vectors`). The leaf is
    /// first scaled by a power of two to a largest entry in [1, 2): a leaf of a nearly
    /// rank-deficient matrix can hold entries of 10⁻¹⁶⁰ whose squares underflow, and Jacobi's dot
    /// products would then never see the rows as orthogonal.
    static func leaf<V: LinalgScalar>(d: ArraySlice<Double>, e: ArraySlice<Double>, extraColumn: Bool,
                                      vectors: Bool, left: Bool) throws(LinalgError) -> BidiagonalFactors<V> {
        let n = d.count, m = n + (extraColumn ? 1 : 0)
        let largest = max(d.lazy.map(abs).max() ?? 0, e.lazy.map(abs).max() ?? 0)
        let scale = UnitScaling<Double>(largest: largest)
        var b = Matrix<Double>(rows: n, columns: m)
        for i in 0..<n {
            b[i, i] = scale.apply(d[d.startIndex + i])
            if i + 1 < m { b[i, i + 1] = scale.apply(e[e.startIndex + i]) }
        }
        var rotations = left ? Matrix<Double>.identity(n) : Matrix<Double>(rows: 0, columns: 0)
        var failure: LinalgError?
        let negligible = b.withView { negligibleRowNormSquared($0) }
        b.withMutableView { x in
            rotations.withMutableView { r in
                do throws(LinalgError) {
                    try orthogonalizeRows(x, accumulator: left ? r : nil, negligible: negligible)
                } catch { failure = error }
            }
        }
        if let failure { throw failure }
        var sigma = [Double](repeating: 0, count: n)
        var rows = Matrix<Double>(rows: m, columns: m)
        var missing: [Int] = []
        for i in 0..<n {
            let squared = (0..<m).reduce(0.0) { $0 + b[i, $1] * b[i, $1] }
            let norm = squared.squareRoot()
            sigma[i] = scale.undo(norm)
            if squared <= negligible { missing.append(i); continue }
            for j in 0..<m { rows[i, j] = b[i, j] / norm }
        }
        if extraColumn { missing.append(n) }
        rows.withMutableView { completeOrthonormalRows($0, missing: missing) }
        if vectors {
            return BidiagonalFactors(sigma: sigma, u: left ? rotations.transposed.converted() : nil, w: rows.transposed.converted())
        }
        return BidiagonalFactors(sigma: sigma, u: nil, w: rows.transposed.selecting(rows: [0, m - 1]).converted())
    }
}
