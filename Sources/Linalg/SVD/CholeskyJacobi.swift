/// The block Jacobi's inner step done one-sidedly: for a symmetric positive definite G (p×p, the
/// Gram matrix of a pair of row blocks), the Cholesky factor G = L·Lᵀ and `sweeps` cyclic sweeps of
/// one-sided Jacobi on L's rows (J·L, rows i and j rotated to be orthogonal), returning Wᵀ, the
/// product of the rotations, so that Wᵀ·G·W = (Wᵀ·L)·(Wᵀ·L)ᵀ is nearly diagonal.
///
/// Why: this is the two-sided sweep of `diagonalizingRotations` in another form. The current Wᵀ·G·W
/// has entries l_i·l_j, so with the same order (row-cyclic, taken in the same wavefronts of
/// independent rotations), the same skip rule and Rutishauser's formulas on (‖l_i‖², ‖l_j‖², l_i·l_j)
/// the rotations are the same in exact arithmetic (Hestenes' equivalence). What changes is the
/// memory access: every operation is on two contiguous rows of L or of Wᵀ, vectorized, where the
/// two-sided sweep keeps only G's upper triangle current and updates two thirds of each rotated row
/// and column with strided scalar code; and a wavefront's angles go through the vector lanes
/// together (`RotationAngles`). The cost is p³/3 flops for L plus per rotation 2q flops for l_i·l_j
/// and 6q to rotate (q ≤ p the columns where either row can be nonzero: L's row r starts with r + 1
/// of them, and a rotation gives both rows the larger count), against the two-sided sweep's ~6p.
///
/// Accuracy: the angles come from L·Lᵀ = G + E, and Cholesky's backward error is small relative
/// to G's diagonal, |e_ij| ≤ γ_{p+1}·√(g_ii·g_jj) (Demmel), so a rotation of a small row against a
/// large one still turns by an angle of order cos∠·‖x_i‖/‖x_k‖ (the property `orthogonalizeRowsBlocked`
/// needs), provided the factorization completes: it requires every pivot of the scaled matrix
/// D⁻¹·G·D⁻¹ (D² = diag G, a matrix of cosines) to stay positive. A pivot at or below p·ε of its
/// diagonal (rows dependent to working precision) breaks it off and the caller takes the two-sided
/// sweep, which needs no factorization; a zero row of G (a zero row of X) gives a zero row of L,
/// which no rotation touches. ‖l_i‖² is carried along the sweep by the two-sided formulas
/// (‖l_i‖² − t·l_i·l_j, ‖l_j‖² + t·l_i·l_j) and recomputed when that loses more than half of it
/// to cancellation (as LAPACK's sgesvj does).
/// Returns nil when the factorization breaks off.
func choleskyJacobiRotations(_ g: Matrix<Double>, sweeps: Int) -> Matrix<Double>? {
    let p = g.rows
    guard var l = choleskyFactor(g) else { return nil }
    var wt = Matrix<Double>.identity(p)
    if p < 2 { return wt }
    var extent = (0..<p).map { $0 + 1 }
    var wtExtent = extent
    l.withMutableView { l in
        wt.withMutableView { wt in
            let row = { (i: Int) in l.base + i &* l.leadingDimension }
            var squaredNorms = (0..<p).map { dot(UnsafePointer(row($0)), UnsafePointer(row($0)), count: extent[$0]) }
            // A wavefront's rotations: pairs, and per rotation a, b, c in, t and cos out.
            let capacity = p / 3 + 1
            var pairs = [(i: Int, j: Int)](repeating: (0, 0), count: capacity)
            var angles = RotationAngles(capacity: capacity)
            for _ in 0..<sweeps {
                var rotated = false
                for tau in 1...(3 * p - 5) {
                    var count = 0
                    for i in stride(from: max(0, (tau - p + 2) / 2), through: tau / 3, by: 1) {
                        let j = tau - 2 * i
                        if j <= i || j >= p { continue }
                        let c = dot(UnsafePointer(row(i)), UnsafePointer(row(j)), count: max(extent[i], extent[j]))
                        let (a, b) = (squaredNorms[i], squaredNorms[j])
                        if c == 0 || abs(c) <= Double.ulpOfOne * (a * b).squareRoot() { continue }
                        pairs[count] = (i, j)
                        (angles.a[count], angles.b[count], angles.c[count]) = (a, b, c)
                        count += 1
                    }
                    if count == 0 { continue }
                    rotated = true
                    angles.compute(count)
                    for k in 0..<count {
                        let (i, j) = pairs[k]
                        let (a, b, c, t, cosine) = (angles.a[k], angles.b[k], angles.c[k], angles.t[k], angles.cosine[k])
                        let sine = t * cosine
                        let q = max(extent[i], extent[j])
                        rotate(row(i), row(j), count: q, cosine: cosine, sine: sine)
                        (extent[i], extent[j]) = (q, q)
                        squaredNorms[i] = a - t * c
                        squaredNorms[j] = b + t * c
                        if squaredNorms[i] < a / 2 { squaredNorms[i] = dot(UnsafePointer(row(i)), UnsafePointer(row(i)), count: q) }
                        let columns = max(wtExtent[i], wtExtent[j])
                        (wtExtent[i], wtExtent[j]) = (columns, columns)
                        rotate(wt.base + i &* wt.leadingDimension, wt.base + j &* wt.leadingDimension, count: columns,
                               cosine: cosine, sine: sine)
                    }
                }
                if !rotated { break }
            }
        }
    }
    return wt
}

