extension Float {
    /// The GEMM micro-kernel this process runs for `Float`: the fastest of the candidates,
    /// measured once on first use (`MicroKernel.fastest(among:)`).
    public static let microKernel = MicroKernel.fastest(among: microKernelCandidates)

    /// The register tiles `Float` may use, widest register file first: 32 vector registers with
    /// FMA (AVX-512), 16 with FMA (AVX2), and the SSE2 baseline. A new tile declares its kernels
    /// and their blocking in a file beside this one and is listed here.
    static let microKernelCandidates: [MicroKernel<Float>] = [
        Tile6By4Vectors.float6x64Fused, Tile6By2Vectors.float6x16Fused, Tile6By2Vectors.float6x8Unfused,
    ]
}

extension Double {
    /// The GEMM micro-kernel this process runs for `Double`: the fastest of the candidates,
    /// measured once on first use (`MicroKernel.fastest(among:)`).
    public static let microKernel = MicroKernel.fastest(among: microKernelCandidates)

    /// The same three register-file shapes as for `Float`, at half the lanes.
    static let microKernelCandidates: [MicroKernel<Double>] = [
        Tile6By4Vectors.double6x32Fused, Tile6By2Vectors.double6x8Fused, Tile6By2Vectors.double6x4Unfused,
    ]
}
