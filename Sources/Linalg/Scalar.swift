/// The element types Linalg computes with: `Float` and `Double`.
///
/// Everything generic in Linalg is written once over `LinalgScalar`. The only per-type
/// knowledge is the GEMM micro-kernel, chosen once per process among register tiles of
/// different vector widths (`GEMM/MicroKernels/KernelRegistry.swift`).
public protocol LinalgScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable, CustomStringConvertible {
    /// The GEMM micro-kernel this process uses for this type: the fastest of the candidates
    /// registered for it, measured on first use.
    static var microKernel: MicroKernel<Self> { get }
}

extension Float: LinalgScalar {}

extension Double: LinalgScalar {}