/// Rutishauser's angles for rotations that make rows i and j orthogonal, from their squared norms
/// a and b and inner product c: θ = (b − a)/(2c), t = sign(θ)/(|θ| + √(1 + θ²)) (the smaller root of
/// t² + 2θt − 1 = 0, |angle| ≤ π/4), cos = 1/√(1 + t²). The rotations of a wavefront are independent,
/// so their divisions and square roots go through eight lanes at a time.
struct RotationAngles {
    var a, b, c, t, cosine: [Double]

    init(capacity: Int) {
        let padded = (capacity + 7) / 8 * 8
        (a, b, t, cosine) = ([Double](repeating: 0, count: padded), [Double](repeating: 0, count: padded),
                             [Double](repeating: 0, count: padded), [Double](repeating: 0, count: padded))
        c = [Double](repeating: 1, count: padded)
    }

    /// t and cos for the first `count` entries of a, b, c.
    mutating func compute(_ count: Int) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeBufferPointer { c in
                    t.withUnsafeMutableBufferPointer { t in
                        cosine.withUnsafeMutableBufferPointer { cosine in
                            for k in stride(from: 0, to: count, by: 8) {
                                let load = { (x: UnsafeBufferPointer<Double>) in
                                    UnsafeRawPointer(x.baseAddress! + k).loadUnaligned(as: SIMD8<Double>.self)
                                }
                                let theta = (load(b) - load(a)) / (2 * load(c))
                                let negative = theta .< 0
                                let magnitude = 1 / (theta.replacing(with: -theta, where: negative) + (1 + theta * theta).squareRoot())
                                let tangent = magnitude.replacing(with: -magnitude, where: negative)
                                UnsafeMutableRawPointer(t.baseAddress! + k).storeBytes(of: tangent, as: SIMD8<Double>.self)
                                UnsafeMutableRawPointer(cosine.baseAddress! + k)
                                    .storeBytes(of: 1 / (1 + tangent * tangent).squareRoot(), as: SIMD8<Double>.self)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The lower triangular L with L·Lᵀ = G (row by row, each entry one vectorized dot product of two
/// rows of L), or nil when a pivot falls to p·ε of its diagonal entry or below; a zero diagonal
/// entry (a zero row and column of a positive semidefinite G) gives a zero row. Cost: p³/3 flops.
func choleskyFactor(_ g: Matrix<Double>) -> Matrix<Double>? {
    let p = g.rows
    var l = Matrix<Double>(rows: p, columns: p)
    let breakdown = Double(p) * Double.ulpOfOne
    var pivotsPositive = true
    l.withMutableView { l in
        g.withView { g in
            let row = { (i: Int) in l.base + i &* l.leadingDimension }
            for i in 0..<p where pivotsPositive {
                for j in 0...i {
                    let pivot = j == i ? 0 : row(j)[j]
                    if j < i && pivot == 0 { continue }
                    let value = g[i, j] - dot(UnsafePointer(row(i)), UnsafePointer(row(j)), count: j)
                    if j < i {
                        row(i)[j] = value / pivot
                    } else if g[i, i] == 0 {
                        row(i).update(repeating: 0, count: i)
                    } else if value <= breakdown * g[i, i] {
                        pivotsPositive = false
                    } else {
                        row(i)[i] = value.squareRoot()
                    }
                }
            }
        }
    }
    return pivotsPositive ? l : nil
}
