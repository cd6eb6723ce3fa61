/// Elementary reflectors H = I − τ·v·vᵀ with v[0] = 1, the building block of QR and
/// bidiagonalization.

/// Euclidean norm of `count` elements spaced `stride` apart, scaled so that it neither
/// overflows nor underflows for any finite input. Cost: 2 passes, ~3n flops.
func norm2<T: LinalgScalar>(_ x: UnsafePointer<T>, count: Int, stride: Int) -> T {
    var scale: T = 0
    for i in 0..<count { scale = max(scale, abs(x[i &* stride])) }
    if scale == 0 || !scale.isFinite { return scale }
    var sum: T = 0
    let inverse = 1 / scale
    for i in 0..<count {
        let t = x[i &* stride] * inverse
        sum += t * t
    }
    return scale * sum.squareRoot()
}

/// Makes the reflector that maps (α, x) to (β, 0, …, 0), as LAPACK's larfg: β = −sign(α)·‖(α, x)‖,
/// v = (1, x/(α − β)), τ = (β − α)/β. On return `alpha` holds β and `x` holds v[1…]; the
/// result is τ (0 when x is already zero, making H = I). Cost: ~4n flops.
@discardableResult
func makeReflector<T: LinalgScalar>(alpha: inout T, x: UnsafeMutablePointer<T>, count: Int, stride: Int) -> T {
    let xNorm = norm2(UnsafePointer(x), count: count, stride: stride)
    if xNorm == 0 { return 0 }
    let magnitude = hypot(alpha, xNorm)
    let beta = alpha >= 0 ? -magnitude : magnitude
    let tau = (beta - alpha) / beta
    let scale = 1 / (alpha - beta)
    for i in 0..<count { x[i &* stride] *= scale }
    alpha = beta
    return tau
}

/// √(a² + b²) without overflow or destructive underflow.
@inline(__always)
func hypot<T: LinalgScalar>(_ a: T, _ b: T) -> T {
    let (x, y) = (abs(a), abs(b))
    let big = max(x, y), small = min(x, y)
    if big == 0 || !big.isFinite { return big }
    let ratio = small / big
    return big * (1 + ratio * ratio).squareRoot()
}
