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
    if inverse.isFinite {
        for i in 0..<count {
            let t = x[i &* stride] * inverse
            sum += t * t
        }
    } else {
        // A subnormal scale: its reciprocal overflows (and 0·∞ would be NaN), so divide.
        for i in 0..<count {
            let t = x[i &* stride] / scale
            sum += t * t
        }
    }
    return scale * sum.squareRoot()
}

/// Makes the reflector that maps (α, x) to (β, 0, …, 0), as LAPACK's larfg: β = −sign(α)·‖(α, x)‖,
/// v = (1, x/(α − β)), τ = (β − α)/β. On return `alpha` holds β and `x` holds v[1…]; the
/// result is τ (0 when x is already zero, making H = I). Cost: ~4n flops.
///
/// When |β| is so small that 1/(α − β) would overflow (x and α near underflow, as left by
/// repeated exact cancellation, e.g. after equal columns), (α, x) is first scaled up by a power
/// of two until it is not, exactly as larfg does; β is scaled back at the end.
@discardableResult
func makeReflector<T: LinalgScalar>(alpha: inout T, x: UnsafeMutablePointer<T>, count: Int, stride: Int) -> T {
    var xNorm = norm2(UnsafePointer(x), count: count, stride: stride)
    if xNorm == 0 { return 0 }
    var beta = -T(signOf: alpha, magnitudeOf: hypot(alpha, xNorm))
    let safeMinimum = reflectorSafeMinimum(T.self)
    var rescalings = 0
    while abs(beta) < safeMinimum && rescalings < 20 {
        let up = 1 / safeMinimum
        for i in 0..<count { x[i &* stride] *= up }
        alpha *= up
        beta *= up
        rescalings += 1
    }
    if rescalings > 0 {
        xNorm = norm2(UnsafePointer(x), count: count, stride: stride)
        beta = -T(signOf: alpha, magnitudeOf: hypot(alpha, xNorm))
    }
    let tau = (beta - alpha) / beta
    let scale = 1 / (alpha - beta)
    for i in 0..<count { x[i &* stride] *= scale }
    for _ in 0..<rescalings { beta *= safeMinimum }
    alpha = beta
    return tau
}

/// The |β| below which `makeReflector` rescales: (least normal)/ε, a power of two, so that scaling
/// by it or its reciprocal is exact. A reflector with |β| at or above it was made without
/// rescaling: v[1…] = x/(α − β) exactly as computed from the inputs.
func reflectorSafeMinimum<T: LinalgScalar>(_: T.Type) -> T {
    T.leastNormalMagnitude / T.ulpOfOne
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
