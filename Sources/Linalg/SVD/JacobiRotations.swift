/// One-sided (Hestenes) Jacobi: plane rotations that make the rows of a matrix mutually
/// orthogonal. Each pair (i, j) with |xᵢ·xⱼ| > tol·‖xᵢ‖‖xⱼ‖ is rotated so that the two rows
/// become orthogonal (Rutishauser's formulas); a sweep visits every pair once in round-robin
/// order, whose rounds consist of disjoint pairs that run in parallel and commute exactly, so the
/// result does not depend on the thread count. Cost per sweep: ~r²/2 rotations of 6c–12c flops.

/// Orthogonalizes the rows of `x` (r × c) in place and applies the same rotations to the rows of
/// `accumulator` (r × k) when given. Converged when a sweep rotates no pair at tolerance
/// tol = √c·ε (relative cosine). Rows whose squared norm is at most `negligible` are left alone:
/// callers that want absolute accuracy pass (ε·‖X‖_F)² (`negligibleRowNormSquared`), since such rows
/// stand for zero singular values and their direction is rounding noise; callers that want every
/// singular value to relative accuracy pass an underflow bound. Either way the callers complete
/// the directions of the rows left alone (`completeOrthonormalRows`).
/// Returns the sweeps used; throws after `maximumSweeps`.
@discardableResult
func orthogonalizeRows<T: LinalgScalar>(_ x: MutableMatrixView<T>, accumulator: MutableMatrixView<T>?, negligible: Double,
                                        threads: Int = 1, maximumSweeps: Int = 60) throws(LinalgError) -> Int {
    let r = x.rows
    if r < 2 { return 0 }
    let tolerance = Double(max(1, x.columns)).squareRoot() * Double(T.ulpOfOne)
    let rounds = roundRobinRounds(r)
    let work = Double(x.columns + (accumulator?.columns ?? 0)) * Double(r)
    let parts = Parallelism.threads(requested: threads, flops: 10 * work)
    for sweep in 1...maximumSweeps {
        let rotated = sweepRoundRobin(rounds, parts: parts) { i, j in
            rotatePair(x, i, j, accumulator: accumulator, tolerance: tolerance, negligible: negligible)
        }
        if rotated == 0 { return sweep }
    }
    throw LinalgError.noConvergence(algorithm: "one-sided Jacobi", iterations: maximumSweeps)
}

/// (ε·‖X‖_F)²: rows whose squared norm is at most this are numerically zero.
func negligibleRowNormSquared<T: LinalgScalar>(_ x: MatrixView<T>) -> T {
    var sum: T = 0
    for i in 0..<x.rows { for j in 0..<x.columns { sum += x[i, j] * x[i, j] } }
    return T.ulpOfOne * T.ulpOfOne * sum
}

/// Rotates rows i and j of `x` (and of `accumulator`) to make them orthogonal, unless they
/// already are to `tolerance`. The norms, the inner product and the rotation are formed in Double,
/// where no product of two Float entries underflows, so the test and the angle keep their
/// relative accuracy for rows of any size. Returns whether it rotated.
@inline(__always)
func rotatePair<T: LinalgScalar>(_ x: MutableMatrixView<T>, _ i: Int, _ j: Int, accumulator: MutableMatrixView<T>?,
                                 tolerance: Double, negligible: Double) -> Bool {
    let xi = x.base + i &* x.leadingDimension, xj = x.base + j &* x.leadingDimension
    let n = x.columns
    let a = widenedDot(UnsafePointer(xi), UnsafePointer(xi), count: n)
    let b = widenedDot(UnsafePointer(xj), UnsafePointer(xj), count: n)
    let c = widenedDot(UnsafePointer(xi), UnsafePointer(xj), count: n)
    if c == 0 || a <= negligible || b <= negligible || abs(c) <= tolerance * a.squareRoot() * b.squareRoot() { return false }
    let zeta = (b - a) / (2 * c)
    let t = (zeta >= 0 ? 1 : -1) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
    let cosine = 1 / (1 + t * t).squareRoot()
    let sine = cosine * t
    rotate(xi, xj, count: n, cosine: T(cosine), sine: T(sine))
    if let accumulator {
        rotate(accumulator.base + i &* accumulator.leadingDimension, accumulator.base + j &* accumulator.leadingDimension,
               count: accumulator.columns, cosine: T(cosine), sine: T(sine))
    }
    return true
}

