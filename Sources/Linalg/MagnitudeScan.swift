/// One vectorized pass over a vector's bit patterns: with the sign bit cleared, IEEE-754
/// magnitudes order like unsigned integers and every NaN or ∞ is at least the all-ones exponent,
/// so a single running maximum gives both the largest magnitude and whether all are finite.
/// (Written on the concrete integer lane types: generic SIMD comparisons do not compile to
/// vector instructions.)

/// max |xᵢ| (meaningful only when all are finite) and whether all xᵢ are finite.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func magnitudeScan<T: LinalgScalar>(_ values: [T]) -> (largest: T, allFinite: Bool) {
    values.withUnsafeBytes { bytes in
        if T.self == Float.self {
            let bits = largestMagnitudeBits32(bytes)
            return (T(Float(bitPattern: bits)), bits < Float.infinity.bitPattern)
        }
        let bits = largestMagnitudeBits64(bytes)
        return (T(Double(bitPattern: bits)), bits < Double.infinity.bitPattern)
    }
}

/// The index of the first NaN or ±∞, nil when there is none.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func firstNonFiniteIndex<T: LinalgScalar>(_ values: [T]) -> Int? {
    magnitudeScan(values).allFinite ? nil : values.firstIndex { !$0.isFinite }
}

/// The largest 32-bit word of `bytes` with its top (sign) bit cleared.
func largestMagnitudeBits32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    let (count, stride) = (bytes.count / 4, 4)
    var lanes = SIMD16<UInt32>()
    var i = 0
    while i &+ 16 <= count {
        let v = bytes.loadUnaligned(fromByteOffset: i &* stride, as: SIMD16<UInt32>.self) & 0x7FFF_FFFF
        lanes.replace(with: v, where: v .> lanes)
        i &+= 16
    }
    return (i..<count).reduce(lanes.max()) { max($0, bytes.loadUnaligned(fromByteOffset: $1 &* stride, as: UInt32.self) & 0x7FFF_FFFF) }
}

/// The same for 64-bit words (Double's bit patterns).
func largestMagnitudeBits64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let (count, stride) = (bytes.count / 8, 8)
    var lanes = SIMD8<UInt64>()
    var i = 0
    while i &+ 8 <= count {
        let v = bytes.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF
        lanes.replace(with: v, where: v .> lanes)
        i &+= 8
    }
    return (i..<count).reduce(lanes.max()) {
        max($0, bytes.loadUnaligned(fromByteOffset: $1 &* stride, as: UInt64.self) & 0x7FFF_FFFF_FFFF_FFFF)
    }
}
