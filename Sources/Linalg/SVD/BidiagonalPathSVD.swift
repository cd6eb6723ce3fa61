/// The bidiagonal path's SVD of an m×n matrix, m ≥ n, with the left vectors left implicit:
/// [QR (when m ≥ 11n/6)] → bidiagonalization A = Q_B·B·P_Bᵀ (of R; in one stage, or in two
/// through a band when few vectors are formed from a large matrix: `reducesInTwoStages`) →
/// divide and conquer B = U_B·Σ·V_Bᵀ, with σ and Vᵀ = (P_B·V_B)ᵀ formed at once and
/// U = [Q]·Q_B·[U_B; 0] formed column by column on demand (`leftVectors`). Applying the
/// reflectors costs ~4mn per column, so a caller that needs few left vectors, or reads the strong
/// ones off A (`DirectLeftVectors`), skips most of the back-transformation: the polar factor
/// needs only its weak directions' columns.
///
/// A caller that can tell from the spectrum whether it will want any left vectors (`mayWantLeft`,
/// asked of `BidiagonalSpectrum`'s O(n) counts) saves U_B too when it will not: about half of
/// divide and conquer's vector work. Should the computed σ (which the counts judge only to
/// rounding) call for some after all, `leftVectors` runs divide and conquer again with U_B: same
/// σ and V bit for bit, so the result is as if U_B had been kept.
struct BidiagonalPathSVD<T: LinalgScalar> {
    /// The singular values, descending.
    let sigma: [T]
    /// The right vectors of the `leading` largest values, as rows.
    let vt: Matrix<T>
    private let qr: QRFactorization<T>?
    private let reduction: ChosenReduction<T>
    /// U_B of divide and conquer; nil when it was skipped.
    private let bidiagonalU: Matrix<T>?
    private let leading: Int

