/// The reflectors one side of a `BulgeChase` makes: step k of sweep i leaves a vector of at most b
/// entries (its first, 1, stored too) acting on indices c … c + b − 1, c = i + 1 + k·b, and a scalar
/// τ. About n²/(2b) reflectors of b entries: n²/2 values, whatever b.
///
/// Their product in the order they were made, Q = H(0, 0)·H(0, 1)⋯H(n − 2, ·), is applied to a
/// matrix C of n rows as C ← Q·C, the last-made reflector first: 2n²·cols flops one reflector at
/// a time. For C of b columns or more the reflectors are grouped into block reflectors
/// (`BlockReflector`, three GEMMs each): the reflectors of g = b/2 consecutive sweeps
/// i₀ … i₀ + g − 1 at one step k act on the staircase of rows i₀ + 1 + k·b … i₀ + k·b + b + g − 1.
/// A reflector H(i, k) overlaps later-made ones only at step k (later sweeps, same block) and at
/// step k − 1 (later sweeps), and earlier-made ones only at step k + 1 (earlier sweeps), so
/// applying the groups from the last to the first, and within a group the steps in increasing
/// order, each block as one product, keeps every overlapping pair in its order. The staircase V
/// is (b + g − 1) × g with a third of it zero, so the blocks cost about 3n²·cols flops, at the
/// GEMM's rate instead of level 2's.
struct ChaseReflectors<T: LinalgScalar> {
    let order: Int
    let bandwidth: Int
    private var vectors: [T]
    private var taus: [T]
    /// The slot of each sweep's first reflector.
    private let firstSlot: [Int]

    /// Steps in sweep i of a chase on an n×n band of bandwidth b: those with c = i + 1 + k·b ≤ n − 1.
    static func steps(sweep i: Int, order n: Int, bandwidth b: Int) -> Int { i >= n - 1 ? 0 : (n - 2 - i) / b + 1 }

    init(order n: Int, bandwidth b: Int) {
        order = n
        bandwidth = b
        var first = [Int](), slots = 0
        for i in 0..<max(0, n - 1) {
            first.append(slots)
            slots += Self.steps(sweep: i, order: n, bandwidth: b)
        }
        firstSlot = first
        vectors = [T](repeating: 0, count: slots * b)
        taus = [T](repeating: 0, count: slots)
    }

    /// Runs `body` with the storage open for writing (`ChaseSlots`), which threads may share as
    /// long as each step's reflector is written by one of them.
    mutating func withSlots<R>(_ body: (ChaseSlots<T>) -> R) -> R {
        let b = bandwidth
        return firstSlot.withUnsafeBufferPointer { first in
            vectors.withUnsafeMutableBufferPointer { vectors in
                taus.withUnsafeMutableBufferPointer { taus in
                    body(ChaseSlots(vectors: vectors.baseAddress, taus: taus.baseAddress, firstSlot: first.baseAddress,
                                    bandwidth: b))
                }
            }
        }
    }

    /// C ← Q·C for C with n rows: reflector by reflector when C has fewer than b columns, else in blocks.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func apply(to c: MutableMatrixView<T>, threads: Int?) {
        precondition(c.rows == order, "the chase's reflectors act on n rows")
        let (n, b) = (order, bandwidth)
        guard n > 1, b > 1, c.columns > 0 else { return }
        vectors.withUnsafeBufferPointer { vectors in
            let stored = vectors.baseAddress!
            if c.columns < b {
                var product = [T](repeating: 0, count: c.columns)
                product.withUnsafeMutableBufferPointer { product in
                    for i in (0..<(n - 1)).reversed() {
                        for k in (0..<Self.steps(sweep: i, order: n, bandwidth: b)).reversed() {
                            let slot = firstSlot[i] + k, first = i + 1 + k * b
                            guard taus[slot] != 0 else { continue }
                            applyReflectorAcrossRows(stored + slot * b, tau: taus[slot], count: min(b, n - first),
                                                     to: c.base + first * c.leadingDimension, rowStride: c.leadingDimension,
                                                     width: c.columns, scratch: product.baseAddress!)
                        }
                    }
                }
                return
            }
            // Each thread takes a band of C's columns (they are independent) through all the
            // blocks, forming each block itself: a block's V and T cost ~2(b + g)g² flops against
            // the 4(b + g)g flops per column of applying it, and no thread holds more than one.
            let g = max(1, b / 2)
            let flops = 3 * Double(n) * Double(n) * Double(c.columns)
            let bands = Parallelism.split(c.columns, into: Parallelism.threads(requested: threads, flops: flops),
                                          grain: T.microKernel.columns)
            Parallelism.forEach(bands.count) { part in
                let band = bands[part]
                for start in stride(from: 0, to: n - 1, by: g).reversed() {
                    for k in 0..<Self.steps(sweep: start, order: n, bandwidth: b) {
                        let (top, block) = stairBlock(sweeps: start..<min(start + g, n - 1), step: k)
                        block.apply(to: c.submatrix(row: top, column: band.lowerBound, rows: block.v.rows, columns: band.count),
                                    transpose: false, threads: 1)
                    }
                }
            }
        }
    }

    /// The block reflector of the given sweeps' reflectors at step k (those that reach it:
    /// i + 1 + k·b ≤ n − 1), and the first row it acts on, i₀ + 1 + k·b. Its V is the staircase
    /// whose column t holds sweep i₀ + t's vector from row t.
    private func stairBlock(sweeps: Range<Int>, step k: Int) -> (top: Int, block: BlockReflector<T>) {
        let (n, b) = (order, bandwidth)
        let top = sweeps.lowerBound + 1 + k * b
        let count = min(sweeps.upperBound, n - 1 - k * b) - sweeps.lowerBound
        let rows = min(top + count + b - 2, n - 1) - top + 1
        var staircase = Matrix<T>(rows: rows, columns: count)
        staircase.withMutableView { v in
            for t in 0..<count {
                let slot = firstSlot[sweeps.lowerBound + t] + k
                for q in 1..<min(b, n - top - t) { v[t + q, t] = vectors[slot * b + q] }
            }
        }
        let groupTaus = (0..<count).map { taus[firstSlot[sweeps.lowerBound + $0] + k] }
        return (top, staircase.withView { BlockReflector(stored: $0, tau: groupTaus[...], threads: 1) })
    }
}

/// Write access to a `ChaseReflectors`' storage during the chase: each (sweep, step) has its own
/// slot, so concurrent writers of different steps never touch the same memory.
struct ChaseSlots<T: LinalgScalar>: @unchecked Sendable {
    let vectors: UnsafeMutablePointer<T>?
    let taus: UnsafeMutablePointer<T>?
    let firstSlot: UnsafePointer<Int>?
    let bandwidth: Int

    /// Records the reflector of sweep i, step k: its first `length` entries from `vector`.
    func store(sweep i: Int, step k: Int, vector: UnsafePointer<T>, length: Int, tau: T) {
        guard let vectors, let taus, let firstSlot else { preconditionFailure("a chase of order ≤ 1 makes no reflectors") }
        let slot = firstSlot[i] + k
        (vectors + slot * bandwidth).update(from: vector, count: length)
        taus[slot] = tau
    }
}
