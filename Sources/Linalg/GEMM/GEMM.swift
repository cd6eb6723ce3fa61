
/// General matrix multiply: C ← α·A·B + β·C, with A (m×k) and B (k×n) any strided views (pass
/// `x.transposed` for op(X) = Xᵀ) and C a row-major m×n view.
///
/// When β = 0, C is overwritten without being read (NaNs in C do not propagate). Shapes with a
/// zero dimension are fine. The result is bitwise independent of `threads`.
///
/// Algorithm (Goto/BLIS): five loops around a register-tile micro-kernel (`LinalgScalar.microKernel`),
/// with the cache blocking that kernel declares. B is packed in kc×nc blocks, A in mc×kc blocks,
/// both into per-thread aligned buffers reused across calls; the micro-kernel then runs mr×nr
/// tiles from the packed panels. Threads split C into row (or column) bands aligned to the tile;
/// products under 10⁶ flops stay on one thread. Cost: 2mnk flops.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func gemm<T: LinalgScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>, into c: MutableMatrixView<T>,
                                  alpha: T = 1, beta: T = 0, threads: Int? = nil) {
    gemm(a, b, into: c, alpha: alpha, beta: beta, threads: threads, kernel: T.microKernel)
}

/// op(A)·op(B) (times α) as a new matrix: `gemm` for whole matrices.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func product<T: LinalgScalar>(_ a: Matrix<T>, _ b: Matrix<T>, transposeA: Bool = false, transposeB: Bool = false,
                                     alpha: T = 1, threads: Int? = nil) -> Matrix<T> {
    var c = Matrix<T>(rows: transposeA ? a.columns : a.rows, columns: transposeB ? b.rows : b.columns)
    a.withView { a in
        b.withView { b in
            c.withMutableView { c in
                gemm(transposeA ? a.transposed : a, transposeB ? b.transposed : b, into: c, alpha: alpha, threads: threads)
            }
        }
    }
    return c
}

/// `gemm` with an explicit micro-kernel (the tests run every candidate).
func gemm<T: LinalgScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>, into c: MutableMatrixView<T>,
                           alpha: T, beta: T, threads: Int?, kernel: MicroKernel<T>) {
    precondition(a.columns == b.rows && a.rows == c.rows && b.columns == c.columns,
                 "gemm: shapes \(a.rows)×\(a.columns) · \(b.rows)×\(b.columns) → \(c.rows)×\(c.columns) do not match")
    let (m, n, k) = (c.rows, c.columns, a.columns)
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scale(c, by: beta)
        return
    }
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let threadCount = Parallelism.threads(requested: threads, flops: flops)
    if threadCount == 1 {
        GEMMWorkspace.with { workspace in
            blockedGEMM(a, b, into: c, alpha: alpha, beta: beta, kernel: kernel, workspace: workspace)
        }
        return
    }
    // Split the longer side of C into bands aligned to the register tile.
    let alongRows = m >= n
    let bands = alongRows ? Parallelism.split(m, into: threadCount, grain: kernel.rows)
                          : Parallelism.split(n, into: threadCount, grain: kernel.columns)
    Parallelism.forEach(bands.count) { part in
        let band = bands[part]
        GEMMWorkspace.with { workspace in
            if alongRows {
                blockedGEMM(a.submatrix(row: band.lowerBound, column: 0, rows: band.count, columns: k), b,
                            into: c.submatrix(row: band.lowerBound, column: 0, rows: band.count, columns: n),
                            alpha: alpha, beta: beta, kernel: kernel, workspace: workspace)
            } else {
                blockedGEMM(a, b.submatrix(row: 0, column: band.lowerBound, rows: k, columns: band.count),
                            into: c.submatrix(row: 0, column: band.lowerBound, rows: m, columns: band.count),
                            alpha: alpha, beta: beta, kernel: kernel, workspace: workspace)
            }
        }
    }
}

/// C ← β·C, writing zeros (not multiplying) when β = 0.
func scale<T: LinalgScalar>(_ c: MutableMatrixView<T>, by beta: T) {
    for i in 0..<c.rows {
        let row = c.base + i &* c.leadingDimension
        if beta == 0 {
            row.update(repeating: 0, count: c.columns)
        } else if beta != 1 {
            for j in 0..<c.columns { row[j] *= beta }
        }
    }
}

