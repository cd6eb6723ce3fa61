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

    /// One merge (LAPACK's lasd1–lasd3, restructured).
    /// With `leading` (top level only), only the vectors of that many largest values are formed.
    static func merge<V: LinalgScalar>(upper: BidiagonalFactors<V>, lower: BidiagonalFactors<V>, alpha: Double, beta: Double,
                                       k: Int, n2: Int, extraColumn: Bool, vectors: Bool, leading: Int? = nil,
                                       threads: Int) throws(LinalgError) -> BidiagonalFactors<V> {
        precondition(leading == nil || !extraColumn, "leading vectors are selected at the top level only")
        let n = k + 1 + n2, m = n + (extraColumn ? 1 : 0), m2 = m - k - 1
        // Scale to max 1 so that squares neither overflow nor underflow.
        let scale = max(abs(alpha), abs(beta), upper.sigma.max() ?? 0, lower.sigma.max() ?? 0)
        // Ũ = diag(U₁, 1, U₂) and W̃ = diag(W₁, W₂) (or their first and last rows).
        var ut: Matrix<V>? = nil
        if vectors, let u1 = upper.u, let u2 = lower.u {
            var u = Matrix<V>(rows: n, columns: n)
            u.place(u1, row: 0, column: 0)
            u[k, k] = 1
            u.place(u2, row: k + 1, column: k + 1)
            ut = u
        }
        var wt: Matrix<V>
        let lastRowOfW1: [Double], firstRowOfW2: [Double]
        if vectors {
            wt = Matrix(rows: m, columns: m)
            wt.place(upper.w, row: 0, column: 0)
            wt.place(lower.w, row: k + 1, column: k + 1)
            lastRowOfW1 = (0...k).map { Double(upper.w[k, $0]) }
        } else {
            wt = Matrix(rows: 2, columns: m)
            wt.place(upper.w.selecting(rows: [0]), row: 0, column: 0)
            wt.place(lower.w.selecting(rows: [1]), row: 1, column: k + 1)
            lastRowOfW1 = (0...k).map { Double(upper.w[1, $0]) }
        }
        firstRowOfW2 = (0..<m2).map { Double(lower.w[0, $0]) }
        // Which row blocks (split at row k + 1, or W̃'s row 1 without vectors) each column of W̃ and
        // Ũ has entries in; rotations below merge them.
        var wSupport = (0..<m).map { $0 <= k ? Support.upper : Support.lower }
        var uSupport = (0..<n).map { $0 <= k ? Support.upper : Support.lower }
        if scale == 0 {
            return BidiagonalFactors(sigma: [Double](repeating: 0, count: n), u: ut, w: wt).keepingVectors(ofLargest: leading)
        }
        var z = [Double](repeating: 0, count: m)
        for j in 0...k { z[j] = alpha / scale * lastRowOfW1[j] }
        for j in 0..<m2 { z[k + 1 + j] = beta / scale * firstRowOfW2[j] }
        // Fold the second null column (m − 1) into column k: it becomes B's null vector.
        if extraColumn {
            let r = hypot(z[k], z[m - 1])
            if r > 0 {
                rotateColumns(&wt, k, m - 1, cosine: z[k] / r, sine: -z[m - 1] / r)
                Support.combine(&wSupport, k, m - 1)
                z[k] = r
                z[m - 1] = 0
            }
        }
        // Coordinates: column k (d = 0) first, then the children's values, ascending.
        var d = [Double](repeating: 0, count: n)
        for i in 0..<k { d[i] = upper.sigma[i] / scale }
        for i in 0..<n2 { d[k + 1 + i] = lower.sigma[i] / scale }
        d[k] = 0
        let order = (0..<n).sorted { a, b in
            if a == k || b == k { return a == k && b != k }
            return d[a] < d[b] || (d[a] == d[b] && a < b)
        }
        // Deflation.
        let tolerance = 8 * Double.ulpOfOne * max(d.max() ?? 0, abs(alpha) / scale, abs(beta) / scale)
        if abs(z[k]) <= tolerance { z[k] = tolerance }
        var kept = [k], deflated: [Int] = []
        for j in order.dropFirst() {
            if abs(z[j]) <= tolerance {
                deflated.append(j)
                continue
            }
            let p = kept.last!
            if d[j] - d[p] > tolerance {
                kept.append(j)
            } else if p == k {
                // d_j ≈ 0 = d_k: rotate z_j into z_k on the right only; row j then vanishes.
                let r = hypot(z[k], z[j])
                rotateColumns(&wt, k, j, cosine: z[k] / r, sine: -z[j] / r)
                Support.combine(&wSupport, k, j)
                z[k] = r
                z[j] = 0
                d[j] = 0
                deflated.append(j)
            } else {
                // d_p ≈ d_j: rotate z_p into z_j on both sides; p keeps σ = d_p.
                let r = hypot(z[p], z[j])
                let (c, s) = (z[j] / r, z[p] / r)
                rotateColumns(&wt, p, j, cosine: c, sine: s)
                Support.combine(&wSupport, p, j)
                if ut != nil {
                    rotateColumns(&ut!, p, j, cosine: c, sine: s)
                    Support.combine(&uSupport, p, j)
                }
                z[j] = r
                z[p] = 0
                kept.removeLast()
                deflated.append(p)
                kept.append(j)
            }
        }
        let solution = try SecularEquation.solve(d: kept.map { d[$0] }, z: kept.map { z[$0] }, threads: threads)
        let sigma = solution.sigma.map { $0 * scale } + deflated.map { d[$0] * scale }
        // Which values get vectors: all, or the `leading` largest (positions in `sigma`, ascending).
        let chosen = largest(leading, of: sigma)
        let chosenKept = chosen.filter { $0 < kept.count }
        let chosenDeflated = chosen.filter { $0 >= kept.count }.map { deflated[$0 - kept.count] }
        // New vectors: [Ũ or W̃ (kept columns) · the small problem's vectors | deflated columns | null column].
        let nullColumn = extraColumn ? [m - 1] : []
        var newW = Matrix<V>(rows: wt.rows, columns: chosen.count + nullColumn.count)
        let small: (u: Matrix<V>?, v: Matrix<V>) = solution.vectors(chosenKept, left: ut != nil)
        newW.place(multiplyColumns(wt, kept, by: small.v, splitRow: vectors ? k + 1 : 1,
                                   support: wSupport, threads: threads), row: 0, column: 0)
        newW.place(wt.selecting(columns: chosenDeflated + nullColumn), row: 0, column: chosenKept.count)
        var newU: Matrix<V>? = nil
        if let ut {
            var u = Matrix<V>(rows: n, columns: chosen.count)
            u.place(multiplyColumns(ut, kept, by: small.u!, splitRow: k + 1,
                                    support: uSupport, threads: threads), row: 0, column: 0)
            u.place(ut.selecting(columns: chosenDeflated), row: 0, column: chosenKept.count)
            newU = u
        }
        return BidiagonalFactors(sigma: sigma, u: newU, w: newW, vectorColumn: vectorColumns(of: chosen, among: n))
    }

    /// The row blocks a column of Ũ or W̃ has entries in: a child's block (rows up to the split,
    /// or after it), or both once a deflating rotation has mixed a column from each.
    struct Support: OptionSet {
        let rawValue: UInt8
        static let upper = Support(rawValue: 1)
        static let lower = Support(rawValue: 2)

        /// Columns p and q were rotated together.
        static func combine(_ support: inout [Support], _ p: Int, _ q: Int) {
            let both = support[p].union(support[q])
            support[p] = both
            support[q] = both
        }
    }

    /// (col_p, col_q) ← (c·col_p − s·col_q, s·col_p + c·col_q).
    static func rotateColumns<V: LinalgScalar>(_ a: inout Matrix<V>, _ p: Int, _ q: Int, cosine: Double, sine: Double) {
        let (rows, c, s) = (a.rows, V(cosine), V(sine))
        a.withMutableView { view in
            for i in 0..<rows {
                let (x, y) = (view[i, p], view[i, q])
                view[i, p] = c * x - s * y
                view[i, q] = s * x + c * y
            }
        }
    }

    /// full[:, columns] · small, computed separately for the rows above and below `splitRow`
    /// using only the columns with entries there (`support`: the children's blocks).
    static func multiplyColumns<V: LinalgScalar>(_ full: Matrix<V>, _ columns: [Int], by small: Matrix<V>, splitRow: Int,
                                                 support: [Support], threads: Int) -> Matrix<V> {
        var result = Matrix<V>(rows: full.rows, columns: small.columns)
        let blocks = [(0..<min(splitRow, full.rows), Support.upper), (min(splitRow, full.rows)..<full.rows, Support.lower)]
        for (rows, block) in blocks where !rows.isEmpty {
            let active = columns.indices.filter { support[columns[$0]].contains(block) }
            if active.isEmpty { continue }
            let a = full.selecting(rows: rows, columns: active.map { columns[$0] })
            let b = small.selecting(rows: active)
            a.withView { a in
                b.withView { b in
                    result.withMutableView { r in
                        gemm(a, b, into: r.submatrix(row: rows.lowerBound, column: 0, rows: rows.count, columns: r.columns),
                             threads: threads)
                    }
                }
            }
        }
        return result
    }
}
