/// Householder QR factorization A = Q·R of an m×n matrix (m ≥ n), blocked as in LAPACK's geqrf
/// with two levels: each block of `blockSize` columns is factored as two level-2 panels of half
/// its width (each panel's block reflector applied to the block's later columns), then
/// the trailing columns are updated with one block reflector for the whole block (three GEMMs).
/// The trailing matrix — for a tall matrix much larger than the caches — is then read and written
/// once per block (64 columns by default), while the level-2 work stays that of the half-width
/// panels. Cost: 2mn² − 2n³/3 flops, of which all but the panels' O(mn·blockSize) run in GEMM.
public struct QRFactorization<T: LinalgScalar> {
    /// R in the upper triangle; reflector vectors below the diagonal (implicit unit diagonal).
    public private(set) var factors: Matrix<T>
    /// The reflectors' scalars τ.
    public private(set) var tau: [T]
    /// Reflectors per panel, and each panel's compact-WY triangle T (kept for applying Q later).
    let blockSize: Int
    private var triangles: [Matrix<T>] = []

    /// Factors `a` (m ≥ n) in blocks of `blockSize` columns, with `threads` for the trailing updates
    /// (nil: all cores). The result does not depend on the thread count.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, blockSize: Int = 64, threads: Int? = nil) {
        precondition(a.rows >= a.columns, "QR needs rows ≥ columns")
        let panelWidth = max(1, blockSize / 2)
        factors = a
        tau = [T](repeating: 0, count: a.columns)
        self.blockSize = blockSize
        let n = a.columns
        var tau = self.tau
        var triangles: [Matrix<T>] = []
        factors.withMutableView { a in
            for start in stride(from: 0, to: n, by: blockSize) {
                let b = min(blockSize, n - start)
                let panel = a.submatrix(row: start, column: start, rows: a.rows - start, columns: b)
                for inner in stride(from: 0, to: b, by: panelWidth) {
                    let width = min(panelWidth, b - inner)
                    let part = panel.submatrix(row: inner, column: inner, rows: panel.rows - inner, columns: width)
                    factorPanel(part, tau: &tau, offset: start + inner)
                    if inner + width < b {
                        BlockReflector(stored: part.view, tau: tau[(start + inner)..<(start + inner + width)], threads: threads)
                            .apply(to: panel.submatrix(row: inner, column: inner + width, rows: panel.rows - inner,
                                                       columns: b - inner - width),
                                   transpose: true, threads: threads)
                    }
                }
                let block = BlockReflector(stored: panel.view, tau: tau[start..<(start + b)], threads: threads)
                triangles.append(block.t)
                let trailing = n - start - b
                if trailing > 0 {
                    block.apply(to: a.submatrix(row: start, column: start + b, rows: a.rows - start, columns: trailing),
                                transpose: true, threads: threads)
                }
            }
        }
        self.tau = tau
        self.triangles = triangles
    }

    /// The n×n upper triangular factor R.
    public var r: Matrix<T> {
        Matrix(rows: factors.columns, columns: factors.columns) { i, j in j >= i ? factors[i, j] : 0 }
    }

    /// The m×n matrix Q with orthonormal columns: Q applied to the first n columns of the identity.
    public var q: Matrix<T> {
        @_specialize(exported: true, where T == Float)
        @_specialize(exported: true, where T == Double)
        get {
            var q = Matrix<T>(rows: factors.rows, columns: factors.columns)
            q.withMutableView { view in
                for i in 0..<factors.columns { view[i, i] = 1 }
            }
            multiplyQ(&q, transpose: false)
            return q
        }
    }

    /// C ← Q·C (or Qᵀ·C) for C with m rows: one block reflector per panel, with the triangles T
    /// the factorization formed. Cost: 4mn·cols − 2n²·cols flops, almost all in GEMM.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyQ(_ c: inout Matrix<T>, transpose: Bool, threads: Int? = nil) {
        let panels = Array(triangles.indices)
        factors.withView { stored in
            c.withMutableView { c in
                // Q·C applies the last panel first; Qᵀ·C the first.
                for p in transpose ? panels : panels.reversed() {
                    let start = p * blockSize, rows = stored.rows - start
                    let block = BlockReflector(stored: stored.submatrix(row: start, column: start, rows: rows,
                                                                        columns: triangles[p].rows),
                                               t: triangles[p])
                    block.apply(to: c.submatrix(row: start, column: 0, rows: rows, columns: c.columns), transpose: transpose,
                                threads: threads)
                }
            }
        }
    }
}

/// Unblocked Householder QR of a panel (level 2): for each column, a reflector annihilates the
/// entries below the diagonal and is applied to the panel's remaining columns. The panel is
/// copied to a transposed buffer first, so that every column — each reflector and each vector it
/// is applied to — is contiguous (a row-major column is strided by the whole matrix width).
func factorPanel<T: LinalgScalar>(_ a: MutableMatrixView<T>, tau: inout [T], offset: Int) {
    let (m, b) = (a.rows, a.columns)
    var columns = Matrix<T>(rows: b, columns: m)
    columns.withMutableView { c in
        for i in 0..<m {
            let row = a.base + i &* a.leadingDimension
            for j in 0..<b { c.base[j &* m &+ i] = row[j] }
        }
        for j in 0..<min(m, b) {
            let column = c.base + (j &* m &+ j)
            var alpha = column[0]
            let t = makeReflector(alpha: &alpha, x: column + 1, count: m - j - 1, stride: 1)
            column[0] = alpha
            tau[offset + j] = t
            if t == 0 { continue }
            let saved = column[0]
            column[0] = 1
            applyReflector(UnsafePointer(column), tau: t, count: m - j, to: c.base + j, stride: m, vectors: (j + 1)..<b)
            column[0] = saved
        }
        for i in 0..<m {
            let row = a.base + i &* a.leadingDimension
            for j in 0..<b { row[j] = c.base[j &* m &+ i] }
        }
    }
}

/// H = I − τ·v·vᵀ (v of `count` elements, v[0] = 1 stored explicitly) applied to the vectors
/// y_k = base + k·stride, k ∈ `vectors`, each `count` contiguous elements: y −= τ·(vᵀy)·v,
/// four vectors per pass over v. Cost: 4·count flops per vector.
func applyReflector<T: LinalgScalar>(_ v: UnsafePointer<T>, tau t: T, count: Int, to base: UnsafeMutablePointer<T>, stride: Int,
                                     vectors: Range<Int>) {
    var k = vectors.lowerBound
    while k + 4 <= vectors.upperBound {
        let targets = (base + k &* stride, base + (k + 1) &* stride, base + (k + 2) &* stride, base + (k + 3) &* stride)
        let products = dot4((UnsafePointer(targets.0), UnsafePointer(targets.1), UnsafePointer(targets.2),
                             UnsafePointer(targets.3)), v, count: count)
        axpy4((-t * products.0, -t * products.1, -t * products.2, -t * products.3), v, into: targets, count: count)
        k += 4
    }
    while k < vectors.upperBound {
        let target = base + k &* stride
        axpy(-t * dot(v, UnsafePointer(target), count: count), v, target, count: count)
        k += 1
    }
}
