/// The two-stage bidiagonalization A = Q·B·Pᵀ of an m×n matrix (m ≥ n): dense → band
/// (`BandReduction`, A = Q₁·B_b·P₁ᵀ, GEMM-bound) then band → bidiagonal (`BulgeChase`,
/// B_b = Q₂·B·P₂ᵀ, on a band that stays in cache), so Q = Q₁·Q₂ and P = P₁·P₂.
///
/// Against the one-stage `Bidiagonalization` it trades the memory-bound matrix–vector half of the
/// reduction for a chase of ~8n²b flops, and pays for it when vectors are formed: Q₂ and P₂ add a
/// second back-transformation, about 3n² flops per column in blocks (`ChaseReflectors`). Which
/// one pays for a given n and number of vectors is measured (`BidiagonalPathSVD.reducesInTwoStages`).
public struct TwoStageBidiagonalization<T: LinalgScalar>: BidiagonalReduction {
    private let first: BandReduction<T>
    private let second: BulgeChase<T>
    /// m, the rows of A.
    public let rows: Int

    /// Reduces `a` (m ≥ n) through a band of `bandwidth` b (≥ 1; at most n − 1 is used; default
    /// ``defaultBandwidth``), on `threads` threads (nil: ``Parallelism/maximumThreads``).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ a: Matrix<T>, bandwidth: Int = defaultBandwidth, threads: Int? = nil) {
        precondition(a.rows >= a.columns, "bidiagonalization needs rows ≥ columns")
        let b = max(1, min(bandwidth, a.columns - 1))
        first = BandReduction(a, bandwidth: b, threads: threads)
        second = BulgeChase(band: first.band, order: a.columns, bandwidth: b, threads: threads)
        rows = a.rows
    }

    /// The band width the library uses: 64, where the band reduction's GEMMs run near their
    /// peak rate and the chase's ~8n²b flops stay a small part (measured at 2048² and 4096²
    /// against 32, 48, 96 and 128).
    public static var defaultBandwidth: Int { 64 }

    /// B's diagonal, n values.
    public var diagonal: [T] { second.diagonal }
    /// B's superdiagonal, n − 1 values.
    public var superdiagonal: [T] { second.superdiagonal }

    /// C ← Q·C = Q₁·(Q₂·C) for C with m rows (Q₂ acts on the first n).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyQ(_ c: inout Matrix<T>, threads: Int? = nil) {
        let n = second.diagonal.count
        c.withMutableView { c in
            second.multiplyQ(c.submatrix(row: 0, column: 0, rows: n, columns: c.columns), threads: threads)
            first.multiplyQ(c, threads: threads)
        }
    }

    /// C ← P·C = P₁·(P₂·C) for C with n rows.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func multiplyP(_ c: inout Matrix<T>, threads: Int? = nil) {
        c.withMutableView { c in
            second.multiplyP(c, threads: threads)
            first.multiplyP(c, threads: threads)
        }
    }
}

/// A reduction A = Q·B·Pᵀ of an m×n matrix (m ≥ n) to upper bidiagonal B, with Q and P kept as
/// products of reflectors: what the bidiagonal path's SVD needs of either stage count.
public protocol BidiagonalReduction<Scalar> {
    associatedtype Scalar: LinalgScalar
    /// m, the rows of A (and of the C that `multiplyQ` takes).
    var rows: Int { get }
    /// B's diagonal, n values.
    var diagonal: [Scalar] { get }
    /// B's superdiagonal, n − 1 values.
    var superdiagonal: [Scalar] { get }
    /// C ← Q·C for C with m rows.
    func multiplyQ(_ c: inout Matrix<Scalar>, threads: Int?)
    /// C ← P·C for C with n rows.
    func multiplyP(_ c: inout Matrix<Scalar>, threads: Int?)
}

extension Bidiagonalization: BidiagonalReduction {
    /// m, the rows of A.
    public var rows: Int { factors.rows }
}
