/// σ₁(A), the largest singular value, by power iteration on AᵀA with matrix–vector products only:
/// from a seeded start x, u = A·x/θ with θ = ‖A·x‖, z = Aᵀ·u, x ← z/‖z‖. Since A·x = θ·u exactly,
/// some singular value lies within the residual ‖z − θ·x‖ of θ; the iteration stops when that is
/// at most 4·√max(m, n)·ε·θ (the accuracy of a full SVD) and returns ‖z‖ (like θ a lower bound,
/// and the closer one). From a generic start the value found is σ₁. Each step is two passes over A
/// (4mn flops, memory-bound); the residual falls like (σ₂/σ₁)²ᵏ, so well-separated leading values
/// take a handful of steps and clustered ones are accurate early (the residual scales with the
/// gap). After `maximumSteps`, or for entries so large or small that the products could overflow
/// or underflow, the answer comes from the full singular values instead. NaN/∞ is an error.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func largestSingularValue<T: LinalgScalar>(of a: Matrix<T>, threads: Int? = nil) throws(LinalgError) -> T {
    let largest = try largestMagnitude(a)
    if largest == 0 { return 0 }
    let maximumSteps = 64
    let safe = largest.exponent > -60 && largest.exponent < 60
    if safe, let value = a.withView({ powerIteration($0, steps: maximumSteps) }) { return value }
    return try SVD<T>.singularValues(of: a, threads: threads).first ?? 0
}

/// The iteration of `largestSingularValue`; nil when it has not converged in `steps`.
private func powerIteration<T: LinalgScalar>(_ a: MatrixView<T>, steps: Int) -> T? {
    let (m, n) = (a.rows, a.columns)
    let tolerance = 4 * T(Double(max(m, n)).squareRoot()) * T.ulpOfOne
    var generator = SplitMix64(seed: 0x5167_0001)
    var x = (0..<n).map { _ in T(Double(generator.next() >> 11) / Double(1 << 53) - 0.5) }
    var u = [T](repeating: 0, count: m), z = [T](repeating: 0, count: n)
    func norm(_ v: [T]) -> T { v.withUnsafeBufferPointer { norm2($0.baseAddress!, count: v.count, stride: 1) } }
    let start = norm(x)
    for j in 0..<n { x[j] /= start }
    for _ in 0..<steps {
        x.withUnsafeBufferPointer { x in u.withUnsafeMutableBufferPointer { gemv(a, x.baseAddress!, into: $0.baseAddress!) } }
        let theta = norm(u)
        if theta == 0 { return nil }
        for i in 0..<m { u[i] /= theta }
        u.withUnsafeBufferPointer { u in z.withUnsafeMutableBufferPointer { gemv(a.transposed, u.baseAddress!, into: $0.baseAddress!) } }
        var residual: T = 0
        for j in 0..<n { residual += (z[j] - theta * x[j]) * (z[j] - theta * x[j]) }
        let length = norm(z)
        if residual.squareRoot() <= tolerance * theta { return length }
        for j in 0..<n { x[j] = z[j] / length }
    }
    return nil
}
