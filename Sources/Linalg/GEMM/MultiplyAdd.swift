/// The multiply-add a register tile accumulates with: accumulator + a·b, lane by lane.
///
/// A type parameter of every tile, so that one tile's code serves both arithmetics. `Fused`
/// (`addingProduct`, one rounding) becomes one FMA instruction when the build targets a CPU that
/// has it, but one libm `fma` call per lane at the plain x86-64 baseline; `Unfused` (`a * b + c`,
/// two roundings) is fast everywhere. Which one a process uses is decided by measurement, with
/// the rest of the kernel (`MicroKernel.fastest(among:)`).
protocol MultiplyAdd: SendableMetatype {
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint
}

/// accumulator + a·b with one rounding.
enum Fused: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        accumulator.addingProduct(a, b)
    }
}

/// accumulator + a·b with two roundings.
enum Unfused: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ accumulator: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        accumulator + a * b
    }
}
