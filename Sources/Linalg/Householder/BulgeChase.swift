import Foundation
import Synchronization

/// The second stage of the two-stage bidiagonalization: an n×n upper band matrix of bandwidth b
/// (`BandReduction`'s B) reduced to upper bidiagonal form by Householder bulge chasing,
/// B = Q₂·(bidiagonal)·P₂ᵀ (the band analogue of Lang's and Haidar, Ltaief and Dongarra's
/// band-to-tridiagonal sweeps).
///
/// Sweep i makes row i bidiagonal. Its step k works on the columns c = i + 1 + k·b … c + b − 1:
/// a right reflector annihilates row r's entries right of column c (r = i at step 0, c − b after),
/// applied to the rows below r that reach these columns (r + 1 … c + b − 1), which fills the block
/// below the diagonal at rows c… ; a left reflector then annihilates column c below row c, applied
/// to columns c + 1 … c + 2b − 1, which fills row c beyond the band: the bulge that step k + 1
/// chases. Only the first row and column of each bulge are annihilated; the rest is annihilated by
/// the next sweeps, which pass over the same blocks shifted by one. The fill therefore never reaches
/// further than b − 1 below the diagonal or 2b − 1 above it, which the compact storage holds: row r
/// keeps columns r − b … r + 2b − 1, 3b entries, so element (r, c) is at r·(3b − 1) + c + b and
/// every block of the band is a dense matrix with row stride 3b − 1. Each reflector has at most b
/// entries; each step costs ~16b² flops, the whole chase ~8n²b, all on a band of 3bn entries that
/// stays in cache for moderate n.
///
/// Reflectors are kept per sweep and step (`ChaseReflectors`): Q₂ = ∏ H(i, k) and P₂ = ∏ G(i, k),
/// both in the order they were made, where H(i, k) and G(i, k) act on the same indices c … c + b − 1.
struct BulgeChase<T: LinalgScalar> {
    /// The bidiagonal's diagonal (n values) and superdiagonal (n − 1 values).
    let diagonal: [T]
    let superdiagonal: [T]
    private let left: ChaseReflectors<T>
    private let right: ChaseReflectors<T>

    /// The compact band of the upper triangle of `a` (n×n view) within `bandwidth` b: 3b entries
    /// per row, the rest of each row's window zero for the fill.
    static func compactBand(of a: MatrixView<T>, bandwidth b: Int) -> [T] {
        let n = a.columns
        let width = 3 * b
        var band = [T](repeating: 0, count: n * width)
        for r in 0..<n {
            for c in r...min(r + b, n - 1) { band[r * width + c - r + b] = a[r, c] }
        }
        return band
    }

    /// Chases `band` (compact storage of an n×n matrix of upper bandwidth `bandwidth`) to bidiagonal
    /// form on `threads` threads (nil: ``Parallelism/maximumThreads``; one for under 10⁶ flops).
    ///
    /// Several threads pipeline the sweeps: thread t takes sweeps t, t + T, …, and starts step k of
    /// sweep i once sweep i − 1 has finished step k + 2. Step k of sweep i touches rows c − b …
    /// c + b − 1 and columns c … c + 2b − 1 (c = i + 1 + k·b); sweep i − 1's steps up to k + 2 overlap
    /// them and its steps from k + 3 on do not (their rows start at c + 2b − 1), so every element
    /// sees the same operations in the same order as in one sweep after the other: the result does
    /// not depend on the thread count.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    init(band: [T], order n: Int, bandwidth b: Int, threads: Int? = nil) {
        precondition(band.count == n * 3 * b, "a compact band holds 3b entries per row")
        var band = band
        var left = ChaseReflectors<T>(order: n, bandwidth: b)
        var right = ChaseReflectors<T>(order: n, bandwidth: b)
        let sweeps = max(0, n - 1)
        let workers = min(sweeps, Parallelism.threads(requested: threads, flops: 8 * Double(n) * Double(n) * Double(b)))
        if b > 1 && sweeps > 0 {
            band.withUnsafeMutableBufferPointer { storage in
                left.withSlots { leftSlots in
                    right.withSlots { rightSlots in
                        let chase = ChaseSweeps(band: SendablePointer(storage.baseAddress!), order: n, bandwidth: b,
                                                left: leftSlots, right: rightSlots, workers: workers)
                        runConcurrently(workers) { chase.run(worker: $0) }
                    }
                }
            }
        }
        let width = 3 * b
        diagonal = (0..<n).map { band[$0 * width + b] }
        superdiagonal = (0..<max(0, n - 1)).map { band[$0 * width + b + 1] }
        self.left = left
        self.right = right
    }

    /// C ← Q₂·C for C with n rows.
    func multiplyQ(_ c: MutableMatrixView<T>, threads: Int?) { left.apply(to: c, threads: threads) }

    /// C ← P₂·C for C with n rows.
    func multiplyP(_ c: MutableMatrixView<T>, threads: Int?) { right.apply(to: c, threads: threads) }
}

