extension BidiagonalDivideAndConquer {
    /// One merge (LAPACK's lasd1–lasd3, restructured): the children's vectors assembled into Ũ and
    /// W̃, the dense row z, deflation, the secular equation on what is left, and the parent's
    /// vectors as the children's times the small problem's. With `leading` (top level only), only
    /// the vectors of that many largest values are formed. Cost: O(n²) for the values; with
    /// vectors, the GEMMs of `mergedFactors`.
    static func merge<V: LinalgScalar>(upper: BidiagonalFactors<V>, lower: BidiagonalFactors<V>, alpha: Double, beta: Double,
                                       k: Int, n2: Int, extraColumn: Bool, vectors: Bool, leading: Int? = nil,
                                       threads: Int) throws(LinalgError) -> BidiagonalFactors<V> {
        precondition(leading == nil || !extraColumn, "leading vectors are selected at the top level only")
        let n = k + 1 + n2, m = n + (extraColumn ? 1 : 0)
        // Scale to max 1 so that squares neither overflow nor underflow.
        let scale = max(abs(alpha), abs(beta), upper.sigma.max() ?? 0, lower.sigma.max() ?? 0)
        var basis = MergeBasis(upper: upper, lower: lower, k: k, n: n, m: m, vectors: vectors)
        if scale == 0 {
            return BidiagonalFactors(sigma: [Double](repeating: 0, count: n), u: basis.ut, w: basis.wt)
                .keepingVectors(ofLargest: leading)
        }
        var z = couplingRow(upper: upper, lower: lower, alpha: alpha, beta: beta, scale: scale, k: k, m: m, vectors: vectors)
        if extraColumn { basis.foldNullColumn(m - 1, into: k, z: &z) }
        var d = poles(upper: upper, lower: lower, k: k, n: n, scale: scale)
        let tolerance = 8 * Double.ulpOfOne * max(d.max() ?? 0, abs(alpha) / scale, abs(beta) / scale)
        let (kept, deflated) = deflate(z: &z, d: &d, basis: &basis, k: k, tolerance: tolerance)
        let solution = try SecularEquation.solve(d: kept.map { d[$0] }, z: kept.map { z[$0] }, threads: threads)
        let sigma = solution.sigma.map { $0 * scale } + deflated.map { d[$0] * scale }
        return basis.mergedFactors(sigma: sigma, solution: solution, kept: kept, deflated: deflated, leading: leading,
                                   nullColumn: extraColumn ? [m - 1] : [], splitRow: k + 1, vectors: vectors,
                                   threads: threads)
    }

    /// z = (α·last row of W₁, β·first row of W₂)/scale: the dense row of the merged problem
    /// (W₁'s last row is its row 1 when only the first and last rows are carried).
    static func couplingRow<V: LinalgScalar>(upper: BidiagonalFactors<V>, lower: BidiagonalFactors<V>, alpha: Double,
                                             beta: Double, scale: Double, k: Int, m: Int, vectors: Bool) -> [Double] {
        let lastRowOfW1 = (0...k).map { Double(upper.w[vectors ? k : 1, $0]) }
        let firstRowOfW2 = (0..<(m - k - 1)).map { Double(lower.w[0, $0]) }
        var z = [Double](repeating: 0, count: m)
        for j in 0...k { z[j] = alpha / scale * lastRowOfW1[j] }
        for j in 0..<firstRowOfW2.count { z[k + 1 + j] = beta / scale * firstRowOfW2[j] }
        return z
    }

    /// The merged problem's diagonal over `scale`: the upper child's values, 0 at position k (the
    /// column z folds into), then the lower child's values.
    static func poles<V: LinalgScalar>(upper: BidiagonalFactors<V>, lower: BidiagonalFactors<V>, k: Int, n: Int,
                                       scale: Double) -> [Double] {
        var d = [Double](repeating: 0, count: n)
        for i in 0..<k { d[i] = upper.sigma[i] / scale }
        for i in 0..<(n - k - 1) { d[k + 1 + i] = lower.sigma[i] / scale }
        d[k] = 0
        return d
    }

    /// Deflation: visits the poles in ascending order (column k first) and removes each z_j with
    /// |z_j| ≤ `tolerance` (its σ is d_j as it stands), and each pole within `tolerance` of the
    /// previous kept one, rotating its z into that one's (both sides of the problem, or the right
    /// side only next to d_k = 0). Returns the positions kept for the secular equation, ascending
    /// by d, and the deflated ones. Cost: O(n log n), plus O(rows) per rotation.
    static func deflate<V: LinalgScalar>(z: inout [Double], d: inout [Double], basis: inout MergeBasis<V>, k: Int,
                                         tolerance: Double) -> (kept: [Int], deflated: [Int]) {
        let order = d.indices.sorted { a, b in
            if a == k || b == k { return a == k && b != k }
            return d[a] < d[b] || (d[a] == d[b] && a < b)
        }
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
                basis.rotateW(k, j, cosine: z[k] / r, sine: -z[j] / r)
                z[k] = r
                z[j] = 0
                d[j] = 0
                deflated.append(j)
            } else {
                // d_p ≈ d_j: rotate z_p into z_j on both sides; p keeps σ = d_p.
                let r = hypot(z[p], z[j])
                let (c, s) = (z[j] / r, z[p] / r)
                basis.rotateW(p, j, cosine: c, sine: s)
                basis.rotateU(p, j, cosine: c, sine: s)
                z[j] = r
                z[p] = 0
                kept.removeLast()
                deflated.append(p)
                kept.append(j)
            }
        }
        return (kept, deflated)
    }
}

