/// The rank-one core of divide and conquer: the SVD of the K×K "broken arrow" matrix
///
///     M = ⎡ z₀ z₁ … z_{K−1} ⎤      0 = d₀ < d₁ < … < d_{K−1},  |z_j| > 0,
///         ⎢    d₁           ⎥
///         ⎣         ⋱  d_{K−1}⎦
///
/// (first row z, diagonal d below it). Its singular values are the roots of the secular
/// equation f(σ) = 1 + Σ z_j²/(d_j² − σ²) = 0, one in each (d_i, d_{i+1}) and the last in
/// (d_{K−1}, √(d_{K−1}² + ‖z‖²)] (Jessup–Sorensen; Gu–Eisenstat).
///
/// Accuracy: each root is found relative to its nearer pole d_o, as σ² = d_o² + μ, so that every
/// difference d_j² − σ² = (d_j − d_o)(d_j + d_o) − μ is computed without cancellation. The
/// vectors are then formed from ẑ, the z for which the computed roots are exact (Löwner's
/// formula), which keeps them numerically orthogonal however close the roots are.
/// Cost: O(K²) per root-finding iteration (a few iterations per root) and O(K²) for the vectors.
struct SecularSolution {
    /// Singular values, ascending.
    var sigma: [Double]
    /// The poles, the ẑ of Löwner's formula and the roots, from which vectors are formed.
    let d: [Double]
    let zHat: [Double]
    let roots: [SecularRoot]

    /// The right (and with `left`, the left) singular vectors of M for the values at `columns`
    /// (positions in `sigma`), as the columns of K × columns.count matrices, formed in Double and
    /// rounded to `V`. Each vector is formed as a contiguous row and the rows are transposed at
    /// the end. Cost: ~6K flops per vector.
    func vectors<V: LinalgScalar>(_ columns: [Int], left: Bool) -> (u: Matrix<V>?, v: Matrix<V>) {
        let k = d.count
        var ut = Matrix<V>(rows: left ? columns.count : 0, columns: k), vt = Matrix<V>(rows: columns.count, columns: k)
        var column = [Double](repeating: 0, count: k)
        ut.withMutableView { ut in
            vt.withMutableView { vt in
                for (row, i) in columns.enumerated() {
                    let (vNorm, dvNorm) = SecularEquation.secularVector(d: d, zHat: zHat, root: roots[i], into: &column)
                    // u ∝ (−1, d_j·column_j for j ≥ 1) (d₀ = 0 adds nothing to dvNorm), v ∝ column.
                    let (uScale, vScale) = (1 / (1 + dvNorm).squareRoot(), 1 / vNorm.squareRoot())
                    let vRow = vt.base + row * vt.leadingDimension
                    for j in 0..<k { vRow[j] = V(column[j] * vScale) }
                    guard left else { continue }
                    let uRow = ut.base + row * ut.leadingDimension
                    uRow[0] = V(-uScale)
                    for j in 1..<k { uRow[j] = V(d[j] * column[j] * uScale) }
                }
            }
        }
        return (left ? ut.transposed : nil, vt.transposed)
    }
}

/// A root σ_i stored as its nearer pole d_o and the offset τ = σ − d_o, so that d_j − σ_i is
/// (d_j − d_o) − τ without cancellation.
struct SecularRoot {
    var origin: Int
    var tau: Double
}

enum SecularEquation {
    /// Solves for M's singular values (the vectors follow from `SecularSolution.vectors`, for the
    /// values wanted). `d` ascending with d[0] = 0, gaps and |z| above the deflation tolerance.
    static func solve(d: [Double], z: [Double], threads: Int) throws(LinalgError) -> SecularSolution {
        let k = d.count
        let zNormSquared = z.reduce(0) { $0 + $1 * $1 }
        var roots = [SecularRoot](repeating: SecularRoot(origin: 0, tau: 0), count: k)
        let failures = SendableCounts(k)
        roots.withUnsafeMutableBufferPointer { rootBuffer in
            let out = SendablePointer(rootBuffer.baseAddress!)
            let parts = Parallelism.threads(requested: threads, flops: Double(k) * Double(k) * 60)
            let ranges = Parallelism.split(k, into: parts, grain: 1)
            Parallelism.forEach(ranges.count) { part in
                var shifted = [Double](repeating: 0, count: k)
                for i in ranges[part] {
                    if let root = findRoot(i, d: d, z: z, zNormSquared: zNormSquared, shifted: &shifted) {
                        out.pointer[i] = root
                    } else {
                        failures.set(i, 1)
                    }
                }
            }
        }
        if failures.total > 0 { throw LinalgError.noConvergence(algorithm: "secular equation", iterations: maximumIterations) }

        // Löwner: the ẑ for which the computed σ are the exact singular values.
        let zHat = lownerZ(d: d, z: z, roots: roots)
        return SecularSolution(sigma: roots.map { d[$0.origin] + $0.tau }, d: d, zHat: zHat, roots: roots)
    }