/// H = I − τ·u·uᵀ applied from the left to `count` rows of `width` contiguous elements, `rowStride`
/// apart: w = uᵀ·rows (accumulated row by row), then row_q −= τ·u_q·w. `scratch` holds w.
/// Cost: 4·count·width flops.
func applyReflectorAcrossRows<T: LinalgScalar>(_ u: UnsafePointer<T>, tau: T, count: Int, to base: UnsafeMutablePointer<T>,
                                               rowStride: Int, width: Int, scratch w: UnsafeMutablePointer<T>) {
    w.update(repeating: 0, count: width)
    for q in 0..<count { axpy(u[q], UnsafePointer(base + q &* rowStride), w, count: width) }
    for q in 0..<count { axpy(-tau * u[q], UnsafePointer(w), base + q &* rowStride, count: width) }
}

/// The sweeps of one bulge chase, shared by the threads that run it (`BulgeChase.init`): the
/// compact band, the two sides' reflector storage and each worker's progress.
private struct ChaseSweeps<T: LinalgScalar>: Sendable {
    let band: SendablePointer<T>
    let order: Int
    let bandwidth: Int
    let left: ChaseSlots<T>
    let right: ChaseSlots<T>
    let workers: Int
    /// Worker t's progress, sweep·stride + steps done (−1 before its first sweep), published after each step.
    let progress: [ChaseProgress]
    let stride: Int

    init(band: SendablePointer<T>, order n: Int, bandwidth b: Int, left: ChaseSlots<T>, right: ChaseSlots<T>, workers: Int) {
        self.band = band
        order = n
        bandwidth = b
        self.left = left
        self.right = right
        self.workers = workers
        progress = (0..<workers).map { _ in ChaseProgress() }
        stride = ChaseReflectors<T>.steps(sweep: 0, order: n, bandwidth: b) + 1
    }

    /// Worker t's sweeps, each step after its predecessor sweep has done the steps that overlap it.
    func run(worker t: Int) {
        let (n, b) = (order, bandwidth)
        var vector = [T](repeating: 0, count: b)
        var product = [T](repeating: 0, count: 2 * b)
        vector.withUnsafeMutableBufferPointer { vector in
            product.withUnsafeMutableBufferPointer { product in
                for i in Swift.stride(from: t, to: n - 1, by: workers) {
                    let steps = ChaseReflectors<T>.steps(sweep: i, order: n, bandwidth: b)
                    let previousSteps = ChaseReflectors<T>.steps(sweep: i - 1, order: n, bandwidth: b)
                    for k in 0..<steps {
                        if i > 0 && workers > 1 {
                            progress[(i - 1) % workers].wait(atLeast: (i - 1) * stride + min(k + 3, previousSteps))
                        }
                        step(sweep: i, step: k, vector: vector.baseAddress!, product: product.baseAddress!)
                        progress[t].publish(i * stride + k + 1)
                    }
                }
            }
        }
    }

    /// Step k of sweep i: the right reflector annihilating row r right of column c, applied to the
    /// rows below that reach these columns; then the left reflector annihilating column c below
    /// row c, applied to the columns right of it in these rows (see `BulgeChase`).
    func step(sweep i: Int, step k: Int, vector v: UnsafeMutablePointer<T>, product: UnsafeMutablePointer<T>) {
        let (n, b) = (order, bandwidth)
        let rowStride = 3 * b - 1
        /// The address of element (r, c).
        func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<T> { band.pointer + (r * rowStride + c + b) }
        let c = i + 1 + k * b
        let r = k == 0 ? i : c - b
        let length = min(b, n - c)
        let row = at(r, c)
        var beta = row[0]
        let tauRight = makeReflector(alpha: &beta, x: row + 1, count: length - 1, stride: 1)
        v[0] = 1
        for q in 1..<length { v[q] = row[q]; row[q] = 0 }
        row[0] = beta
        right.store(sweep: i, step: k, vector: v, length: length, tau: tauRight)
        let below = min(c + b - 1, n - 1) - r
        if tauRight != 0 && below > 0 {
            applyReflector(UnsafePointer(v), tau: tauRight, count: length, to: at(r + 1, c), stride: rowStride, vectors: 0..<below)
        }
        let top = at(c, c)
        for q in 0..<length { v[q] = top[q * rowStride] }
        var alpha = v[0]
        let tauLeft = makeReflector(alpha: &alpha, x: v + 1, count: length - 1, stride: 1)
        v[0] = 1
        for q in 1..<length { top[q * rowStride] = 0 }
        top[0] = alpha
        left.store(sweep: i, step: k, vector: v, length: length, tau: tauLeft)
        let width = min(c + 2 * b - 1, n - 1) - c
        if tauLeft != 0 && width > 0 {
            applyReflectorAcrossRows(UnsafePointer(v), tau: tauLeft, count: length, to: top + 1, rowStride: rowStride,
                                     width: width, scratch: product)
        }
    }
}

/// One worker's progress through a pipelined chase: published with release ordering after each
/// step, read with acquire ordering by the worker of the next sweep.
private final class ChaseProgress: Sendable {
    private let value = Atomic<Int>(-1)

    func publish(_ done: Int) { value.store(done, ordering: .releasing) }

    /// Returns once the published value is at least `needed`, yielding the core while it waits.
    func wait(atLeast needed: Int) {
        while value.load(ordering: .acquiring) < needed { sched_yield() }
    }
}