/// The vectors one merge works on: Ũ = diag(U₁, 1, U₂) (nil without left vectors) and
/// W̃ = diag(W₁, W₂) (or only their first and last rows, 2 × m), with the row blocks each column
/// has entries in, which the deflating rotations merge and the final GEMMs exploit.
struct MergeBasis<V: LinalgScalar> {
    typealias Support = BidiagonalDivideAndConquer.Support
    private(set) var ut: Matrix<V>?
    private(set) var wt: Matrix<V>
    private var uSupport: [Support]
    private var wSupport: [Support]

    /// The block-diagonal assembly of the children's vectors, split after row k.
    init(upper: BidiagonalFactors<V>, lower: BidiagonalFactors<V>, k: Int, n: Int, m: Int, vectors: Bool) {
        if vectors, let u1 = upper.u, let u2 = lower.u {
            var u = Matrix<V>(rows: n, columns: n)
            u.place(u1, row: 0, column: 0)
            u[k, k] = 1
            u.place(u2, row: k + 1, column: k + 1)
            ut = u
        }
        if vectors {
            wt = Matrix(rows: m, columns: m)
            wt.place(upper.w, row: 0, column: 0)
            wt.place(lower.w, row: k + 1, column: k + 1)
        } else {
            wt = Matrix(rows: 2, columns: m)
            wt.place(upper.w.selecting(rows: [0]), row: 0, column: 0)
            wt.place(lower.w.selecting(rows: [1]), row: 1, column: k + 1)
        }
        wSupport = (0..<m).map { $0 <= k ? Support.upper : Support.lower }
        uSupport = (0..<n).map { $0 <= k ? Support.upper : Support.lower }
    }

    /// Rotates columns p and q of W̃ (`BidiagonalDivideAndConquer.rotateColumns`).
    mutating func rotateW(_ p: Int, _ q: Int, cosine: Double, sine: Double) {
        BidiagonalDivideAndConquer.rotateColumns(&wt, p, q, cosine: cosine, sine: sine)
        Support.combine(&wSupport, p, q)
    }

    /// Rotates columns p and q of Ũ, when there is one.
    mutating func rotateU(_ p: Int, _ q: Int, cosine: Double, sine: Double) {
        guard ut != nil else { return }
        BidiagonalDivideAndConquer.rotateColumns(&ut!, p, q, cosine: cosine, sine: sine)
        Support.combine(&uSupport, p, q)
    }

    /// Folds null column `last` into column k (B's null vector then lives in column k alone):
    /// a rotation of W̃ that moves z_last into z_k.
    mutating func foldNullColumn(_ last: Int, into k: Int, z: inout [Double]) {
        let r = hypot(z[k], z[last])
        guard r > 0 else { return }
        rotateW(k, last, cosine: z[k] / r, sine: -z[last] / r)
        z[k] = r
        z[last] = 0
    }

    /// The parent's factors: [Ũ or W̃ (kept columns) · the small problem's vectors | deflated
    /// columns | null column], for all values or the `leading` largest (positions in `sigma`,
    /// ascending). The products run per row block over the columns with entries there
    /// (`multiplyColumns`), in precision `V`.
    func mergedFactors(sigma: [Double], solution: SecularSolution, kept: [Int], deflated: [Int], leading: Int?,
                       nullColumn: [Int], splitRow: Int, vectors: Bool, threads: Int) -> BidiagonalFactors<V> {
        let chosen = BidiagonalDivideAndConquer.largest(leading, of: sigma)
        let chosenKept = chosen.filter { $0 < kept.count }
        let chosenDeflated = chosen.filter { $0 >= kept.count }.map { deflated[$0 - kept.count] }
        var newW = Matrix<V>(rows: wt.rows, columns: chosen.count + nullColumn.count)
        let small: (u: Matrix<V>?, v: Matrix<V>) = solution.vectors(chosenKept, left: ut != nil)
        newW.place(BidiagonalDivideAndConquer.multiplyColumns(wt, kept, by: small.v, splitRow: vectors ? splitRow : 1,
                                                              support: wSupport, threads: threads), row: 0, column: 0)
        newW.place(wt.selecting(columns: chosenDeflated + nullColumn), row: 0, column: chosenKept.count)
        var newU: Matrix<V>? = nil
        if let ut {
            var u = Matrix<V>(rows: ut.rows, columns: chosen.count)
            u.place(BidiagonalDivideAndConquer.multiplyColumns(ut, kept, by: small.u!, splitRow: splitRow,
                                                               support: uSupport, threads: threads), row: 0, column: 0)
            u.place(ut.selecting(columns: chosenDeflated), row: 0, column: chosenKept.count)
            newU = u
        }
        return BidiagonalFactors(sigma: sigma, u: newU, w: newW,
                                 vectorColumn: BidiagonalDivideAndConquer.vectorColumns(of: chosen, among: sigma.count))
    }
}

extension BidiagonalDivideAndConquer {
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
