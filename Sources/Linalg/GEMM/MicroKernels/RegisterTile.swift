/// A register tile: the innermost loop of GEMM, C[0..<rows, 0..<rowVectors·w] ← α·Ã·B̃ + β·C
/// with the accumulators held in `rows × rowVectors` SIMD registers of w lanes.
///
/// A tile is generic over its vector type and its arithmetic; a `MicroKernel` is one tile
/// instantiated with both and given its cache blocking (`kernel(_:_:_:blocking:)`).
protocol RegisterTile: SendableMetatype {
    /// Rows of the tile (mr, the packing height of Ã).
    static var rows: Int { get }
    /// Vectors of accumulators per row of the tile (nr = rowVectors · lanes).
    static var rowVectors: Int { get }

    /// C[0..<rows, 0..<rowVectors·w] ← α·Ã·B̃ + β·C for a packed rows×kc Ã (`rows` scalars per k)
    /// and a packed kc×(rowVectors·w) B̃; β = 0 overwrites C without reading it. Cost:
    /// 2·rows·rowVectors·w·kc flops.
    static func multiply<V: SIMD, Arithmetic: MultiplyAdd>(
        _: V.Type, _: Arithmetic.Type, kc: Int, a: UnsafePointer<V.Scalar>, b: UnsafePointer<V.Scalar>,
        c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar
    ) where V.Scalar: FloatingPoint
}

extension RegisterTile {
    /// The micro-kernel running this tile on vectors `V` with arithmetic `Arithmetic`.
    static func kernel<V: SIMD, Arithmetic: MultiplyAdd>(_ name: String, _: V.Type, _: Arithmetic.Type,
                                                         blocking: CacheBlocking) -> MicroKernel<V.Scalar>
    where V.Scalar: LinalgScalar, V: SendableMetatype {
        MicroKernel(name: name, rows: rows, columns: rowVectors * V.scalarCount, blocking: blocking) {
            kc, a, b, c, ldc, alpha, beta in
            multiply(V.self, Arithmetic.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }
}

/// Stores one vector of a tile's accumulators: C ← α·acc + β·C, for C at any alignment. When
/// β = 0, C is overwritten, never read, so NaNs in an uninitialised C do not leak into the
/// result. Edge tiles use the same arithmetic element by element (`mergeEdgeTile`), so every
/// element of C is rounded identically wherever the partition puts it.
@inline(__always)
func storeAccumulator<V: SIMD>(_ accumulator: V, to c: UnsafeMutablePointer<V.Scalar>, alpha: V.Scalar, beta: V.Scalar)
where V.Scalar: FloatingPoint {
    let raw = UnsafeMutableRawPointer(c)
    if beta == 0 {
        raw.storeBytes(of: V(repeating: alpha) * accumulator, as: V.self)
    } else {
        let old = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        raw.storeBytes(of: V(repeating: alpha) * accumulator + V(repeating: beta) * old, as: V.self)
    }
}

/// Stores one row of a tile's accumulators, two vectors wide, at `c` (`storeAccumulator` each).
@inline(__always)
func storeAccumulatorRow<V: SIMD>(_ v0: V, _ v1: V, to c: UnsafeMutablePointer<V.Scalar>, alpha: V.Scalar, beta: V.Scalar)
where V.Scalar: FloatingPoint {
    storeAccumulator(v0, to: c, alpha: alpha, beta: beta)
    storeAccumulator(v1, to: c + V.scalarCount, alpha: alpha, beta: beta)
}

/// Stores one row of a tile's accumulators, four vectors wide, at `c` (`storeAccumulator` each).
@inline(__always)
func storeAccumulatorRow<V: SIMD>(_ v0: V, _ v1: V, _ v2: V, _ v3: V, to c: UnsafeMutablePointer<V.Scalar>,
                                  alpha: V.Scalar, beta: V.Scalar) where V.Scalar: FloatingPoint {
    storeAccumulatorRow(v0, v1, to: c, alpha: alpha, beta: beta)
    storeAccumulatorRow(v2, v3, to: c + 2 &* V.scalarCount, alpha: alpha, beta: beta)
}
