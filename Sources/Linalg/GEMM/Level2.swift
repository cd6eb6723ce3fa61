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
    var sum = horizontalSum(s0 + s1)
    while i < count {
        sum += x[i] * y[i]
        i &+= 1
    }
    return sum
}

/// Four dot products of rows r₀…r₃ with the same x, sharing each load of x.
@inline(__always)
func dot4<T: LinalgScalar>(_ r: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>),
                           _ x: UnsafePointer<T>, count: Int) -> (T, T, T, T) {
    let width = Lanes<T>.scalarCount
    var (s0, s1, s2, s3) = (Lanes<T>(), Lanes<T>(), Lanes<T>(), Lanes<T>())
    var k = 0
    while k &+ width <= count {
        let xv: Lanes<T> = loadLanes(x + k)
        let (v0, v1): (Lanes<T>, Lanes<T>) = (loadLanes(r.0 + k), loadLanes(r.1 + k))
        let (v2, v3): (Lanes<T>, Lanes<T>) = (loadLanes(r.2 + k), loadLanes(r.3 + k))
        s0 += v0 * xv
        s1 += v1 * xv
        s2 += v2 * xv
        s3 += v3 * xv
        k &+= width
    }
    var (t0, t1, t2, t3) = (horizontalSum(s0), horizontalSum(s1), horizontalSum(s2), horizontalSum(s3))
    while k < count {
        t0 += r.0[k] * x[k]
        t1 += r.1[k] * x[k]
        t2 += r.2[k] * x[k]
        t3 += r.3[k] * x[k]
        k &+= 1
    }
    return (t0, t1, t2, t3)
}

/// y += a₀·c₀ + a₁·c₁ + a₂·c₂ + a₃·c₃, loading and storing y once for four vectors.
@inline(__always)
func axpy4<T: LinalgScalar>(_ a: (T, T, T, T), _ c: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>),
                            _ y: UnsafeMutablePointer<T>, count: Int) {
    let width = Lanes<T>.scalarCount
    let (a0, a1, a2, a3) = (Lanes<T>(repeating: a.0), Lanes<T>(repeating: a.1), Lanes<T>(repeating: a.2), Lanes<T>(repeating: a.3))
    var k = 0
    while k &+ width <= count {
        let (v0, v1): (Lanes<T>, Lanes<T>) = (loadLanes(c.0 + k), loadLanes(c.1 + k))
        let (v2, v3): (Lanes<T>, Lanes<T>) = (loadLanes(c.2 + k), loadLanes(c.3 + k))
        let sum: Lanes<T> = (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3)
        storeLanes(loadLanes(UnsafePointer(y + k)) + sum, y + k)
        k &+= width
    }
    while k < count {
        y[k] += (a.0 * c.0[k] + a.1 * c.1[k]) + (a.2 * c.2[k] + a.3 * c.3[k])
        k &+= 1
    }
}

/// The sum of a vector's lanes by pairwise halving (the generic `sum()` is not specialized for
/// every lane type).
@inline(__always)
func horizontalSum<T: LinalgScalar>(_ v: Lanes<T>) -> T {
    let h8 = v.lowHalf + v.highHalf
    let h4 = h8.lowHalf + h8.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
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

/// yᵢ += aᵢ·x for four vectors y₀…y₃ sharing each load of x.
@inline(__always)
func axpy4<T: LinalgScalar>(_ a: (T, T, T, T), _ x: UnsafePointer<T>,
                            into y: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>),
                            count: Int) {
    let width = Lanes<T>.scalarCount
    let (a0, a1, a2, a3) = (Lanes<T>(repeating: a.0), Lanes<T>(repeating: a.1), Lanes<T>(repeating: a.2), Lanes<T>(repeating: a.3))
    var i = 0
    while i &+ width <= count {
        let xi: Lanes<T> = loadLanes(x + i)
        storeLanes(loadLanes(UnsafePointer(y.0 + i)) + a0 * xi, y.0 + i)
        storeLanes(loadLanes(UnsafePointer(y.1 + i)) + a1 * xi, y.1 + i)
        storeLanes(loadLanes(UnsafePointer(y.2 + i)) + a2 * xi, y.2 + i)
        storeLanes(loadLanes(UnsafePointer(y.3 + i)) + a3 * xi, y.3 + i)
        i &+= width
    }
    while i < count {
        y.0[i] += a.0 * x[i]
        y.1[i] += a.1 * x[i]
        y.2[i] += a.2 * x[i]
        y.3[i] += a.3 * x[i]
        i &+= 1
    }
}

/// y ← α·A·x + β·y for an m×n view A (pass `a.transposed` for Aᵀ), x of length n, y of length m.
/// β = 0 overwrites y without reading it. Row-major A runs as m dot products; column-major
/// (a transposed view) as n axpys; other strides element by element. Cost: 2mn flops.
///
/// Single-threaded: at the sizes the reductions use, waking a second core costs more than it
/// saves (docs/PERFORMANCE.md).
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func gemv<T: LinalgScalar>(_ a: MatrixView<T>, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>,
                                  alpha: T = 1, beta: T = 0) {
    let (m, n) = (a.rows, a.columns)
    for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }
    if n == 0 || alpha == 0 { return }
    if a.columnStride == 1 {
        var i = 0
        while i &+ 4 <= m {
            let rows = (a.base + i &* a.rowStride, a.base + (i &+ 1) &* a.rowStride,
                        a.base + (i &+ 2) &* a.rowStride, a.base + (i &+ 3) &* a.rowStride)
            let sums = dot4(rows, x, count: n)
            y[i] += alpha * sums.0
            y[i &+ 1] += alpha * sums.1
            y[i &+ 2] += alpha * sums.2
            y[i &+ 3] += alpha * sums.3
            i &+= 4
        }
        while i < m {
            y[i] += alpha * dot(a.base + i &* a.rowStride, x, count: n)
            i &+= 1
        }
    } else if a.rowStride == 1 {
        var j = 0
        while j &+ 4 <= n {
            let columns = (a.base + j &* a.columnStride, a.base + (j &+ 1) &* a.columnStride,
                           a.base + (j &+ 2) &* a.columnStride, a.base + (j &+ 3) &* a.columnStride)
            axpy4((alpha * x[j], alpha * x[j &+ 1], alpha * x[j &+ 2], alpha * x[j &+ 3]), columns, y, count: m)
            j &+= 4
        }
        while j < n {
            axpy(alpha * x[j], a.base + j &* a.columnStride, y, count: m)
            j &+= 1
        }
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
