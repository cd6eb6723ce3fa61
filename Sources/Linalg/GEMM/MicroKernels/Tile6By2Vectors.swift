/// The 6 × 2w register tile (w = the SIMD vector's lane count): 12 vector accumulators, plus 2
/// vectors of B̃ and one broadcast of Ã per k, 15 registers in all, so it fits a 16-register vector
/// file (AVX2, SSE2). Per k it loads 2 vectors of B̃, broadcasts 6 scalars of Ã and does 12
/// vector multiply-adds: 6·2w·2 flops for 2w + 6 scalars loaded.
enum Tile6By2Vectors: RegisterTile {
    static let rows = 6
    static let rowVectors = 2

    @inline(never)
    static func multiply<V: SIMD, Arithmetic: MultiplyAdd>(
        _: V.Type, _: Arithmetic.Type, kc: Int, a: UnsafePointer<V.Scalar>, b: UnsafePointer<V.Scalar>,
        c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar
    ) where V.Scalar: FloatingPoint {
        var (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51) = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
        var pa = a
        var pb = UnsafeRawPointer(b)
        let step = MemoryLayout<V>.stride
        for _ in 0..<kc {
            let b0 = pb.load(as: V.self)
            let b1 = pb.load(fromByteOffset: 1 &* step, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = Arithmetic.multiplyAdd(c00, a0, b0)
            c01 = Arithmetic.multiplyAdd(c01, a0, b1)
            let a1 = V(repeating: pa[1])
            c10 = Arithmetic.multiplyAdd(c10, a1, b0)
            c11 = Arithmetic.multiplyAdd(c11, a1, b1)
            let a2 = V(repeating: pa[2])
            c20 = Arithmetic.multiplyAdd(c20, a2, b0)
            c21 = Arithmetic.multiplyAdd(c21, a2, b1)
            let a3 = V(repeating: pa[3])
            c30 = Arithmetic.multiplyAdd(c30, a3, b0)
            c31 = Arithmetic.multiplyAdd(c31, a3, b1)
            let a4 = V(repeating: pa[4])
            c40 = Arithmetic.multiplyAdd(c40, a4, b0)
            c41 = Arithmetic.multiplyAdd(c41, a4, b1)
            let a5 = V(repeating: pa[5])
            c50 = Arithmetic.multiplyAdd(c50, a5, b0)
            c51 = Arithmetic.multiplyAdd(c51, a5, b1)
            pa += rows
            pb += 2 &* step
        }
        storeAccumulatorRow(c00, c01, to: c + 0 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c10, c11, to: c + 1 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c20, c21, to: c + 2 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c30, c31, to: c + 3 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c40, c41, to: c + 4 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c50, c51, to: c + 5 &* ldc, alpha: alpha, beta: beta)
    }
}

/// The kernels on this tile. Blocking: kc·2w·s = 96 KiB of B̃ micro-panel for s-byte scalars
/// (kc = 1536 on 32-byte vectors, 3072 on 16-byte ones), mc = 32 tiles of rows, nc = 4096 columns.
extension Tile6By2Vectors {
    /// 6×16 `Float` on SIMD8 vectors with FMA: the tile for AVX2.
    static let float6x16Fused = kernel("6x16 SIMD8 fused", SIMD8<Float>.self, Fused.self,
                                       blocking: CacheBlocking(mc: 192, kc: 1536, nc: 4096))
    /// 6×8 `Float` on SIMD4 vectors without FMA: the tile for the x86-64 baseline (SSE2).
    static let float6x8Unfused = kernel("6x8 SIMD4 unfused", SIMD4<Float>.self, Unfused.self,
                                        blocking: CacheBlocking(mc: 192, kc: 3072, nc: 4096))
    /// 6×8 `Double` on SIMD4 vectors with FMA: the tile for AVX2.
    static let double6x8Fused = kernel("6x8 SIMD4 fused", SIMD4<Double>.self, Fused.self,
                                       blocking: CacheBlocking(mc: 192, kc: 1536, nc: 4096))
    /// 6×4 `Double` on SIMD2 vectors without FMA: the tile for the x86-64 baseline (SSE2).
    static let double6x4Unfused = kernel("6x4 SIMD2 unfused", SIMD2<Double>.self, Unfused.self,
                                         blocking: CacheBlocking(mc: 192, kc: 3072, nc: 4096))
}