/// The single-threaded five-loop algorithm on one band of C, with the kernel's register tile
/// (mr×nr) and cache blocking (mc, kc, nc): for each nc-column block of B (loop 5) and each
/// kc-deep slice of it (loop 4), pack B̃; for each mc-row block of A (loop 3), pack Ã; then run
/// the tile over the block's nr-column (loop 2) and mr-row (loop 1) micro-panels. Partial tiles at
/// the edges run into a scratch tile and are merged with `mergeEdgeTile`. Cost: 2mnk flops, plus
/// packing: B once, A once per nc-block.
func blockedGEMM<T: LinalgScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>, into c: MutableMatrixView<T>,
                                  alpha: T, beta: T, kernel: MicroKernel<T>, workspace: GEMMWorkspace) {
    let (m, n, k) = (c.rows, c.columns, a.columns)
    let (mr, nr) = (kernel.rows, kernel.columns)
    let blocking = kernel.blocking
    let kcMax = min(blocking.kc, k)
    let packedA = workspace.buffer(0, count: roundUp(min(blocking.mc, m), mr) * kcMax, as: T.self)
    let packedB = workspace.buffer(1, count: roundUp(min(blocking.nc, n), nr) * kcMax, as: T.self)
    let edgeTile = workspace.buffer(2, count: mr * nr, as: T.self)
    let ldc = c.leadingDimension

    for jc in stride(from: 0, to: n, by: blocking.nc) {
        let ncBlock = min(blocking.nc, n - jc)
        for pc in stride(from: 0, to: k, by: blocking.kc) {
            let kcBlock = min(blocking.kc, k - pc)
            packB(b.submatrix(row: pc, column: jc, rows: kcBlock, columns: ncBlock), panelColumns: nr, into: packedB)
            // Only the first k-block applies the caller's β; later ones accumulate.
            let betaBlock = pc == 0 ? beta : 1
            for ic in stride(from: 0, to: m, by: blocking.mc) {
                let mcBlock = min(blocking.mc, m - ic)
                packA(a.submatrix(row: ic, column: pc, rows: mcBlock, columns: kcBlock), panelRows: mr, into: packedA)
                for jr in stride(from: 0, to: ncBlock, by: nr) {
                    let width = min(nr, ncBlock - jr)
                    let panelB = UnsafePointer(packedB + jr &* kcBlock)
                    for ir in stride(from: 0, to: mcBlock, by: mr) {
                        let height = min(mr, mcBlock - ir)
                        let panelA = UnsafePointer(packedA + ir &* kcBlock)
                        let tile = c.base + ((ic &+ ir) &* ldc &+ jc &+ jr)
                        if height == mr && width == nr {
                            kernel.run(kcBlock, panelA, panelB, tile, ldc, alpha, betaBlock)
                        } else {
                            kernel.run(kcBlock, panelA, panelB, edgeTile, nr, 1, 0)
                            mergeEdgeTile(edgeTile, stride: nr, into: tile, ldc: ldc, rows: height, columns: width,
                                          alpha: alpha, beta: betaBlock)
                        }
                    }
                }
            }
        }
    }
}

/// C[0..<rows, 0..<columns] ← α·tile + β·C, element by element with the same roundings as the
/// kernel's vector store.
@inline(__always)
func mergeEdgeTile<T: LinalgScalar>(_ tile: UnsafePointer<T>, stride: Int, into c: UnsafeMutablePointer<T>, ldc: Int,
                                    rows: Int, columns: Int, alpha: T, beta: T) {
    for i in 0..<rows {
        let source = tile + i &* stride
        let target = c + i &* ldc
        for j in 0..<columns {
            target[j] = beta == 0 ? alpha * source[j] : alpha * source[j] + beta * target[j]
        }
    }
}

@inline(__always)
func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

/// Scratch buffers owned by one thread at a time, reused across calls so that the hot path does
/// not allocate. A pool hands one to each running band and takes it back afterwards.
final class GEMMWorkspace: @unchecked Sendable {
    private var buffers: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    private static let pool = Locked<[GEMMWorkspace]>([])

    /// Runs `body` with a workspace no other thread is using.
    static func with<R>(_ body: (GEMMWorkspace) -> R) -> R {
        let workspace = pool.withLock { $0.popLast() } ?? GEMMWorkspace()
        defer { pool.withLock { $0.append(workspace) } }
        return body(workspace)
    }

    /// Buffer number `slot`, grown (never shrunk) to hold `count` values, aligned to 64 bytes.
    func buffer<T>(_ slot: Int, count: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        while buffers.count <= slot { buffers.append((UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)) }
        let bytes = max(64, count * MemoryLayout<T>.stride)
        if buffers[slot].bytes < bytes {
            buffers[slot].pointer.deallocate()
            buffers[slot] = (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        }
        return buffers[slot].pointer.bindMemory(to: T.self, capacity: count)
    }

    deinit { for buffer in buffers { buffer.pointer.deallocate() } }
}
