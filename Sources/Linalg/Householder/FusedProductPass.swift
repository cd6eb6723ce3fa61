/// The bidiagonalization's fused matrix–vector pass (see `reducePanel`): one pass over the rows
/// Aᵣ of an m×n row-major view computing
///   x_r ← τ·(Aᵣ·u + x_r),   c_r ← (Aᵣ[0] + c_r) − x_r,   w = Σᵣ c_r·Aᵣ[1…]  (n − 1 entries),
/// where c holds corrections to the stored first column on entry. Cost: 4mn flops and one read
/// of A, so the pass runs at memory speed; it is half of the reduction's flops.
///
/// Parallel by rows, for a matrix of `parallelBytes` or more: a smaller one sits in the caches,
/// where a pass takes tens of microseconds, about what waking a second core costs, and is one
/// chunk. A larger one is cut into `chunkCount(rows:)` contiguous chunks of rows, a number that
/// depends on m only. Each chunk accumulates its own partial w (chunk 0 directly into w, chunk k
/// into row k − 1 of `partials`), and the partials are added to w in chunk order afterwards, so
/// every entry is the same sum in the same order whatever the thread count. x and c are per row
/// and need no combining. The extra cost is (chunks − 1)·n additions, against 4mn.
enum FusedProductPass {
    /// The most chunks a pass uses; `partials` needs (maximumChunks − 1)·(n − 1) entries.
    static let maximumChunks = 8
    /// Rows per chunk at least: below this a chunk's share does not pay for waking a thread.
    static let minimumChunkRows = 128
    /// The smallest matrix (in bytes) whose pass is cut into chunks and split across threads.
    static let parallelBytes = 4 << 20

    /// The number of row chunks for m rows (independent of the thread count).
    static func chunkCount(rows m: Int) -> Int { min(maximumChunks, max(1, m / minimumChunkRows)) }

    /// Runs the pass on `a` (column stride 1, n ≥ 1), in chunks on up to `threads` threads (nil:
    /// the default) when `a` has at least `parallelBytes` bytes.
    static func run<T: LinalgScalar>(_ a: MatrixView<T>, _ u: UnsafePointer<T>, tau: T, x: UnsafeMutablePointer<T>,
                                     column c: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>,
                                     partials: UnsafeMutablePointer<T>, threads: Int?, parallelBytes: Int = parallelBytes) {
        let (m, n) = (a.rows, a.columns)
        precondition(a.columnStride == 1 && n >= 1)
        let large = m * n * MemoryLayout<T>.stride >= parallelBytes
        let chunks = large ? Parallelism.split(m, into: chunkCount(rows: m), grain: 4) : [0..<m]
        let width = n - 1
        let threads = large ? Parallelism.threads(requested: threads, flops: 4 * Double(m * n)) : 1
        let parts = Parallelism.split(chunks.count, into: threads, grain: 1)
        let (uShared, xShared, cShared) = (SendablePointer(UnsafeMutablePointer(mutating: u)), SendablePointer(x), SendablePointer(c))
        let (wShared, partialsShared) = (SendablePointer(w), SendablePointer(partials))
        Parallelism.forEach(parts.count) { part in
            for k in parts[part] {
                let target = k == 0 ? wShared.pointer : partialsShared.pointer + (k - 1) * width
                passRows(a, chunks[k], uShared.pointer, tau: tau, x: xShared.pointer, column: cShared.pointer, w: target)
            }
        }
        for k in 1..<max(1, chunks.count) { axpy(1, partials + (k - 1) * width, w, count: width) }
    }

    /// The pass over rows `rows` of `a`, w (n − 1 entries) overwritten with their sum, four rows
    /// at a time so that each row is read from memory once and w is loaded and stored once per
    /// four rows.
    private static func passRows<T: LinalgScalar>(_ a: MatrixView<T>, _ rows: Range<Int>, _ u: UnsafePointer<T>, tau: T,
                                                  x: UnsafeMutablePointer<T>, column c: UnsafeMutablePointer<T>,
                                                  w: UnsafeMutablePointer<T>) {
        let n = a.columns
        for j in 0..<(n - 1) { w[j] = 0 }
        var r = rows.lowerBound
        while r &+ 4 <= rows.upperBound {
            let rowPointers = (a.base + r &* a.rowStride, a.base + (r &+ 1) &* a.rowStride,
                               a.base + (r &+ 2) &* a.rowStride, a.base + (r &+ 3) &* a.rowStride)
            let products = dot4(rowPointers, u, count: n)
            let coefficients = (finishRow(r, rowPointers.0[0], products.0, tau, x, c),
                                finishRow(r &+ 1, rowPointers.1[0], products.1, tau, x, c),
                                finishRow(r &+ 2, rowPointers.2[0], products.2, tau, x, c),
                                finishRow(r &+ 3, rowPointers.3[0], products.3, tau, x, c))
            axpy4(coefficients, (rowPointers.0 + 1, rowPointers.1 + 1, rowPointers.2 + 1, rowPointers.3 + 1), w, count: n - 1)
            r &+= 4
        }
        while r < rows.upperBound {
            let row = a.base + r &* a.rowStride
            axpy(finishRow(r, row[0], dot(row, u, count: n), tau, x, c), row + 1, w, count: n - 1)
            r &+= 1
        }
    }

    /// x_r ← τ·(product + x_r), c_r ← (stored + c_r) − x_r; returns c_r.
    @inline(__always)
    private static func finishRow<T: LinalgScalar>(_ r: Int, _ stored: T, _ product: T, _ tau: T,
                                                   _ x: UnsafeMutablePointer<T>, _ c: UnsafeMutablePointer<T>) -> T {
        x[r] = tau * (product + x[r])
        c[r] = (stored + c[r]) - x[r]
        return c[r]
    }
}