    /// Factors `a` (finite, at unit scale: the caller scales) keeping the vectors of the `leading`
    /// largest singular values. `mayWantLeft`: whether the caller may ask for any left vectors,
    /// judged from B's spectrum (nil: it will). `stages`: the reduction (tests choose one).
    init(_ a: Matrix<T>, leading: Int, threads: Int, stages: ReductionStages = .measured,
         mayWantLeft: ((BidiagonalSpectrum) -> Bool)? = nil) throws(LinalgError) {
        precondition(a.rows >= a.columns, "BidiagonalPathSVD needs rows ≥ columns")
        let vectorColumns = leading + (mayWantLeft == nil ? leading : 0)
        (qr, reduction) = Self.reduce(a, vectorColumns: vectorColumns, stages: stages, threads: threads)
        let (d, e) = Self.bidiagonal(reduction)
        let formLeft = mayWantLeft?(BidiagonalSpectrum(diagonal: d, superdiagonal: e)) ?? true
        let bidiagonal = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: true, left: formLeft, leading: leading,
                                                           threads: threads, precision: T.self)
        guard var v = bidiagonal.v else { preconditionFailure("vectors were asked for") }
        sigma = bidiagonal.sigma.map { T($0) }
        reduction.multiplyP(&v, threads: threads)
        vt = v.transposed
        bidiagonalU = bidiagonal.u
        self.leading = leading
    }

    /// Whether an m×n matrix is factored through QR first: when m ≥ 11n/6, where the QR's
    /// 2mn² flops save more in the bidiagonalization (4mn² → 8n³/3) than they cost.
    static func goesThroughQR(rows m: Int, columns n: Int) -> Bool { 6 * m >= 11 * n }

    /// The singular values alone (descending): the same reduction, divide and conquer without
    /// vectors (in Double: σ from z of W's first and last rows, O(n²) after the reduction).
    static func singularValues(of a: Matrix<T>, threads: Int, stages: ReductionStages = .measured) throws(LinalgError) -> [T] {
        let (d, e) = bidiagonal(reduce(a, vectorColumns: 0, stages: stages, threads: threads).reduction)
        return try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: false, threads: threads, precision: Double.self)
            .sigma.map { T($0) }
    }

    /// [QR →] bidiagonalization, in one stage or two (`reducesInTwoStages`) for about
    /// `vectorColumns` singular vectors formed afterwards (left and right together).
    private static func reduce(_ a: Matrix<T>, vectorColumns: Int, stages: ReductionStages, threads: Int)
        -> (qr: QRFactorization<T>?, reduction: ChosenReduction<T>) {
        let qr = goesThroughQR(rows: a.rows, columns: a.columns) ? QRFactorization(a, threads: threads) : nil
        let reduced = qr?.r ?? a
        let bandwidth: Int?
        switch stages {
        case .measured:
            bandwidth = reducesInTwoStages(columns: a.columns, vectorColumns: vectorColumns)
                ? TwoStageBidiagonalization<T>.defaultBandwidth : nil
        case .one: bandwidth = nil
        case .two(let b): bandwidth = b
        }
        guard let bandwidth else { return (qr, .oneStage(Bidiagonalization(reduced, threads: threads))) }
        return (qr, .twoStage(TwoStageBidiagonalization(reduced, bandwidth: bandwidth, threads: threads)))
    }

    /// Whether the reduction of n columns goes through a band (`TwoStageBidiagonalization`) when
    /// `vectorColumns` singular vectors (left and right together) are to be formed from it. The
    /// band saves the memory-bound half of the one-stage reduction, a share that grows with n
    /// (two threads, Zen 4: a sixth of its time at 1024², a quarter at 2048², half at 4096²), and
    /// costs a second back-transformation of ~3n² flops per vector. Measured break-even: about n/4
    /// vectors at 1024² (none pay at 768²), n/2 at 2048²; so the band for values only from
    /// n = 1024, and for up to n/4 vectors from 1024, n/2 from 2048. The polar factor's n right
    /// vectors came out even (0.90–1.05× the one-stage time, median 0.98, in ten rounds at 4096²,
    /// 11008×4096 and 4096×11008) for n² more memory, and the full SVD's 2n vectors lose at every
    /// size: both keep the one-stage reduction.
    static func reducesInTwoStages(columns n: Int, vectorColumns: Int) -> Bool {
        if n >= 2048 { return vectorColumns <= n / 2 }
        if n >= 1024 { return vectorColumns <= n / 4 }
        return false
    }

    /// B's diagonal and superdiagonal, in Double for divide and conquer.
    private static func bidiagonal(_ reduction: ChosenReduction<T>) -> (d: [Double], e: [Double]) {
        (reduction.diagonal.map { Double($0) }, reduction.superdiagonal.map { Double($0) })
    }

    /// The left singular vectors `columns` (indices among the leading ones), m × columns.count:
    /// [Q]·Q_B·[U_B; 0] restricted to those columns.
    func leftVectors(_ columns: Range<Int>, threads: Int) throws(LinalgError) -> Matrix<T> {
        var bidiagonalU = self.bidiagonalU
        if bidiagonalU == nil {
            let (d, e) = Self.bidiagonal(reduction)
            bidiagonalU = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: true, leading: leading, threads: threads,
                                                             precision: T.self).u
        }
        guard let bidiagonalU else { preconditionFailure("left vectors were asked for") }
        var u = Matrix<T>(rows: reduction.rows, columns: columns.count)
        u.place(columns.count == bidiagonalU.columns ? bidiagonalU : bidiagonalU.selecting(columns: Array(columns)),
                row: 0, column: 0)
        reduction.multiplyQ(&u, threads: threads)
        guard let qr else { return u }
        var full = Matrix<T>(rows: qr.factors.rows, columns: u.columns)
        full.place(u, row: 0, column: 0)
        qr.multiplyQ(&full, transpose: false, threads: threads)
        return full
    }
}

/// How `BidiagonalPathSVD` reduces to bidiagonal form: by the measured rule
/// (`reducesInTwoStages`), or, for tests, in one stage or in two through a band of the given width.
enum ReductionStages {
    case measured
    case one
    case two(bandwidth: Int)
}

/// The reduction `BidiagonalPathSVD` chose, one stage or two.
enum ChosenReduction<T: LinalgScalar>: BidiagonalReduction {
    case oneStage(Bidiagonalization<T>)
    case twoStage(TwoStageBidiagonalization<T>)

    var rows: Int {
        switch self {
        case .oneStage(let r): r.rows
        case .twoStage(let r): r.rows
        }
    }

    var diagonal: [T] {
        switch self {
        case .oneStage(let r): r.diagonal
        case .twoStage(let r): r.diagonal
        }
    }

    var superdiagonal: [T] {
        switch self {
        case .oneStage(let r): r.superdiagonal
        case .twoStage(let r): r.superdiagonal
        }
    }

    func multiplyQ(_ c: inout Matrix<T>, threads: Int?) {
        switch self {
        case .oneStage(let r): r.multiplyQ(&c, threads: threads)
        case .twoStage(let r): r.multiplyQ(&c, threads: threads)
        }
    }

    func multiplyP(_ c: inout Matrix<T>, threads: Int?) {
        switch self {
        case .oneStage(let r): r.multiplyP(&c, threads: threads)
        case .twoStage(let r): r.multiplyP(&c, threads: threads)
        }
    }
}
