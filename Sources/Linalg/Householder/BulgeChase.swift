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

    /// Chases `band` (compact storage of an n×n matrix of upper bandwidth `bandwidth`) to bidiagonal form.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    init(band: [T], order n: Int, bandwidth b: Int) {
        precondition(band.count == n * 3 * b, "a compact band holds 3b entries per row")
        var band = band
        var left = ChaseReflectors<T>(order: n, bandwidth: b)
        var right = ChaseReflectors<T>(order: n, bandwidth: b)
        let stride = 3 * b - 1
        var vector = [T](repeating: 0, count: b)
        var product = [T](repeating: 0, count: 2 * b)
        band.withUnsafeMutableBufferPointer { storage in
        vector.withUnsafeMutableBufferPointer { vector in
        product.withUnsafeMutableBufferPointer { product in
            let base = storage.baseAddress!, v = vector.baseAddress!
            /// The address of element (r, c).
            func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<T> { base + (r * stride + c + b) }
            guard b > 1 else { return }
            for i in 0..<max(0, n - 1) {
                for k in 0..<ChaseReflectors<T>.steps(sweep: i, order: n, bandwidth: b) {
                    let c = i + 1 + k * b
                    let r = k == 0 ? i : c - b
                    let length = min(b, n - c)
                    // Right: annihilate row r right of column c, then the rows below that reach these columns.
                    let row = at(r, c)
                    var beta = row[0]
                    let tauRight = makeReflector(alpha: &beta, x: row + 1, count: length - 1, stride: 1)
                    v[0] = 1
                    for q in 1..<length { v[q] = row[q]; row[q] = 0 }
                    row[0] = beta
                    right.store(sweep: i, step: k, vector: v, length: length, tau: tauRight)
                    let below = min(c + b - 1, n - 1) - r
                    if tauRight != 0 && below > 0 {
                        applyReflector(UnsafePointer(v), tau: tauRight, count: length, to: at(r + 1, c), stride: stride,
                                       vectors: 0..<below)
                    }
                    // Left: annihilate column c below row c, then the columns right of it in these rows.
                    let top = at(c, c)
                    for q in 0..<length { v[q] = top[q * stride] }
                    var alpha = v[0]
                    let tauLeft = makeReflector(alpha: &alpha, x: v + 1, count: length - 1, stride: 1)
                    v[0] = 1
                    for q in 1..<length { top[q * stride] = 0 }
                    top[0] = alpha
                    left.store(sweep: i, step: k, vector: v, length: length, tau: tauLeft)
                    let width = min(c + 2 * b - 1, n - 1) - c
                    if tauLeft != 0 && width > 0 {
                        applyReflectorAcrossRows(UnsafePointer(v), tau: tauLeft, count: length, to: top + 1, rowStride: stride,
                                                 width: width, scratch: product.baseAddress!)
                    }
                }
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
