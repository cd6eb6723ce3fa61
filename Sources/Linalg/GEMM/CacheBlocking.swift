/// The cache block sizes of the five GEMM loops around one micro-kernel (BLIS's mc, kc, nc).
///
/// `gemm` packs B in kc×nc blocks and A in mc×kc blocks; with an mr×nr register tile and scalars
/// of s bytes, the kc·nr·s bytes of a B̃ micro-panel stay hot in L1/L2 while the tile sweeps the
/// Ã block, the mc·kc·s bytes of the Ã block stay in L2, and the kc·nc·s bytes of the B̃ block
/// in L2/L3. Each tile declares its own (in `GEMM/MicroKernels/`). Invariants: all three are
/// positive, mc is a multiple of mr and nc of nr, so only blocks at the matrix's bottom and right
/// edges hold partial tiles. mc and nc set only the speed; kc also sets where the sum over k is
/// split (each k-block is accumulated in registers, then added to C), so a given kernel's results
/// are bitwise reproducible, and two kernels' agree up to roundoff.
public struct CacheBlocking: Sendable, Equatable {
    /// Rows of A packed per block (a multiple of the tile's rows).
    public let mc: Int
    /// The depth of a packed block: how much of the k dimension one pass over C accumulates.
    public let kc: Int
    /// Columns of B packed per block (a multiple of the tile's columns).
    public let nc: Int
}
