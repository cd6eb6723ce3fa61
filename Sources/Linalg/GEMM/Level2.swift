/// Level-2 kernels: matrix–vector products and rank-1/rank-2 updates, the memory-bound half of
/// the Householder reductions. Each streams the matrix once with 16-lane vectors and two
/// independent accumulators; vectors are unit-stride pointers whose lengths the matrix implies.

/// Vector width of the level-2 kernels: wide enough for AVX-512, split into narrower
/// registers by the compiler elsewhere. Unfused arithmetic, so no build falls off the libm cliff.
typealias Lanes<T: LinalgScalar> = SIMD16<T>

@inline(__always)
func loadLanes<T: LinalgScalar>(_ p: UnsafePointer<T>) -> Lanes<T> {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes<T>.self)
}

@inline(__always)
func storeLanes<T: LinalgScalar>(_ v: Lanes<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes<T>.self)
}

/// Σ x[i]·y[i] over `count` elements.
@inline(__always)
func dot<T: LinalgScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, count: Int) -> T {
    let width = Lanes<T>.scalarCount
    var (s0, s1) = (Lanes<T>(), Lanes<T>())
    var i = 0
    while i &+ 2 &* width <= count {
        let (x0, y0): (Lanes<T>, Lanes<T>) = (loadLanes(x + i), loadLanes(y + i))
        let (x1, y1): (Lanes<T>, Lanes<T>) = (loadLanes(x + (i &+ width)), loadLanes(y + (i &+ width)))
        s0 += x0 * y0
        s1 += x1 * y1
        i &+= 2 &* width
    }
    if i &+ width <= count {
        let (x0, y0): (Lanes<T>, Lanes<T>) = (loadLanes(x + i), loadLanes(y + i))
        s0 += x0 * y0
        i &+= width
    }
    var sum = (s0 + s1).sum()
    while i < count {
        sum += x[i] * y[i]
        i &+= 1
    }
    return sum
}

/// y[i] += a·x[i] over `count` elements.
@inline(__always)
func axpy<T: LinalgScalar>(_ a: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int) {
    let width = Lanes<T>.scalarCount
    let av = Lanes<T>(repeating: a)
    var i = 0
    while i &+ width <= count {
        let (xi, yi): (Lanes<T>, Lanes<T>) = (loadLanes(x + i), loadLanes(UnsafePointer(y + i)))
        storeLanes(yi + av * xi, y + i)
        i &+= width
    }
    while i < count {
        y[i] += a * x[i]
        i &+= 1
    }
}

/// y ← α·A·x + β·y for an m×n view A (pass `a.transposed` for Aᵀ), x of length n, y of length m.
/// β = 0 overwrites y without reading it. Row-major A runs as m dot products; column-major
/// (a transposed view) as n axpys; other strides element by element. Cost: 2mn flops.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func gemv<T: LinalgScalar>(_ a: MatrixView<T>, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>,
                                  alpha: T = 1, beta: T = 0) {
    let (m, n) = (a.rows, a.columns)
    for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }
    if n == 0 || alpha == 0 { return }
    if a.columnStride == 1 {
        for i in 0..<m { y[i] += alpha * dot(a.base + i &* a.rowStride, x, count: n) }
    } else if a.rowStride == 1 {
        for j in 0..<n { axpy(alpha * x[j], a.base + j &* a.columnStride, y, count: m) }
    } else {
        for i in 0..<m {
            var sum: T = 0
            for j in 0..<n { sum += a[i, j] * x[j] }
            y[i] += alpha * sum
        }
    }
}

/// A ← A + α·x·yᵀ for a row-major m×n view, x of length m, y of length n. Cost: 2mn flops.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func rank1Update<T: LinalgScalar>(_ a: MutableMatrixView<T>, alpha: T = 1,
                                         _ x: UnsafePointer<T>, _ y: UnsafePointer<T>) {
    for i in 0..<a.rows where x[i] != 0 {
        axpy(alpha * x[i], y, a.base + i &* a.leadingDimension, count: a.columns)
    }
}

/// A ← A + x·yᵀ + u·vᵀ for a row-major m×n view (x, u of length m; y, v of length n), in one
/// pass over A. Cost: 4mn flops.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func rank2Update<T: LinalgScalar>(_ a: MutableMatrixView<T>, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                         _ u: UnsafePointer<T>, _ v: UnsafePointer<T>) {
    let width = Lanes<T>.scalarCount
    let n = a.columns
    for i in 0..<a.rows {
        let row = a.base + i &* a.leadingDimension
        let (xi, ui) = (x[i], u[i])
        let (xv, uv) = (Lanes<T>(repeating: xi), Lanes<T>(repeating: ui))
        var j = 0
        while j &+ width <= n {
            let (aj, yj, vj): (Lanes<T>, Lanes<T>, Lanes<T>) =
                (loadLanes(UnsafePointer(row + j)), loadLanes(y + j), loadLanes(v + j))
            storeLanes(aj + xv * yj + uv * vj, row + j)
            j &+= width
        }
        while j < n {
            row[j] = row[j] + xi * y[j] + ui * v[j]
            j &+= 1
        }
    }
}