    static let maximumIterations = 100

    typealias DoubleLanes = SIMD8<Double>

    /// d_j² − σ² for σ = d_o + τ, as the product of an accurate difference and a sum.
    @inline(__always)
    static func gap(_ dj: DoubleLanes, _ origin: Double, _ tau: Double) -> DoubleLanes {
        ((dj - origin) - tau) * (dj + origin + tau)
    }

    /// Löwner's formula, ẑ_j² = −(d_j² − σ²_{K−1}) · Πᵢ<K−1 (d_j² − σᵢ²)/(d_j² − d_{pole}²), with the
    /// pole i for i < j and i + 1 otherwise; eight j at a time, each multiplied in the same order
    /// as one at a time would be. Cost: ~6K² flops.
    static func lownerZ(d: [Double], z: [Double], roots: [SecularRoot]) -> [Double] {
        let k = d.count, width = DoubleLanes.scalarCount
        var zHat = [Double](repeating: 0, count: k)
        let origins = roots.map { d[$0.origin] }
        d.withUnsafeBufferPointer { d in
            var j0 = 0
            while j0 < k {
                let lanes = min(width, k - j0)
                var dj = DoubleLanes(repeating: d[j0]), index = SIMD8<Int64>(repeating: Int64(j0))
                for lane in 0..<lanes { dj[lane] = d[j0 + lane]; index[lane] = Int64(j0 + lane) }
                var product = -gap(dj, origins[k - 1], roots[k - 1].tau)
                for i in 0..<(k - 1) {
                    let pole = DoubleLanes(repeating: d[i + 1]).replacing(with: d[i], where: index .> Int64(i))
                    product *= gap(dj, origins[i], roots[i].tau) / ((dj - pole) * (dj + pole))
                }
                for lane in 0..<lanes {
                    zHat[j0 + lane] = (z[j0 + lane] >= 0 ? 1 : -1) * abs(product[lane]).squareRoot()
                }
                j0 += lanes
            }
        }
        return zHat
    }

    /// column_j = ẑ_j/(d_j² − σ²) for every j; returns (Σ column_j², Σ (d_j·column_j)²).
    static func secularVector(d: [Double], zHat: [Double], root: SecularRoot, into column: inout [Double]) -> (Double, Double) {
        let k = d.count, width = DoubleLanes.scalarCount
        let origin = d[root.origin]
        var (squares, weighted) = (DoubleLanes(), DoubleLanes())
        var (tailSquares, tailWeighted) = (0.0, 0.0)
        d.withUnsafeBufferPointer { d in
            zHat.withUnsafeBufferPointer { zHat in
                column.withUnsafeMutableBufferPointer { column in
                    let (dp, zp, cp) = (UnsafeRawPointer(d.baseAddress!), UnsafeRawPointer(zHat.baseAddress!),
                                        UnsafeMutableRawPointer(column.baseAddress!))
                    var j = 0
                    while j + width <= k {
                        let dj = dp.loadUnaligned(fromByteOffset: j * 8, as: DoubleLanes.self)
                        let values = zp.loadUnaligned(fromByteOffset: j * 8, as: DoubleLanes.self) / gap(dj, origin, root.tau)
                        cp.storeBytes(of: values, toByteOffset: j * 8, as: DoubleLanes.self)
                        squares += values * values
                        weighted += (dj * values) * (dj * values)
                        j += width
                    }
                    while j < k {
                        let value = zHat[j] / (((d[j] - origin) - root.tau) * (d[j] + origin + root.tau))
                        column[j] = value
                        tailSquares += value * value
                        tailWeighted += (d[j] * value) * (d[j] * value)
                        j += 1
                    }
                }
            }
        }
        return (squares.sum() + tailSquares, weighted.sum() + tailWeighted)
    }

