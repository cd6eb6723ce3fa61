/// The register tile at the heart of GEMM: C[0..<6, 0..<nr] ← α·Ã·B̃ + β·C, where Ã is a packed
/// 6×kc micro-panel (six scalars per k) and B̃ a packed kc×nr micro-panel (nr scalars per k).
///
/// The 6·nr accumulators live in registers as `6 × w` SIMD vectors (w = 4 on ISAs with 32
/// vector registers, 2 on those with 16): per k the kernel loads w vectors of B̃, broadcasts six
/// scalars of Ã and does 6·w multiply-adds, so each loaded byte feeds many flops.
///
/// The multiply-add arithmetic is a type parameter. `Fused` (`addingProduct`) becomes one FMA
/// instruction when the build targets the CPU, but one libm `fmaf` call per lane at the plain
/// x86-64 baseline; `Unfused` (`a * b + c`) is fast everywhere but rounds twice. Which one a
/// process uses is decided by measurement (`MicroKernel.fastest`).
protocol MultiplyAdd: SendableMetatype {
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint
}

/// c + a·b with one rounding.
enum Fused: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        accumulator.addingProduct(a, b)
    }
}

/// c + a·b with two roundings.
enum Unfused: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        accumulator + a * b
    }
}

/// Rows of the register tile (the packing height of Ã).
let microRows = 6

/// Signature shared by all micro-kernels: kc, Ã, B̃, C, ldc, α, β.
typealias MicroKernelFunction<T> = (Int, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int, T, T) -> Void

/// Stores one vector of accumulators: C ← α·acc + β·C. When β = 0, C is overwritten, never read,
/// so NaNs in an uninitialised C do not leak into the result. Edge tiles use the same arithmetic
/// element by element (`GEMM.mergeEdgeTile`), so every element of C is rounded identically
/// wherever the partition puts it.
@inline(__always)
func store<V: SIMD>(_ accumulator: V, to c: UnsafeMutablePointer<V.Scalar>, alpha: V.Scalar, beta: V.Scalar)
where V.Scalar: FloatingPoint {
    let raw = UnsafeMutableRawPointer(c)
    if beta == 0 {
        raw.storeBytes(of: V(repeating: alpha) * accumulator, as: V.self)
    } else {
        let old = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        raw.storeBytes(of: V(repeating: alpha) * accumulator + V(repeating: beta) * old, as: V.self)
    }
}

/// The 6 × 4·V.scalarCount register tile (24 vector accumulators).
@inline(never)
func microKernel6x4<V: SIMD, Arithmetic: MultiplyAdd>(
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
        pa += microRows
        pb += 4 &* step
    }
    let width = V.scalarCount
    store(c00, to: c + (0 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c01, to: c + (0 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c02, to: c + (0 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c03, to: c + (0 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
    store(c10, to: c + (1 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c11, to: c + (1 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c12, to: c + (1 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c13, to: c + (1 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
    store(c20, to: c + (2 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c21, to: c + (2 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c22, to: c + (2 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c23, to: c + (2 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
    store(c30, to: c + (3 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c31, to: c + (3 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c32, to: c + (3 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c33, to: c + (3 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
    store(c40, to: c + (4 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c41, to: c + (4 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c42, to: c + (4 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c43, to: c + (4 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
    store(c50, to: c + (5 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c51, to: c + (5 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c52, to: c + (5 &* ldc &+ 2 &* width), alpha: alpha, beta: beta)
    store(c53, to: c + (5 &* ldc &+ 3 &* width), alpha: alpha, beta: beta)
}

/// The 6 × 2·V.scalarCount register tile (12 vector accumulators).
@inline(never)
func microKernel6x2<V: SIMD, Arithmetic: MultiplyAdd>(
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
        pa += microRows
        pb += 2 &* step
    }
    let width = V.scalarCount
    store(c00, to: c + (0 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c01, to: c + (0 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c10, to: c + (1 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c11, to: c + (1 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c20, to: c + (2 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c21, to: c + (2 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c30, to: c + (3 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c31, to: c + (3 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c40, to: c + (4 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c41, to: c + (4 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
    store(c50, to: c + (5 &* ldc &+ 0 &* width), alpha: alpha, beta: beta)
    store(c51, to: c + (5 &* ldc &+ 1 &* width), alpha: alpha, beta: beta)
}
