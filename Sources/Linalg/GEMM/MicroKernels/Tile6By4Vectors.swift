/// The 6 × 4w register tile (w = the SIMD vector's lane count): 24 vector accumulators, plus 4
/// vectors of B̃ and one broadcast of Ã per k, 29 registers in all, so it needs a 32-register vector
/// file (AVX-512, AArch64). Per k it loads 4 vectors of B̃, broadcasts 6 scalars of Ã and does 24
/// vector multiply-adds: 6·4w·2 flops for 4w + 6 scalars loaded.
enum Tile6By4Vectors: RegisterTile {
    static let rows = 6
    static let rowVectors = 4

    @inline(never)
    static func multiply<V: SIMD, Arithmetic: MultiplyAdd>(
        _: V.Type, _: Arithmetic.Type, kc: Int, a: UnsafePointer<V.Scalar>, b: UnsafePointer<V.Scalar>,
        c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar
    ) where V.Scalar: FloatingPoint {
        var (c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53) = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
        var pa = a
        var pb = UnsafeRawPointer(b)
        let step = MemoryLayout<V>.stride
        for _ in 0..<kc {
            let b0 = pb.load(as: V.self)
            let b1 = pb.load(fromByteOffset: 1 &* step, as: V.self)
            let b2 = pb.load(fromByteOffset: 2 &* step, as: V.self)
            let b3 = pb.load(fromByteOffset: 3 &* step, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = Arithmetic.multiplyAdd(c00, a0, b0)
            c01 = Arithmetic.multiplyAdd(c01, a0, b1)
            c02 = Arithmetic.multiplyAdd(c02, a0, b2)
            c03 = Arithmetic.multiplyAdd(c03, a0, b3)
            let a1 = V(repeating: pa[1])
            c10 = Arithmetic.multiplyAdd(c10, a1, b0)
            c11 = Arithmetic.multiplyAdd(c11, a1, b1)
            c12 = Arithmetic.multiplyAdd(c12, a1, b2)
            c13 = Arithmetic.multiplyAdd(c13, a1, b3)
            let a2 = V(repeating: pa[2])
            c20 = Arithmetic.multiplyAdd(c20, a2, b0)
            c21 = Arithmetic.multiplyAdd(c21, a2, b1)
            c22 = Arithmetic.multiplyAdd(c22, a2, b2)
            c23 = Arithmetic.multiplyAdd(c23, a2, b3)
            let a3 = V(repeating: pa[3])
            c30 = Arithmetic.multiplyAdd(c30, a3, b0)
            c31 = Arithmetic.multiplyAdd(c31, a3, b1)
            c32 = Arithmetic.multiplyAdd(c32, a3, b2)
            c33 = Arithmetic.multiplyAdd(c33, a3, b3)
            let a4 = V(repeating: pa[4])
            c40 = Arithmetic.multiplyAdd(c40, a4, b0)
            c41 = Arithmetic.multiplyAdd(c41, a4, b1)
            c42 = Arithmetic.multiplyAdd(c42, a4, b2)
            c43 = Arithmetic.multiplyAdd(c43, a4, b3)
            let a5 = V(repeating: pa[5])
            c50 = Arithmetic.multiplyAdd(c50, a5, b0)
            c51 = Arithmetic.multiplyAdd(c51, a5, b1)
            c52 = Arithmetic.multiplyAdd(c52, a5, b2)
            c53 = Arithmetic.multiplyAdd(c53, a5, b3)
            pa += rows
            pb += 4 &* step
        }
        storeAccumulatorRow(c00, c01, c02, c03, to: c + 0 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c10, c11, c12, c13, to: c + 1 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c20, c21, c22, c23, to: c + 2 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c30, c31, c32, c33, to: c + 3 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c40, c41, c42, c43, to: c + 4 &* ldc, alpha: alpha, beta: beta)
        storeAccumulatorRow(c50, c51, c52, c53, to: c + 5 &* ldc, alpha: alpha, beta: beta)
    }
}

/// The kernels on this tile. Blocking: kc·4w·s = 96 KiB of B̃ micro-panel for s-byte scalars
/// (kc = 384 for both, as w·s = 64 bytes), mc = 32 tiles of rows, nc = 4096 columns.
extension Tile6By4Vectors {
    /// 6×64 `Float` on SIMD16 vectors with FMA: the tile for AVX-512.
    static let float6x64Fused = kernel("6x64 SIMD16 fused", SIMD16<Float>.self, Fused.self,
                                       blocking: CacheBlocking(mc: 192, kc: 384, nc: 4096))
    /// 6×32 `Double` on SIMD8 vectors with FMA: the tile for AVX-512.
    static let double6x32Fused = kernel("6x32 SIMD8 fused", SIMD8<Double>.self, Fused.self,
                                        blocking: CacheBlocking(mc: 192, kc: 384, nc: 4096))
}