    /// Root i by a rational (middle-way) iteration on μ = σ² − d_o², safeguarded by bisection on a
    /// bracket that always contains the root. nil if it does not converge.
    static func findRoot(_ i: Int, d: [Double], z: [Double], zNormSquared: Double, shifted: inout [Double]) -> SecularRoot? {
        let k = d.count
        let last = i == k - 1
        // δ_j = d_j² − d_o² for the pole o.
        func shift(to o: Double) {
            shifted.withUnsafeMutableBufferPointer { delta in for j in 0..<k { delta[j] = (d[j] - o) * (d[j] + o) } }
        }
        // Choose the nearer pole: f at the interval's midpoint tells which half holds the root.
        var origin = i
        shift(to: d[i])
        if !last && 1 + partialSums(z: z, shifted: shifted, range: 0..<k, mu: shifted[i + 1] / 2).0 < 0 {
            origin = i + 1
            shift(to: d[origin])
        }
        let o = d[origin]
        var (lower, upper): (Double, Double)
        if last {
            (lower, upper) = (0, zNormSquared)
        } else if origin == i {
            (lower, upper) = (0, shifted[i + 1] / 2)
        } else {
            (lower, upper) = (shifted[i] / 2, 0)
        }
        var mu = (lower + upper) / 2
        let epsilon = Double.ulpOfOne
        for _ in 0..<maximumIterations {
            // f = 1 + ψ + φ with ψ over poles left of the root (j ≤ i) and φ right of it.
            let (psi, psiDerivative, psiMagnitude) = partialSums(z: z, shifted: shifted, range: 0..<(i + 1), mu: mu)
            let (phi, phiDerivative, phiMagnitude) = last ? (0.0, 0.0, 0.0)
                : partialSums(z: z, shifted: shifted, range: (i + 1)..<k, mu: mu)
            let w = 1 + psi + phi
            if abs(w) <= 8 * epsilon * (1 + psiMagnitude + phiMagnitude) || upper - lower <= 4 * epsilon * max(abs(lower), abs(upper)) {
                return SecularRoot(origin: origin, tau: mu / (o + (o * o + mu).squareRoot()))
            }
            if w < 0 { lower = mu } else { upper = mu }
            var eta: Double
            let deltaLeft = shifted[i] - mu
            if last {
                // One pole: f ≈ c + s/(δ − μ) matching f and f′ at μ.
                let s = deltaLeft * deltaLeft * (psiDerivative + phiDerivative)
                let c = w - s / deltaLeft
                eta = c == 0 ? .nan : (shifted[i] + s / c) - mu
            } else {
                let deltaRight = shifted[i + 1] - mu
                let c = w - deltaLeft * psiDerivative - deltaRight * phiDerivative
                let a = (deltaLeft + deltaRight) * w - deltaLeft * deltaRight * (psiDerivative + phiDerivative)
                let b = deltaLeft * deltaRight * w
                let discriminant = abs(a * a - 4 * b * c).squareRoot()
                if c == 0 {
                    eta = b / a
                } else if a <= 0 {
                    eta = (a - discriminant) / (2 * c)
                } else {
                    eta = 2 * b / (a + discriminant)
                }
            }
            var next = mu + eta
            if !(next > lower && next < upper) { next = (lower + upper) / 2 }  // also catches NaN
            if next == mu { return SecularRoot(origin: origin, tau: mu / (o + (o * o + mu).squareRoot())) }
            mu = next
        }
        return nil
    }

    /// Σ z_j²/(δ_j − μ), its derivative Σ z_j²/(δ_j − μ)², and the sum's magnitude over `range`
    /// (all terms of one side of the root share a sign, so that is also Σ of the magnitudes).
    @inline(__always)
    static func partialSums(z: [Double], shifted: [Double], range: Range<Int>, mu: Double) -> (Double, Double, Double) {
        var (sum, derivative, magnitude) = (0.0, 0.0, 0.0)
        z.withUnsafeBufferPointer { z in
            shifted.withUnsafeBufferPointer { delta in
                typealias V = SIMD8<Double>
                var (s, dv) = (V(), V())
                let muV = V(repeating: mu)
                var j = range.lowerBound
                while j + 8 <= range.upperBound {
                    let zv = UnsafeRawPointer(z.baseAddress! + j).loadUnaligned(as: V.self)
                    let dl = UnsafeRawPointer(delta.baseAddress! + j).loadUnaligned(as: V.self)
                    let t: V = zv / (dl - muV)
                    let term: V = zv * t
                    s += term
                    dv += t * t
                    j += 8
                }
                sum = s.sum()
                derivative = dv.sum()
                while j < range.upperBound {
                    let t = z[j] / (delta[j] - mu)
                    sum += z[j] * t
                    derivative += t * t
                    j += 1
                }
                magnitude = abs(sum)
            }
        }
        return (sum, derivative, magnitude)
    }
}