/// xᵀy summed in Double (for Double input, `dot` itself).
@inline(__always)
func widenedDot<T: LinalgScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, count: Int) -> Double {
    if T.self == Double.self { return Double(dot(x, y, count: count)) }
    var sum = 0.0
    for k in 0..<count { sum += Double(x[k]) * Double(y[k]) }
    return sum
}

/// (p, q) ← (c·p − s·q, s·p + c·q), vectorized.
@inline(__always)
func rotate<T: LinalgScalar>(_ p: UnsafeMutablePointer<T>, _ q: UnsafeMutablePointer<T>, count: Int, cosine: T, sine: T) {
    let width = Lanes<T>.scalarCount
    let (cv, sv) = (Lanes<T>(repeating: cosine), Lanes<T>(repeating: sine))
    var k = 0
    while k &+ width <= count {
        let (pv, qv): (Lanes<T>, Lanes<T>) = (loadLanes(UnsafePointer(p + k)), loadLanes(UnsafePointer(q + k)))
        let newP: Lanes<T> = cv * pv - sv * qv
        let newQ: Lanes<T> = sv * pv + cv * qv
        storeLanes(newP, p + k)
        storeLanes(newQ, q + k)
        k &+= width
    }
    while k < count {
        let (pk, qk) = (p[k], q[k])
        p[k] = cosine * pk - sine * qk
        q[k] = sine * pk + cosine * qk
        k &+= 1
    }
}

/// One sweep: every pair of every round through `transform`, the pairs of a round (disjoint, so
/// order-independent) split over `parts` threads. Returns how many pairs were transformed.
func sweepRoundRobin(_ rounds: [[(Int, Int)]], parts: Int, _ transform: @Sendable (Int, Int) -> Bool) -> Int {
    var transformed = 0
    for round in rounds {
        let counts = SendableCounts(parts)
        let ranges = Parallelism.split(round.count, into: parts, grain: 1)
        Parallelism.forEach(ranges.count) { part in
            counts.set(part, round[ranges[part]].reduce(0) { $0 + (transform($1.0, $1.1) ? 1 : 0) })
        }
        transformed += counts.total
    }
    return transformed
}

/// The round-robin (circle method) schedule for r players: r − 1 rounds (r even; one more
/// player sits out each round when r is odd) of disjoint pairs covering every pair once.
func roundRobinRounds(_ r: Int) -> [[(Int, Int)]] {
    let players = r + (r & 1)
    var order = Array(0..<players)
    var rounds: [[(Int, Int)]] = []
    for _ in 0..<(players - 1) {
        var round: [(Int, Int)] = []
        for k in 0..<(players / 2) {
            let (p, q) = (order[k], order[players - 1 - k])
            if p < r && q < r { round.append((min(p, q), max(p, q))) }
        }
        rounds.append(round)
        // Keep the first player fixed, rotate the rest.
        let last = order.removeLast()
        order.insert(last, at: 1)
    }
    return rounds
}

/// Makes rows listed in `missing` of `y` (k × c, the other rows orthonormal) orthonormal to all
/// the others. Each new row starts as the unit vector e_j least covered by the rows present
/// (largest 1 − Σ_p y[p, j]², so at least (c − present)/c of it lies in the complement), then is
/// orthogonalized twice against them (classical Gram–Schmidt with reorthogonalization). Used for
/// null-space directions: zero singular values, the extra column of an n×(n+1) bidiagonal.
/// Cost: O(k·c) per missing row.
func completeOrthonormalRows<T: LinalgScalar>(_ y: MutableMatrixView<T>, missing: [Int]) {
    if missing.isEmpty { return }
    let missingSet = Set(missing)
    var present = (0..<y.rows).filter { !missingSet.contains($0) }
    let c = y.columns
    var covered = [T](repeating: 0, count: c)
    func cover(_ row: Int) {
        for j in 0..<c { covered[j] += y[row, j] * y[row, j] }
    }
    present.forEach(cover)
    for row in missing {
        let target = y.base + row &* y.leadingDimension
        let best = (0..<c).min { covered[$0] < covered[$1] || (covered[$0] == covered[$1] && $0 < $1) } ?? 0
        for k in 0..<c { target[k] = k == best ? 1 : 0 }
        for _ in 0..<2 {
            for p in present {
                let other = UnsafePointer(y.base + p &* y.leadingDimension)
                axpy(-dot(other, UnsafePointer(target), count: c), other, target, count: c)
            }
        }
        let norm = dot(UnsafePointer(target), UnsafePointer(target), count: c).squareRoot()
        for k in 0..<c { target[k] /= norm }
        present.append(row)
        cover(row)
    }
}
