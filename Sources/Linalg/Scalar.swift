/// The element types Linalg computes with: `Float` and `Double`.
///
/// Everything generic in Linalg is written once over `LinalgScalar`. The only per-type
/// knowledge is the GEMM micro-kernel, chosen once per process among register tiles of
/// different vector widths (see `MicroKernel`).
public protocol LinalgScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable, CustomStringConvertible {
    /// The GEMM micro-kernel this process uses for this type.
    static var microKernel: MicroKernel<Self> { get }
}

extension Float: LinalgScalar {
    public static let microKernel = MicroKernel.fastest(among: microKernelCandidates)

    /// Register tiles for 32 vector registers with FMA (AVX-512), 16 with FMA (AVX2), and the
    /// SSE2 baseline without it.
    static let microKernelCandidates: [MicroKernel<Float>] = [
        .init(name: "6x64 SIMD16 fused", vector: SIMD16<Float>.self, rowVectors: .four, arithmetic: Fused.self),
        .init(name: "6x16 SIMD8 fused", vector: SIMD8<Float>.self, rowVectors: .two, arithmetic: Fused.self),
        .init(name: "6x8 SIMD4 unfused", vector: SIMD4<Float>.self, rowVectors: .two, arithmetic: Unfused.self),
    ]
}

extension Double: LinalgScalar {
    public static let microKernel = MicroKernel.fastest(among: microKernelCandidates)

    /// The same three register-file shapes as for `Float`, at half the lanes.
    static let microKernelCandidates: [MicroKernel<Double>] = [
        .init(name: "6x32 SIMD8 fused", vector: SIMD8<Double>.self, rowVectors: .four, arithmetic: Fused.self),
        .init(name: "6x8 SIMD4 fused", vector: SIMD4<Double>.self, rowVectors: .two, arithmetic: Fused.self),
        .init(name: "6x4 SIMD2 unfused", vector: SIMD2<Double>.self, rowVectors: .two, arithmetic: Unfused.self),
    ]
}
